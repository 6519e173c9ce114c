// The demo's drift story end to end (docs/monitoring.md, "The synthetic drift story"): the
// example project's own riskpipe.yaml on the default synthetic data (12,500 customers, seed
// 42), replayed 2023-01..2024-12 as `make demo` does. Each test checks one chapter in the gold
// tables, the metastore and the run log; the last one checks that the dashboard and the
// report tell it, and keeps screenshots of both (build dir test-output/demo).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "db/database.h"
#include "metastore/metastore.h"
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

class DemoStory : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    fs::copy_file(kExample / "riskpipe.yaml", dir_->path() / "riskpipe.yaml");
    fs::copy(kExample / "expectations", dir_->path() / "expectations", fs::copy_options::recursive);
    CliResult synth = Run("synth --scenario lending-datamart --seed 42");
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    backfill_ = new CliResult(Run("backfill --from 2023-01 --to 2024-12"));
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok());
    database_ = new db::Database(std::move(*database));
    auto con = database_->Connect();
    ASSERT_TRUE(con.ok());
    con_ = new db::Connection(std::move(*con));
  }
  static void TearDownTestSuite() {
    delete con_;
    delete database_;
    delete backfill_;
    delete dir_;
  }

  static CliResult Run(const std::string& args) {
    return riskpipe::testing::RunRiskpipe("--config riskpipe.yaml " + args, dir_->path());
  }
  static fs::path Ws() { return dir_->path() / "workspace"; }

  // One value of a query over a gold table (`FROM table` in `sql` names the whole table).
  static double Number(const std::string& sql) {
    auto t = con_->Query(Expand(sql));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (!t.ok() || t->rows.size() != 1) return std::nan("");
    const auto& v = t->rows[0][0];
    if (std::holds_alternative<double>(v)) return std::get<double>(v);
    if (std::holds_alternative<int64_t>(v)) return static_cast<double>(std::get<int64_t>(v));
    return std::nan("");
  }
  // "gold:<table>" -> the table's Parquet files with the partition column.
  static std::string Expand(std::string sql) {
    for (size_t p = sql.find("gold:"); p != std::string::npos; p = sql.find("gold:")) {
      size_t e = p + 5;
      while (e < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[e])) || sql[e] == '_'))
        ++e;
      const std::string table = sql.substr(p + 5, e - p - 5);
      sql.replace(p, e - p,
                  "read_parquet('" +
                      (Ws() / "datamart" / "gold" / table / "*" / "*.parquet").string() +
                      "', hive_partitioning = true)");
    }
    return sql;
  }
  static double Stability(const std::string& month, const std::string& model,
                          const std::string& metric) {
    return Number("SELECT value FROM gold:monitoring_stability WHERE snapshot_date = DATE '" +
                  month + "-01' AND model_id = '" + model + "' AND metric = '" + metric +
                  "' AND feature IS NULL AND bucket IS NULL");
  }
  static std::vector<metastore::AlertRow> Alerts(const std::string& month,
                                                 const std::string& check) {
    auto store = metastore::Metastore::Open(Ws() / "metastore.sqlite");
    EXPECT_TRUE(store.ok());
    metastore::AlertFilter f;
    f.from_month = f.to_month = month;
    f.check_name = check;
    auto rows = store->ListAlerts(f);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<metastore::AlertRow>{};
  }
  // The latest pipeline step `step` of `month`: its message (or error).
  static std::string Step(const std::string& step, const std::string& month) {
    auto store = metastore::Metastore::Open(Ws() / "metastore.sqlite");
    EXPECT_TRUE(store.ok());
    metastore::StepFilter f;
    f.step = step;
    f.limit = 1000;
    auto steps = store->ListSteps(f);
    EXPECT_TRUE(steps.ok());
    for (const auto& s : *steps) {
      if (s.partition != month + "-01") continue;
      const json d = json::parse(s.details_json.empty() ? "{}" : s.details_json, nullptr, false);
      return s.error.empty() ? d.value("message", "") : s.error;
    }
    return "no " + step + " step for " + month;
  }

  static inline TempDir* dir_ = nullptr;
  static inline CliResult* backfill_ = nullptr;
  static inline db::Database* database_ = nullptr;
  static inline db::Connection* con_ = nullptr;
};

