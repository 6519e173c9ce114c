// Tests of MonitorMonth on a workspace built here with DuckDB SQL (gold/predictions,
// gold/feature_store and gold/label_store as docs/features.md, docs/labels.md and the gold
// schemas describe) and a cached development reference: performance only on matured labels,
// idempotent re-runs, alerts at the policy's thresholds, the retrain recommendation and the
// month its drift began, the calibration gap (realised and carried forward) and the alerts of a
// month the quality gate stopped.

#include "monitoring/monitoring.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "datamart/datamart.h"
#include "metastore/metastore.h"
#include "monitoring/reference.h"
#include "testing/temp_dir.h"

namespace riskpipe::monitoring {
namespace {

namespace fs = std::filesystem;
using datamart::Layer;
using riskpipe::testing::TempDir;

MonitorOptions NoImportance() {
  MonitorOptions o;
  o.importance = false;
  return o;
}

db::Options OneThread() {
  db::Options o;
  o.threads = 1;
  return o;
}

metastore::AlertFilter Filter(const std::string& month, const std::string& check,
                              bool resolved = false) {
  metastore::AlertFilter f;
  f.from_month = month;
  f.to_month = month;
  f.check_name = check;
  f.include_resolved = resolved;
  return f;
}

class MonitorMonthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_.name = "t";
    project_.workspace = dir_.path() / "ws";
    config::LabelDef label;
    label.name = "bad_2mob";
    label.kind = config::LabelKind::kDpd;
    label.mob = 2;
    label.loan_key = "loan_id";
    label.entity = "customer_id";
    project_.label = label;
    project_.features.spine.key = "loan_id";
    project_.features.spine.entity = "customer_id";
    auto database = db::Database::Open(":memory:", OneThread());
    ASSERT_TRUE(database.ok());
    db_.emplace(std::move(*database));
    auto con = db_->Connect();
    ASSERT_TRUE(con.ok());
    con_.emplace(std::move(*con));
    // The development reference: pd uniform on (0, 0.5), x uniform on (0, 100), no nulls.
    Reference ref;
    ref.model_id = "m/1";
    ref.model_name = "m";
    ref.model_version = 1;
    ref.rows = 1000;
    for (int i = 0; i < 1000; ++i) ref.sorted_pd.push_back((i + 0.5) / 2000);
    for (int b = 1; b < 10; ++b) ref.score_edges.push_back(b * 0.05);
    ref.score_counts.assign(10, 100);
    ref.threshold = 0.4;
    ref.approval_rate = 0.8;
    ref.mean_pd = 0.25;
    ref.auc = 0.75;
    FeatureReference x;
    x.name = "x";
    for (int b = 1; b < 10; ++b) x.edges.push_back(b * 10.0);
    x.counts.assign(10, 100);
    x.counts.push_back(0);
    ref.features.push_back(x);
    FeatureReference z = x;
    z.name = "fe_7";
    ref.features.push_back(z);
    ASSERT_TRUE(SaveReference(ref, ReferenceDir(project_, "m/1")).ok());
  }

