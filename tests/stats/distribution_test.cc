// Hand-computed values (the arithmetic is in each comment); p-values from scipy 1.10.

#include "stats/distribution.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace riskpipe::stats {
namespace {

using V = std::vector<double>;

TEST(QuantileEdges, InterpolatesLikeNumpyAndDropsDuplicates) {
  // numpy.quantile(1..10, [.25, .5, .75]) = 3.25, 5.5, 7.75.
  const V edges = QuantileEdges(V{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 4);
  ASSERT_EQ(edges.size(), 3u);
  EXPECT_DOUBLE_EQ(edges[0], 3.25);
  EXPECT_DOUBLE_EQ(edges[1], 5.5);
  EXPECT_DOUBLE_EQ(edges[2], 7.75);
  // A constant reference has one distinct cut point, hence two bins.
  EXPECT_EQ(QuantileEdges(V{1, 1, 1, 1}, 10), V{1});
  EXPECT_TRUE(QuantileEdges(V{}, 10).empty());
}

TEST(BinCounts, ClosesBinsOnTheRight) {
  // Bins (-inf, 2], (2, 4], (4, inf): 1 and 2 | 3 and 4 | 5; NaN skipped.
  EXPECT_EQ(BinCounts(V{1, 2, 3, 4, 5, NAN}, V{2, 4}), (V{2, 2, 1}));
}

TEST(Psi, IsZeroForIdenticalProportions) {
  EXPECT_DOUBLE_EQ(Psi(V{10, 20, 30}, V{20, 40, 60}), 0.0);
}

TEST(Psi, MatchesHandComputation) {
  // (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5.
  EXPECT_NEAR(Psi(V{50, 50}, V{25, 75}), 0.25 * std::log(2.0) + 0.25 * std::log(1.5), 1e-12);
}

TEST(Psi, FloorsEmptyBinsAtEpsilon) {
  // Current bin 2 empty: (1e-4 - 0.5) ln(1e-4/0.5) + (0.9999 - 0.5) ln(0.9999/0.5).
  const double expected =
      (1e-4 - 0.5) * std::log(1e-4 / 0.5) + (0.9999 - 0.5) * std::log(0.9999 / 0.5);
  // The floored proportions are 1e-4 and 1.0 (not renormalised): recompute with those.
  const double floored = (1e-4 - 0.5) * std::log(1e-4 / 0.5) + (1.0 - 0.5) * std::log(1.0 / 0.5);
  const double psi = Psi(V{50, 50}, V{100, 0});
  EXPECT_TRUE(std::isfinite(psi));
  EXPECT_NEAR(psi, floored, 1e-12);
  EXPECT_NEAR(psi, expected, 1e-3);
}

TEST(Psi, RejectsMismatchedOrEmptyHistograms) {
  EXPECT_TRUE(std::isnan(Psi(V{1, 2}, V{1, 2, 3})));
  EXPECT_TRUE(std::isnan(Psi(V{0, 0}, V{1, 2})));
}

TEST(PsiOfSamples, ShiftedSampleScoresHigherThanResample) {
  V ref, same, shifted;
  for (int i = 0; i < 1000; ++i) {
    ref.push_back(i);
    same.push_back(999 - i);
    shifted.push_back(i + 300);
  }
  EXPECT_NEAR(PsiOfSamples(ref, same), 0.0, 1e-12);
  // 30% of the shifted sample lies above the reference maximum, so the top bin holds 40%
  // against 10%; the three lowest bins are empty.
  EXPECT_GT(PsiOfSamples(ref, shifted), 1.0);
}

TEST(JensenShannon, IsOneBitForDisjointAndHandValueOtherwise) {
  EXPECT_NEAR(JensenShannon(V{1, 0}, V{0, 1}), 1.0, 1e-12);
  EXPECT_NEAR(JensenShannon(V{3, 3}, V{3, 3}), 0.0, 1e-12);
  // P = (.5, .5), Q = (1, 0), M = (.75, .25):
  // ½[.5 log2(.5/.75) + .5 log2(.5/.25)] + ½[1 log2(1/.75)] = 0.311278...
  const double hand = 0.5 * (0.5 * std::log2(0.5 / 0.75) + 0.5 * std::log2(2.0)) +
                      0.5 * std::log2(1 / 0.75);
  EXPECT_NEAR(JensenShannon(V{5, 5}, V{7, 0}), hand, 1e-12);
  EXPECT_NEAR(hand, 0.3112781244591328, 1e-12);
}

TEST(KsTwoSample, MatchesHandComputedStatistic) {
  // ECDFs of {1..5} and {3..8}: at x = 5, F_a = 1 and F_b = 3/6, so D = 0.5 (the maximum).
  const KsResult r = KsTwoSample(V{1, 2, 3, 4, 5}, V{3, 4, 5, 6, 7, 8});
  EXPECT_DOUBLE_EQ(r.statistic, 0.5);
  EXPECT_EQ(r.n, 5);
  EXPECT_EQ(r.m, 6);
  // n_e = 30/11, λ = (√n_e + 0.12 + 0.11/√n_e) · 0.5 = 0.91903; Q_KS(λ) = 0.36700.
  EXPECT_NEAR(r.p_value, 0.3670013850902251, 1e-9);
}

TEST(KsTwoSample, TiesDoNotOpenAGap) {
  const KsResult r = KsTwoSample(V{1, 1, 2, 2}, V{1, 2, 1, 2});
  EXPECT_DOUBLE_EQ(r.statistic, 0.0);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
}

TEST(KsTwoSample, LargeShiftIsSignificant) {
  V a, b;
  for (int i = 0; i < 2000; ++i) {
    a.push_back(i % 100);
    b.push_back(i % 100 + 20);
  }
  const KsResult r = KsTwoSample(a, b);
  EXPECT_NEAR(r.statistic, 0.2, 1e-12);
  EXPECT_LT(r.p_value, 1e-10);
}

TEST(KsFromCounts, AgreesWithTheSampleVersion) {
  // Distinct values 1..8 with the counts of {1..5} and {3..8}.
  const KsResult r = KsFromCounts(V{1, 1, 1, 1, 1, 0, 0, 0}, V{0, 0, 1, 1, 1, 1, 1, 1});
  EXPECT_DOUBLE_EQ(r.statistic, 0.5);
  EXPECT_NEAR(r.p_value, 0.3670013850902251, 1e-9);
}

TEST(ChiSquareHomogeneity, MatchesHandComputation) {
  // Expected 15 in every cell: 4 · (5² / 15) = 6.667 on 1 df; p = 0.0098233.
  const ChiSquareResult r = ChiSquareHomogeneity(V{10, 20}, V{20, 10});
  EXPECT_NEAR(r.statistic, 20.0 / 3.0, 1e-12);
  EXPECT_EQ(r.df, 1);
  EXPECT_NEAR(r.p_value, 0.009823274507519235, 1e-10);
}

TEST(ChiSquareHomogeneity, DropsCategoriesEmptyInBoth) {
  // scipy chi2_contingency([[30,50,20],[40,40,20]], correction=False): 2.5397, p 0.28088.
  const ChiSquareResult r = ChiSquareHomogeneity(V{30, 0, 50, 20}, V{40, 0, 40, 20});
  EXPECT_NEAR(r.statistic, 2.5396825396825395, 1e-12);
  EXPECT_EQ(r.df, 2);
  EXPECT_NEAR(r.p_value, 0.28087620176428163, 1e-10);
}

TEST(ChiSquareHomogeneity, NothingToTestGivesPValueOne) {
  const ChiSquareResult r = ChiSquareHomogeneity(V{10, 0}, V{5, 0});
  EXPECT_EQ(r.df, 0);
  EXPECT_EQ(r.p_value, 1.0);
}

}  // namespace
}  // namespace riskpipe::stats

namespace riskpipe::stats {
namespace {

TEST(QuantileEdgesFromCounts, EqualsTheExpandedSample) {
  // Values 1, 2, 2, 2, 5, 7, 7, 9, 9, 9, 9 as a histogram over distinct values.
  const std::vector<double> values = {1, 2, 5, 7, 9}, counts = {1, 3, 1, 2, 4};
  std::vector<double> expanded;
  for (size_t i = 0; i < values.size(); ++i) {
    for (int k = 0; k < counts[i]; ++k) expanded.push_back(values[i]);
  }
  for (int bins : {2, 3, 4, 10}) {
    EXPECT_EQ(QuantileEdgesFromCounts(values, counts, bins), QuantileEdges(expanded, bins))
        << bins << " bins";
  }
  // Median of the 11 values is the 6th order statistic, 7.
  EXPECT_EQ(QuantileEdgesFromCounts(values, counts, 2), std::vector<double>{7});
}

}  // namespace
}  // namespace riskpipe::stats
