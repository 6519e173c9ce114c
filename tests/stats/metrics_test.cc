// Metrics against independent values: hand computations (arithmetic in the comments),
// brute-force O(n²) pair counts and threshold sweeps on random inputs with ties, and
// reference values from numpy 1.24 / scipy 1.10 (stats.mannwhitneyu, stats.ks_2samp,
// stats.norm.ppf, a numpy port of scikit-learn's average_precision_score and an O(n²) numpy
// DeLong) for the 20-row sample in ReferenceSample().

#include "stats/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "stats/internal/score_order.h"

namespace riskpipe::stats {
namespace {

using V = std::vector<double>;
using L = std::vector<uint8_t>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Uniform in [0, 1) from 53 random bits, the same on every standard library.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double Normal(std::mt19937_64& rng) {  // Box–Muller
  const double u = 1.0 - Uniform(rng), v = Uniform(rng);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v);
}

// ---- Brute-force references -------------------------------------------------------------

double Psi(double pos, double neg) { return pos > neg ? 1.0 : (pos == neg ? 0.5 : 0.0); }

double BruteAuc(const V& s, const L& y) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[i] == 1 && y[j] == 0) {
        wins += Psi(s[i], s[j]);
        pairs += 1;
      }
    }
  }
  return wins / pairs;
}

// Every cut at a score of the sample, counted from scratch.
double BruteKs(const V& s, const L& y) {
  double best = 0;
  for (double t : s) {
    double tp = 0, fp = 0, p = 0, n = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      (y[i] ? p : n) += 1;
      if (s[i] >= t) (y[i] ? tp : fp) += 1;
    }
    best = std::max(best, std::fabs(tp / p - fp / n));
  }
  return best;
}

double BruteAveragePrecision(const V& s, const L& y) {
  V cuts = s;
  std::sort(cuts.rbegin(), cuts.rend());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  double ap = 0, prev_recall = 0, p = 0;
  for (uint8_t l : y) p += l;
  for (double t : cuts) {
    double tp = 0, declined = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] >= t) {
        declined += 1;
        tp += y[i];
      }
    }
    ap += (tp / p - prev_recall) * (tp / declined);
    prev_recall = tp / p;
  }
  return ap;
}

// DeLong variance straight from the definition: placements by pair loops.
double BruteDelongSe(const V& s, const L& y) {
  V v10, v01;
  for (size_t i = 0; i < s.size(); ++i) {
    double sum = 0, count = 0;
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[j] == y[i]) continue;
      sum += y[i] ? Psi(s[i], s[j]) : Psi(s[j], s[i]);
      count += 1;
    }
    (y[i] ? v10 : v01).push_back(sum / count);
  }
  const auto var = [](const V& v) {
    double mean = 0, ss = 0;
    for (double x : v) mean += x / static_cast<double>(v.size());
    for (double x : v) ss += (x - mean) * (x - mean);
    return ss / static_cast<double>(v.size() - 1);
  };
  return std::sqrt(var(v10) / static_cast<double>(v10.size()) +
                   var(v01) / static_cast<double>(v01.size()));
}

// Random sample with heavy ties (scores on a grid of `levels` values) and both classes.
void RandomTiedSample(std::mt19937_64& rng, size_t n, int levels, V& s, L& y) {
  s.assign(n, 0);
  y.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    y[i] = Uniform(rng) < 0.3 ? 1 : 0;
    s[i] = std::floor((Uniform(rng) + 0.4 * y[i]) * levels) / levels;
  }
  y[0] = 1;
  y[1] = 0;
}

// ---- The reference sample ----------------------------------------------------------------

struct Sample {
  V s, b;
  L y;
};

Sample ReferenceSample() {
  return {{0.9, 0.8, 0.8, 0.7, 0.6, 0.6,  0.6,  0.5,  0.4,  0.4,
           0.3, 0.3, 0.2, 0.1, 0.1, 0.05, 0.95, 0.65, 0.35, 0.25},
          {0.2, 0.9, 0.1,  0.6, 0.6,  0.3,  0.8, 0.5,  0.45, 0.4,
           0.7, 0.3, 0.25, 0.1, 0.15, 0.05, 0.5, 0.65, 0.35, 0.3},
          {1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0}};
}