void OnlyTheFeedOutageMonthFails() {
  EXPECT_EQ(DemoStory::backfill_->exit_code, 1) << DemoStory::backfill_->output;
  EXPECT_NE(DemoStory::backfill_->output.find("failed months: 2024-03"), std::string::npos)
      << DemoStory::backfill_->output;
  // Monitoring covers every scored month, 2023-11 (the first model) to 2024-12, and the
  // alerts table every month from the first model on, the stopped 2024-03 included.
  EXPECT_EQ(
      DemoStory::Number("SELECT count(DISTINCT snapshot_date) FROM gold:monitoring_stability"), 13);
  EXPECT_EQ(
      DemoStory::Number("SELECT count(DISTINCT snapshot_date) FROM gold:monitoring_alerts WHERE "
                        "snapshot_date >= DATE '2024-01-01'"),
      12);
}

void QuietMonthsThenTheShockRaisesScorePsiAndApprovalAlerts() {
  for (const char* m : {"2023-11", "2023-12"}) {
    EXPECT_LT(DemoStory::Stability(m, "lending_pd/1", "score_psi"), 0.10) << m;
  }
  for (const char* m : {"2024-01", "2024-02", "2024-04", "2024-05", "2024-06"}) {
    EXPECT_GE(DemoStory::Stability(m, "lending_pd/1", "score_psi"), 0.10) << m;
    EXPECT_EQ(DemoStory::Alerts(m, "approval_rate").size(), 1u)
        << m;  // riskier applicants declined
  }
}

void TheFeedOutageIsAnActAlertWithItsEvidence() {
  const auto dq = DemoStory::Alerts("2024-03", "dq_failures");
  ASSERT_EQ(dq.size(), 1u);
  EXPECT_EQ(dq[0].severity, "act");
  EXPECT_EQ(dq[0].action, "investigate");
  EXPECT_EQ(dq[0].model_id, "lending_pd/1");
  EXPECT_NE(dq[0].evidence_json.find("fe_7_present"), std::string::npos) << dq[0].evidence_json;
  EXPECT_NE(DemoStory::Step("quality", "2024-03").find("alerts raised"), std::string::npos);
  CliResult alerts = DemoStory::Run("alerts --month 2024-03");
  EXPECT_EQ(alerts.exit_code, 0) << alerts.output;
  EXPECT_NE(alerts.output.find("dq_failures"), std::string::npos) << alerts.output;
}

void TheRetrainWaitsForTheShockedLabelsThenThePolicyTriggersIt() {
  for (const char* m : {"2024-04", "2024-05", "2024-06", "2024-07"}) {
    EXPECT_NE(DemoStory::Step("train", m).find("waits for the drifted months' labels"),
              std::string::npos)
        << m << ": " << DemoStory::Step("train", m);
  }
  // The first shocked cohort matures in 2024-07: the realised calibration gap confirms it.
  const auto gap = DemoStory::Alerts("2024-07", "calibration_gap");
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0].severity, "act");
  EXPECT_EQ(gap[0].action, "retrain");
  const auto retrain = DemoStory::Alerts("2024-07", "retrain");
  ASSERT_EQ(retrain.size(), 1u);
  EXPECT_EQ(json::parse(retrain[0].evidence_json).at("drift_since"), "2024-01");
  const std::string trained = DemoStory::Step("train", "2024-08");
  EXPECT_NE(trained.find("monitoring trigger on lending_pd/1"), std::string::npos) << trained;
  // The clickstream no longer covers new applicants (data-spec A.6): left out.
  EXPECT_NE(trained.find("features no current application has"), std::string::npos) << trained;
}

void TheRetrainedModelPassesTheGateIsPromotedAndIsStableAgain() {
  const std::string validated = DemoStory::Step("validate", "2024-08");
  EXPECT_NE(validated.find("checks passed"), std::string::npos) << validated;
  const std::string approved = DemoStory::Step("approve", "2024-08");
  ASSERT_NE(approved.find("promoted lending_pd/"), std::string::npos) << approved;
  const std::string model = approved.substr(
      approved.find("lending_pd/"), approved.find(" to production") - approved.find("lending_pd/"));
  for (const char* m : {"2024-08", "2024-09", "2024-10", "2024-11", "2024-12"}) {
    EXPECT_LT(DemoStory::Stability(m, model, "score_psi"), 0.10) << m;
    EXPECT_TRUE(DemoStory::Alerts(m, "approval_rate").empty()) << m;
    EXPECT_TRUE(DemoStory::Alerts(m, "retrain").empty()) << m;
  }
}

