// The pipeline runner end to end on a small synthetic lending datamart: a backfill that
// trains, auto-approves and scores; a second run that skips everything; a run killed with
// SIGKILL and resumed to the same outputs as an uninterrupted one; a failing step that stops
// only its month and transient failures retried (that run in process, with faults from the
// runner's fault hook); --force replacing exactly one month; and the approval gate pausing the
// run until a person approves.

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "config/config.h"
#include "db/database.h"
#include "inference/inference.h"
#include "model/package.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::CliResult;
using riskpipe::testing::ReadAll;
using riskpipe::testing::RiskpipeBinary;
using riskpipe::testing::TempDir;

const fs::path kExample = fs::path(RISKPIPE_SOURCE_DIR) / "examples" / "lending-datamart";

// A small model section (fast candidates, small minimum) trained first in 2023-12.
constexpr char kModel[] = R"(model:
  name: lending_pd
  cutoff: 2023-12-01
  splits:
    train: {from: 2023-01, to: 2023-03}
    validation: {from: 2023-04, to: 2023-04}
    oot: {from: 2023-05, to: 2023-05}
  min_train_rows: 200
  seed: 42
  candidates:
    - {family: logistic, params: {l2: 0.001}}
    - {family: xgboost, params: {rounds: 30, max_depth: 3, eta: 0.2}}
  selection: {metric: auc, max_oot_drop: 0.5}
  calibration: platt
  threshold: {policy: approval_rate, value: 0.7}
# Lenient gate thresholds: 120 applications a month make every statistic noisy; the gate's
# own tests (tests/validation) hold each check to its real threshold.
validation:
  min_auc: 0.5
  min_ks: 0
  max_auc_below_baseline: 1
  min_month_auc: 0
  min_segment_auc: 0
  max_segment_gap: 1
  max_direction_violations: 1
  max_noise_pd_change: 1
  max_noise_pd_change_p99: 1
  calibration_abs_tolerance: 1
  min_approval_ratio: 0
)";

// The example project with the model and pipeline sections replaced; raw files synthesized
// once per test binary and copied.
class PipelineProject {
 public:
  explicit PipelineProject(bool auto_approve) {
    std::string yaml = ReadAll(kExample / "riskpipe.yaml");
    yaml = yaml.substr(0, yaml.find("\nmodel:\n")) + "\n" + kModel +
           "pipeline:\n  training: {initial: 2023-12}\n  quality_gate: warn\n"
           "  backoff_seconds: 0\n";
    if (auto_approve) yaml += "  auto_approve: {by: test, reason: unattended test}\n";
    dir_.Write("riskpipe.yaml", yaml);
    fs::copy(kExample / "expectations", dir_.path() / "expectations",
             fs::copy_options::recursive);
    fs::create_directories(dir_.path() / "workspace" / "raw");
    for (const auto& e : fs::directory_iterator(Raw())) {
      fs::copy_file(e.path(), dir_.path() / "workspace" / "raw" / e.path().filename());
    }
  }
  const fs::path& path() const { return dir_.path(); }
  fs::path ws() const { return dir_.path() / "workspace"; }
  CliResult Run(const std::string& args) const {
    return riskpipe::testing::RunRiskpipe(args, dir_.path());
  }
  fs::path Partition(const std::string& layer, const std::string& table,
                     const std::string& month) const {
    return ws() / "datamart" / layer / table / ("snapshot_date=" + month + "-01") / "part-0.parquet";
  }

 private:
  // Synthesized once: 3,000 customers (about 120 applications a month).
  static fs::path Raw() {
    static TempDir* raw = [] {
      auto* d = new TempDir();
      CliResult r = riskpipe::testing::RunRiskpipe(
          "synth --scenario lending-datamart --customers 3000 --seed 7 --out " + d->path().string());
      EXPECT_EQ(r.exit_code, 0) << r.output;
      return d;
    }();
    return raw->path();
  }
  TempDir dir_;
};

// Rows in a and not in b, plus rows in b and not in a, of two Parquet files.
int64_t Difference(const fs::path& a, const fs::path& b) {
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  const std::string ra = "read_parquet('" + a.string() + "', hive_partitioning = false)",
                    rb = "read_parquet('" + b.string() + "', hive_partitioning = false)";
  auto t = con->Query("SELECT (SELECT count(*) FROM (SELECT * FROM " + ra + " EXCEPT ALL SELECT * FROM " +
                      rb + ")) + (SELECT count(*) FROM (SELECT * FROM " + rb +
                      " EXCEPT ALL SELECT * FROM " + ra + "))");
  EXPECT_TRUE(t.ok()) << t.status().message();
  if (!t.ok()) return -1;
  return std::get<int64_t>(t->rows[0][0]);
}

