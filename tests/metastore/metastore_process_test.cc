// Behaviour across processes: interrupted runs of dead processes, and concurrent writers.
// Every test forks its children before the parent opens a connection (see test::ForkChild).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "metastore/metastore.h"
#include "metastore/test_util.h"
#include "testing/temp_dir.h"

namespace riskpipe::metastore {
namespace {

using riskpipe::testing::TempDir;
using test::ChildFail;
using test::ForkChild;
using test::QueryInt;
using test::QueryText;
using test::RawOpen;
using test::WaitChild;

// A one-byte signal between processes over a pipe.
class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) ADD_FAILURE() << "pipe failed";
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool Send() { return ::write(fds_[1], "x", 1) == 1; }
  // True once a byte arrived; false at end of file (the writer closed).
  bool Wait() {
    char c = 0;
    while (true) {
      const ssize_t n = ::read(fds_[0], &c, 1);
      if (n == 1) return true;
      if (n == 0 || errno != EINTR) return false;
    }
  }
  void CloseRead() { Close(fds_[0]); }
  void CloseWrite() { Close(fds_[1]); }

 private:
  static void Close(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

Metastore MustOpen(const std::filesystem::path& path) {
  StatusOr<Metastore> store = Metastore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) std::abort();
  return std::move(store).value();
}

// Begins a run and a step of it, writes the run_id to `ids` and exits without finishing either,
// as a crashed riskpipe would.
int CrashAfterBeginning(const std::filesystem::path& path, int ids_fd) {
  StatusOr<Metastore> store = Metastore::Open(path);
  if (!store.ok()) return ChildFail("open", store.status());
  StatusOr<int64_t> run = store->BeginRun("ingest", "--crash");
  if (!run.ok()) return ChildFail("BeginRun", run.status());
  StatusOr<int64_t> step = store->BeginStep(*run, "silver", "financials", "2024-03-01");
  if (!step.ok()) return ChildFail("BeginStep", step.status());
  const int64_t run_id = *run;
  if (::write(ids_fd, &run_id, sizeof(run_id)) != sizeof(run_id)) return 2;
  return 0;
}

int64_t ReadId(int fd) {
  int64_t id = -1;
  if (::read(fd, &id, sizeof(id)) != sizeof(id)) return -1;
  return id;
}

RunRecord FindRun(Metastore& store, int64_t run_id) {
  StatusOr<std::vector<RunRecord>> runs = store.ListRuns(1000);
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
  if (runs.ok()) {
    for (const RunRecord& r : *runs) {
      if (r.run_id == run_id) return r;
    }
  }
  ADD_FAILURE() << "run " << run_id << " not listed";
  return {};
}

std::vector<StepRecord> StepsOf(Metastore& store, int64_t run_id) {
  StepFilter filter;
  filter.run_id = run_id;
  StatusOr<std::vector<StepRecord>> steps = store.ListSteps(filter);
  EXPECT_TRUE(steps.ok()) << steps.status().ToString();
  return steps.ok() ? *steps : std::vector<StepRecord>{};
}

TEST(MarkInterrupted, MarksRunOfDeadProcessButNotOfThisProcess) {
  TempDir dir;
  const auto path = dir.path() / "metastore.sqlite";
  int ids[2];
  ASSERT_EQ(::pipe(ids), 0);
  const pid_t child = ForkChild([&] { return CrashAfterBeginning(path, ids[1]); });
  ASSERT_GT(child, 0);
  ::close(ids[1]);
  ASSERT_EQ(WaitChild(child), 0);  // Reaped: the pid is gone, not a zombie.
  const int64_t dead_run = ReadId(ids[0]);
  ::close(ids[0]);
  ASSERT_GT(dead_run, 0);

  Metastore store = MustOpen(path);
  StatusOr<int64_t> live_run = store.BeginRun("serve", "");
  ASSERT_TRUE(live_run.ok());
  StatusOr<int64_t> live_step = store.BeginStep(*live_run, "load", "models", "");
  ASSERT_TRUE(live_step.ok());

  StatusOr<int> marked = store.MarkInterrupted();
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, 2);  // The dead run and its running step.

