// `riskpipe monitor | alerts | compare | unseen-check` run as the real binary on a small
// workspace: the lending example (3,000 synthetic customers) replayed 2023-01..2024-06 by the
// pipeline with a fast model (first model 2023-12, the quality gate stopping the 2024-03 feed
// outage), plus a second version trained by hand and scored beside it as a shadow challenger.
// Output, tables and exit codes (0 ok, 1 failed or drifted, 2 usage) of each command.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "db/database.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using riskpipe::testing::CliResult;
using riskpipe::testing::ReadAll;
using riskpipe::testing::TempDir;

const fs::path kExample = fs::path(RISKPIPE_SOURCE_DIR) / "examples" / "lending-datamart";

// A fast model section (logistic only) trained first in 2023-12, lenient gate thresholds (120
// applications a month make every statistic noisy), and the pipeline with auto-approval.
std::string Config(const std::string& candidates) {
  std::string yaml = ReadAll(kExample / "riskpipe.yaml");
  yaml = yaml.substr(0, yaml.find("\nmodel:\n")) + R"(
model:
  name: lending_pd
  cutoff: 2023-12-01
  splits:
    train: {from: 2023-01, to: 2023-03}
    validation: {from: 2023-04, to: 2023-04}
    oot: {from: 2023-05, to: 2023-05}
  min_train_rows: 200
  seed: 42
  candidates:
)" + candidates +
         R"(
  selection: {metric: auc, max_oot_drop: 0.5}
  calibration: platt
  threshold: {policy: approval_rate, value: 0.7}
validation:
  min_auc: 0.5
  min_ks: 0
  max_auc_below_baseline: 1
  max_auc_below_production: 1
  min_month_auc: 0
  min_segment_auc: 0
  max_segment_gap: 1
  max_direction_violations: 1
  max_noise_pd_change: 1
  max_noise_pd_change_p99: 1
  calibration_abs_tolerance: 1
  min_approval_ratio: 0
pipeline:
  training: {initial: 2023-12}
  quality_gate: stop
  backoff_seconds: 0
  auto_approve: {by: test, reason: unattended test}
)";
  return yaml;
}

class MonitorCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    dir_->Write("riskpipe.yaml", Config("    - {family: logistic, params: {l2: 0.001}}"));
    dir_->Write("challenger.yaml",
                Config("    - {family: xgboost, params: {rounds: 30, max_depth: 3, eta: 0.2}}"));
    // The example's suites size their row counts for 12,500 customers; this small workspace
    // keeps only the check that catches the 2024-03 feed outage.
    dir_->Write("expectations/silver.feature_clickstream.yaml",
                "table: feature_clickstream\nlayer: silver\nexpectations:\n"
                "  - name: fe_7_present\n    kind: null_rate\n    column: fe_7\n    max: 0.01\n"
                "    severity: error\n    rationale: the feed has no nulls (data-spec A.6)\n");
    CliResult synth = Run("synth --scenario lending-datamart --customers 3000 --seed 7");
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    CliResult backfill =
        Run("backfill --from 2023-01 --to 2024-06 --skip report --skip materialize");
    ASSERT_EQ(backfill.exit_code, 1) << backfill.output;  // 2024-03 stops at the quality gate
    ASSERT_NE(backfill.output.find("failed months: 2024-03"), std::string::npos) << backfill.output;
    ASSERT_TRUE(fs::exists(Gold("predictions", "2024-02"))) << backfill.output;
    // A second version, scored on 2023-12 beside the champion as a shadow challenger.
    CliResult train = Run("train --cutoff 2023-12-01", "challenger.yaml");
    ASSERT_EQ(train.exit_code, 0) << train.output;
    CliResult predict =
        Run("predict --month 2023-12 --model lending_pd/1 --challenger lending_pd/2");
    ASSERT_EQ(predict.exit_code, 0) << predict.output;
  }
  static void TearDownTestSuite() { delete dir_; }

  static CliResult Run(const std::string& args, const std::string& config = "riskpipe.yaml") {
    return riskpipe::testing::RunRiskpipe("--quiet --config " + config + " " + args, dir_->path());
  }
  static fs::path Gold(const std::string& table, const std::string& month) {
    return dir_->path() / "workspace" / "datamart" / "gold" / table /
           ("snapshot_date=" + month + "-01") / "part-0.parquet";
  }
  static int64_t Count(const std::string& sql) {
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    auto n = con->QueryInt(sql);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  // The JSON objects of a --json output (one per line, or one document).
  static std::vector<json> Lines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      const json j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }

  static inline TempDir* dir_ = nullptr;
};

