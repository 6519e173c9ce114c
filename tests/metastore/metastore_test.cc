#include "metastore/metastore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "metastore/test_util.h"
#include "testing/temp_dir.h"

namespace riskpipe::metastore {
namespace {

using namespace std::chrono_literals;
using riskpipe::testing::IsOk;
using riskpipe::testing::StatusIs;
using riskpipe::testing::TempDir;
using test::Clock;
using test::CodeOf;
using test::ManualClock;
using test::QueryInt;
using test::RawOpen;
using ::testing::HasSubstr;

// A metastore in a fresh temporary folder with a manual clock.
class MetastoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<Metastore> opened = Metastore::Open(path(), clock_.options());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::make_unique<Metastore>(std::move(opened).value());
  }

  std::filesystem::path path() const { return dir_.path() / "metastore.sqlite"; }
  Metastore& store() { return *store_; }

  int64_t MustBeginRun(std::string_view command = "ingest", std::string_view args = "") {
    StatusOr<int64_t> id = store().BeginRun(command, args);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : -1;
  }
  int64_t MustBeginStep(int64_t run_id, std::string_view step, std::string_view table,
                        std::string_view partition, std::string_view hash = "") {
    StatusOr<int64_t> id = store().BeginStep(run_id, step, table, partition, hash);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : -1;
  }
  RunRecord RunById(int64_t run_id) {
    StatusOr<std::vector<RunRecord>> runs = store().ListRuns(1000);
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    if (runs.ok()) {
      for (const RunRecord& r : *runs) {
        if (r.run_id == run_id) return r;
      }
    }
    ADD_FAILURE() << "run " << run_id << " not listed";
    return {};
  }
  StepRecord StepById(int64_t step_id) {
    StatusOr<std::vector<StepRecord>> steps = store().ListSteps(StepFilter{});
    EXPECT_TRUE(steps.ok()) << steps.status().ToString();
    if (steps.ok()) {
      for (const StepRecord& s : *steps) {
        if (s.step_id == step_id) return s;
      }
    }
    ADD_FAILURE() << "step " << step_id << " not listed";
    return {};
  }
  std::vector<int64_t> StepIds(const StepFilter& filter) {
    StatusOr<std::vector<StepRecord>> steps = store().ListSteps(filter);
    EXPECT_TRUE(steps.ok()) << steps.status().ToString();
    std::vector<int64_t> ids;
    if (steps.ok()) {
      for (const StepRecord& s : *steps) ids.push_back(s.step_id);
    }
    return ids;
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Metastore> store_;
};

// ---- Timestamps and status names ----

TEST(FormatUtcTimestamp, FormatsIsoUtcWithMilliseconds) {
  EXPECT_EQ(FormatUtcTimestamp(test::ExampleInstant()), "2026-11-23T09:41:02.123Z");
  EXPECT_EQ(FormatUtcTimestamp(Clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(FormatUtcTimestamp, TruncatesSubMillisecondsTowardThePast) {
  const auto t = test::ExampleInstant() + 999us;
  EXPECT_EQ(FormatUtcTimestamp(t), "2026-11-23T09:41:02.123Z");
  EXPECT_EQ(FormatUtcTimestamp(Clock::time_point{} - 1us), "1969-12-31T23:59:59.999Z");
}

TEST(FormatUtcTimestamp, PadsSingleDigitFields) {
  using namespace std::chrono;
  const auto t =
      sys_days{year{2024} / March / 1} + hours{7} + minutes{5} + seconds{9} + milliseconds{4};
  EXPECT_EQ(FormatUtcTimestamp(t), "2024-03-01T07:05:09.004Z");
}

TEST(RunStatus, NamesRoundTrip) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kSucceeded, RunStatus::kFailed}) {
    StatusOr<RunStatus> parsed = ParseRunStatus(RunStatusName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(RunStatusName(RunStatus::kSucceeded), "succeeded");
  EXPECT_EQ(CodeOf(ParseRunStatus("done")), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(ParseRunStatus("")), StatusCode::kInvalidArgument);
}

// ---- Open and migrations ----

TEST(MetastoreOpen, CreatesFileAndParentFoldersAndMigrates) {
  TempDir dir;
  const auto path = dir.path() / "work" / "space" / "metastore.sqlite";
  StatusOr<Metastore> store = Metastore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  StatusOr<int> version = store->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_GE(LatestSchemaVersion(), 1);
  EXPECT_EQ(*version, LatestSchemaVersion());

  Database raw = RawOpen(path);
  EXPECT_EQ(QueryInt(raw,
                     "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                     "name IN ('runs', 'steps', 'schema_migrations')"),
            3);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM schema_migrations"), LatestSchemaVersion());
}

TEST(MetastoreOpen, UsesWalJournal) {
  TempDir dir;
  const auto path = dir.path() / "metastore.sqlite";
  ASSERT_TRUE(Metastore::Open(path).ok());
  // journal_mode=WAL is persistent, so a connection that does not ask for it still sees it.
  Database raw = RawOpen(path);
  StatusOr<Statement> mode = raw.Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(mode->Step().ok());
  EXPECT_EQ(mode->ColumnText(0), "wal");
}

TEST(MetastoreOpen, ReopenIsIdempotentAndKeepsRows) {
  TempDir dir;
  const auto path = dir.path() / "metastore.sqlite";
  int64_t run_id = 0;
  {
    StatusOr<Metastore> store = Metastore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    StatusOr<int64_t> id = store->BeginRun("ingest", "--month 2024-03");
    ASSERT_TRUE(id.ok());
    run_id = *id;
  }
  for (int i = 0; i < 3; ++i) {
    StatusOr<Metastore> store = Metastore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
    StatusOr<std::vector<RunRecord>> runs = store->ListRuns(10);
    ASSERT_TRUE(runs.ok());
    ASSERT_EQ(runs->size(), 1u);
    EXPECT_EQ(runs->front().run_id, run_id);
    EXPECT_EQ(runs->front().args, "--month 2024-03");
  }
  Database raw = RawOpen(path);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM schema_migrations"), LatestSchemaVersion());
}

TEST(MetastoreOpen, NewerSchemaIsFailedPrecondition) {
  TempDir dir;
  const auto path = dir.path() / "metastore.sqlite";
  ASSERT_TRUE(Metastore::Open(path).ok());
  {
    Database raw = RawOpen(path);
    ASSERT_TRUE(raw.Execute("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                            std::to_string(LatestSchemaVersion() + 1) + ", 'later')")
                    .ok());
  }
  StatusOr<Metastore> store = Metastore::Open(path);
  EXPECT_EQ(CodeOf(store), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_NE(store.status().message().find("newer"), std::string::npos) << store.status().message();
  EXPECT_NE(store.status().message().find(path.string()), std::string::npos);
}

TEST(MetastoreOpen, NonSqliteFileIsDataLossAndLeftUntouched) {
  TempDir dir;
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "customer_id,annual_income\n";
  const auto path = dir.Write("metastore.sqlite", garbage);
  StatusOr<Metastore> store = Metastore::Open(path);
  EXPECT_EQ(CodeOf(store), StatusCode::kDataLoss) << store.status().ToString();
  EXPECT_NE(store.status().message().find(path.string()), std::string::npos)
      << store.status().message();
  EXPECT_EQ(riskpipe::testing::ReadAll(path), garbage);
}

TEST(MetastoreOpen, EmptyPathIsInvalidArgument) {
  EXPECT_EQ(CodeOf(Metastore::Open("")), StatusCode::kInvalidArgument);
}

TEST(MetastoreOpen, MissingClockIsInvalidArgument) {
  TempDir dir;
  Options options;
  options.clock = nullptr;
  EXPECT_EQ(CodeOf(Metastore::Open(dir.path() / "m.sqlite", options)),
            StatusCode::kInvalidArgument);
}

TEST(MetastoreOpen, MigratesFileWithEmptyVersionTable) {
  // A crash between creating schema_migrations and the first migration's commit cannot leave
  // this state (both are one transaction), but a hand-made file can; it counts as version 0.
  TempDir dir;
  const auto path = dir.path() / "metastore.sqlite";
  {
    Database raw = RawOpen(path);
    ASSERT_TRUE(raw.Execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                            "applied_at TEXT NOT NULL)")
                    .ok());
  }
  StatusOr<Metastore> store = Metastore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
}

// ---- Runs ----

TEST_F(MetastoreTest, BeginRunRecordsARunningRun) {
  const int64_t id = MustBeginRun("ingest", "--month 2024-03");
  EXPECT_GT(id, 0);
  const RunRecord run = RunById(id);
  EXPECT_EQ(run.command, "ingest");
  EXPECT_EQ(run.args, "--month 2024-03");
  EXPECT_EQ(run.started_at, "2026-11-23T09:41:02.123Z");
  EXPECT_EQ(run.finished_at, "");
  EXPECT_EQ(run.status, RunStatus::kRunning);
  EXPECT_EQ(run.error, "");

  Database raw = RawOpen(path());
  EXPECT_EQ(QueryInt(raw, "SELECT pid FROM runs WHERE run_id = " + std::to_string(id)),
            static_cast<int64_t>(::getpid()));
}

TEST_F(MetastoreTest, RunIdsAreNeverReused) {
  const int64_t first = MustBeginRun();
  const int64_t second = MustBeginRun();
  EXPECT_GT(second, first);
  {
    Database raw = RawOpen(path());
    ASSERT_TRUE(raw.Execute("DELETE FROM runs WHERE run_id = " + std::to_string(second)).ok());
  }
  EXPECT_GT(MustBeginRun(), second);
}

TEST_F(MetastoreTest, FinishRunRecordsStatusErrorAndTime) {
  const int64_t ok_id = MustBeginRun();
  const int64_t bad_id = MustBeginRun();
  clock_.Advance(90s);
  ASSERT_TRUE(store().FinishRun(ok_id, RunStatus::kSucceeded).ok());
  ASSERT_TRUE(store().FinishRun(bad_id, RunStatus::kFailed, "bronze: disk full").ok());

  const RunRecord ok_run = RunById(ok_id);
  EXPECT_EQ(ok_run.status, RunStatus::kSucceeded);
  EXPECT_EQ(ok_run.error, "");
  EXPECT_EQ(ok_run.started_at, "2026-11-23T09:41:02.123Z");
  EXPECT_EQ(ok_run.finished_at, "2026-11-23T09:42:32.123Z");
  const RunRecord bad_run = RunById(bad_id);
  EXPECT_EQ(bad_run.status, RunStatus::kFailed);
  EXPECT_EQ(bad_run.error, "bronze: disk full");
}

TEST_F(MetastoreTest, FinishRunUnknownIdIsNotFound) {
  const Status s = store().FinishRun(42, RunStatus::kSucceeded);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("run 42"), std::string::npos) << s.message();
}

TEST_F(MetastoreTest, FinishRunTwiceIsFailedPreconditionAndKeepsFirstResult) {
  const int64_t id = MustBeginRun();
  ASSERT_TRUE(store().FinishRun(id, RunStatus::kFailed, "first").ok());
  clock_.Advance(1s);
  const Status s = store().FinishRun(id, RunStatus::kSucceeded);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("failed"), std::string::npos) << s.message();
  const RunRecord run = RunById(id);
  EXPECT_EQ(run.status, RunStatus::kFailed);
  EXPECT_EQ(run.error, "first");
  EXPECT_EQ(run.finished_at, "2026-11-23T09:41:02.123Z");
}

TEST_F(MetastoreTest, FinishRunWithRunningIsInvalidArgument) {
  const int64_t id = MustBeginRun();
  EXPECT_EQ(store().FinishRun(id, RunStatus::kRunning).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RunById(id).status, RunStatus::kRunning);
  EXPECT_EQ(RunById(id).finished_at, "");
}

TEST_F(MetastoreTest, ListRunsIsNewestFirstAndLimited) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(MustBeginRun("cmd", std::to_string(i)));
    clock_.Advance(1s);
  }
  // Finishing an old run does not move it: the order is by beginning.
  ASSERT_TRUE(store().FinishRun(ids[0], RunStatus::kSucceeded).ok());
  StatusOr<std::vector<RunRecord>> runs = store().ListRuns(3);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].run_id, ids[4]);
  EXPECT_EQ((*runs)[1].run_id, ids[3]);
  EXPECT_EQ((*runs)[2].run_id, ids[2]);
  EXPECT_EQ((*runs)[0].args, "4");
  StatusOr<std::vector<RunRecord>> all = store().ListRuns(100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(all->back().run_id, ids[0]);
  EXPECT_EQ(all->back().status, RunStatus::kSucceeded);
}

