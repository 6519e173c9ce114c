// End-to-end tests of the riskpipe binary: help, version, exit codes, synth -> ingest, and a
// SIGKILL in the middle of an ingestion.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/workspace.h"
#include "db/database.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::TempDir;

using riskpipe::testing::RiskpipeBinary;
using Result = riskpipe::testing::CliResult;

Result RunCli(const std::string& args) { return riskpipe::testing::RunRiskpipe(args); }

// A copy of the lending-datamart example whose workspace is inside `dir`.
fs::path LendingProject(const TempDir& dir) {
  std::ifstream in(std::string(RISKPIPE_SOURCE_DIR) + "/examples/lending-datamart/riskpipe.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return dir.Write("riskpipe.yaml", ss.str());
}

int64_t Count(const fs::path& workspace, const std::string& layer, const std::string& table) {
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  auto n = con->QueryInt("SELECT count(*) FROM read_parquet('" +
                         (Workspace(workspace).datamart() / layer / table / "*" / "part-0.parquet").string() +
                         "')");
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : -1;
}

int64_t CsvRows(const fs::path& path) {
  std::ifstream in(path);
  int64_t lines = 0;
  std::string line;
  while (std::getline(in, line)) ++lines;
  return lines - 1;
}

TEST(Cli, HelpExplainsEveryCommand) {
  const Result r = RunCli("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"synth", "ingest", "status", "check-config", "--config", "--quiet",
                          "Exit codes"}) {
    EXPECT_NE(r.output.find(cmd), std::string::npos) << cmd << " missing from:\n" << r.output;
  }
  const Result ingest = RunCli("ingest --help");
  EXPECT_EQ(ingest.exit_code, 0);
  EXPECT_NE(ingest.output.find("--from"), std::string::npos);
}

TEST(Cli, VersionNamesTheLibraries) {
  const Result r = RunCli("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("riskpipe 0."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("DuckDB v1.4.4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("XGBoost 1.7.4"), std::string::npos) << r.output;
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunCli("--no-such-flag").exit_code, 2);
  EXPECT_EQ(RunCli("").exit_code, 2);
  TempDir dir;
  const fs::path config = dir.Write("riskpipe.yaml", "project: p\nworkspace: ws\nsourcs: []\n");
  const Result r = RunCli("--config " + config.string() + " check-config");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("riskpipe.yaml:3: sourcs: unknown key (did you mean \"sources\""), std::string::npos) << r.output;
  EXPECT_EQ(RunCli("--config " + config.string() + " ingest --from 2024-13").exit_code, 2);
}

TEST(Cli, MissingSourceFileIsAFailedStep) {
  TempDir dir;
  const Result r = RunCli("--config " + LendingProject(dir).string() + " ingest --source lms_loan_daily");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("lms_loan_daily.csv: no such file"), std::string::npos) << r.output;
}

TEST(Cli, SynthThenIngestReconciles) {
  TempDir dir;
  const std::string config = "--config " + LendingProject(dir).string();
  ASSERT_EQ(RunCli(config + " synth --customers 500 --seed 7").exit_code, 0);
  const Result r = RunCli(config + " ingest");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("bronze = silver + quarantine in every partition: OK"), std::string::npos)
      << r.output;
  const fs::path ws = dir.path() / "workspace";
  for (const char* table :
       {"lms_loan_daily", "feature_clickstream", "features_attributes", "features_financials"}) {
    const int64_t rows = CsvRows(ws / "raw" / (std::string(table) + ".csv"));
    EXPECT_GT(rows, 0) << table;
    EXPECT_EQ(Count(ws, "bronze", table), rows) << table;
    EXPECT_EQ(Count(ws, "silver", table) + Count(ws, "quarantine", table), rows) << table;
  }
  const Result status = RunCli(config + " status");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_NE(status.output.find("ingest"), std::string::npos);
  EXPECT_NE(status.output.find("features_financials"), std::string::npos) << status.output;
}