TEST(Metrics, MatchScipyAndNumpyOnReferenceSample) {
  const Sample r = ReferenceSample();
  EXPECT_NEAR(Auc(r.s, r.y), 0.8125, 1e-15);  // mannwhitneyu U / (8 · 12)
  EXPECT_NEAR(Gini(r.s, r.y), 0.625, 1e-15);
  EXPECT_NEAR(KsStatistic(r.s, r.y), 0.5416666666666666, 1e-15);  // ks_2samp(pos, neg)
  EXPECT_NEAR(PrAuc(r.s, r.y), 0.7629901960784313, 1e-15);
  EXPECT_NEAR(LogLoss(r.s, r.y), 0.5271815436049134, 1e-15);
  EXPECT_NEAR(Brier(r.s, r.y), 0.179125, 1e-15);
}

// ---- AUC and Gini ------------------------------------------------------------------------

TEST(Auc, HandExample) {
  // Pairs (pos, neg): 0.8>0.1, 0.8>0.4, 0.35>0.1, 0.35<0.4 -> 3/4.
  EXPECT_DOUBLE_EQ(Auc(V{0.1, 0.4, 0.35, 0.8}, L{0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(Gini(V{0.1, 0.4, 0.35, 0.8}, L{0, 0, 1, 1}), 0.5);
}

TEST(Auc, CountsTiesAsHalf) {
  // One tied pair and one win: (1 + ½) / 2.
  EXPECT_DOUBLE_EQ(Auc(V{0.5, 0.5, 0.1}, L{1, 0, 0}), 0.75);
  EXPECT_DOUBLE_EQ(Auc(V{3, 3, 3, 3}, L{1, 0, 1, 0}), 0.5);
}

TEST(Auc, EqualsBruteForcePairCountOnRandomTiedSamples) {
  std::mt19937_64 rng(20240611);
  for (int trial = 0; trial < 60; ++trial) {
    V s;
    L y;
    // Sizes cross the 256-row switch from comparison sort to radix sort.
    RandomTiedSample(rng, 2 + rng() % 600, 2 + trial % 20, s, y);
    ASSERT_NEAR(Auc(s, y), BruteAuc(s, y), 1e-12) << "trial " << trial;
  }
}

TEST(Auc, EqualsBruteForceWhenBothClassesTakeTheRadixPath) {
  // Both classes above 256 rows, so both key arrays are radix sorted.
  std::mt19937_64 rng(31);
  for (int levels : {7, 1000000}) {
    V s;
    L y;
    RandomTiedSample(rng, 1500, levels, s, y);
    ASSERT_NEAR(Auc(s, y), BruteAuc(s, y), 1e-12) << levels;
    ASSERT_NEAR(KsStatistic(s, y), BruteKs(s, y), 1e-12) << levels;
    ASSERT_NEAR(PrAuc(s, y), BruteAveragePrecision(s, y), 1e-12) << levels;
    ASSERT_NEAR(AucConfidence(s, y).se, BruteDelongSe(s, y), 1e-12) << levels;
  }
}

TEST(Auc, NaNWhenAClassIsEmptyOrSizesDiffer) {
  EXPECT_TRUE(std::isnan(Auc(V{0.1, 0.2}, L{0, 0})));
  EXPECT_TRUE(std::isnan(Auc(V{0.1, 0.2}, L{1, 1})));
  EXPECT_TRUE(std::isnan(Auc(V{}, L{})));
  EXPECT_TRUE(std::isnan(Auc(V{0.1, 0.2}, L{0, 1, 1})));
  EXPECT_TRUE(std::isnan(Gini(V{0.1, 0.2}, L{0, 1, 1})));
}

TEST(Auc, RanksNaNScoresBelowEverythingAndTiesThem) {
  // NaN default below the 0.2 good, 0.7 default above it: (0 + 1) / 2. Skipping the NaN row
  // would give 1.
  EXPECT_DOUBLE_EQ(Auc(V{kNaN, 0.2, 0.7}, L{1, 0, 1}), 0.5);
  EXPECT_DOUBLE_EQ(Auc(V{kNaN, kNaN}, L{1, 0}), 0.5);
  EXPECT_DOUBLE_EQ(Auc(V{kNaN, -kInf}, L{0, 1}), 1.0);
}

TEST(Auc, TreatsAnyNonZeroLabelAsDefault) {
  EXPECT_DOUBLE_EQ(Auc(V{0.1, 0.4, 0.35, 0.8}, L{0, 0, 7, 255}), 0.75);
}

TEST(Auc, ReversedScoresGiveOneMinusAuc) {
  const Sample r = ReferenceSample();
  V neg = r.s;
  for (double& x : neg) x = -x;
  EXPECT_NEAR(Auc(neg, r.y), 1 - 0.8125, 1e-15);
}

// ---- KS ----------------------------------------------------------------------------------

TEST(KsStatistic, HandExample) {
  // Cuts 0.8, 0.4, 0.35, 0.1: |TPR - FPR| = .5, 0, .5, 0.
  EXPECT_DOUBLE_EQ(KsStatistic(V{0.1, 0.4, 0.35, 0.8}, L{0, 0, 1, 1}), 0.5);
}

TEST(KsStatistic, GroupsTies) {
  // Cuts 0.9 (TPR 1/3, FPR 1/2), 0.5 (1, 1/2), 0.1 (1, 1): max 1/2.
  EXPECT_DOUBLE_EQ(KsStatistic(V{0.9, 0.9, 0.5, 0.5, 0.1}, L{1, 0, 1, 1, 0}), 0.5);
  // One tied pair: the only cut takes both (|1 - 1| = 0); taking the default alone would
  // report 1 at a cut no threshold can make.
  EXPECT_DOUBLE_EQ(KsStatistic(V{0.5, 0.5}, L{1, 0}), 0.0);
}

TEST(KsStatistic, EqualsBruteForceSweepOnRandomTiedSamples) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    V s;
    L y;
    RandomTiedSample(rng, 2 + rng() % 400, 2 + trial % 15, s, y);
    ASSERT_NEAR(KsStatistic(s, y), BruteKs(s, y), 1e-12) << "trial " << trial;
  }
}

TEST(KsStatistic, NaNWhenAClassIsEmpty) {
  EXPECT_TRUE(std::isnan(KsStatistic(V{0.1, 0.2}, L{1, 1})));
  EXPECT_TRUE(std::isnan(KsStatistic(V{0.1}, L{1, 1})));
}

// ---- Average precision -------------------------------------------------------------------

TEST(PrAuc, ScikitLearnDocumentationExample) {
  // average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333: cut 0.8 gives
  // recall ½ at precision 1, cut 0.35 recall 1 at precision ⅔: ½ + ½ · ⅔.
  EXPECT_NEAR(PrAuc(V{0.1, 0.4, 0.35, 0.8}, L{0, 0, 1, 1}), 5.0 / 6.0, 1e-15);
}

TEST(PrAuc, GroupsTies) {
  // Cut 0.9: tp 1, fp 1 -> recall ⅓ at precision ½; cut 0.5: tp 3, fp 1 -> recall 1 at ¾.
  // AP = ⅓ · ½ + ⅔ · ¾ = ⅔.
  EXPECT_NEAR(PrAuc(V{0.9, 0.9, 0.5, 0.5, 0.1}, L{1, 0, 1, 1, 0}), 2.0 / 3.0, 1e-15);
}

TEST(PrAuc, EqualsBruteForceOnRandomTiedSamples) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 40; ++trial) {
    V s;
    L y;
    RandomTiedSample(rng, 2 + rng() % 400, 2 + trial % 15, s, y);
    ASSERT_NEAR(PrAuc(s, y), BruteAveragePrecision(s, y), 1e-12) << "trial " << trial;
  }
}