TEST_F(MetastoreTest, ListRunsNonPositiveLimitIsInvalidArgument) {
  MustBeginRun();
  EXPECT_EQ(CodeOf(store().ListRuns(0)), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().ListRuns(-1)), StatusCode::kInvalidArgument);
}

TEST_F(MetastoreTest, ListRunsOfEmptyFileIsEmpty) {
  StatusOr<std::vector<RunRecord>> runs = store().ListRuns(10);
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE(runs->empty());
}

// ---- Steps ----

TEST_F(MetastoreTest, BeginStepRecordsARunningStep) {
  const int64_t run = MustBeginRun();
  clock_.Advance(5s);
  const int64_t id = MustBeginStep(run, "silver", "financials", "2024-03-01", "sha256:ab");
  const StepRecord s = StepById(id);
  EXPECT_EQ(s.run_id, run);
  EXPECT_EQ(s.step, "silver");
  EXPECT_EQ(s.table_name, "financials");
  EXPECT_EQ(s.partition, "2024-03-01");
  EXPECT_EQ(s.inputs_hash, "sha256:ab");
  EXPECT_EQ(s.status, RunStatus::kRunning);
  EXPECT_EQ(s.started_at, "2026-11-23T09:41:07.123Z");
  EXPECT_EQ(s.finished_at, "");
  EXPECT_EQ(s.seconds, 0.0);
  EXPECT_EQ(s.rows_in, 0);
  EXPECT_EQ(s.details_json, "");
}