int64_t Rows(const fs::path& file) {
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  auto t = con->Query("SELECT count(*) FROM read_parquet('" + file.string() + "')");
  return t.ok() ? std::get<int64_t>(t->rows[0][0]) : -1;
}

TEST(PipelineCli, BackfillThenSkipThenKillAndResumeGiveTheSameOutputs) {
  PipelineProject a(true), b(true);
  const std::string range = "backfill --from 2023-01 --to 2024-01 --skip report";
  CliResult plan = a.Run(range + " --dry-run");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("2023-07 predict"), std::string::npos) << plan.output;
  EXPECT_FALSE(fs::exists(a.ws() / "metastore.sqlite")) << "a dry run changes nothing";

  CliResult first = a.Run(range);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("registered lending_pd/1"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("ingest: 13 months in one pass per source"), std::string::npos)
      << first.output;
  EXPECT_NE(first.output.find("promoted lending_pd/1"), std::string::npos) << first.output;
  // Predictions exist from the first training month on, not before.
  EXPECT_FALSE(fs::exists(a.Partition("gold", "predictions", "2023-11")));
  ASSERT_TRUE(fs::exists(a.Partition("gold", "predictions", "2023-12")));
  ASSERT_TRUE(fs::exists(a.Partition("gold", "predictions", "2024-01")));
  EXPECT_GT(Rows(a.Partition("gold", "predictions", "2024-01")), 50);
  // The auto-approval is recorded as such.
  CliResult history = a.Run("models history --name lending_pd");
  EXPECT_NE(history.output.find("auto-approve"), std::string::npos) << history.output;

  // A prediction equals the package scored alone, bit for bit, on the same rows.
  {
    auto project = config::LoadProject(a.path() / "riskpipe.yaml");
    ASSERT_TRUE(project.ok()) << project.status().message();
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    auto reg = registry::Registry::Open(project->workspace);
    ASSERT_TRUE(reg.ok());
    auto dir = reg->VerifiedPath("lending_pd/1");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    auto package = model::ModelPackage::Load(*dir);
    ASSERT_TRUE(package.ok()) << package.status().message();
    auto rows = inference::ReadMonth(*project, *con, Month::Of(2024, 1));
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    auto scores = package->Score(rows->frame);
    ASSERT_TRUE(scores.ok());
    auto written = con->QueryColumns("SELECT pd, reason_1 FROM read_parquet('" +
                                     a.Partition("gold", "predictions", "2024-01").string() +
                                     "') WHERE role = 'champion'");
    ASSERT_TRUE(written.ok()) << written.status().message();
    ASSERT_EQ(written->rows, rows->frame.rows);
    size_t with_reason = 0;
    for (size_t i = 0; i < written->rows; ++i) {
      ASSERT_EQ(written->columns[0].numbers[i], scores->pd[i]) << "row " << i;
      with_reason += written->columns[1].codes[i] >= 0;
    }
    EXPECT_GT(with_reason, written->rows / 2) << "reason codes are written";
  }

  // `riskpipe predict` by hand replaces the month with the same rows; bad references are
  // usage errors naming what is wrong.
  {
    const fs::path jan = a.Partition("gold", "predictions", "2024-01");
    const fs::path saved = a.path() / "jan.parquet";
    fs::copy_file(jan, saved);
    CliResult predict = a.Run("predict --month 2024-01 --model lending_pd/1");
    ASSERT_EQ(predict.exit_code, 0) << predict.output;
    EXPECT_NE(predict.output.find("2024-01: "), std::string::npos) << predict.output;
    EXPECT_EQ(Difference(jan, saved), 0);
    CliResult unknown = a.Run("predict --month 2024-01 --model lending_pd/9");
    EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
    EXPECT_NE(unknown.output.find("lending_pd/9"), std::string::npos) << unknown.output;
    CliResult no_month = a.Run("predict");
    EXPECT_EQ(no_month.exit_code, 2) << no_month.output;
    CliResult missing = a.Run("predict --month 2030-01");
    EXPECT_EQ(missing.exit_code, 1) << missing.output;
    EXPECT_NE(missing.output.find("features build"), std::string::npos) << missing.output;
  }

  // Nothing changed: every step is skipped.
  CliResult again = a.Run(range);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output.find(" done "), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("up-to-date"), std::string::npos) << again.output;
  EXPECT_EQ(a.Run("models list").output.find("lending_pd/2"), std::string::npos)
      << "no second registration";

  // b: killed once month 2023-08 has its features, then resumed.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::chdir(b.path().c_str());
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(RiskpipeBinary().c_str(), RiskpipeBinary().c_str(), "backfill", "--from", "2023-01",
            "--to", "2024-01", "--skip", "report", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (fs::exists(b.Partition("gold", "feature_store", "2023-08"))) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(killed) << "the backfill ended before it could be killed";
  EXPECT_FALSE(fs::exists(b.Partition("gold", "predictions", "2023-12")));
  CliResult resumed = b.Run(range);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("up-to-date"), std::string::npos)
      << "months done before the kill are skipped\n" << resumed.output;
  for (const char* month : {"2023-12", "2024-01"}) {
    EXPECT_EQ(Difference(a.Partition("gold", "predictions", month),
                         b.Partition("gold", "predictions", month)), 0) << month;
  }
  for (const char* month : {"2023-03", "2023-08", "2023-09"}) {
    EXPECT_EQ(Difference(a.Partition("gold", "feature_store", month),
                         b.Partition("gold", "feature_store", month)), 0) << month;
    EXPECT_EQ(Difference(a.Partition("silver", "lms_loan_daily", month),
                         b.Partition("silver", "lms_loan_daily", month)), 0) << month;
  }
  CliResult status = b.Run("status --limit 3");
  EXPECT_NE(status.output.find("interrupted"), std::string::npos) << status.output;
}

