#include "metastore/migrations.h"

#include <string>

namespace riskpipe::metastore {
namespace {

// Version 1: the run log. A run is one riskpipe command; a step is one unit of work inside it
// (usually one table and partition). finished_at is NULL while running. pid and host name the
// process that began a run, so MarkInterrupted can tell live runs from crashed ones.
// started_unix_ms keeps the step's start as a number, so the duration needs no text parsing.
constexpr std::string_view kRunLog = R"sql(
CREATE TABLE runs (
  run_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  command     TEXT NOT NULL,
  args        TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  error       TEXT NOT NULL DEFAULT '',
  pid         INTEGER,
  host        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_status ON runs (status);
CREATE TABLE steps (
  step_id          INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id           INTEGER NOT NULL REFERENCES runs (run_id),
  step             TEXT NOT NULL,
  table_name       TEXT NOT NULL,
  partition        TEXT NOT NULL DEFAULT '',
  rows_in          INTEGER NOT NULL DEFAULT 0,
  rows_out         INTEGER NOT NULL DEFAULT 0,
  rows_quarantined INTEGER NOT NULL DEFAULT 0,
  seconds          REAL NOT NULL DEFAULT 0,
  status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  error            TEXT NOT NULL DEFAULT '',
  started_at       TEXT NOT NULL,
  finished_at      TEXT,
  started_unix_ms  INTEGER NOT NULL,
  inputs_hash      TEXT NOT NULL DEFAULT '',
  details_json     TEXT NOT NULL DEFAULT ''
                   CHECK (details_json = '' OR json_valid(details_json))
);
CREATE INDEX steps_by_run ON steps (run_id);
CREATE INDEX steps_by_key ON steps (step, table_name, partition, status);
)sql";

// Version 2: the model registry catalog (docs/registry.md). `models` has one row per registered
// package version; only its stage and metrics change after insertion, and rows are never
// deleted. At most one row per name is in production (partial unique index). `model_events`
// is the append-only history of every change: triggers refuse UPDATE and DELETE, so the answer
// to "who approved the production model on date D" cannot be rewritten through SQL.
constexpr std::string_view kRegistryCatalog = R"sql(
CREATE TABLE models (
  model_seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id      TEXT NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  version       INTEGER NOT NULL CHECK (version >= 1),
  stage         TEXT NOT NULL
                CHECK (stage IN ('candidate', 'approved', 'production', 'archived', 'rejected')),
  family        TEXT NOT NULL DEFAULT '',
  run_id        INTEGER,
  created_by    TEXT NOT NULL DEFAULT '',
  registered_at TEXT NOT NULL,
  metrics_json  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metrics_json)),
  UNIQUE (name, version),
  CHECK (model_id = name || '/' || version)
);
CREATE UNIQUE INDEX models_one_production ON models (name) WHERE stage = 'production';
CREATE INDEX models_by_stage ON models (stage);
CREATE TRIGGER models_never_deleted BEFORE DELETE ON models
BEGIN SELECT RAISE(ABORT, 'models: catalog rows are never deleted'); END;
CREATE TRIGGER models_identity_fixed
BEFORE UPDATE OF model_seq, model_id, name, version, family, run_id, created_by, registered_at
ON models
BEGIN SELECT RAISE(ABORT, 'models: only stage and metrics_json may change'); END;
CREATE TABLE model_events (
  event_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id     TEXT NOT NULL REFERENCES models (model_id),
  name         TEXT NOT NULL,
  event        TEXT NOT NULL CHECK (event <> ''),
  from_stage   TEXT CHECK (from_stage IS NULL OR from_stage IN
                 ('candidate', 'approved', 'production', 'archived', 'rejected')),
  to_stage     TEXT CHECK (to_stage IS NULL OR to_stage IN
                 ('candidate', 'approved', 'production', 'archived', 'rejected')),
  actor        TEXT NOT NULL CHECK (actor <> ''),
  reason       TEXT NOT NULL DEFAULT '',
  at           TEXT NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details_json))
);
CREATE INDEX model_events_by_model ON model_events (model_id);
CREATE INDEX model_events_by_name ON model_events (name);
CREATE TRIGGER model_events_no_update BEFORE UPDATE ON model_events
BEGIN SELECT RAISE(ABORT, 'model_events is append-only: events are never updated'); END;
CREATE TRIGGER model_events_no_delete BEFORE DELETE ON model_events
BEGIN SELECT RAISE(ABORT, 'model_events is append-only: events are never deleted'); END;
)sql";

