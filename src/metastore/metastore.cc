#include "metastore/metastore.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <iterator>

#include "core/files.h"
#include "metastore/guard.h"
#include "metastore/migrations.h"
#include "metastore/sqlite.h"

namespace riskpipe::metastore {
namespace {

// Errors are stored bounded (core/status.h, Excerpt): a message that quotes a 10 MB input line
// must not become a 10 MB row.
constexpr size_t kMaxErrorBytes = 4000;

using Clock = std::chrono::system_clock;

// The error recorded on runs and steps that MarkInterrupted ends.
constexpr std::string_view kInterrupted = "interrupted";

constexpr std::string_view kRunColumns =
    "run_id, command, args, started_at, finished_at, status, error";
constexpr std::string_view kStepColumns =
    "step_id, run_id, step, table_name, partition, rows_in, rows_out, rows_quarantined, "
    "seconds, status, error, started_at, finished_at, inputs_hash, details_json";

int64_t UnixMillis(Clock::time_point t) {
  return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}

std::string ThisHost() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

// False only when the process that began a run is surely gone. A pid from another host (or
// another container's pid namespace, which has its own host name) cannot be checked here.
bool ProcessMayBeAlive(const Statement& row, const std::string& this_host) {
  if (row.ColumnIsNull(1)) return false;
  const int64_t pid = row.ColumnInt64(1);
  if (row.ColumnText(2) != this_host) return true;
  if (pid == static_cast<int64_t>(::getpid())) return true;
  if (pid <= 0 || pid > INT_MAX) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

StatusOr<RunStatus> ReadStatus(const Statement& row, int column, std::string_view what) {
  StatusOr<RunStatus> status = ParseRunStatus(row.ColumnText(column));
  if (!status.ok()) return DataLossError(std::string(what) + ": " + status.status().message());
  return status;
}

StatusOr<RunRecord> ReadRun(const Statement& row) {
  RunRecord r;
  r.run_id = row.ColumnInt64(0);
  r.command = row.ColumnText(1);
  r.args = row.ColumnText(2);
  r.started_at = row.ColumnText(3);
  r.finished_at = row.ColumnText(4);
  ASSIGN_OR_RETURN(r.status, ReadStatus(row, 5, "run " + std::to_string(r.run_id)));
  r.error = row.ColumnText(6);
  return r;
}

StatusOr<StepRecord> ReadStep(const Statement& row) {
  StepRecord s;
  s.step_id = row.ColumnInt64(0);
  s.run_id = row.ColumnInt64(1);
  s.step = row.ColumnText(2);
  s.table_name = row.ColumnText(3);
  s.partition = row.ColumnText(4);
  s.rows_in = row.ColumnInt64(5);
  s.rows_out = row.ColumnInt64(6);
  s.rows_quarantined = row.ColumnInt64(7);
  s.seconds = row.ColumnDouble(8);
  ASSIGN_OR_RETURN(s.status, ReadStatus(row, 9, "step " + std::to_string(s.step_id)));
  s.error = row.ColumnText(10);
  s.started_at = row.ColumnText(11);
  s.finished_at = row.ColumnText(12);
  s.inputs_hash = row.ColumnText(13);
  s.details_json = row.ColumnText(14);
  return s;
}

// Why an UPDATE ... WHERE id = ? AND status = 'running' changed nothing: NotFound when the
// row does not exist, FailedPrecondition naming its status when it has already ended.
Status NotRunning(Database& db, std::string_view table, std::string_view id_column,
                  std::string_view noun, int64_t id) {
  const std::string sql =
      "SELECT status FROM " + std::string(table) + " WHERE " + std::string(id_column) + " = ?1";
  ASSIGN_OR_RETURN(Statement query, PrepareBound(db, sql, id));
  ASSIGN_OR_RETURN(const bool row, query.Step());
  const std::string name =
      "metastore " + db.path().string() + ": " + std::string(noun) + " " + std::to_string(id);
  if (!row) return NotFoundError(name + " not found");
  return FailedPreconditionError(name + " has already ended (" + query.ColumnText(0) + ")");
}

Status RequireEnded(RunStatus status, std::string_view what) {
  if (status != RunStatus::kRunning) return OkStatus();
  return InvalidArgumentError("metastore: " + std::string(what) +
                              ": cannot finish with status running");
}

// InvalidArgument unless `json` is "" or one valid JSON text. FinishStep checks this before it
// looks at the row, as it checks the status, so a bad argument is reported as such whatever
// state the step is in; the table's CHECK constraint remains the file's own guard.
Status RequireJsonOrEmpty(Database& db, std::string_view json, std::string_view what) {
  if (json.empty()) return OkStatus();
  ASSIGN_OR_RETURN(Statement check, PrepareBound(db, "SELECT json_valid(?1)", json));
  ASSIGN_OR_RETURN(const bool row, check.Step());
  if (row && check.ColumnInt64(0) == 1) return OkStatus();
  return InvalidArgumentError("metastore " + db.path().string() + ": " + std::string(what) +
                              ": details_json is not valid JSON");
}

}  // namespace

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kSucceeded:
      return "succeeded";
    case RunStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

StatusOr<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kSucceeded, RunStatus::kFailed}) {
    if (RunStatusName(s) == name) return s;
  }
  return InvalidArgumentError("unknown run status '" + std::string(name) + "'");
}

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

