// Tests of the monitoring statistics (docs/monitoring.md): PSI, JS, KS, CSI with its missing
// bin and null rates against values computed by hand; performance against src/stats and only
// on the labels that may be used; the confidence-based estimates.

#include "monitoring/month_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "stats/distribution.h"
#include "stats/metrics.h"
#include "testing/temp_dir.h"

namespace riskpipe::monitoring {
namespace {

const StabilityRow& Row(const std::vector<StabilityRow>& rows, const std::string& metric,
                        const std::string& feature = "", const std::string& bucket = "") {
  for (const auto& r : rows) {
    if (r.metric == metric && r.feature == feature && r.bucket == bucket) return r;
  }
  ADD_FAILURE() << "no row " << metric << " " << feature << " " << bucket;
  static StabilityRow none;
  return none;
}

const PerformanceRow& Perf(const std::vector<PerformanceRow>& rows, const std::string& metric,
                           const std::string& bucket = "") {
  for (const auto& r : rows) {
    if (r.metric == metric && r.bucket == bucket) return r;
  }
  ADD_FAILURE() << "no row " << metric;
  static PerformanceRow none;
  return none;
}

// Reference: scores 50 x 0.3 and 50 x 0.7 cut at 0.5; feature x cut at 10 with 40 / 40 / 20
// missing.
Reference TwoBinReference() {
  Reference r;
  r.rows = 100;
  r.score_edges = {0.5};
  r.score_counts = {50, 50};
  r.sorted_pd.assign(50, 0.3);
  r.sorted_pd.insert(r.sorted_pd.end(), 50, 0.7);
  r.threshold = 0.5;
  r.approval_rate = 0.5;
  r.mean_pd = 0.5;
  FeatureReference x;
  x.name = "x";
  x.edges = {10};
  x.counts = {40, 40, 20};
  x.null_rate = 0.2;
  r.features.push_back(x);
  return r;
}

TEST(MonthStats, ScorePsiJsKsAgainstHandComputedValues) {
  const Reference ref = TwoBinReference();
  std::vector<double> pd(80, 0.2);
  pd.insert(pd.end(), 20, 0.8);
  MonthColumns m;
  m.pd = pd;
  const auto rows = ComputeStability(ref, m);
  // PSI = (0.8 - 0.5) ln(0.8 / 0.5) + (0.2 - 0.5) ln(0.2 / 0.5)
  EXPECT_NEAR(Row(rows, "score_psi").value, 0.3 * std::log(1.6) + (-0.3) * std::log(0.4), 1e-12);
  // JS in bits with M = (0.65, 0.35).
  const double kl_p = 0.5 * std::log2(0.5 / 0.65) + 0.5 * std::log2(0.5 / 0.35);
  const double kl_q = 0.8 * std::log2(0.8 / 0.65) + 0.2 * std::log2(0.2 / 0.35);
  EXPECT_NEAR(Row(rows, "score_js").value, 0.5 * (kl_p + kl_q), 1e-12);
  // Every current score 0.2 lies below every reference score: D = 0.8 at 0.2.
  EXPECT_DOUBLE_EQ(Row(rows, "score_ks").value, 0.8);
  EXPECT_NEAR(Row(rows, "score_ks_pvalue").value, stats::KsTwoSample(ref.sorted_pd, pd).p_value,
              1e-12);
  EXPECT_DOUBLE_EQ(Row(rows, "approval_rate").value, 0.8);
  EXPECT_DOUBLE_EQ(*Row(rows, "approval_rate").reference, 0.5);
  EXPECT_DOUBLE_EQ(Row(rows, "mean_pd").value, (80 * 0.2 + 20 * 0.8) / 100);
  EXPECT_DOUBLE_EQ(Row(rows, "score_share", "", "1").value, 0.8);
  EXPECT_DOUBLE_EQ(*Row(rows, "score_share", "", "2").reference, 0.5);
}

TEST(MonthStats, CsiCountsMissingValuesAsTheirOwnBin) {
  const Reference ref = TwoBinReference();
  std::vector<double> pd(100, 0.3);
  model::Frame frame;
  frame.rows = 100;
  model::FrameColumn x;
  x.name = "x";
  x.numbers.assign(30, 5.0);
  x.numbers.insert(x.numbers.end(), 30, 20.0);
  x.numbers.insert(x.numbers.end(), 40, std::nan(""));
  frame.columns.push_back(x);
  MonthColumns m;
  m.pd = pd;
  m.frame = &frame;
  const auto rows = ComputeStability(ref, m);
  // Shares (0.3, 0.3, 0.4) against (0.4, 0.4, 0.2).
  const double csi = 2 * (-0.1) * std::log(0.75) + 0.2 * std::log(2.0);
  EXPECT_NEAR(Row(rows, "csi", "x").value, csi, 1e-12);
  EXPECT_DOUBLE_EQ(Row(rows, "null_rate", "x").value, 0.4);
  EXPECT_DOUBLE_EQ(*Row(rows, "null_rate", "x").reference, 0.2);
}

TEST(MonthStats, FeatureMissingFromTheMonthIsEntirelyNull) {
  const Reference ref = TwoBinReference();
  std::vector<double> pd(10, 0.3);
  model::Frame frame;
  frame.rows = 10;
  MonthColumns m;
  m.pd = pd;
  m.frame = &frame;
  const auto rows = ComputeStability(ref, m);
  EXPECT_DOUBLE_EQ(Row(rows, "null_rate", "x").value, 1.0);
  EXPECT_GT(Row(rows, "csi", "x").value, 0.25);
}

TEST(MonthStats, KsAgainstSortedMatchesTheStatsModule) {
  std::mt19937 rng(7);
  std::normal_distribution<double> a(0, 1), b(0.3, 1.2);
  std::vector<double> ref, cur;
  for (int i = 0; i < 2000; ++i) ref.push_back(std::round(a(rng) * 20) / 20);  // with ties
  for (int i = 0; i < 1500; ++i) cur.push_back(std::round(b(rng) * 20) / 20);
  const stats::KsResult want = stats::KsTwoSample(ref, cur);
  std::sort(ref.begin(), ref.end());
  const KsOut got = KsAgainstSorted(ref, cur);
  EXPECT_DOUBLE_EQ(got.statistic, want.statistic);
  EXPECT_NEAR(got.p_value, want.p_value, 1e-12);
}

TEST(MonthStats, RealisedPerformanceMatchesTheStatsModuleOnKnownLabelsOnly) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> pd, known_pd;
  std::vector<uint8_t> y, known, known_y;
  for (int i = 0; i < 3000; ++i) {
    const double p = std::round(u(rng) * 200) / 200;  // ties
    const bool is_known = i % 3 != 0;
    // Unknown rows carry a label that would wreck the AUC if it were used.
    const uint8_t label = is_known ? u(rng) < p : (p < 0.5);
    pd.push_back(p);
    y.push_back(label);
    known.push_back(is_known);
    if (is_known) {
      known_pd.push_back(p);
      known_y.push_back(label);
    }
  }
  const auto rows = ComputePerformance(pd, y, known, 0.5, true);
  EXPECT_EQ(Perf(rows, "auc").status, "matured");
  EXPECT_EQ(Perf(rows, "auc").labelled, static_cast<int64_t>(known_pd.size()));
  EXPECT_EQ(Perf(rows, "auc").rows, 3000);
  EXPECT_NEAR(*Perf(rows, "auc").value, stats::Auc(known_pd, known_y), 1e-12);
  EXPECT_NEAR(*Perf(rows, "gini").value, stats::Gini(known_pd, known_y), 1e-12);
  EXPECT_NEAR(*Perf(rows, "ks").value, stats::KsStatistic(known_pd, known_y), 1e-12);
  EXPECT_NEAR(*Perf(rows, "brier").value, stats::Brier(known_pd, known_y), 1e-12);
  const stats::ConfusionAt at = stats::AtThreshold(known_pd, known_y, 0.5);
  EXPECT_NEAR(*Perf(rows, "precision").value, at.precision, 1e-12);
  EXPECT_NEAR(*Perf(rows, "recall").value, at.recall, 1e-12);
  const auto table = stats::CalibrationTable(known_pd, known_y, 10);
  EXPECT_NEAR(*Perf(rows, "calib_predicted", "3").value, table[2].mean_predicted, 1e-12);
}

// Referred applications (decision refer: no PD, manual review) are counted as such, not
// approved, and kept out of every PD metric.
TEST(MonthStats, ReferredRowsAreCountedAndNeverTakenForApprovals) {
  const Reference ref = TwoBinReference();
  std::vector<double> pd(80, 0.2);
  pd.insert(pd.end(), 20, std::nan(""));
  std::vector<uint8_t> approved(80, 1), referred(80, 0);
  approved.insert(approved.end(), 20, 0);
  referred.insert(referred.end(), 20, 1);
  MonthColumns m;
  m.pd = pd;
  m.approved = approved;
  m.referred = referred;
  auto rows = ComputeStability(ref, m);
  EXPECT_DOUBLE_EQ(Row(rows, "refer_rate").value, 0.2);
  EXPECT_EQ(Row(rows, "refer_rate").rows, 100);
  EXPECT_DOUBLE_EQ(Row(rows, "approval_rate").value, 0.8);
  EXPECT_NEAR(Row(rows, "mean_pd").value, 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(Row(rows, "score_share", "", "1").value, 1.0);
  // Without a decision column (an unseen segment), a NaN PD is a refer and not an approval.
  MonthColumns bare;
  bare.pd = pd;
  rows = ComputeStability(ref, bare);
  EXPECT_DOUBLE_EQ(Row(rows, "refer_rate").value, 0.2);
  EXPECT_DOUBLE_EQ(Row(rows, "approval_rate").value, 0.8);
  // Performance leaves them out: their labels do not count, whatever they are.
  std::vector<double> perf_pd = {0.1, 0.2, 0.8, 0.9, std::nan(""), std::nan("")};
  const std::vector<uint8_t> y = {0, 0, 1, 1, 1, 0}, known(6, 1);
  const auto perf = ComputePerformance(perf_pd, y, known, 0.5, true);
  EXPECT_EQ(Perf(perf, "auc").rows, 4);
  EXPECT_EQ(Perf(perf, "auc").labelled, 4);
  EXPECT_DOUBLE_EQ(*Perf(perf, "auc").value, 1.0);
  EXPECT_DOUBLE_EQ(*Perf(perf, "mean_pd").estimated, 0.5);
}

TEST(MonthStats, ImmatureMonthHasEstimatesOnly) {
  std::vector<double> pd(1000, 0.3);
  const auto rows = ComputePerformance(pd, {}, {}, 0.5, false);
  EXPECT_EQ(Perf(rows, "auc").status, "immature");
  EXPECT_FALSE(Perf(rows, "auc").value.has_value());
  EXPECT_EQ(Perf(rows, "auc").labelled, 0);
  // Equal PDs cannot rank: expected AUC 0.5; expected default rate = mean PD.
  EXPECT_NEAR(*Perf(rows, "auc").estimated, 0.5, 1e-12);
  EXPECT_NEAR(*Perf(rows, "default_rate").estimated, 0.3, 1e-12);
  EXPECT_NEAR(*Perf(rows, "brier").estimated, 0.3 * 0.7, 1e-12);
}

TEST(MonthStats, EstimatedAucIsCloseToRealisedForCalibratedPds) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> pd;
  std::vector<uint8_t> y, known;
  for (int i = 0; i < 200000; ++i) {
    const double p = u(rng) * 0.6;
    pd.push_back(p);
    y.push_back(u(rng) < p);  // labels drawn from the PDs: calibrated by construction
    known.push_back(1);
  }
  const auto rows = ComputePerformance(pd, y, known, 0.3, true);
  EXPECT_NEAR(*Perf(rows, "auc").estimated, *Perf(rows, "auc").value, 0.01);
  EXPECT_NEAR(*Perf(rows, "default_rate").estimated, *Perf(rows, "default_rate").value, 0.005);
}

TEST(Reference, CacheRoundTripKeepsEveryFieldAndUnknownAuc) {
  riskpipe::testing::TempDir dir;
  Reference ref = TwoBinReference();
  ref.model_id = "m/3";
  ref.auc = std::nan("");  // a sample without labels
  ref.oot_end = *Month::Parse("2024-06");
  ref.features[0].decile_means = {1.5, std::nan("")};
  ASSERT_TRUE(SaveReference(ref, dir.path() / "ref").ok());
  auto back = ReadReference(dir.path() / "ref");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->model_id, "m/3");
  EXPECT_TRUE(std::isnan(back->auc));
  EXPECT_EQ(back->sorted_pd, ref.sorted_pd);
  EXPECT_EQ(back->score_edges, ref.score_edges);
  EXPECT_EQ(back->features[0].counts, ref.features[0].counts);
  EXPECT_DOUBLE_EQ(back->features[0].decile_means[0], 1.5);
  EXPECT_TRUE(std::isnan(back->features[0].decile_means[1]));
  EXPECT_EQ(back->oot_end, ref.oot_end);
}

}  // namespace
}  // namespace riskpipe::monitoring