TEST_F(MetastoreTest, BeginStepUnknownRunIsNotFound) {
  StatusOr<int64_t> id = store().BeginStep(7, "bronze", "applications", "");
  EXPECT_EQ(CodeOf(id), StatusCode::kNotFound) << id.status().ToString();
  EXPECT_NE(id.status().message().find("bronze"), std::string::npos);
  EXPECT_TRUE(StepIds(StepFilter{}).empty());
}

TEST_F(MetastoreTest, BeginStepOfEndedRunIsFailedPrecondition) {
  const int64_t run = MustBeginRun();
  ASSERT_TRUE(store().FinishRun(run, RunStatus::kSucceeded).ok());
  StatusOr<int64_t> id = store().BeginStep(run, "bronze", "applications", "");
  EXPECT_EQ(CodeOf(id), StatusCode::kFailedPrecondition) << id.status().ToString();
  EXPECT_TRUE(StepIds(StepFilter{}).empty());
}

TEST_F(MetastoreTest, FinishStepRecordsResultAndSecondsFromClock) {
  const int64_t run = MustBeginRun();
  const int64_t id = MustBeginStep(run, "silver", "financials", "2024-03-01");
  clock_.Advance(2500ms);
  StepResult result;
  result.rows_in = 1000;
  result.rows_out = 990;
  result.rows_quarantined = 10;
  result.details_json = R"({"null_rate": 0.01, "columns": ["a", "b"]})";
  ASSERT_TRUE(store().FinishStep(id, result).ok());
  const StepRecord s = StepById(id);
  EXPECT_EQ(s.status, RunStatus::kSucceeded);
  EXPECT_EQ(s.rows_in, 1000);
  EXPECT_EQ(s.rows_out, 990);
  EXPECT_EQ(s.rows_quarantined, 10);
  EXPECT_DOUBLE_EQ(s.seconds, 2.5);
  EXPECT_EQ(s.started_at, "2026-11-23T09:41:02.123Z");
  EXPECT_EQ(s.finished_at, "2026-11-23T09:41:04.623Z");
  EXPECT_EQ(s.details_json, result.details_json);
  EXPECT_EQ(s.error, "");
}