  const RunRecord dead = FindRun(store, dead_run);
  EXPECT_EQ(dead.status, RunStatus::kFailed);
  EXPECT_EQ(dead.error, "interrupted");
  EXPECT_NE(dead.finished_at, "");
  const std::vector<StepRecord> dead_steps = StepsOf(store, dead_run);
  ASSERT_EQ(dead_steps.size(), 1u);
  EXPECT_EQ(dead_steps[0].status, RunStatus::kFailed);
  EXPECT_EQ(dead_steps[0].error, "interrupted");
  EXPECT_NE(dead_steps[0].finished_at, "");

  const RunRecord live = FindRun(store, *live_run);
  EXPECT_EQ(live.status, RunStatus::kRunning);
  EXPECT_EQ(live.finished_at, "");
  const std::vector<StepRecord> live_steps = StepsOf(store, *live_run);
  ASSERT_EQ(live_steps.size(), 1u);
  EXPECT_EQ(live_steps[0].status, RunStatus::kRunning);

  // Nothing is left to mark, and the live run can still finish normally.
  StatusOr<int> again = store.MarkInterrupted();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_TRUE(store.FinishStep(*live_step, StepResult{}).ok());
  EXPECT_TRUE(store.FinishRun(*live_run, RunStatus::kSucceeded).ok());
}

TEST(MarkInterrupted, LeavesLiveProcessAloneUntilItIsKilled) {
  TempDir dir;
  const auto path = dir.path() / "metastore.sqlite";
  int ids[2];
  ASSERT_EQ(::pipe(ids), 0);
  Pipe hold;  // The child blocks on it until killed.
  const pid_t child = ForkChild([&] {
    hold.CloseWrite();
    const int rc = CrashAfterBeginning(path, ids[1]);
    if (rc != 0) return rc;
    hold.Wait();
    return 0;
  });
  ASSERT_GT(child, 0);
  ::close(ids[1]);
  const int64_t run_id = ReadId(ids[0]);
  ::close(ids[0]);
  ASSERT_GT(run_id, 0);

  Metastore store = MustOpen(path);
  StatusOr<int> marked = store.MarkInterrupted();
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, 0);
  EXPECT_EQ(FindRun(store, run_id).status, RunStatus::kRunning);

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  marked = store.MarkInterrupted();
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, 2);
  const RunRecord run = FindRun(store, run_id);
  EXPECT_EQ(run.status, RunStatus::kFailed);
  EXPECT_EQ(run.error, "interrupted");
}

TEST(MarkInterrupted, HandlesRowsWithoutPidOtherHostsAndOrphanSteps) {
  TempDir dir;
  const auto path = dir.path() / "metastore.sqlite";
  Metastore store = MustOpen(path);
  // An ended run whose step was left running (the command finished without ending it).
  StatusOr<int64_t> ended = store.BeginRun("ingest", "");
  ASSERT_TRUE(ended.ok());
  StatusOr<int64_t> orphan = store.BeginStep(*ended, "bronze", "applications", "");
  ASSERT_TRUE(orphan.ok());
  ASSERT_TRUE(store.FinishRun(*ended, RunStatus::kFailed, "boom").ok());
  {
    Database raw = RawOpen(path);
    // Pid 0 is never a user process; 'elsewhere' is not this host.
    ASSERT_TRUE(raw.Execute("INSERT INTO runs (run_id, command, args, started_at, status, pid, "
                            "host) VALUES "
                            "(100, 'a', '', '2024-01-01T00:00:00.000Z', 'running', NULL, ''), "
                            "(101, 'b', '', '2024-01-01T00:00:00.000Z', 'running', 0, '"
                            "elsewhere')")
                    .ok());
  }
  StatusOr<int> marked = store.MarkInterrupted();
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, 2);  // Run 100 and the orphan step.
  const RunRecord no_pid = FindRun(store, 100);
  EXPECT_EQ(no_pid.status, RunStatus::kFailed);
  EXPECT_EQ(no_pid.error, "interrupted");
  EXPECT_EQ(FindRun(store, 101).status, RunStatus::kRunning);
  // The ended run keeps its own error; only the step says interrupted.
  EXPECT_EQ(FindRun(store, *ended).error, "boom");
  const std::vector<StepRecord> steps = StepsOf(store, *ended);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].status, RunStatus::kFailed);
  EXPECT_EQ(steps[0].error, "interrupted");
}

// ---- Concurrency ----

constexpr int kWriters = 4;
constexpr int kRunsPerWriter = 60;
constexpr int kStepsPerRun = 3;

