#pragma once
// Internal to the metastore: the schema as an ordered list of numbered migrations, and the
// code that applies the missing ones when a file is opened. docs/metastore.md says how to add
// one. Thread-safety: as the Database passed in; safe against other processes migrating the
// same file at the same time.

#include <span>
#include <string_view>

#include "core/status.h"
#include "metastore/sqlite.h"

namespace riskpipe::metastore {

// Every migration in order; entry i brings the schema from version i to version i + 1.
std::span<const std::string_view> Migrations();

// The schema version of `db`: the highest version in schema_migrations, 0 for a fresh file.
StatusOr<int> ReadSchemaVersion(Database& db);

// Applies the migrations `db` lacks, each in its own BEGIN IMMEDIATE transaction together with
// its schema_migrations row, so a crash leaves the file at some whole version. Returns
// FailedPrecondition when the file's version is newer than Migrations() knows, and the
// failing migration's error (prefixed with its version) otherwise.
Status Migrate(Database& db);

}  // namespace riskpipe::metastore