TEST(PrAuc, NaNWithoutDefaultsAndOneWithoutGoods) {
  EXPECT_TRUE(std::isnan(PrAuc(V{0.1, 0.2}, L{0, 0})));
  EXPECT_DOUBLE_EQ(PrAuc(V{0.1, 0.2}, L{1, 1}), 1.0);
}

// ---- Log loss and Brier ------------------------------------------------------------------

TEST(LogLoss, HandExample) {
  EXPECT_NEAR(LogLoss(V{0.2, 0.7}, L{0, 1}), -(std::log(0.8) + std::log(0.7)) / 2, 1e-15);
}

TEST(LogLoss, ClipsAtOneInAQuadrillion) {
  // Certain and wrong: -ln(1e-15) = 34.538776394910684 for the default at 0, and
  // -ln(1 - fl(1 - 1e-15)) = 34.53957599234088 for the good at 1 (1 - 1e-15 rounds to
  // 1 - 9.99e-16 in double). numpy's clip-then-log gives the same mean, 34.53917619362578.
  EXPECT_NEAR(LogLoss(V{0.0, 1.0}, L{1, 0}), 34.53917619362578, 1e-12);
  // Certain and right: -ln(1 - 1e-15) ≈ 1e-15.
  EXPECT_NEAR(LogLoss(V{1.0, 0.0}, L{1, 0}), 1e-15, 1e-16);
}