TEST_F(MetastoreTest, FinishStepFailedKeepsError) {
  const int64_t id = MustBeginStep(MustBeginRun(), "bronze", "applications", "");
  StepResult result;
  result.status = RunStatus::kFailed;
  result.error = "applications.csv line 12: 3 fields, expected 9";
  ASSERT_TRUE(store().FinishStep(id, result).ok());
  const StepRecord s = StepById(id);
  EXPECT_EQ(s.status, RunStatus::kFailed);
  EXPECT_EQ(s.error, result.error);
}

TEST_F(MetastoreTest, FinishStepClockSteppedBackGivesZeroSeconds) {
  const int64_t id = MustBeginStep(MustBeginRun(), "bronze", "applications", "");
  clock_.Advance(-3s);
  ASSERT_TRUE(store().FinishStep(id, StepResult{}).ok());
  EXPECT_EQ(StepById(id).seconds, 0.0);
}

TEST_F(MetastoreTest, FinishStepUnknownIdIsNotFound) {
  const Status s = store().FinishStep(99, StepResult{});
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("step 99"), std::string::npos) << s.message();
}

TEST_F(MetastoreTest, FinishStepTwiceIsFailedPreconditionAndKeepsFirstResult) {
  const int64_t id = MustBeginStep(MustBeginRun(), "bronze", "applications", "");
  StepResult first;
  first.rows_in = 5;
  ASSERT_TRUE(store().FinishStep(id, first).ok());
  StepResult second;
  second.rows_in = 6;
  second.status = RunStatus::kFailed;
  EXPECT_EQ(store().FinishStep(id, second).code(), StatusCode::kFailedPrecondition);
  const StepRecord s = StepById(id);
  EXPECT_EQ(s.rows_in, 5);
  EXPECT_EQ(s.status, RunStatus::kSucceeded);
}