// Version 3: monitoring alerts (docs/monitoring.md, "Alerts"). One row per alert_id (a stable
// hash of month, model, check and feature), so re-monitoring a month updates the same rows
// instead of piling up copies. Rows are never deleted: an alert that a re-run no longer raises
// gets resolved_at set. Acknowledgement (who reviewed it, when, with what note) is recorded on
// the row; the identity columns are fixed once written.
constexpr std::string_view kAlerts = R"sql(
CREATE TABLE alerts (
  alert_id        TEXT PRIMARY KEY,
  month           TEXT NOT NULL,
  model_id        TEXT NOT NULL,
  model_name      TEXT NOT NULL,
  check_name      TEXT NOT NULL,
  severity        TEXT NOT NULL CHECK (severity IN ('info', 'warn', 'act')),
  metric          TEXT NOT NULL DEFAULT '',
  feature         TEXT NOT NULL DEFAULT '',
  value           REAL,
  threshold       REAL,
  action          TEXT NOT NULL
                  CHECK (action IN ('watch', 'investigate', 'retrain', 'rollback')),
  message         TEXT NOT NULL DEFAULT '',
  evidence_json   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(evidence_json)),
  raised_at       TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  resolved_at     TEXT,
  acknowledged_by TEXT,
  acknowledged_at TEXT,
  note            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alerts_by_month ON alerts (month, model_id);
CREATE INDEX alerts_by_name ON alerts (model_name, month);
CREATE TRIGGER alerts_never_deleted BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts: rows are never deleted (resolve them instead)'); END;
CREATE TRIGGER alerts_identity_fixed
BEFORE UPDATE OF alert_id, month, model_id, model_name, check_name, feature, raised_at ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts: identity columns never change'); END;
)sql";

// The schema history. Append new migrations at the end; never edit or reorder a released one,
// since files in the field already carry its version number.
constexpr std::string_view kMigrations[] = {
    kRunLog,           // 1
    kRegistryCatalog,  // 2
    kAlerts,           // 3
};

constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";

Status TooNew(const Database& db, int version) {
  return FailedPreconditionError(
      "metastore " + db.path().string() + ": schema version " + std::to_string(version) +
      " is newer than this riskpipe knows (" + std::to_string(std::size(kMigrations)) +
      "); use a newer riskpipe to open it");
}

// Applies migration `version` (1-based) inside the caller's transaction.
Status Apply(Database& db, int version) {
  const std::string label = "metastore " + db.path().string() + ": migration " +
                            std::to_string(version);
  RETURN_IF_ERROR(db.Execute(kMigrations[version - 1]).WithPrefix(label));
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO schema_migrations (version, applied_at) "
                              "VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"));
  RETURN_IF_ERROR(insert.BindInt64(1, version));
  return insert.Run();
}

}  // namespace

std::span<const std::string_view> Migrations() { return kMigrations; }

StatusOr<int> ReadSchemaVersion(Database& db) {
  ASSIGN_OR_RETURN(Statement exists,
                   db.Prepare("SELECT count(*) FROM sqlite_master "
                              "WHERE type = 'table' AND name = 'schema_migrations'"));
  ASSIGN_OR_RETURN(const bool row, exists.Step());
  if (!row || exists.ColumnInt64(0) == 0) return 0;
  ASSIGN_OR_RETURN(Statement max,
                   db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(const bool max_row, max.Step());
  return max_row ? static_cast<int>(max.ColumnInt64(0)) : 0;
}

Status Migrate(Database& db) {
  const int latest = static_cast<int>(std::size(kMigrations));
  // The common case, a file already at the latest version, takes no write lock.
  ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  if (version > latest) return TooNew(db, version);
  while (version < latest) {
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db));
    RETURN_IF_ERROR(db.Execute(kCreateVersionTable));
    // Another process may have migrated while this one waited for the lock: read again.
    ASSIGN_OR_RETURN(version, ReadSchemaVersion(db));
    if (version > latest) return TooNew(db, version);
    if (version < latest) {
      RETURN_IF_ERROR(Apply(db, version + 1));
      ++version;
    }
    RETURN_IF_ERROR(txn.Commit());
  }
  return OkStatus();
}

}  // namespace riskpipe::metastore