  // Month `m` with 1000 loans "<m>-<i>": pd = shift + (i + 0.5) / 2000, x = i / 10 (fe_7 NULL
  // when `outage`), labels 1 for odd i when pd > 0.25 (so the model ranks), available on the
  // application date + 2 months; loan 0's label is late by one extra month.
  void Write(const std::string& m, double shift, bool outage = false) {
    const datamart::Datamart mart(project_.workspace.datamart());
    const Month month = *Month::Parse(m);
    const std::string day = "DATE '" + month.first_day().ToString() + "' + (i % 28)::INTEGER";
    const std::string rows = "FROM range(1000) t(i)";
    const std::string id = "'" + m + "-' || i::VARCHAR";
    ASSERT_TRUE(mart.WritePartition(
                        *con_, Layer::kGold, "predictions", month.first_day(),
                        "SELECT " + id + " AS event_id, 'c' || i::VARCHAR AS entity_id, " + day +
                            " AS decision_date, 'm/1' AS model_id, 'm' AS model_name, "
                            "1 AS model_version, 'champion' AS role, 0.0::DOUBLE AS margin, "
                            "least(0.99, " +
                            std::to_string(shift) +
                            " + (i + 0.5) / 2000) AS pd, 'A' AS score_band, "
                            "CASE WHEN least(0.99, " +
                            std::to_string(shift) +
                            " + (i + 0.5) / 2000) >= 0.4 THEN 'decline' ELSE 'approve' END "
                            "AS decision, 0.4::DOUBLE AS threshold, NULL::VARCHAR AS reason_1, "
                            "NULL::VARCHAR AS reason_2, NULL::VARCHAR AS reason_3, "
                            "'default' AS reason_table_version " +
                            rows)
                    .ok());
    ASSERT_TRUE(mart.WritePartition(*con_, Layer::kGold, "feature_store", month.first_day(),
                                    "SELECT " + id +
                                        " AS loan_id, 'c' || i::VARCHAR AS customer_id, " + day +
                                        " AS decision_date, i / 10.0 AS x, " +
                                        (outage ? "NULL::DOUBLE" : "i / 10.0") + " AS fe_7 " + rows)
                    .ok());
    ASSERT_TRUE(mart.WritePartition(
                        *con_, Layer::kGold, "label_store", month.first_day(),
                        "SELECT " + id + " AS loan_id, 'c' || i::VARCHAR AS customer_id, " + day +
                            " AS application_date, 'bad_2mob' AS label_def, "
                            "CASE WHEN i % 2 = 1 AND i >= 500 THEN 1 ELSE 0 END AS label, "
                            "NULL::INTEGER AS dpd_at_mob, CAST(" +
                            day +
                            " + INTERVAL (CASE WHEN i = 0 THEN 3 ELSE 2 END) MONTH AS DATE)"
                            " AS label_available_date " +
                            rows)
                    .ok());
  }

  std::string Dump(const std::string& table) {
    const datamart::Datamart mart(project_.workspace.datamart());
    auto sql = mart.ReadSql(Layer::kGold, table);
    EXPECT_TRUE(sql.ok());
    auto t = con_->Query("SELECT * FROM " + *sql + " ORDER BY ALL");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    std::string out;
    for (const auto& row : t->rows) {
      for (const auto& v : row) out += db::ValueToString(v) + "|";
      out += "\n";
    }
    return out;
  }

  double Value(const std::string& table, const std::string& where, const char* col = "value") {
    const datamart::Datamart mart(project_.workspace.datamart());
    auto t = con_->Query("SELECT " + std::string(col) + " FROM " +
                         *mart.ReadSql(Layer::kGold, table) + " WHERE " + where);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->rows.size(), 1u) << where;
    if (!t.ok() || t->rows.size() != 1) return -1;
    const auto& v = t->rows[0][0];
    if (std::holds_alternative<double>(v)) return std::get<double>(v);
    if (std::holds_alternative<int64_t>(v)) return static_cast<double>(std::get<int64_t>(v));
    return std::nan("");
  }

  TempDir dir_;
  config::Project project_;
  std::optional<db::Database> db_;
  std::optional<db::Connection> con_;
};

TEST_F(MonitorMonthTest, StableMonthRaisesNoAlert) {
  Write("2024-01", 0.0);
  auto s = MonitorMonth(project_, *con_, *Month::Parse("2024-01"), NoImportance());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rows, 1000);
  EXPECT_EQ(s->models, std::vector<std::string>{"m/1"});
  EXPECT_EQ(s->alerts_warn + s->alerts_act, 0);
  EXPECT_FALSE(s->retrain_recommended);
  EXPECT_NEAR(Value("monitoring_stability", "metric = 'score_psi'"), 0.0, 1e-9);
  EXPECT_NEAR(Value("monitoring_stability", "metric = 'csi' AND feature = 'x'"), 0.0, 1e-3);
}

