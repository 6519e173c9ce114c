#pragma once
// Internal to materialize (features/materialize.h): an online snapshot's rows, computed with
// DuckDB from the parts OnlineSqlOf() compiles and put together here by entity. Runs its
// queries one after another on the caller's connection.

#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "db/database.h"
#include "features/internal/online_sql.h"
#include "features/snapshot_file.h"

namespace riskpipe::features::internal {

struct OnlineRows {
  // The entity (as text), then every feature in schema order, as DOUBLE (numbers, booleans)
  // or text (the rest); one row per entity, in entity order.
  SnapshotTable table;
  std::string entity_type;                 // the entity column's DuckDB type
  std::vector<std::string> feature_types;  // each feature's DuckDB type, in schema order
};

// Runs the spine's and each view's query on `con` and places every view's rows on the
// spine's by entity. The point-in-time audit checks every view row's date against as_of
// here. FailedPrecondition, naming the entity, for two spine rows of an entity with the same
// latest date and key, two rows of one entity at its latest time in a view whose source keys
// should make that impossible, or an audit violation; InvalidArgument for SQL errors.
StatusOr<OnlineRows> QueryOnlineRows(const config::Project& project, db::Connection& con,
                                     const OnlineSql& sql, Date as_of);

}  // namespace riskpipe::features::internal
