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

// The schema history. Append new migrations at the end; never edit or reorder a released one,
// since files in the field already carry its version number.
constexpr std::string_view kMigrations[] = {
    kRunLog,  // 1
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