std::string FormatUtcTimestamp(Clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> hms(ms - day);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

// ---- Lifecycle ----

StatusOr<Metastore> Metastore::Open(const std::filesystem::path& path, Options options) {
  if (path.empty()) return InvalidArgumentError("metastore: empty file path");
  if (!options.clock) return InvalidArgumentError("metastore " + path.string() + ": no clock");
  return CatchExceptions(path, [&]() -> StatusOr<Metastore> {
    RETURN_IF_ERROR(MakeDirs(path.parent_path()));
    ASSIGN_OR_RETURN(Database db, Database::Open(path));
    RETURN_IF_ERROR(Migrate(db));
    return Metastore(std::make_unique<Database>(std::move(db)), std::move(options));
  });
}

Metastore::Metastore(std::unique_ptr<Database> db, Options options)
    : db_(std::move(db)), options_(std::move(options)) {}
Metastore::Metastore(Metastore&& other) noexcept = default;
Metastore& Metastore::operator=(Metastore&& other) noexcept = default;
Metastore::~Metastore() = default;

Clock::time_point Metastore::Now() const { return options_.clock(); }

StatusOr<int> Metastore::SchemaVersion() {
  return Guard(db_.get(), [&] { return ReadSchemaVersion(*db_); });
}

// ---- Runs ----

StatusOr<int64_t> Metastore::BeginRun(std::string_view command, std::string_view args) {
  return Guard(db_.get(), [&]() -> StatusOr<int64_t> {
    const std::string started_at = FormatUtcTimestamp(Now());
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    ASSIGN_OR_RETURN(
        Statement insert,
        PrepareBound(*db_,
                     "INSERT INTO runs (command, args, started_at, status, pid, host) "
                     "VALUES (?1, ?2, ?3, 'running', ?4, ?5)",
                     command, args, started_at, static_cast<int64_t>(::getpid()), ThisHost()));
    RETURN_IF_ERROR(insert.Run());
    const int64_t run_id = db_->LastInsertRowid();
    RETURN_IF_ERROR(txn.Commit());
    return run_id;
  });
}

Status Metastore::FinishRun(int64_t run_id, RunStatus status, std::string_view error) {
  return Guard(db_.get(), [&]() -> Status {
    RETURN_IF_ERROR(RequireEnded(status, "run " + std::to_string(run_id)));
    const std::string finished_at = FormatUtcTimestamp(Now());
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    ASSIGN_OR_RETURN(Statement update,
                     PrepareBound(*db_,
                                  "UPDATE runs SET status = ?2, error = ?3, finished_at = ?4 "
                                  "WHERE run_id = ?1 AND status = 'running'",
                                  run_id, RunStatusName(status),
                                  Excerpt(error, kMaxErrorBytes), finished_at));
    RETURN_IF_ERROR(update.Run());
    if (db_->Changes() == 0) return NotRunning(*db_, "runs", "run_id", "run", run_id);
    return txn.Commit();
  });
}

StatusOr<std::vector<RunRecord>> Metastore::ListRuns(int limit) {
  return Guard(db_.get(), [&]() -> StatusOr<std::vector<RunRecord>> {
    if (limit <= 0) return InvalidArgumentError("metastore: ListRuns: limit must be positive");
    ASSIGN_OR_RETURN(Statement query, PrepareBound(*db_,
                                                   "SELECT " + std::string(kRunColumns) +
                                                       " FROM runs ORDER BY run_id DESC LIMIT ?1",
                                                   static_cast<int64_t>(limit)));
    return ReadAll<RunRecord>(query, ReadRun);
  });
}

// ---- Steps ----

StatusOr<int64_t> Metastore::BeginStep(int64_t run_id, std::string_view step,
                                       std::string_view table_name, std::string_view partition,
                                       std::string_view inputs_hash) {
  return Guard(db_.get(), [&]() -> StatusOr<int64_t> {
    const Clock::time_point now = Now();
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    ASSIGN_OR_RETURN(Statement run,
                     PrepareBound(*db_, "SELECT status FROM runs WHERE run_id = ?1", run_id));
    ASSIGN_OR_RETURN(const bool found, run.Step());
    if (!found || run.ColumnText(0) != RunStatusName(RunStatus::kRunning)) {
      const Status why = NotRunning(*db_, "runs", "run_id", "run", run_id);
      return Status(why.code(), why.message() + "; cannot begin step " + std::string(step));
    }
    ASSIGN_OR_RETURN(
        Statement insert,
        PrepareBound(*db_,
                     "INSERT INTO steps (run_id, step, table_name, partition, status, started_at, "
                     "started_unix_ms, inputs_hash) VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7)",
                     run_id, step, table_name, partition, FormatUtcTimestamp(now), UnixMillis(now),
                     inputs_hash));
    RETURN_IF_ERROR(insert.Run());
    const int64_t step_id = db_->LastInsertRowid();
    RETURN_IF_ERROR(txn.Commit());
    return step_id;
  });
}

Status Metastore::FinishStep(int64_t step_id, const StepResult& result) {
  return Guard(db_.get(), [&]() -> Status {
    const std::string what = "step " + std::to_string(step_id);
    RETURN_IF_ERROR(RequireEnded(result.status, what));
    RETURN_IF_ERROR(RequireJsonOrEmpty(*db_, result.details_json, what));
    const Clock::time_point now = Now();
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    // The duration comes from the stored start; a clock stepped backwards gives 0, not < 0.
    ASSIGN_OR_RETURN(
        Statement update,
        PrepareBound(*db_,
                     "UPDATE steps SET rows_in = ?2, rows_out = ?3, rows_quarantined = ?4, "
                     "status = ?5, error = ?6, details_json = ?7, finished_at = ?8, "
                     "seconds = MAX(0, (?9 - started_unix_ms) / 1000.0) "
                     "WHERE step_id = ?1 AND status = 'running'",
                     step_id, result.rows_in, result.rows_out, result.rows_quarantined,
                     RunStatusName(result.status), Excerpt(result.error, kMaxErrorBytes),
                     result.details_json,
                     FormatUtcTimestamp(now), UnixMillis(now)));
    RETURN_IF_ERROR(update.Run());
    if (db_->Changes() == 0) return NotRunning(*db_, "steps", "step_id", "step", step_id);
    return txn.Commit();
  });
}

StatusOr<std::vector<StepRecord>> Metastore::ListSteps(const StepFilter& filter) {
  return Guard(db_.get(), [&]() -> StatusOr<std::vector<StepRecord>> {
    if (filter.limit <= 0) {
      return InvalidArgumentError("metastore: ListSteps: limit must be positive");
    }
    ASSIGN_OR_RETURN(
        Statement query,
        PrepareBound(*db_,
                     "SELECT " + std::string(kStepColumns) +
                         " FROM steps WHERE (?1 IS NULL OR run_id = ?1)"
                         " AND (?2 = '' OR step = ?2) AND (?3 = '' OR table_name = ?3)"
                         " AND (?4 = '' OR partition = ?4) ORDER BY step_id DESC LIMIT ?5",
                     filter.run_id, filter.step, filter.table_name, filter.partition,
                     static_cast<int64_t>(filter.limit)));
    return ReadAll<StepRecord>(query, ReadStep);
  });
}

StatusOr<std::optional<StepRecord>> Metastore::LatestSucceededStep(std::string_view step,
                                                                   std::string_view table_name,
                                                                   std::string_view partition) {
  return Guard(db_.get(), [&]() -> StatusOr<std::optional<StepRecord>> {
    ASSIGN_OR_RETURN(
        Statement query,
        PrepareBound(*db_,
                     "SELECT " + std::string(kStepColumns) +
                         " FROM steps WHERE step = ?1 AND table_name = ?2 AND partition = ?3"
                         " AND status = 'succeeded' ORDER BY step_id DESC LIMIT 1",
                     step, table_name, partition));
    ASSIGN_OR_RETURN(std::vector<StepRecord> steps, ReadAll<StepRecord>(query, ReadStep));
    if (steps.empty()) return std::optional<StepRecord>();
    return std::optional<StepRecord>(std::move(steps.front()));
  });
}

// ---- Recovery ----

StatusOr<int> Metastore::MarkInterrupted() {
  return Guard(db_.get(), [&]() -> StatusOr<int> {
    const std::string finished_at = FormatUtcTimestamp(Now());
    const std::string this_host = ThisHost();
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    ASSIGN_OR_RETURN(Statement running,
                     db_->Prepare("SELECT run_id, pid, host FROM runs WHERE status = 'running'"));
    std::vector<int64_t> dead;
    while (true) {
      ASSIGN_OR_RETURN(const bool row, running.Step());
      if (!row) break;
      if (!ProcessMayBeAlive(running, this_host)) dead.push_back(running.ColumnInt64(0));
    }
    int marked = 0;
    for (int64_t run_id : dead) {
      ASSIGN_OR_RETURN(Statement update,
                       PrepareBound(*db_,
                                    "UPDATE runs SET status = 'failed', error = ?2, "
                                    "finished_at = ?3 WHERE run_id = ?1",
                                    run_id, kInterrupted, finished_at));
      RETURN_IF_ERROR(update.Run());
      marked += db_->Changes();
    }
    // Steps of the runs just ended, and any step its run left running when it finished.
    ASSIGN_OR_RETURN(Statement steps,
                     PrepareBound(*db_,
                                  "UPDATE steps SET status = 'failed', error = ?1, "
                                  "finished_at = ?2 WHERE status = 'running' AND run_id NOT IN "
                                  "(SELECT run_id FROM runs WHERE status = 'running')",
                                  kInterrupted, finished_at));
    RETURN_IF_ERROR(steps.Run());
    marked += db_->Changes();
    RETURN_IF_ERROR(txn.Commit());
    return marked;
  });
}

}  // namespace riskpipe::metastore