TEST(PipelineCli, AFailingStepStopsOnlyItsMonthAndTransientFailuresAreRetried) {
  PipelineProject p(true);
  const std::string range = "backfill --from 2023-01 --to 2023-05 --skip report";
  // The faulty run in process, through the runner's fault hook: features of 2023-03 fail on
  // every attempt, ingest of 2023-02 fails transiently once.
  auto project = config::LoadProject(p.path() / "riskpipe.yaml");
  ASSERT_TRUE(project.ok()) << project.status().message();
  pipeline::RunOptions options;
  options.command = "backfill";
  options.from = Month::Of(2023, 1);
  options.to = Month::Of(2023, 5);
  options.skip = {"report"};
  std::string log;
  options.log = [&log](const std::string& line) { log += line + "\n"; };
  options.fault_hook = [](std::string_view step, Month month, int attempt) {
    if (step == "features" && month == Month::Of(2023, 3)) return InternalError("injected failure");
    if (step == "ingest" && month == Month::Of(2023, 2) && attempt == 0) {
      return UnavailableError("injected transient failure");
    }
    return OkStatus();
  };
  auto r = pipeline::Run(*project, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->failed_months, std::vector<Month>{Month::Of(2023, 3)});
  EXPECT_NE(log.find("2023-02 ingest: transient failure"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(p.Partition("silver", "lms_loan_daily", "2023-02"))) << "retried";
  EXPECT_FALSE(fs::exists(p.Partition("gold", "feature_store", "2023-03")));
  EXPECT_TRUE(fs::exists(p.Partition("gold", "feature_store", "2023-04"))) << "later months go on";
  EXPECT_TRUE(fs::exists(p.Partition("gold", "feature_store", "2023-05")));
  CliResult status = p.Run("status --run 1");
  EXPECT_NE(status.output.find("injected failure"), std::string::npos) << status.output;

  // Without the fault, running again redoes only the failed month's steps.
  CliResult fixed = p.Run(range);
  ASSERT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("2023-03 features: done"), std::string::npos) << fixed.output;
  EXPECT_EQ(fixed.output.find("2023-04 features: done"), std::string::npos) << fixed.output;

  // --force on one month replaces exactly that month's partitions.
  const fs::path apr = p.Partition("gold", "feature_store", "2023-04");
  const fs::path may = p.Partition("gold", "feature_store", "2023-05");
  const auto apr_before = fs::last_write_time(apr), may_before = fs::last_write_time(may);
  const std::string saved = (p.path() / "apr.parquet").string();
  fs::copy_file(apr, saved);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CliResult forced = p.Run("run --month 2023-04 --force --skip report");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(fs::last_write_time(apr), apr_before) << "rewritten";
  EXPECT_EQ(Difference(apr, saved), 0) << "with the same rows";
  EXPECT_EQ(fs::last_write_time(may), may_before) << "other months untouched";
}

TEST(PipelineCli, TheApprovalGatePausesUntilAPersonApproves) {
  PipelineProject p(false);
  const std::string range = "backfill --from 2023-01 --to 2023-12 --skip report";
  CliResult paused = p.Run(range);
  EXPECT_EQ(paused.exit_code, 3) << paused.output;
  EXPECT_NE(paused.output.find("lending_pd/1 awaits approval: riskpipe models approve lending_pd/1"),
            std::string::npos) << paused.output;
  EXPECT_FALSE(fs::exists(p.Partition("gold", "predictions", "2023-12")));
  ASSERT_EQ(p.Run("models approve lending_pd/1 --by 'Ana Risk' --reason 'metrics reviewed'").exit_code, 0);
  CliResult resumed = p.Run(range);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("promoted lending_pd/1"), std::string::npos) << resumed.output;
  EXPECT_TRUE(fs::exists(p.Partition("gold", "predictions", "2023-12")));
}

}  // namespace
}  // namespace riskpipe
