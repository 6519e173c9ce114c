#include "core/workspace_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "testing/process.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::IsOk;
using riskpipe::testing::StatusIs;
using riskpipe::testing::TempDir;
using ::testing::HasSubstr;

TEST(WorkspaceLock, ASecondWriterIsToldWhoHoldsIt) {
  TempDir dir;
  const Workspace ws(dir.path() / "ws");
  auto first = WorkspaceLock::Acquire(ws, "backfill");
  ASSERT_THAT(first, IsOk());
  auto second = WorkspaceLock::Acquire(ws, "ingest");
  EXPECT_THAT(second, StatusIs(StatusCode::kUnavailable,
                               HasSubstr("workspace " + ws.string() +
                                         " is in use by riskpipe backfill (pid " +
                                         std::to_string(::getpid()) + ", since ")));
  EXPECT_THAT(second, StatusIs(StatusCode::kUnavailable, HasSubstr("--wait")));
}

TEST(WorkspaceLock, ReleasedWhenTheHolderIsDestroyed) {
  TempDir dir;
  const Workspace ws(dir.path());
  { auto held = WorkspaceLock::Acquire(ws, "train"); ASSERT_THAT(held, IsOk()); }
  EXPECT_THAT(WorkspaceLock::Acquire(ws, "train"), IsOk());
}

TEST(WorkspaceLock, WaitsForTheHolderWhenAskedTo) {
  TempDir dir;
  const Workspace ws(dir.path());
  auto held = WorkspaceLock::Acquire(ws, "ingest");
  ASSERT_THAT(held, IsOk());
  std::string seen;
  WorkspaceLock::Options options;
  options.wait = std::chrono::seconds(20);
  options.on_wait = [&](const std::string& holder) { seen = holder; };
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    held = InternalError("released");  // destroys the lock
  });
  auto waited = WorkspaceLock::Acquire(ws, "quality", options);
  release.join();
  EXPECT_THAT(waited, IsOk());
  EXPECT_NE(seen.find("riskpipe ingest (pid"), std::string::npos) << seen;
  // A wait that runs out says so.
  options.wait = std::chrono::milliseconds(300);
  EXPECT_THAT(WorkspaceLock::Acquire(ws, "train", options),
              StatusIs(StatusCode::kUnavailable, HasSubstr("in use by riskpipe quality")));
}

// flock dies with its process: a SIGKILLed writer leaves no stale lock.
TEST(WorkspaceLock, AKilledHolderLeavesNoStaleLock) {
  TempDir dir;
  const Workspace ws(dir.path());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    auto held = WorkspaceLock::Acquire(ws, "backfill");
    const char c = held.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_THAT(WorkspaceLock::Acquire(ws, "ingest"),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("riskpipe backfill (pid " + std::to_string(child))));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_THAT(WorkspaceLock::Acquire(ws, "ingest"), IsOk());
  ::close(ready[0]);
  ::close(ready[1]);
}

// The holder empties the scratch folder (a killed ingest's spill, with raw records) and
// removes temporaries of dead writers, after `before_cleanup`.
TEST(WorkspaceLock, TheHolderRemovesWhatDeadWritersLeft) {
  TempDir dir;
  const Workspace ws(dir.path());
  const pid_t dead = riskpipe::testing::DeadPid();
  const std::string spill = ".ingest-loans.tmp-" + std::to_string(dead);
  dir.Write("tmp/" + spill + "/m2024", "Customer_ID,SSN\nc1,123-45-6789\n");
  dir.Write("datamart/silver/t/snapshot_date=2024-01-01/.part-0.parquet.tmp-" +
                std::to_string(dead) + "-1",
            "half");
  dir.Write("datamart/silver/t/snapshot_date=2024-01-01/part-0.parquet", "whole");
  bool called_first = false;
  WorkspaceLock::Options options;
  options.before_cleanup = [&] {
    called_first = fs::exists(ws.tmp() / spill);
    return OkStatus();
  };
  auto held = WorkspaceLock::Acquire(ws, "ingest", options);
  ASSERT_THAT(held, IsOk());
  EXPECT_TRUE(called_first);
  EXPECT_EQ(held->removed_temporaries(), 2);
  EXPECT_FALSE(fs::exists(ws.tmp() / spill));
  EXPECT_TRUE(fs::exists(ws.datamart() / "silver/t/snapshot_date=2024-01-01/part-0.parquet"));
  EXPECT_FALSE(fs::exists(ws.datamart() / ("silver/t/snapshot_date=2024-01-01/.part-0.parquet.tmp-" +
                                           std::to_string(dead) + "-1")));
}

TEST(WorkspaceLock, ABeforeCleanupErrorKeepsEverything) {
  TempDir dir;
  const Workspace ws(dir.path());
  dir.Write("tmp/.ingest-x.tmp-1/m", "keep");
  WorkspaceLock::Options options;
  options.before_cleanup = [] { return DataLossError("journal unreadable"); };
  EXPECT_THAT(WorkspaceLock::Acquire(ws, "ingest", options),
              StatusIs(StatusCode::kDataLoss, HasSubstr("journal unreadable")));
  EXPECT_TRUE(fs::exists(ws.tmp() / ".ingest-x.tmp-1" / "m"));
  EXPECT_THAT(WorkspaceLock::Acquire(ws, "ingest"), IsOk());  // not left locked
}

}  // namespace
}  // namespace riskpipe