TEST(LogLoss, ReadsNaNAsZero) {
  EXPECT_DOUBLE_EQ(LogLoss(V{kNaN}, L{1}), LogLoss(V{0.0}, L{1}));
  EXPECT_DOUBLE_EQ(Brier(V{kNaN, 0.5}, L{1, 0}), (1.0 + 0.25) / 2);
}

TEST(Brier, HandExample) {
  // (0.1² + 0.1² + 0.5²) / 3 = 0.27 / 3.
  EXPECT_NEAR(Brier(V{0.1, 0.9, 0.5}, L{0, 1, 1}), 0.09, 1e-15);
}

TEST(LogLossAndBrier, NaNWhenEmptyOrSizesDiffer) {
  EXPECT_TRUE(std::isnan(LogLoss(V{}, L{})));
  EXPECT_TRUE(std::isnan(Brier(V{}, L{})));
  EXPECT_TRUE(std::isnan(LogLoss(V{0.5}, L{1, 0})));
  EXPECT_TRUE(std::isnan(Brier(V{0.5}, L{1, 0})));
}

// ---- Confusion table and cuts ------------------------------------------------------------

TEST(AtThreshold, DeclinesAtOrAboveTheCut) {
  // Declined: 0.5 (default), 0.7 (good), 0.9 (default). Approved: 0.1, 0.3 (good, default).
  const ConfusionAt c = AtThreshold(V{0.1, 0.3, 0.5, 0.7, 0.9}, L{0, 1, 1, 0, 1}, 0.5);
  EXPECT_EQ(c.threshold, 0.5);
  EXPECT_EQ(c.tp, 2);
  EXPECT_EQ(c.fp, 1);
  EXPECT_EQ(c.tn, 1);
  EXPECT_EQ(c.fn, 1);
  EXPECT_DOUBLE_EQ(c.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(c.recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(c.f1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(c.approval_rate, 0.4);
}

TEST(AtThreshold, ZeroRatesWhenNothingIsDeclined) {
  const ConfusionAt c = AtThreshold(V{0.1, 0.3}, L{0, 1}, 0.9);
  EXPECT_EQ(c.fn, 1);
  EXPECT_EQ(c.tn, 1);
  EXPECT_EQ(c.precision, 0.0);
  EXPECT_EQ(c.recall, 0.0);
  EXPECT_EQ(c.f1, 0.0);
  EXPECT_EQ(c.approval_rate, 1.0);
}

TEST(AtThreshold, NaNRatesWhenSizesDifferOrEmpty) {
  const ConfusionAt c = AtThreshold(V{0.1}, L{0, 1}, 0.5);
  EXPECT_EQ(c.tp + c.fp + c.tn + c.fn, 0);
  EXPECT_TRUE(std::isnan(c.precision));
  EXPECT_TRUE(std::isnan(c.approval_rate));
  EXPECT_TRUE(std::isnan(AtThreshold(V{}, L{}, 0.5).recall));
}

TEST(AtThreshold, ApprovesNaNProbsAsZero) {
  const ConfusionAt c = AtThreshold(V{kNaN, 0.8}, L{1, 0}, 0.5);
  EXPECT_EQ(c.fn, 1);
  EXPECT_EQ(c.fp, 1);
}

TEST(ThresholdForApprovalRate, ApprovesTheRequestedShareOfDistinctProbs) {
  std::mt19937_64 rng(3);
  V p(1000);
  for (double& x : p) x = Uniform(rng);
  const L y(p.size(), 0);
  for (double rate : {0.0, 0.1, 0.3, 0.5, 0.85, 1.0}) {
    const double cut = ThresholdForApprovalRate(p, rate);
    EXPECT_DOUBLE_EQ(AtThreshold(p, y, cut).approval_rate, rate) << rate;
  }
}

TEST(ThresholdForApprovalRate, PicksTheNearestTieGroupEdge) {
  // Reachable approvals: 0 (cut 0.1), 1 (cut 0.2), 4 (cut 0.3), 5 (cut above 0.3).
  const V p{0.3, 0.2, 0.1, 0.2, 0.2};
  EXPECT_EQ(ThresholdForApprovalRate(p, 0.4), 0.2);  // 2 rows wanted: 1 is nearer than 4
  EXPECT_EQ(ThresholdForApprovalRate(p, 0.6), 0.3);  // 3 rows wanted: 4 is nearer than 1
  EXPECT_EQ(ThresholdForApprovalRate(p, 0.0), 0.1);
  EXPECT_EQ(ThresholdForApprovalRate(p, 1.0), std::nextafter(0.3, 1.0));
  // Equally near (2 wanted, 1 or 3 reachable): the lower approval.
  EXPECT_EQ(ThresholdForApprovalRate(V{0.1, 0.2, 0.2, 0.3}, 0.5), 0.2);
}

TEST(ThresholdForApprovalRate, NaNForBadRateOrNoRows) {
  EXPECT_TRUE(std::isnan(ThresholdForApprovalRate(V{}, 0.5)));
  EXPECT_TRUE(std::isnan(ThresholdForApprovalRate(V{0.1}, 1.5)));
  EXPECT_TRUE(std::isnan(ThresholdForApprovalRate(V{0.1}, -0.1)));
  EXPECT_TRUE(std::isnan(ThresholdForApprovalRate(V{0.1}, kNaN)));
}

TEST(ThresholdForCostRatio, HandExample) {
  const V p{0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  const L y{0, 0, 1, 0, 1, 1};
  // Ratio 1, cost = FP + FN by cut: above 0.6: 3, 0.6: 2, 0.5: 1, 0.4: 2, 0.3: 1, 0.2: 2,
  // 0.1: 3. Minimum 1 at 0.5 and 0.3: the higher cut wins.
  EXPECT_EQ(ThresholdForCostRatio(p, y, 1.0), 0.5);
  // Ratio 3: 9, 6, 3, 4, 1, 2, 3 -> 0.3.
  EXPECT_EQ(ThresholdForCostRatio(p, y, 3.0), 0.3);
  // Ratio 0: missing a default is free, so decline nobody.
  EXPECT_EQ(ThresholdForCostRatio(p, y, 0.0), std::nextafter(0.6, 1.0));
}

TEST(ThresholdForCostRatio, MinimisesCostOverEveryCutOnRandomTiedSamples) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 30; ++trial) {
    V s;
    L y;
    RandomTiedSample(rng, 2 + rng() % 300, 2 + trial % 10, s, y);
    const double ratio = 0.5 + trial % 7;
    const auto cost = [&](double t) {
      const ConfusionAt c = AtThreshold(s, y, t);
      return static_cast<double>(c.fp) + ratio * static_cast<double>(c.fn);
    };
    const double best = cost(ThresholdForCostRatio(s, y, ratio));
    for (double t : s) ASSERT_LE(best, cost(t)) << "trial " << trial << " cut " << t;
    ASSERT_LE(best, cost(kInf));
  }
}

TEST(ThresholdForCostRatio, NaNForBadRatioOrSizes) {
  EXPECT_TRUE(std::isnan(ThresholdForCostRatio(V{0.1}, L{1}, -1)));
  EXPECT_TRUE(std::isnan(ThresholdForCostRatio(V{0.1}, L{1}, kInf)));
  EXPECT_TRUE(std::isnan(ThresholdForCostRatio(V{0.1}, L{1}, kNaN)));
  EXPECT_TRUE(std::isnan(ThresholdForCostRatio(V{0.1}, L{1, 0}, 1)));
  EXPECT_TRUE(std::isnan(ThresholdForCostRatio(V{}, L{}, 1)));
}

// ---- Calibration table -------------------------------------------------------------------

TEST(CalibrationTable, EqualCountBinsAscending) {
  // Sorted probs .1 .. 1.0; bins [0, 3), [3, 6), [6, 10) of 10 rows in 3 bins.
  const V p{1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1};
  const L y{1, 1, 0, 1, 0, 0, 0, 1, 0, 0};
  const std::vector<CalibrationBin> t = CalibrationTable(p, y, 3);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].bin, 0);
  EXPECT_EQ(t[0].n, 3);
  EXPECT_EQ(t[0].positives, 1);  // 0.3
  EXPECT_DOUBLE_EQ(t[0].min_score, 0.1);
  EXPECT_DOUBLE_EQ(t[0].max_score, 0.3);
  EXPECT_NEAR(t[0].mean_predicted, 0.2, 1e-15);
  EXPECT_DOUBLE_EQ(t[0].observed_rate, 1.0 / 3.0);
  EXPECT_EQ(t[1].n, 3);
  EXPECT_EQ(t[1].positives, 0);
  EXPECT_EQ(t[2].bin, 2);
  EXPECT_EQ(t[2].n, 4);
  EXPECT_EQ(t[2].positives, 3);  // 0.7, 0.9, 1.0
  EXPECT_DOUBLE_EQ(t[2].min_score, 0.7);
  EXPECT_DOUBLE_EQ(t[2].max_score, 1.0);
  EXPECT_NEAR(t[2].mean_predicted, 0.85, 1e-15);
  EXPECT_DOUBLE_EQ(t[2].observed_rate, 0.75);
}

