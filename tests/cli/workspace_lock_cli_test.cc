// One writer per workspace, end to end: a second writing command is refused (or waits with
// --wait), readers are never blocked, and the lock holder removes what killed commands left
// (ingest spill files with raw PII, half-published months, temporaries).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/workspace.h"
#include "core/workspace_lock.h"
#include "testing/process.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::CliResult;
using riskpipe::testing::DeadPid;
using riskpipe::testing::RunRiskpipe;
using riskpipe::testing::TempDir;

fs::path LendingProject(const TempDir& dir) {
  std::ifstream in(std::string(RISKPIPE_SOURCE_DIR) + "/examples/lending-datamart/riskpipe.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return dir.Write("riskpipe.yaml", ss.str());
}

TEST(WorkspaceLockCli, ASecondWriterIsRefusedAndReadersAreNot) {
  TempDir dir;
  const std::string config = "--config " + LendingProject(dir).string();
  const Workspace ws(dir.path() / "workspace");
  auto held = WorkspaceLock::Acquire(ws, "backfill");
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  const std::string who = "is in use by riskpipe backfill (pid " + std::to_string(::getpid());
  for (const char* writer : {"synth --customers 50", "ingest", "quality --all-months",
                             "features build", "materialize", "train", "monitor --month 2024-01",
                             "backfill --from 2023-01 --to 2023-02",
                             "models approve x/1 --by a --reason b"}) {
    const CliResult r = RunRiskpipe(config + " " + writer);
    EXPECT_EQ(r.exit_code, 1) << writer << ": " << r.output;
    EXPECT_NE(r.output.find("workspace " + ws.string() + " " + who), std::string::npos)
        << writer << ": " << r.output;
  }
  for (const char* reader : {"status", "check-config", "models list", "alerts"}) {
    const CliResult r = RunRiskpipe(config + " " + reader);
    EXPECT_EQ(r.output.find("is in use by"), std::string::npos) << reader << ": " << r.output;
  }
  // --wait: the writer waits, says so, and runs once the holder is gone.
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    held = InternalError("released");
  });
  const CliResult waited = RunRiskpipe(config + " --wait 60 synth --customers 50 --seed 1");
  release.join();
  EXPECT_EQ(waited.exit_code, 0) << waited.output;
  EXPECT_NE(waited.output.find("waiting up to 60 s for workspace"), std::string::npos)
      << waited.output;
  EXPECT_TRUE(fs::exists(ws.raw() / "lms_loan_daily.csv"));
}

TEST(WorkspaceLockCli, TheNextWriterRemovesWhatAKilledIngestLeft) {
  TempDir dir;
  const std::string config = "--config " + LendingProject(dir).string() + " --quiet";
  const Workspace ws(dir.path() / "workspace");
  ASSERT_EQ(RunRiskpipe(config + " synth --customers 100 --seed 2").exit_code, 0);
  const std::string dead = std::to_string(DeadPid());
  // A killed ingest's spill folder (raw records, names and SSNs in clear text), a staged
  // partition and a killed report's PDF temporary with its browser profile.
  const fs::path spill = ws.tmp() / (".ingest-lms_loan_daily.tmp-" + dead);
  dir.Write("workspace/tmp/.ingest-lms_loan_daily.tmp-" + dead + "/m24289",
            "Customer_ID,Name,SSN\nC1,Ann Lee,123-45-6789\n");
  const fs::path staged = ws.datamart() / "silver/lms_loan_daily/snapshot_date=2023-01-01" /
                          (".part-0.parquet.tmp-" + dead + "-0");
  dir.Write(staged.lexically_relative(dir.path()).string(), "half");
  dir.Write("workspace/reports/.report.pdf.tmp-" + dead, "half");
  dir.Write("workspace/reports/.report.pdf.tmp-" + dead + ".profile/Default/x", "profile");
  const CliResult r = RunRiskpipe(config + " ingest --source features_attributes");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(spill));
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_TRUE(fs::is_empty(ws.tmp())) << "an ingest's own spill outlived it";
  EXPECT_FALSE(fs::exists(ws.reports() / (".report.pdf.tmp-" + dead)));
  EXPECT_FALSE(fs::exists(ws.reports() / (".report.pdf.tmp-" + dead + ".profile")));
}

// A header line of 10 MB without a newline: the message quotes a bounded excerpt, on stderr
// and in the run log.
TEST(WorkspaceLockCli, AHugeHeaderLineGivesABoundedError) {
  TempDir dir;
  const std::string config = "--config " + LendingProject(dir).string();
  dir.Write("workspace/raw/features_attributes.csv", std::string(10 << 20, 'h'));
  const CliResult r = RunRiskpipe(config + " ingest --source features_attributes");
  EXPECT_EQ(r.exit_code, 1) << r.output.substr(0, 2000);
  EXPECT_LT(r.output.size(), 5000u) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("(10485760 bytes)"), std::string::npos) << r.output.substr(0, 2000);
  const CliResult status = RunRiskpipe(config + " status");
  EXPECT_LT(status.output.size(), 20000u) << status.output.substr(0, 2000);
  EXPECT_LT(fs::file_size(dir.path() / "workspace" / "metastore.sqlite"), 2u << 20);
}

}  // namespace
}  // namespace riskpipe