void CalibrationDecaysOnMaturedMonthsAndTheNewModelsEstimateRecovers() {
  // Realised: defaults above the first model's PDs for the shocked cohorts.
  EXPECT_GE(
      DemoStory::Number("SELECT max(value) FROM gold:monitoring_performance WHERE metric = "
                        "'calibration_gap' AND status = 'matured' AND model_id = 'lending_pd/1'"),
      0.05);
  EXPECT_LT(
      DemoStory::Number("SELECT max(abs(value)) FROM gold:monitoring_performance WHERE metric = "
                        "'calibration_gap' AND status = 'matured' AND snapshot_date < DATE "
                        "'2024-01-01'"),
      0.05);
  // Estimated, for the months the new model scores (no labels before 2025-02).
  EXPECT_LT(DemoStory::Number(
                "SELECT max(abs(estimated)) FROM gold:monitoring_performance WHERE metric = "
                "'calibration_gap' AND snapshot_date >= DATE '2024-08-01'"),
            0.05);
}

// Headless Chromium screenshot of `page` into `png`.
bool Screenshot(const fs::path& page, const fs::path& png, const std::string& size) {
  const char* env = std::getenv("RISKPIPE_CHROMIUM");
  const std::string chromium = env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
  const std::string cmd = "'" + chromium +
                          "' --headless --no-sandbox --disable-gpu --no-first-run "
                          "--hide-scrollbars --virtual-time-budget=10000 --window-size=" +
                          size + " --user-data-dir='" + (png.parent_path() / "profile").string() +
                          "' --screenshot='" + png.string() + "' 'file://" + page.string() +
                          "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 && fs::exists(png);
}

void TheDashboardAndTheReportTellItAndAreScreenshotted() {
  const fs::path reports = DemoStory::Ws() / "reports";
  ASSERT_TRUE(fs::exists(reports / "dashboard.html"));
  ASSERT_TRUE(fs::exists(reports / "report.pdf")) << "the demo renders the PDF (chromium)";
  const std::string report = ReadAll(reports / "report.html");
  EXPECT_NE(report.find("took over in 2024-08"), std::string::npos);
  EXPECT_NE(report.find("2024-03 stopped at the quality gate"), std::string::npos);
  EXPECT_NE(report.find("applications of 2024-01, lending_pd/1"), std::string::npos);
  const std::string dashboard = ReadAll(reports / "dashboard.html");
  EXPECT_NE(dashboard.find("data-chart=\"calibration_gap\""), std::string::npos);

  const fs::path shots = RISKPIPE_TEST_OUTPUT_DIR;
  fs::create_directories(shots);
  ASSERT_TRUE(Screenshot(reports / "dashboard.html", shots / "demo-dashboard.png", "1400,3600"));
  EXPECT_GT(fs::file_size(shots / "demo-dashboard.png"), 100000u);
  // The PDF's pages as images when poppler is there, else the page it is printed from.
  if (::access("/usr/bin/pdftoppm", X_OK) == 0) {
    const std::string cmd = "/usr/bin/pdftoppm -r 60 -png '" + (reports / "report.pdf").string() +
                            "' '" + (shots / "demo-report").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_TRUE(fs::exists(shots / "demo-report-01.png"));
    EXPECT_TRUE(fs::exists(shots / "demo-report-10.png"));
  } else {
    ASSERT_TRUE(Screenshot(reports / "report.html", shots / "demo-report.png", "1123,1620"));
  }
}

// One test, so that the 24-month replay runs once (ctest runs every test in its own process).
TEST_F(DemoStory, TellsTheDriftStoryMonthByMonth) {
  {
    SCOPED_TRACE("OnlyTheFeedOutageMonthFails");
    OnlyTheFeedOutageMonthFails();
  }
  {
    SCOPED_TRACE("QuietMonthsThenTheShockRaisesScorePsiAndApprovalAlerts");
    QuietMonthsThenTheShockRaisesScorePsiAndApprovalAlerts();
  }
  {
    SCOPED_TRACE("TheFeedOutageIsAnActAlertWithItsEvidence");
    TheFeedOutageIsAnActAlertWithItsEvidence();
  }
  {
    SCOPED_TRACE("TheRetrainWaitsForTheShockedLabelsThenThePolicyTriggersIt");
    TheRetrainWaitsForTheShockedLabelsThenThePolicyTriggersIt();
  }
  {
    SCOPED_TRACE("TheRetrainedModelPassesTheGateIsPromotedAndIsStableAgain");
    TheRetrainedModelPassesTheGateIsPromotedAndIsStableAgain();
  }
  {
    SCOPED_TRACE("CalibrationDecaysOnMaturedMonthsAndTheNewModelsEstimateRecovers");
    CalibrationDecaysOnMaturedMonthsAndTheNewModelsEstimateRecovers();
  }
  {
    SCOPED_TRACE("TheDashboardAndTheReportTellItAndAreScreenshotted");
    TheDashboardAndTheReportTellItAndAreScreenshotted();
  }
}

}  // namespace
}  // namespace riskpipe