TEST(Cli, FeaturesBuildTrainingSetAndMaterializeFromSynthesizedData) {
  TempDir dir;
  const std::string config = "--config " + LendingProject(dir).string();
  ASSERT_EQ(RunCli(config + " --quiet synth --customers 500 --seed 3").exit_code, 0);
  ASSERT_EQ(RunCli(config + " --quiet ingest").exit_code, 0);
  const Result build = RunCli(config + " features build");
  ASSERT_EQ(build.exit_code, 0) << build.output;
  EXPECT_NE(build.output.find("point-in-time audit: OK"), std::string::npos) << build.output;
  const fs::path ws = dir.path() / "workspace";
  // One feature row and one label row per loan (500 customers, one loan each).
  EXPECT_EQ(Count(ws, "gold", "feature_store"), 500);
  EXPECT_EQ(Count(ws, "gold", "label_store"), 500);

  // Labels known on 2024-01-01 are those of applications up to 2023-07 (MOB 6).
  const fs::path train = dir.path() / "train.csv";
  const Result ts = RunCli(config + " features training-set --cutoff 2024-01-01 --out " + train.string());
  ASSERT_EQ(ts.exit_code, 0) << ts.output;
  std::ifstream in(train);
  std::string header, line;
  std::getline(in, header);
  EXPECT_NE(header.find("fe_1_mean_3m"), std::string::npos);
  int64_t rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_LE(line.substr(line.find(',', line.find(',') + 1) + 1, 10), "2023-07-01") << line;
  }
  EXPECT_EQ(rows, 7 * 20);  // 25 equal cohorts of 20 customers; 2023-01..2023-07

  // Events that match no rows give an empty training set in either format, never an error.
  const fs::path events = dir.Write("events.csv", "Customer_ID,decision_date\nC1,2030-01-01\n");
  for (const char* out : {"empty.csv", "empty.parquet"}) {
    const Result e = RunCli(config + " features training-set --cutoff 2024-01-01 --events " +
                            events.string() + " --out " + (dir.path() / out).string());
    EXPECT_EQ(e.exit_code, 0) << out << ": " << e.output;
    EXPECT_NE(e.output.find(std::string(out) + ": 0 rows, 0 labelled, 0 positive"), std::string::npos)
        << e.output;
  }

  const Result m = RunCli(config + " materialize --as-of 2024-06-30");
  ASSERT_EQ(m.exit_code, 0) << m.output;
  EXPECT_TRUE(fs::exists(ws / "online" / "CURRENT"));
  EXPECT_NE(m.output.find("as of 2024-06-30"), std::string::npos) << m.output;
  // A malformed cut-off or a missing required flag is a usage error.
  EXPECT_EQ(RunCli(config + " features training-set --cutoff 2023-13-01 --out " + train.string()).exit_code, 2);
  EXPECT_EQ(RunCli(config + " features training-set --out x.csv").exit_code, 2);
}

TEST(Cli, KilledIngestLeavesWholePartitionsAndRerunCompletes) {
  TempDir dir;
  const std::string config_path = LendingProject(dir).string();
  ASSERT_EQ(RunCli("--config " + config_path + " synth --customers 20000 --seed 3").exit_code, 0);
  const fs::path ws = dir.path() / "workspace";
  const fs::path lms_bronze = ws / "datamart" / "bronze" / "lms_loan_daily";

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string bin = RiskpipeBinary();
    ::execl(bin.c_str(), bin.c_str(), "--quiet", "--config", config_path.c_str(), "ingest",
            "--source", "lms_loan_daily", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill as soon as the first partition is published: the others are being written.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool published = false;
  while (!published && std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(lms_bronze, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->path().filename() == "part-0.parquet") published = true;
    }
    if (!published) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(published) << "ingestion never published a partition";
  ASSERT_TRUE(WIFSIGNALED(status)) << "the ingestion finished before it could be killed";

  // Every visible partition file is a whole Parquet file.
  int files = 0;
  for (auto& e : fs::recursive_directory_iterator(ws / "datamart")) {
    if (e.path().filename() != "part-0.parquet") continue;
    ++files;
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    EXPECT_TRUE(con->QueryInt("SELECT count(*) FROM read_parquet('" + e.path().string() + "')").ok())
        << e.path();
  }
  EXPECT_GT(files, 0);

  const Result rerun = RunCli("--config " + config_path + " ingest --source lms_loan_daily");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  const int64_t rows = CsvRows(ws / "raw" / "lms_loan_daily.csv");
  EXPECT_EQ(Count(ws, "bronze", "lms_loan_daily"), rows);
  EXPECT_EQ(Count(ws, "silver", "lms_loan_daily") + Count(ws, "quarantine", "lms_loan_daily"), rows);
  for (auto& e : fs::recursive_directory_iterator(ws / "datamart")) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
  // The run log shows the killed run as interrupted, not as still running.
  const Result status_cmd = RunCli("--config " + config_path + " status");
  EXPECT_EQ(status_cmd.output.find(" running "), std::string::npos) << status_cmd.output;
}

}  // namespace
}  // namespace riskpipe
