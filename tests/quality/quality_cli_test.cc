// End-to-end tests of `riskpipe quality`: exit codes, messages, outputs and the run log.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "datamart/datamart.h"
#include "db/database.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::TempDir;
using ::testing::HasSubstr;

using riskpipe::testing::RiskpipeBinary;
using Result = riskpipe::testing::CliResult;

Result RunCli(const std::string& args) { return riskpipe::testing::RunRiskpipe(args); }

constexpr char kProject[] = R"(project: q
workspace: ws
sources:
  - name: clicks
    file: raw/clicks.csv
    keys: [id, snapshot_date]
    date_column: snapshot_date
    columns:
      - {name: id, type: string, required: true}
      - {name: fe_7, type: int}
      - {name: snapshot_date, type: date, required: true}
)";

constexpr char kSuite[] = R"(table: clicks
layer: silver
expectations:
  - name: month_delivered
    kind: freshness
    severity: error
    rationale: one delivery a month
  - name: fe_7_present
    kind: null_rate
    column: fe_7
    max: 0.01
    severity: error
    rationale: reference null rate 0 plus 1%
)";

class QualityCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.Write("riskpipe.yaml", kProject).string();
    dir_.Write("expectations/silver.clicks.yaml", kSuite);
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    const datamart::Datamart mart(dir_.path() / "ws/datamart");
    for (const auto& [month, fe7] : {std::pair{2, "i"}, std::pair{3, "NULL::BIGINT"},
                                     std::pair{5, "i"}}) {
      auto n = mart.WritePartition(*con, datamart::Layer::kSilver, "clicks",
                                   Date::FromCivil(2024, month, 1),
                                   std::string("SELECT 'C' || i AS id, ") + fe7 +
                                       " AS fe_7 FROM range(100) t(i)");
      ASSERT_TRUE(n.ok()) << n.status().ToString();
    }
  }
  std::string Quality(const std::string& flags) {
    return "--config " + config_ + " quality " + flags;
  }
  int64_t Count(const std::string& where) {
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    auto n = con->QueryInt("SELECT count(*) FROM read_parquet('" +
                           (dir_.path() / "ws/datamart/gold/data_quality/*/part-0.parquet").string() +
                           "') WHERE " + where);
    return n.ok() ? *n : -1;
  }

  TempDir dir_;
  std::string config_;
};

TEST_F(QualityCliTest, NormalMonthPassesAndWritesOutputs) {
  const Result r = RunCli(Quality("--table clicks --month 2024-02"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("silver/clicks 2024-02  100 rows  2 pass  0 fail"));
  EXPECT_TRUE(fs::exists(dir_.path() / "ws/reports/quality/clicks_2024-02.md"));
  EXPECT_EQ(Count("month = '2024-02' AND passed"), 2);
}

TEST_F(QualityCliTest, BrokenMonthExitsOneNamingExpectationObservedAndThreshold) {
  const Result r = RunCli(Quality("--table clicks --month 2024-03"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("riskpipe: silver/clicks 2024-03: expectation fe_7_present "
                                  "failed: observed 1 (100 of 100 rows null), threshold <= 0.01"));
  EXPECT_EQ(Count("month = '2024-03' AND NOT passed"), 1);
  const Result status = RunCli("--config " + config_ + " status --limit 1");
  EXPECT_THAT(status.output, HasSubstr("quality"));
}

TEST_F(QualityCliTest, AllMonthsCatchesTheGapAndTheOutage) {
  const Result r = RunCli(Quality("--table clicks --all-months"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("2024-03: expectation fe_7_present failed"));
  EXPECT_THAT(r.output, HasSubstr("2024-04: expectation month_delivered failed: observed "
                                  "partition missing"));
  EXPECT_EQ(Count("true"), 8);  // 4 months x 2 expectations
  // Idempotent: a second run replaces each month's rows.
  EXPECT_EQ(RunCli(Quality("--table clicks --all-months")).exit_code, 1);
  EXPECT_EQ(Count("true"), 8);
}

TEST_F(QualityCliTest, ConfigurationProblemsExitTwo) {
  EXPECT_EQ(RunCli(Quality("--table nope --month 2024-02")).exit_code, 2);
  EXPECT_EQ(RunCli(Quality("--table clicks")).exit_code, 2);
  dir_.Write("expectations/silver.clicks.yaml",
             "table: clicks\nlayer: silver\nexpectations:\n  - {name: f, kind: freshness, "
             "severity: error}\n");
  const Result r = RunCli(Quality("--table clicks --month 2024-02"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("silver.clicks.yaml:4: expectations[0].rationale: required"));
}

}  // namespace
}  // namespace riskpipe