TEST(CalibrationTable, SplitsATieGroupByRowOrder) {
  // Four tied rows in two bins: rows 0, 1 then rows 2, 3.
  const std::vector<CalibrationBin> t = CalibrationTable(V{0.5, 0.5, 0.5, 0.5}, L{1, 1, 0, 0}, 2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].positives, 2);
  EXPECT_EQ(t[1].positives, 0);
}

TEST(CalibrationTable, NoMoreBinsThanRowsAndEmptyOnBadInput) {
  EXPECT_EQ(CalibrationTable(V{0.1, 0.2}, L{0, 1}, 10).size(), 2u);
  EXPECT_TRUE(CalibrationTable(V{}, L{}, 10).empty());
  EXPECT_TRUE(CalibrationTable(V{0.1}, L{0, 1}, 10).empty());
  EXPECT_TRUE(CalibrationTable(V{0.1}, L{0}, 0).empty());
}

// ---- Evaluate ----------------------------------------------------------------------------

TEST(Evaluate, AgreesWithTheSingleMetrics) {
  std::mt19937_64 rng(5);
  V s;
  L y;
  RandomTiedSample(rng, 5000, 50, s, y);
  for (double& x : s) x = std::min(1.0, x);
  const BinaryMetrics m = Evaluate(s, y);
  EXPECT_EQ(m.n, 5000);
  int64_t positives = 0;
  for (uint8_t l : y) positives += l;
  EXPECT_EQ(m.positives, positives);
  EXPECT_DOUBLE_EQ(m.base_rate, static_cast<double>(positives) / 5000);
  EXPECT_DOUBLE_EQ(m.auc, Auc(s, y));
  EXPECT_DOUBLE_EQ(m.gini, Gini(s, y));
  EXPECT_DOUBLE_EQ(m.ks, KsStatistic(s, y));
  EXPECT_DOUBLE_EQ(m.log_loss, LogLoss(s, y));
  EXPECT_DOUBLE_EQ(m.brier, Brier(s, y));
  EXPECT_DOUBLE_EQ(m.pr_auc, PrAuc(s, y));
}