TEST_F(MetastoreTest, FinishStepWithRunningIsInvalidArgument) {
  const int64_t id = MustBeginStep(MustBeginRun(), "bronze", "applications", "");
  StepResult result;
  result.status = RunStatus::kRunning;
  EXPECT_EQ(store().FinishStep(id, result).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StepById(id).status, RunStatus::kRunning);
}

TEST_F(MetastoreTest, FinishStepInvalidDetailsJsonIsInvalidArgumentAndStepStaysRunning) {
  const int64_t id = MustBeginStep(MustBeginRun(), "bronze", "applications", "");
  for (const char* bad : {"{", "not json", "{\"a\": }", "[1, 2"}) {
    StepResult result;
    result.details_json = bad;
    const Status s = store().FinishStep(id, result);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad << ": " << s.ToString();
    EXPECT_NE(s.message().find("details_json"), std::string::npos) << s.message();
  }
  EXPECT_EQ(StepById(id).status, RunStatus::kRunning);
  // The step can still be finished properly afterwards.
  StepResult good;
  good.details_json = "[1, 2]";
  EXPECT_TRUE(store().FinishStep(id, good).ok());
  EXPECT_EQ(StepById(id).details_json, "[1, 2]");
}

TEST_F(MetastoreTest, FinishStepInvalidJsonIsInvalidArgumentEvenForUnknownStep) {
  // Arguments are checked before the row, as for status kRunning.
  StepResult result;
  result.details_json = "{";
  EXPECT_EQ(store().FinishStep(12345, result).code(), StatusCode::kInvalidArgument);
}