// One writer process: waits for the start signal, then opens the (possibly not yet existing)
// file and records runs with steps, reading the log now and then as the CLI's status does.
int Writer(const std::filesystem::path& path, int writer, Pipe& start) {
  start.CloseWrite();
  start.Wait();  // End of file: the parent closed its end, so every writer starts at once.
  StatusOr<Metastore> store = Metastore::Open(path);
  if (!store.ok()) return ChildFail("open", store.status());
  for (int i = 0; i < kRunsPerWriter; ++i) {
    const std::string args = std::to_string(writer) + "/" + std::to_string(i);
    StatusOr<int64_t> run = store->BeginRun("writer", args);
    if (!run.ok()) return ChildFail("BeginRun " + args, run.status());
    for (int s = 0; s < kStepsPerRun; ++s) {
      StatusOr<int64_t> step = store->BeginStep(*run, "step" + std::to_string(s), "table", args);
      if (!step.ok()) return ChildFail("BeginStep " + args, step.status());
      StepResult result;
      result.rows_in = writer * 100000 + i * 10 + s;
      const Status finished = store->FinishStep(*step, result);
      if (!finished.ok()) return ChildFail("FinishStep " + args, finished);
    }
    const Status finished = store->FinishRun(*run, RunStatus::kSucceeded);
    if (!finished.ok()) return ChildFail("FinishRun " + args, finished);
    if (i % 10 == 0) {
      StatusOr<std::vector<RunRecord>> runs = store->ListRuns(20);
      if (!runs.ok()) return ChildFail("ListRuns", runs.status());
      StatusOr<int> marked = store->MarkInterrupted();
      if (!marked.ok()) return ChildFail("MarkInterrupted", marked.status());
      if (*marked != 0) return 3;  // Every other writer is alive.
    }
  }
  return 0;
}

TEST(MetastoreConcurrency, ProcessesWritingTheSameFreshFileLoseNothing) {
  TempDir dir;
  const auto path = dir.path() / "ws" / "metastore.sqlite";
  Pipe start;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = ForkChild([&, w] { return Writer(path, w, start); });
    ASSERT_GT(pid, 0);
    children.push_back(pid);
  }
  start.CloseRead();
  start.CloseWrite();  // Go.
  for (pid_t pid : children) EXPECT_EQ(WaitChild(pid), 0) << "writer " << pid;

  Metastore store = MustOpen(path);
  EXPECT_EQ(*store.SchemaVersion(), LatestSchemaVersion());
  StatusOr<std::vector<RunRecord>> runs = store.ListRuns(100000);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), static_cast<size_t>(kWriters * kRunsPerWriter));
  std::set<int64_t> run_ids;
  std::set<std::string> args;
  std::map<int64_t, std::string> args_of_run;
  for (const RunRecord& r : *runs) {
    run_ids.insert(r.run_id);
    args.insert(r.args);
    args_of_run[r.run_id] = r.args;
    EXPECT_EQ(r.status, RunStatus::kSucceeded) << r.args;
  }
  EXPECT_EQ(run_ids.size(), runs->size());
  EXPECT_EQ(args.size(), runs->size());
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kRunsPerWriter; ++i) {
      EXPECT_EQ(args.count(std::to_string(w) + "/" + std::to_string(i)), 1u);
    }
  }

  StepFilter all;
  all.limit = 1000000;
  StatusOr<std::vector<StepRecord>> steps = store.ListSteps(all);
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_EQ(steps->size(), static_cast<size_t>(kWriters * kRunsPerWriter * kStepsPerRun));
  std::set<int64_t> step_ids;
  std::map<int64_t, int> steps_per_run;
  for (const StepRecord& s : *steps) {
    step_ids.insert(s.step_id);
    ++steps_per_run[s.run_id];
    EXPECT_EQ(s.status, RunStatus::kSucceeded);
    // Each step belongs to the run its writer began (partition carries the run's args).
    EXPECT_EQ(s.partition, args_of_run[s.run_id]) << "step " << s.step_id;
  }
  EXPECT_EQ(step_ids.size(), steps->size());
  EXPECT_EQ(steps_per_run.size(), runs->size());
  for (const auto& [run_id, count] : steps_per_run) EXPECT_EQ(count, kStepsPerRun) << run_id;

  Database raw = RawOpen(path);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM schema_migrations"), LatestSchemaVersion());
  EXPECT_EQ(QueryText(raw, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace riskpipe::metastore