TEST_F(MonitorCli, MonitorWritesTheMonthsTablesAndPrintsASummaryLine) {
  fs::remove(Gold("monitoring_stability", "2024-02"));
  CliResult r = Run("monitor --month 2024-02 --no-importance");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2024-02  models lending_pd/1  rows "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("alerts act "), std::string::npos) << r.output;
  ASSERT_TRUE(fs::exists(Gold("monitoring_stability", "2024-02")));
  EXPECT_EQ(Count("SELECT count(*) FROM read_parquet('" +
                  Gold("monitoring_stability", "2024-02").string() +
                  "') WHERE metric = 'score_psi' AND model_id = 'lending_pd/1'"),
            1);
  // A range prints one line per month; a re-run replaces, never appends.
  CliResult range = Run("monitor --from 2024-01 --to 2024-02 --no-importance");
  ASSERT_EQ(range.exit_code, 0) << range.output;
  EXPECT_NE(range.output.find("2024-01  models"), std::string::npos) << range.output;
  EXPECT_NE(range.output.find("2024-02  models"), std::string::npos) << range.output;
  EXPECT_EQ(
      Count("SELECT count(*) FROM read_parquet('" +
            Gold("monitoring_stability", "2024-02").string() + "') WHERE metric = 'score_psi'"),
      1);
  // 2022-06 was never scored: a failure naming what to run, not a usage error.
  CliResult missing = Run("monitor --month 2022-06");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("run `riskpipe predict` first"), std::string::npos)
      << missing.output;
}

TEST_F(MonitorCli, AlertsListTheStoppedMonthsDataQualityAlertAsTextAndJson) {
  CliResult text = Run("alerts --month 2024-03");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("2024-03  act   investigate  dq_failures"), std::string::npos)
      << text.output;
  CliResult as_json = Run("alerts --month 2024-03 --severity act --json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.output;
  const auto lines = Lines(as_json.output);
  ASSERT_EQ(lines.size(), 1u) << as_json.output;
  EXPECT_EQ(lines[0]["check"], "dq_failures");
  EXPECT_EQ(lines[0]["model_id"], "lending_pd/1");
  EXPECT_EQ(lines[0]["evidence"]["failed"][0]["expectation"], "fe_7_present");
  // Filters: a model that raised nothing, a month before any alert.
  CliResult other = Run("alerts --month 2024-03 --model lending_pd/2");
  EXPECT_EQ(other.exit_code, 0);
  EXPECT_NE(other.output.find("no alerts"), std::string::npos) << other.output;
  EXPECT_NE(Run("alerts --month 2021-01").output.find("no alerts"), std::string::npos);
}

TEST_F(MonitorCli, CompareStatesTheDecisionOnTheSharedApplications) {
  const int64_t scored =
      Count("SELECT count(*) FROM read_parquet('" + Gold("predictions", "2023-12").string() +
            "') WHERE role = 'champion'");
  ASSERT_GT(scored, 50);
  CliResult as_json = Run("compare lending_pd/1 lending_pd/2 --from 2023-12 --to 2023-12 --json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.output;
  const json j = json::parse(as_json.output);
  EXPECT_EQ(j["rows"], scored);
  EXPECT_GT(j["labelled"].get<int64_t>(), 0);  // 2023-12 matured in 2024-06
  EXPECT_EQ(j["champion"]["model_id"], "lending_pd/1");
  EXPECT_EQ(j["challenger"]["model_id"], "lending_pd/2");
  EXPECT_LE(j["ci"][0].get<double>(), j["auc_diff"].get<double>());
  EXPECT_GE(j["ci"][1].get<double>(), j["auc_diff"].get<double>());
  const std::string decision = j["decision"];
  EXPECT_TRUE(decision.find("promote") != std::string::npos ||
              decision.find("keep") != std::string::npos ||
              decision.find("inconclusive") != std::string::npos)
      << decision;
  CliResult text = Run("compare lending_pd/1 lending_pd/2");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("decision: " + decision), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("rule: "), std::string::npos) << text.output;
  // A version never scored beside the champion: a failure, not a usage error.
  CliResult apart = Run("compare lending_pd/1 lending_pd/7");
  EXPECT_EQ(apart.exit_code, 1) << apart.output;
  EXPECT_NE(apart.output.find("not scored on any common application"), std::string::npos)
      << apart.output;
}