TEST_F(MetastoreTest, ListStepsFiltersAndOrdersNewestFirst) {
  const int64_t run1 = MustBeginRun();
  const int64_t a = MustBeginStep(run1, "bronze", "applications", "");
  const int64_t b = MustBeginStep(run1, "silver", "applications", "2024-03-01");
  const int64_t c = MustBeginStep(run1, "silver", "financials", "2024-03-01");
  const int64_t run2 = MustBeginRun();
  const int64_t d = MustBeginStep(run2, "silver", "applications", "2024-04-01");
  const int64_t e = MustBeginStep(run2, "silver", "applications", "2024-03-01");

  EXPECT_EQ(StepIds(StepFilter{}), (std::vector<int64_t>{e, d, c, b, a}));
  StepFilter by_run;
  by_run.run_id = run1;
  EXPECT_EQ(StepIds(by_run), (std::vector<int64_t>{c, b, a}));
  StepFilter by_step;
  by_step.step = "silver";
  EXPECT_EQ(StepIds(by_step), (std::vector<int64_t>{e, d, c, b}));
  StepFilter by_table;
  by_table.table_name = "applications";
  EXPECT_EQ(StepIds(by_table), (std::vector<int64_t>{e, d, b, a}));
  StepFilter by_partition;
  by_partition.partition = "2024-03-01";
  EXPECT_EQ(StepIds(by_partition), (std::vector<int64_t>{e, c, b}));
  StepFilter combined;
  combined.run_id = run2;
  combined.step = "silver";
  combined.table_name = "applications";
  combined.partition = "2024-03-01";
  EXPECT_EQ(StepIds(combined), (std::vector<int64_t>{e}));
  StepFilter none;
  none.table_name = "no_such_table";
  EXPECT_TRUE(StepIds(none).empty());
  StepFilter limited;
  limited.limit = 2;
  EXPECT_EQ(StepIds(limited), (std::vector<int64_t>{e, d}));
}

TEST_F(MetastoreTest, ListStepsNonPositiveLimitIsInvalidArgument) {
  StepFilter filter;
  filter.limit = 0;
  EXPECT_EQ(CodeOf(store().ListSteps(filter)), StatusCode::kInvalidArgument);
  filter.limit = -5;
  EXPECT_EQ(CodeOf(store().ListSteps(filter)), StatusCode::kInvalidArgument);
}