TEST(Evaluate, ReadsNaNAsZeroInTheRankMetricsToo) {
  // NaN read as 0 ties with the 0.0 good: (½ + 1) / 2; Auc ranks it below: (0 + 1) / 2.
  const V p{kNaN, 0.0, 0.7};
  const L y{1, 0, 1};
  EXPECT_DOUBLE_EQ(Evaluate(p, y).auc, 0.75);
  EXPECT_DOUBLE_EQ(Auc(p, y), 0.5);
}

TEST(Evaluate, NaNMetricsWhenSizesDiffer) {
  const BinaryMetrics m = Evaluate(V{0.1}, L{0, 1});
  EXPECT_EQ(m.n, 0);
  EXPECT_TRUE(std::isnan(m.auc));
  EXPECT_TRUE(std::isnan(m.log_loss));
  EXPECT_TRUE(std::isnan(m.base_rate));
}

// ---- DeLong ------------------------------------------------------------------------------

TEST(AucConfidence, MatchesNumpyDelongOnReferenceSample) {
  const Sample r = ReferenceSample();
  const AucCi ci = AucConfidence(r.s, r.y);
  EXPECT_NEAR(ci.auc, 0.8125, 1e-15);
  EXPECT_NEAR(ci.se, 0.10670606009586926, 1e-14);
  EXPECT_NEAR(ci.lower, 0.8125 - 1.959963984540054 * 0.10670606009586926, 1e-12);
  EXPECT_EQ(ci.upper, 1.0);  // 1.0216 clipped
}

TEST(AucConfidence, EqualsPairwiseDelongOnRandomTiedSamples) {
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 30; ++trial) {
    V s;
    L y;
    RandomTiedSample(rng, 4 + rng() % 400, 2 + trial % 12, s, y);
    y[2] = 1;
    y[3] = 0;
    ASSERT_NEAR(AucConfidence(s, y).se, BruteDelongSe(s, y), 1e-12) << "trial " << trial;
  }
}