TEST_F(MonitorMonthTest, PerformanceUsesOnlyLabelsMaturedByTheMonthEnd) {
  Write("2024-01", 0.0);
  Write("2024-02", 0.0);
  Write("2024-03", 0.0);
  auto s = MonitorMonth(project_, *con_, *Month::Parse("2024-03"), NoImportance());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // 2024-01 + 2 months of label lag = 2024-03: matured; loan 0's label comes out in 2024-04.
  const std::string jan = "snapshot_date = DATE '2024-01-01' AND metric = 'auc'";
  EXPECT_EQ(Value("monitoring_performance", jan + " AND status = 'matured'", "labelled"), 999);
  EXPECT_GT(Value("monitoring_performance", jan), 0.5);
  // 2024-02 is immature: estimate only, realised value NULL.
  const std::string feb =
      "snapshot_date = DATE '2024-02-01' AND metric = 'auc' AND status = 'immature'";
  EXPECT_TRUE(std::isnan(Value("monitoring_performance", feb)));
  EXPECT_GT(Value("monitoring_performance", feb, "estimated"), 0.5);
  // Re-monitoring 2024-04 uses loan 0 too.
  Write("2024-04", 0.0);
  ASSERT_TRUE(MonitorMonth(project_, *con_, *Month::Parse("2024-04"), NoImportance()).ok());
  EXPECT_EQ(Value("monitoring_performance", jan, "labelled"), 1000);
}

TEST_F(MonitorMonthTest, RerunGivesIdenticalTables) {
  Write("2024-01", 0.0);
  Write("2024-02", 0.2, /*outage=*/true);
  const Month feb = *Month::Parse("2024-02");
  ASSERT_TRUE(MonitorMonth(project_, *con_, *Month::Parse("2024-01"), NoImportance()).ok());
  ASSERT_TRUE(MonitorMonth(project_, *con_, feb, NoImportance()).ok());
  const std::string stability = Dump("monitoring_stability");
  const std::string performance = Dump("monitoring_performance");
  const std::string alerts = Dump("monitoring_alerts");
  ASSERT_TRUE(MonitorMonth(project_, *con_, feb, NoImportance()).ok());
  EXPECT_EQ(Dump("monitoring_stability"), stability);
  EXPECT_EQ(Dump("monitoring_performance"), performance);
  EXPECT_EQ(Dump("monitoring_alerts"), alerts);
  auto store = metastore::Metastore::Open(project_.workspace.metastore());
  ASSERT_TRUE(store.ok());
  auto listed = store->ListAlerts(Filter("2024-02", ""));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(static_cast<int64_t>(listed->size()), Value("monitoring_alerts", "TRUE", "count(*)"));
}

TEST_F(MonitorMonthTest, ShiftAndOutageRaiseAlertsAndRecommendRetraining) {
  Write("2024-01", 0.0);
  Write("2024-02", 0.3, /*outage=*/true);
  ASSERT_TRUE(MonitorMonth(project_, *con_, *Month::Parse("2024-01"), NoImportance()).ok());
  auto s = MonitorMonth(project_, *con_, *Month::Parse("2024-02"), NoImportance());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->retrain_recommended);
  auto store = metastore::Metastore::Open(project_.workspace.metastore());
  ASSERT_TRUE(store.ok());
  auto psi = store->ListAlerts(Filter("2024-02", "score_psi"));
  ASSERT_TRUE(psi.ok());
  ASSERT_EQ(psi->size(), 1u);
  EXPECT_EQ((*psi)[0].severity, "act");
  EXPECT_EQ((*psi)[0].action, "retrain");
  auto nulls = store->ListAlerts(Filter("2024-02", "null_rate"));
  ASSERT_TRUE(nulls.ok());
  ASSERT_EQ(nulls->size(), 1u);
  EXPECT_EQ((*nulls)[0].feature, "fe_7");
  EXPECT_EQ((*nulls)[0].severity, "act");
  EXPECT_DOUBLE_EQ(*(*nulls)[0].value, 1.0);
  auto trigger = RetrainRecommended(project_, "m", *Month::Parse("2024-02"));
  ASSERT_TRUE(trigger.ok()) << trigger.status().ToString();
  ASSERT_TRUE(trigger->has_value());
  EXPECT_EQ((*trigger)->model_id, "m/1");
  EXPECT_EQ((*trigger)->month, *Month::Parse("2024-02"));
  // Nothing before the shift.
  auto before = RetrainRecommended(project_, "m", *Month::Parse("2024-01"));
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->has_value());
}

