#pragma once
// Materialize (docs/online-store.md): each customer's latest features as of a date, computed
// from silver with DuckDB into a versioned snapshot folder under <workspace>/online that is
// published atomically with a CURRENT pointer (features/online_snapshot.h loads it). One call
// uses one DuckDB connection; concurrent calls on one workspace are the caller's to prevent.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "db/database.h"
#include "features/online_snapshot.h"

namespace riskpipe::features {

struct MaterializeOptions {
  // The decision date features are computed for ("if the customer applied on as_of"); unset
  // takes the latest decision date of the spine in silver.
  std::optional<Date> as_of;
  // Snapshots kept besides the new CURRENT one (the newest first; older ones are deleted).
  int keep = 5;
  SnapshotFormat format = SnapshotFormat::kBinary;
};

struct MaterializeSummary {
  std::string version;  // the snapshot folder's name, now in CURRENT
  Date as_of;
  int64_t rows = 0;  // entities (customers)
  size_t features = 0;
  std::filesystem::path dir;        // the published snapshot folder
  std::vector<std::string> pruned;  // versions deleted
  double seconds = 0;
};

// Writes a snapshot of every entity that has a spine event on or before as_of, with every
// feature view evaluated for decision date as_of (spine views use the entity's latest spine
// row), checks the point-in-time audit, publishes it (temporary folder renamed into place,
// then CURRENT replaced by write-temp-then-rename) and prunes old snapshots beyond `keep`.
// Rows are in entity order and text dictionaries in first-use order, so the same silver gives
// the same data file byte for byte (but for the last bit of a DOUBLE sum that DuckDB's GROUP
// BY adds up in parallel). Errors: FailedPrecondition without a features section, with no
// spine event on or before as_of, for two spine rows of an entity with the same date and key,
// two rows of an entity at its latest time in a latest view whose keys should make them
// unique, or an audit violation (nothing is published then); NotFound when a silver table is
// missing; InvalidArgument for keep < 0 or a bad feature expression; Internal for I/O.
StatusOr<MaterializeSummary> Materialize(const config::Project& project, db::Connection& con,
                                         const MaterializeOptions& options);

}  // namespace riskpipe::features