TEST(AucConfidence, SeAgreesWithBootstrap) {
  // 500 rows, 30% defaults, score = default + N(0, 1) (AUC about 0.76). 2000 bootstrap
  // resamples of rows; the bootstrap SD has about 1.6% relative noise of its own, so 5% is
  // three of those.
  std::mt19937_64 rng(2024);
  const size_t n = 500;
  V s(n);
  L y(n);
  for (size_t i = 0; i < n; ++i) {
    y[i] = Uniform(rng) < 0.3 ? 1 : 0;
    s[i] = y[i] + Normal(rng);
  }
  const AucCi ci = AucConfidence(s, y);
  V bs(n), aucs;
  L by(n);
  for (int b = 0; b < 2000; ++b) {
    for (size_t i = 0; i < n; ++i) {
      const size_t k = rng() % n;
      bs[i] = s[k];
      by[i] = y[k];
    }
    aucs.push_back(Auc(bs, by));
  }
  double mean = 0, ss = 0;
  for (double a : aucs) mean += a / static_cast<double>(aucs.size());
  for (double a : aucs) ss += (a - mean) * (a - mean);
  const double boot_se = std::sqrt(ss / static_cast<double>(aucs.size() - 1));
  EXPECT_NEAR(ci.se / boot_se, 1.0, 0.05) << ci.se << " vs " << boot_se;
  EXPECT_GT(ci.auc, 0.7);
  EXPECT_LT(ci.lower, ci.auc);
  EXPECT_GT(ci.upper, ci.auc);
}

TEST(AucConfidence, SeNaNWithFewerThanTwoOfAClassAndBoundsNaNForBadLevel) {
  const AucCi one = AucConfidence(V{0.1, 0.2, 0.3}, L{0, 0, 1});
  EXPECT_DOUBLE_EQ(one.auc, 1.0);
  EXPECT_TRUE(std::isnan(one.se));
  const AucCi empty = AucConfidence(V{0.1, 0.2}, L{0, 0});
  EXPECT_TRUE(std::isnan(empty.auc));
  const Sample r = ReferenceSample();
  const AucCi bad = AucConfidence(r.s, r.y, 1.0);
  EXPECT_NEAR(bad.se, 0.10670606009586926, 1e-14);
  EXPECT_TRUE(std::isnan(bad.lower));
  EXPECT_TRUE(std::isnan(bad.upper));
}

TEST(AucDifference, MatchesNumpyDelongOnReferenceSample) {
  const Sample r = ReferenceSample();
  const AucDiff d = AucDifference(r.s, r.b, r.y);
  EXPECT_NEAR(d.diff, 0.8125 - 0.6354166666666666, 1e-15);
  EXPECT_NEAR(d.se, 0.13831501208669494, 1e-14);
  EXPECT_NEAR(d.p_value, 0.2004431467840313, 1e-12);
  EXPECT_NEAR(d.lower, d.diff - 1.959963984540054 * d.se, 1e-12);
  EXPECT_NEAR(d.upper, d.diff + 1.959963984540054 * d.se, 1e-12);
}

TEST(AucDifference, SeAgreesWithPairedBootstrap) {
  // Two correlated scores of the same 500 rows: b = 0.6 a + noise.
  std::mt19937_64 rng(77);
  const size_t n = 500;
  V a(n), b(n);
  L y(n);
  for (size_t i = 0; i < n; ++i) {
    y[i] = Uniform(rng) < 0.3 ? 1 : 0;
    a[i] = y[i] + Normal(rng);
    b[i] = 0.6 * a[i] + 0.8 * Normal(rng);
  }
  const AucDiff d = AucDifference(a, b, y);
  V ba(n), bb(n), diffs;
  L by(n);
  for (int r = 0; r < 2000; ++r) {
    for (size_t i = 0; i < n; ++i) {
      const size_t k = rng() % n;
      ba[i] = a[k];
      bb[i] = b[k];
      by[i] = y[k];
    }
    diffs.push_back(Auc(ba, by) - Auc(bb, by));
  }
  double mean = 0, ss = 0;
  for (double x : diffs) mean += x / static_cast<double>(diffs.size());
  for (double x : diffs) ss += (x - mean) * (x - mean);
  const double boot_se = std::sqrt(ss / static_cast<double>(diffs.size() - 1));
  EXPECT_NEAR(d.se / boot_se, 1.0, 0.05) << d.se << " vs " << boot_se;
  // The paired SE is well below the unpaired sqrt(se_a² + se_b²) for correlated scores.
  const double unpaired = std::hypot(AucConfidence(a, y).se, AucConfidence(b, y).se);
  EXPECT_LT(d.se, 0.8 * unpaired);
}