TEST_F(MonitorMonthTest, AlertNoLongerRaisedIsResolvedNotDeleted) {
  Write("2024-02", 0.3);
  const Month feb = *Month::Parse("2024-02");
  ASSERT_TRUE(MonitorMonth(project_, *con_, feb, NoImportance()).ok());
  Write("2024-02", 0.0);  // the month's predictions corrected
  ASSERT_TRUE(MonitorMonth(project_, *con_, feb, NoImportance()).ok());
  auto store = metastore::Metastore::Open(project_.workspace.metastore());
  ASSERT_TRUE(store.ok());
  auto open = store->ListAlerts(Filter("2024-02", "score_psi"));
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
  auto all = store->ListAlerts(Filter("2024-02", "score_psi", true));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_FALSE((*all)[0].resolved_at.empty());
  EXPECT_EQ(Value("monitoring_alerts", "check_name = 'score_psi'", "count(*)"), 0);
}

TEST_F(MonitorMonthTest, CalibrationGapIsRealisedOnceMaturedAndCarriedForwardBeforeThat) {
  // PDs 0.10 above the fixture's 25% default rate: mean PD 0.35, observed 0.25.
  Write("2024-01", 0.1);
  Write("2024-02", 0.1);
  Write("2024-03", 0.1);
  ASSERT_TRUE(MonitorMonth(project_, *con_, *Month::Parse("2024-03"), NoImportance()).ok());
  const std::string gap = "metric = 'calibration_gap' AND snapshot_date = DATE ";
  // 2024-01 matured: observed 250/999 minus the labelled rows' (i = 1..999) mean PD 0.35025.
  EXPECT_NEAR(Value("monitoring_performance", gap + "'2024-01-01'"), 250.0 / 999 - 0.35025, 1e-9);
  // No earlier evidence for 2024-01 (and the fixture reference has no out-of-time rows).
  EXPECT_TRUE(std::isnan(Value("monitoring_performance", gap + "'2024-01-01'", "estimated")));
  // 2024-02 and 2024-03 are immature: no realised gap, the 2024-01 ratio carried forward.
  EXPECT_TRUE(std::isnan(Value("monitoring_performance", gap + "'2024-02-01'")));
  EXPECT_NEAR(Value("monitoring_performance", gap + "'2024-02-01'", "estimated"), -0.10, 2e-3);
  EXPECT_NEAR(Value("monitoring_performance", gap + "'2024-03-01'", "estimated"), -0.10, 2e-3);
}

TEST_F(MonitorMonthTest, NewModelsCalibrationEstimateComesFromItsOutOfTimeRows) {
  auto ref = ReadReference(ReferenceDir(project_, "m/1"));
  ASSERT_TRUE(ref.ok());
  ref->oot_default_rate = 0.30;
  ref->oot_mean_pd = 0.25;  // the model predicted 20% too few defaults out of time
  ASSERT_TRUE(SaveReference(*ref, ReferenceDir(project_, "m/1")).ok());
  Write("2024-01", 0.0);
  ASSERT_TRUE(MonitorMonth(project_, *con_, *Month::Parse("2024-01"), NoImportance()).ok());
  // Mean PD 0.25 x 1.2 - 0.25.
  EXPECT_NEAR(
      Value("monitoring_performance",
            "metric = 'calibration_gap' AND snapshot_date = DATE '2024-01-01'", "estimated"),
      0.05, 1e-9);
}