TEST_F(MonitorCli, UnseenCheckScoresTheSegmentAndExitsByItsVerdict) {
  CliResult r = Run("unseen-check lending_pd/1 --from 2023-06 --to 2023-11 --json");
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.output;
  const json j = json::parse(r.output);
  EXPECT_EQ(j["model_id"], "lending_pd/1");
  EXPECT_EQ(r.exit_code == 0, j["passed"].get<bool>());  // 1 = drifted
  // Every application of the segment's six months, scored by the package itself.
  int64_t rows = 0;
  for (const char* m : {"2023-06", "2023-07", "2023-08", "2023-09", "2023-10", "2023-11"}) {
    rows += Count("SELECT count(*) FROM read_parquet('" + Gold("feature_store", m).string() + "')");
  }
  EXPECT_EQ(j["rows"], rows);
  EXPECT_TRUE(j["score_psi"].is_number());
  CliResult text = Run("unseen-check lending_pd/1 --from 2023-06 --to 2023-11");
  EXPECT_EQ(text.exit_code, r.exit_code);
  EXPECT_NE(text.output.find(j["passed"].get<bool>() ? "PASSED" : "FAILED"), std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("why: "), std::string::npos) << text.output;
  CliResult unknown = Run("unseen-check lending_pd/9");
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("lending_pd/9"), std::string::npos) << unknown.output;
}

// Usage errors need no data: a project file and nothing else (exit code 2, a message).
class MonitorCliUsage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("riskpipe.yaml", Config("    - {family: logistic, params: {l2: 0.001}}"));
  }
  CliResult Run(const std::string& args) {
    return riskpipe::testing::RunRiskpipe("--quiet --config riskpipe.yaml " + args, dir_.path());
  }
  TempDir dir_;
};

TEST_F(MonitorCliUsage, MonitorNeedsOneMonthOrAnOrderedRange) {
  CliResult none = Run("monitor");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("give --month YYYY-MM or --from/--to"), std::string::npos)
      << none.output;
  EXPECT_EQ(Run("monitor --month 2024-13").exit_code, 2);
  CliResult both = Run("monitor --month 2024-01 --from 2024-01");
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_NE(both.output.find("give --month or --from/--to"), std::string::npos) << both.output;
  CliResult reversed = Run("monitor --from 2024-03 --to 2024-01");
  EXPECT_EQ(reversed.exit_code, 2) << reversed.output;
  EXPECT_NE(reversed.output.find("--to is before --from"), std::string::npos) << reversed.output;
}

TEST_F(MonitorCliUsage, AlertsRejectABadMonthOrSeverity) {
  CliResult bad_month = Run("alerts --month 24-03");
  EXPECT_EQ(bad_month.exit_code, 2) << bad_month.output;
  EXPECT_NE(bad_month.output.find("expected YYYY-MM, got \"24-03\""), std::string::npos)
      << bad_month.output;
  EXPECT_EQ(Run("alerts --severity fatal").exit_code, 2);
}

TEST_F(MonitorCliUsage, CompareNeedsTwoDifferentModelsAndAnOrderedRange) {
  EXPECT_EQ(Run("compare lending_pd/1").exit_code, 2);  // the challenger is required
  CliResult same = Run("compare lending_pd/1 lending_pd/1");
  EXPECT_EQ(same.exit_code, 2) << same.output;
  EXPECT_NE(same.output.find("both lending_pd/1"), std::string::npos) << same.output;
  EXPECT_EQ(Run("compare lending_pd/1 lending_pd/2 --from 2024-02 --to 2023-12").exit_code, 2);
}

TEST_F(MonitorCliUsage, UnseenCheckNeedsAModelAndValidMonths) {
  EXPECT_EQ(Run("unseen-check").exit_code, 2);  // the model is required
  EXPECT_EQ(Run("unseen-check lending_pd/1 --from 2023-13").exit_code, 2);
}

}  // namespace
}  // namespace riskpipe