TEST(AucDifference, IdenticalScoresGiveZeroDiffAndPOne) {
  const Sample r = ReferenceSample();
  const AucDiff d = AucDifference(r.s, r.s, r.y);
  EXPECT_EQ(d.diff, 0.0);
  EXPECT_NEAR(d.se, 0.0, 1e-12);
  EXPECT_EQ(d.p_value, 1.0);
}

TEST(AucDifference, NaNWhenSizesDiffer) {
  const AucDiff d = AucDifference(V{0.1, 0.2}, V{0.1}, L{0, 1});
  EXPECT_TRUE(std::isnan(d.diff));
  EXPECT_TRUE(std::isnan(d.p_value));
}

TEST(NormalQuantile, MatchesScipyNormPpf) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-14);
  EXPECT_EQ(NormalQuantile(0.5), 0.0);
  EXPECT_NEAR(NormalQuantile(0.001), -3.090232306167813, 1e-13);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.9999), 3.719016485455709, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.3), -0.5244005127080409, 1e-14);
  EXPECT_EQ(NormalQuantile(0.0), -kInf);
  EXPECT_EQ(NormalQuantile(1.0), kInf);
  EXPECT_TRUE(std::isnan(NormalQuantile(1.5)));
  EXPECT_TRUE(std::isnan(NormalQuantile(kNaN)));
}

// ---- The shared sort ---------------------------------------------------------------------

TEST(SortByScore, OrdersByValueThenRowWithNaNFirst) {
  // 1000 rows (the radix path) over a few special values, each repeated.
  const V specials{kNaN, -kInf, -1e300, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, kInf};
  V s(1000);
  std::mt19937_64 rng(1);
  for (double& x : s) x = specials[rng() % specials.size()];
  const auto sorted = internal::SortByScore(s, {});
  ASSERT_EQ(sorted.size(), s.size());
  for (size_t i = 1; i < sorted.size(); ++i) {
    const double a = s[sorted[i - 1].row], b = s[sorted[i].row];
    const bool a_before_b = std::isnan(a) ? true : (std::isnan(b) ? false : a <= b);
    ASSERT_TRUE(a_before_b) << i;
    if (sorted[i - 1].key == sorted[i].key) {
      ASSERT_LT(sorted[i - 1].row, sorted[i].row) << i;
    }
  }
  // -0.0 and +0.0 share a key; NaN keys decode to NaN.
  EXPECT_EQ(internal::OrderKey(-0.0), internal::OrderKey(0.0));
  EXPECT_TRUE(std::isnan(internal::KeyValue(internal::OrderKey(kNaN))));
  EXPECT_EQ(internal::KeyValue(internal::OrderKey(-2.5)), -2.5);
}

TEST(SortSplit, SortsEachClassAndReadsNaNAsAsked) {
  const V specials{kNaN, -kInf, -1e300, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, kInf};
  V s(1200);
  L y(1200);
  std::mt19937_64 rng(2);
  for (size_t i = 0; i < s.size(); ++i) {
    s[i] = specials[rng() % specials.size()];
    y[i] = rng() % 2;
  }
  for (auto nan : {internal::NanReading::kBelowAll, internal::NanReading::kZero}) {
    std::vector<uint64_t> want_pos, want_neg;
    for (size_t i = 0; i < s.size(); ++i) {
      const double x = std::isnan(s[i]) && nan == internal::NanReading::kZero ? 0.0 : s[i];
      (y[i] ? want_pos : want_neg).push_back(internal::OrderKey(x));
    }
    std::sort(want_pos.begin(), want_pos.end());
    std::sort(want_neg.begin(), want_neg.end());
    const internal::SplitKeys got = internal::SortSplit(s, y, nan);
    EXPECT_EQ(std::vector<uint64_t>(got.positives.begin(), got.positives.end()), want_pos);
    EXPECT_EQ(std::vector<uint64_t>(got.negatives.begin(), got.negatives.end()), want_neg);
  }
  // Keys order like the doubles: NaN, -inf, -1e300, ..., inf, with -0.0 == 0.0.
  for (size_t i = 1; i < specials.size(); ++i) {
    const uint64_t a = internal::OrderKey(specials[i - 1]), b = internal::OrderKey(specials[i]);
    if (specials[i - 1] == specials[i]) {
      EXPECT_EQ(a, b) << i;
    } else {
      EXPECT_LT(a, b) << i;
    }
  }
}

}  // namespace
}  // namespace riskpipe::stats