TEST_F(MonitorMonthTest, QualityGateStopRaisesAnActAlertWithTheFailedExpectations) {
  const datamart::Datamart mart(project_.workspace.datamart());
  const Month mar = *Month::Parse("2024-03");
  ASSERT_TRUE(
      mart.WritePartition(*con_, Layer::kGold, "data_quality", mar.first_day(),
                          "SELECT * FROM (VALUES "
                          "('silver', 'clicks', 3, 'fe_7_present', 'error', 'fail', 1.0, "
                          "'1 (9000 of 9000 rows null)', '<= 0.01'), "
                          "('silver', 'fin', 7, 'income_distribution', 'warn', 'fail', 0.07, "
                          "'PSI 0.07', 'PSI <= 0.05'), "
                          "('silver', 'fin', 1, 'rows', 'error', 'pass', 500.0, '500', '> 0')) "
                          "t(layer, table_name, ordinal, expectation, severity, outcome, observed, "
                          "observed_text, threshold)")
          .ok());
  auto n = RaiseQualityAlerts(project_, *con_, mar, "m/1");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  auto store = metastore::Metastore::Open(project_.workspace.metastore());
  ASSERT_TRUE(store.ok());
  auto alerts = store->ListAlerts(Filter("2024-03", "dq_failures"));
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 1u);
  const auto& a = (*alerts)[0];
  EXPECT_EQ(a.severity, "act");
  EXPECT_EQ(a.action, "investigate");
  EXPECT_EQ(a.model_id, "m/1");
  EXPECT_EQ(a.model_name, "m");
  EXPECT_DOUBLE_EQ(*a.value, 2);  // both failures; the passing expectation is not evidence
  EXPECT_NE(a.evidence_json.find("fe_7_present"), std::string::npos) << a.evidence_json;
  EXPECT_NE(a.evidence_json.find("9000 of 9000"), std::string::npos) << a.evidence_json;
  // The month has a partition of gold/monitoring_alerts (the dashboard's timeline reads it).
  EXPECT_EQ(Value("monitoring_alerts", "check_name = 'dq_failures'", "count(*)"), 1);
  // Raising again replaces, never duplicates.
  ASSERT_TRUE(RaiseQualityAlerts(project_, *con_, mar, "m/1").ok());
  EXPECT_EQ(store->ListAlerts(Filter("2024-03", "dq_failures"))->size(), 1u);
}

TEST_F(MonitorMonthTest, RetrainTriggerNamesWhenTheDriftBeganAcrossAMonthWithoutPredictions) {
  Write("2024-01", 0.0);
  Write("2024-02", 0.3);
  Write("2024-04", 0.3);  // 2024-03 has no predictions (stopped by the quality gate, say)
  for (const char* m : {"2024-01", "2024-02", "2024-04"}) {
    ASSERT_TRUE(MonitorMonth(project_, *con_, *Month::Parse(m), NoImportance()).ok()) << m;
  }
  auto trigger = RetrainRecommended(project_, "m", *Month::Parse("2024-04"));
  ASSERT_TRUE(trigger.ok()) << trigger.status().ToString();
  ASSERT_TRUE(trigger->has_value());
  EXPECT_EQ((*trigger)->month, *Month::Parse("2024-04"));
  ASSERT_TRUE((*trigger)->drift_since.has_value());
  EXPECT_EQ(*(*trigger)->drift_since, *Month::Parse("2024-02"));
  auto store = metastore::Metastore::Open(project_.workspace.metastore());
  ASSERT_TRUE(store.ok());
  auto retrain = store->ListAlerts(Filter("2024-04", "retrain"));
  ASSERT_TRUE(retrain.ok());
  ASSERT_EQ(retrain->size(), 1u);
  // The month without predictions neither counted nor broke the run: 2024-02 and 2024-04.
  EXPECT_NE((*retrain)[0].evidence_json.find("\"psi_warn_streak\":2"), std::string::npos)
      << (*retrain)[0].evidence_json;
}

TEST_F(MonitorMonthTest, MissingPredictionsIsFailedPrecondition) {
  auto s = MonitorMonth(project_, *con_, *Month::Parse("2024-05"), NoImportance());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace riskpipe::monitoring
