#pragma once
// The metastore: riskpipe's SQLite file (<workspace>/metastore.sqlite) with the run log (runs
// and their steps); later schema versions add the registry catalog, approvals and alerts.
// Thread-safety: a Metastore is one SQLite connection; use one per thread. Several processes
// may use the same file at once: SQLite serialises writers (WAL, 5 s busy timeout) and readers
// never block. Timestamps are UTC ISO-8601 with milliseconds: "2026-11-23T09:41:02.123Z".

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace riskpipe::metastore {

class Database;

// The state of a run or a step; stored as 'running', 'succeeded', 'failed'.
enum class RunStatus { kRunning, kSucceeded, kFailed };
std::string_view RunStatusName(RunStatus status);
// The inverse of RunStatusName; InvalidArgument for any other text.
StatusOr<RunStatus> ParseRunStatus(std::string_view name);

// One invocation of a riskpipe command. finished_at is "" while running.
struct RunRecord {
  int64_t run_id = 0;
  std::string command;
  std::string args;
  std::string started_at;
  std::string finished_at;
  RunStatus status = RunStatus::kRunning;
  std::string error;
};

// One unit of work inside a run, usually one table and partition.
struct StepRecord {
  int64_t step_id = 0;
  int64_t run_id = 0;
  std::string step;
  std::string table_name;
  std::string partition;  // A snapshot date such as "2024-03-01", or "" for none.
  int64_t rows_in = 0, rows_out = 0, rows_quarantined = 0;
  double seconds = 0;  // Wall-clock duration from started_at to finished_at; 0 while running.
  RunStatus status = RunStatus::kRunning;
  std::string error;
  std::string started_at, finished_at;  // finished_at is "" while running.
  std::string inputs_hash;              // Fingerprint of the inputs, for idempotent skipping.
  std::string details_json;             // "" or one valid JSON text.
};

// What FinishStep records. status must not be kRunning.
struct StepResult {
  int64_t rows_in = 0, rows_out = 0, rows_quarantined = 0;
  RunStatus status = RunStatus::kSucceeded;
  std::string error;
  std::string details_json;  // "" or valid JSON, else FinishStep fails with InvalidArgument.
};

// Selects steps for ListSteps. An unset or empty field matches everything.
struct StepFilter {
  std::optional<int64_t> run_id;
  std::string step;
  std::string table_name;
  std::string partition;
  int limit = 1000;  // At most this many rows, newest first; must be positive.
};

struct Options {
  // The source of "now" for timestamps and step durations. Tests inject a fixed clock.
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
};

// ---- Model registry catalog: rows (schema version 2, registry_catalog.cc) ----------------
// Stages are stored as text: candidate, approved, production, archived, rejected. The rules of
// the stage machine live in src/registry; the catalog enforces what the file itself must
// guarantee (docs/registry.md).

// One registered model version.
struct ModelRow {
  std::string model_id;  // "<name>/<version>", e.g. "lending_pd/3".
  std::string name;
  int64_t version = 0;  // 1, 2, 3, ... per name, without gaps.
  std::string stage;
  std::string family;
  int64_t run_id = 0;  // The riskpipe run that trained it; 0 when unknown.
  std::string created_by;
  std::string registered_at;
  std::string metrics_json = "{}";  // A JSON object of summary metrics.
};

// One row of the append-only model history.
struct ModelEventRow {
  int64_t event_id = 0;  // Increases with every event, across all models.
  std::string model_id;
  std::string name;
  std::string event;       // E.g. "registered", "approved", "promoted", "demoted".
  std::string from_stage;  // "" when the event does not concern a stage.
  std::string to_stage;    // "" when the event does not concern a stage.
  std::string actor;
  std::string reason;
  std::string at;
  std::string details_json = "{}";
};

// What RegisterModel stores besides the allocated version.
struct NewModel {
  std::string name;
  std::string family;
  int64_t run_id = 0;
  std::string created_by;           // Also the actor of the "registered" event; must be non-empty.
  std::string metrics_json = "{}";  // Must be a JSON object.
};

// One event to append. When from_stage is non-empty the model must be at that stage (else
// FailedPrecondition) and moves to to_stage; when both are "" the stage is left alone.
struct ModelChange {
  std::string model_id;
  std::string event;
  std::string from_stage;
  std::string to_stage;
  std::string actor;  // Must be non-empty.
  std::string reason;
  std::string details_json = "{}";  // Must be valid JSON.
};

// Selects catalog rows for ListModels. An empty field matches everything.
struct ModelFilter {
  std::string name;
  std::string stage;
  int limit = 1000;  // At most this many rows, most recently registered first; must be positive.
};

// Selects events for ListModelEvents, oldest first. An empty field matches everything.
struct ModelEventFilter {
  std::string model_id;
  std::string name;
};

// ---- Monitoring alerts: rows (schema version 3, alerts.cc; docs/monitoring.md) ---------

// One alert. Identity: alert_id (stable over re-runs of the same month).
struct AlertRow {
  std::string alert_id;
  std::string month;  // "YYYY-MM": the monitored month the alert is about
  std::string model_id, model_name;
  std::string check_name;
  std::string severity;         // info | warn | act
  std::string metric, feature;  // feature "" for score-level checks
  std::optional<double> value, threshold;
  std::string action;  // watch | investigate | retrain | rollback
  std::string message;
  std::string evidence_json = "{}";
  std::string raised_at, updated_at;  // set by the metastore
  std::string resolved_at;            // "" while the month's latest run still raises it
  std::string acknowledged_by, acknowledged_at, note;
};

// Selects alerts for ListAlerts. Empty fields match everything.
struct AlertFilter {
  std::string from_month, to_month;  // inclusive "YYYY-MM" bounds
  std::string model_id, model_name, severity, check_name;
  bool include_resolved = false;
  int limit = 10000;  // must be positive
};

// The newest schema version this build knows: the number of migrations.
int LatestSchemaVersion();

// "2026-11-23T09:41:02.123Z" for a time point (milliseconds truncated toward the past).
std::string FormatUtcTimestamp(std::chrono::system_clock::time_point t);

class Metastore {
 public:
  // Opens the file, creating it and its parent folders when missing, and applies pending
  // schema migrations. FailedPrecondition when the file's schema is newer than this build,
  // DataLoss when the file is not an SQLite database, Unavailable when another process held
  // the write lock past the busy timeout, Internal on other failures.
  static StatusOr<Metastore> Open(const std::filesystem::path& path, Options options = {});
  Metastore(Metastore&& other) noexcept;
  Metastore& operator=(Metastore&& other) noexcept;
  Metastore(const Metastore&) = delete;
  Metastore& operator=(const Metastore&) = delete;
  ~Metastore();

  // The file's schema version; equals LatestSchemaVersion() after Open.
  StatusOr<int> SchemaVersion();

  // Records a new running run begun by this process; returns its run_id (never reused).
  StatusOr<int64_t> BeginRun(std::string_view command, std::string_view args);
  // Ends a running run. NotFound for an unknown id, FailedPrecondition when it has already
  // ended, InvalidArgument when `status` is kRunning.
  Status FinishRun(int64_t run_id, RunStatus status, std::string_view error = "");

  // Records a new running step of a running run; returns its step_id. NotFound for an unknown
  // run, FailedPrecondition when the run has ended.
  StatusOr<int64_t> BeginStep(int64_t run_id, std::string_view step, std::string_view table_name,
                              std::string_view partition, std::string_view inputs_hash = "");
  // Ends a running step, storing `result` and the seconds since it began. NotFound for an
  // unknown id, FailedPrecondition when it has already ended, InvalidArgument when
  // result.status is kRunning or result.details_json is not valid JSON.
  Status FinishStep(int64_t step_id, const StepResult& result);

  // The `limit` most recently begun runs, newest first. InvalidArgument when limit <= 0.
  StatusOr<std::vector<RunRecord>> ListRuns(int limit);
  // Steps matching `filter`, newest first. InvalidArgument when filter.limit <= 0.
  StatusOr<std::vector<StepRecord>> ListSteps(const StepFilter& filter);
  // The most recently begun succeeded step for (step, table_name, partition), or nullopt.
  StatusOr<std::optional<StepRecord>> LatestSucceededStep(std::string_view step,
                                                          std::string_view table_name,
                                                          std::string_view partition);

  // Marks as failed, with error "interrupted", every running run whose process is gone (same
  // host, pid no longer alive, or no pid recorded), then every running step whose run is no
  // longer running. Runs begun on another host are left alone: their pids mean nothing here.
  // Returns how many rows (runs plus steps) were marked.
  StatusOr<int> MarkInterrupted();

  // ---- Model registry catalog (registry_catalog.cc; docs/registry.md) ----------------------

  // Registers the next version of model.name in one write transaction: allocates version =
  // 1 + the highest catalogued version of that name, calls publish(version, registered_at),
  // which must put the package in place and returns the "registered" event's details JSON,
  // then inserts the row (stage candidate) and the event and commits. When publish fails
  // nothing is recorded and its status is returned. publish runs under the write lock, so
  // registrations of one file never interleave, in this or another process. InvalidArgument for
  // an empty name or created_by, or metrics_json that is not a JSON object.
  StatusOr<ModelRow> RegisterModel(
      const NewModel& model,
      const std::function<StatusOr<std::string>(int64_t version, const std::string& at)>& publish);

  // Holds the write lock, calls decide() (which may use the read methods below, but no write
  // method) and appends the events it returns, applying their stage changes in order, all in
  // one transaction stamped with one time. Returns the appended events. Nothing is applied when
  // decide fails (its status is returned), when a model is unknown (NotFound), not at the
  // change's from_stage (FailedPrecondition) or a change would put a second version of a name
  // in production (FailedPrecondition), or an event is malformed (InvalidArgument).
  StatusOr<std::vector<ModelEventRow>> ChangeModels(
      const std::function<StatusOr<std::vector<ModelChange>>()>& decide);

  // The catalog row of `model_id`, or nullopt.
  StatusOr<std::optional<ModelRow>> FindModel(std::string_view model_id);
  // Rows matching `filter`, most recently registered first. InvalidArgument when limit <= 0.
  StatusOr<std::vector<ModelRow>> ListModels(const ModelFilter& filter);
  // Events matching `filter`, oldest (lowest event_id) first.
  StatusOr<std::vector<ModelEventRow>> ListModelEvents(const ModelEventFilter& filter);

  // ---- Monitoring alerts (alerts.cc; docs/monitoring.md) ------------------------------------

  // Records the alerts one monitoring run raised for `month` and the models `model_ids`, in one
  // transaction: new ids are inserted, known ids updated (severity, values, message, evidence;
  // resolved_at cleared), and unresolved alerts of that month and those models that `alerts`
  // no longer holds get resolved_at. Rows are never deleted. InvalidArgument for an alert whose
  // month or model differs from the arguments, bad severity/action or invalid evidence JSON.
  Status ReplaceMonthAlerts(std::string_view month, const std::vector<std::string>& model_ids,
                            const std::vector<AlertRow>& alerts);
  // Alerts matching `filter`, by month, model, check, feature.
  StatusOr<std::vector<AlertRow>> ListAlerts(const AlertFilter& filter);
  // Records who reviewed an alert. NotFound for an unknown id; InvalidArgument for empty `by`.
  Status AcknowledgeAlert(std::string_view alert_id, std::string_view by, std::string_view note);

 private:
  Metastore(std::unique_ptr<Database> db, Options options);
  std::chrono::system_clock::time_point Now() const;

  std::unique_ptr<Database> db_;  // Null only in a moved-from Metastore.
  Options options_;
};

}  // namespace riskpipe::metastore