TEST_F(MetastoreTest, LatestSucceededStepPicksNewestSucceededOfExactKey) {
  StatusOr<std::optional<StepRecord>> none =
      store().LatestSucceededStep("silver", "financials", "2024-03-01");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());

  const int64_t run = MustBeginRun();
  const int64_t old_ok = MustBeginStep(run, "silver", "financials", "2024-03-01", "h1");
  ASSERT_TRUE(store().FinishStep(old_ok, StepResult{}).ok());
  const int64_t new_ok = MustBeginStep(run, "silver", "financials", "2024-03-01", "h2");
  ASSERT_TRUE(store().FinishStep(new_ok, StepResult{}).ok());
  const int64_t failed = MustBeginStep(run, "silver", "financials", "2024-03-01", "h3");
  StepResult fail;
  fail.status = RunStatus::kFailed;
  ASSERT_TRUE(store().FinishStep(failed, fail).ok());
  MustBeginStep(run, "silver", "financials", "2024-03-01", "h4");  // Still running.
  const int64_t other_partition = MustBeginStep(run, "silver", "financials", "2024-04-01");
  ASSERT_TRUE(store().FinishStep(other_partition, StepResult{}).ok());
  const int64_t other_step = MustBeginStep(run, "gold", "financials", "2024-03-01");
  ASSERT_TRUE(store().FinishStep(other_step, StepResult{}).ok());

  StatusOr<std::optional<StepRecord>> latest =
      store().LatestSucceededStep("silver", "financials", "2024-03-01");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->step_id, new_ok);
  EXPECT_EQ((*latest)->inputs_hash, "h2");
  EXPECT_EQ((*latest)->status, RunStatus::kSucceeded);

  // The empty partition is a key of its own here, not a wildcard.
  StatusOr<std::optional<StepRecord>> empty_partition =
      store().LatestSucceededStep("silver", "financials", "");
  ASSERT_TRUE(empty_partition.ok());
  EXPECT_FALSE(empty_partition->has_value());
}

// ---- Misuse and faults ----

TEST_F(MetastoreTest, MovedFromMetastoreIsFailedPrecondition) {
  Metastore moved = std::move(store());
  EXPECT_EQ(CodeOf(store().ListRuns(1)), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeOf(store().BeginRun("x", "")), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(moved.ListRuns(1).ok());
}

TEST(Metastore, ThrowingClockIsInternalNotAnException) {
  TempDir dir;
  bool fail = false;
  Options options;
  options.clock = [&fail] {
    if (fail) throw std::runtime_error("clock broke");
    return Clock::time_point{};
  };
  StatusOr<Metastore> store = Metastore::Open(dir.path() / "m.sqlite", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  fail = true;
  StatusOr<int64_t> id = store->BeginRun("x", "");
  EXPECT_EQ(CodeOf(id), StatusCode::kInternal);
  EXPECT_NE(id.status().message().find("clock broke"), std::string::npos);
  fail = false;
  StatusOr<std::vector<RunRecord>> runs = store->ListRuns(10);
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE(runs->empty());
}

// Something thrown that is not a std::exception stops at the module's edge too, in each of
// the files that implement public methods (runs, registry catalog, alerts).
TEST(Metastore, ThrownNonStandardExceptionIsInternalEverywhere) {
  TempDir dir;
  bool fail = false;
  Options options;
  options.clock = [&fail] {
    if (fail) throw 7;
    return Clock::time_point{};
  };
  StatusOr<Metastore> store = Metastore::Open(dir.path() / "m.sqlite", options);
  ASSERT_THAT(store, IsOk());
  fail = true;
  const auto unknown = StatusIs(StatusCode::kInternal, HasSubstr("unknown exception"));
  EXPECT_THAT(store->BeginRun("x", ""), unknown);
  EXPECT_THAT(store->ReplaceMonthAlerts("2024-03", {}, {}), unknown);
  NewModel model;
  model.name = "pd";
  model.created_by = "tester";
  EXPECT_THAT(
      store->RegisterModel(
          model, [](int64_t, const std::string&) { return StatusOr<std::string>("unused"); }),
      unknown);
}

TEST_F(MetastoreTest, CorruptStatusIsDataLoss) {
  const int64_t id = MustBeginRun();
  {
    // The CHECK constraint stops bad statuses; a file edited without it is still read safely.
    Database raw = RawOpen(path());
    ASSERT_TRUE(raw.Execute("PRAGMA ignore_check_constraints = ON; UPDATE runs SET status = "
                            "'paused' WHERE run_id = " +
                            std::to_string(id))
                    .ok());
  }
  StatusOr<std::vector<RunRecord>> runs = store().ListRuns(10);
  EXPECT_EQ(CodeOf(runs), StatusCode::kDataLoss) << runs.status().ToString();
}

}  // namespace
}  // namespace riskpipe::metastore
