#pragma once
// The online store (docs/online-store.md): each customer's latest features as of a date,
// materialized from silver into a versioned snapshot folder that is published atomically with
// a CURRENT pointer, and a loader that reads the CURRENT snapshot into memory WITHOUT DuckDB
// (the server's path). Materialize() uses one DuckDB connection; a loaded OnlineSnapshot is
// immutable and safe to read from any number of threads.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "db/database.h"

namespace riskpipe::features {

// <workspace>/online: snapshots/<version>/{features.bin or features.csv, manifest.json} and
// CURRENT.
inline constexpr char kOnlineDir[] = "online";
inline constexpr char kSnapshotsDir[] = "snapshots";
inline constexpr char kCurrentFile[] = "CURRENT";
inline constexpr char kSnapshotBin[] = "features.bin";
inline constexpr char kSnapshotCsv[] = "features.csv";
inline constexpr char kSnapshotManifest[] = "manifest.json";
// The manifest's "format": which data file the snapshot has. A loader refuses any other.
inline constexpr char kSnapshotFormatCsv[] = "riskpipe-online-snapshot/1";
inline constexpr char kSnapshotFormatBinary[] = "riskpipe-online-snapshot/2";

// features.bin (the default: loads without parsing) or features.csv (text, for people and
// other tools); both hold the same values and load into the same OnlineSnapshot.
enum class SnapshotFormat { kBinary, kCsv };
// "binary" / "csv".
std::string_view SnapshotFormatName(SnapshotFormat format);
std::optional<SnapshotFormat> ParseSnapshotFormat(std::string_view name);

struct MaterializeOptions {
  // The decision date features are computed for ("if the customer applied on as_of"); unset
  // takes the latest decision date of the spine in silver.
  std::optional<Date> as_of;
  // Snapshots kept besides the new CURRENT one (the newest first; older ones are deleted).
  int keep = 5;
  SnapshotFormat format = SnapshotFormat::kBinary;
  // How each entity's latest spine row is found: by DuckDB (a GROUP BY of the spine rows by
  // entity, joined back), or by reading every spine row and keeping the latest by entity code
  // here. Unset chooses by the spine's rows per entity (an approximate distinct count): the
  // scan when there are fewer than 1.5 per entity (1M customers with one loan each: 0.5
  // instead of 1.2-1.7 s), DuckDB otherwise (the Kueski loans, ~21 per user: it evaluates the
  // spine features on the latest rows only). Tests force each.
  std::optional<bool> latest_spine_by_scan = std::nullopt;
  // How each latest or aggregate view is computed: by DuckDB (a GROUP BY of the source by
  // entity, joined back for a latest view), or from the source rows streamed one by one and
  // reduced here per entity. Unset: an aggregate view whose every feature is one plain
  // count/sum/avg/min/max call of numbers is streamed (1M customers, 2.2M clickstream rows:
  // 1.1-1.2 s instead of 1.5 s); a latest view is streamed when its source has at most 1.5
  // rows per spine entity (a plain count decides), else DuckDB's GROUP BY evaluates the
  // expressions on the latest rows only. true streams every view it can; false never. Tests
  // force each.
  std::optional<bool> views_by_scan = std::nullopt;
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
// Errors: FailedPrecondition without a features section, with no spine event on or before
// as_of, or on an audit violation (nothing is published); NotFound when a silver table is
// missing; InvalidArgument for keep < 0 or a bad feature expression; Internal for I/O.
StatusOr<MaterializeSummary> Materialize(const config::Project& project, db::Connection& con,
                                         const MaterializeOptions& options);

// One feature of a snapshot, from its manifest.
struct OnlineFeature {
  std::string name;
  std::string type;      // DuckDB type name, e.g. "DOUBLE", "BIGINT", "VARCHAR"
  std::string view;      // the feature view that computes it
  bool numeric = false;  // numbers (and booleans as 0/1); everything else is text
};

// A cell: null, a number, or text (a view into the snapshot, valid while it lives).
using OnlineValue = std::variant<std::monostate, double, std::string_view>;

// A snapshot loaded into memory: an open-addressing index entity -> row, numeric features
// row-major as doubles with a validity byte (one lookup reads one contiguous block), text
// features dictionary-encoded. Move-only; immutable once loaded.
class OnlineSnapshot {
 public:
  OnlineSnapshot() = default;
  OnlineSnapshot(OnlineSnapshot&&) noexcept = default;
  OnlineSnapshot& operator=(OnlineSnapshot&&) noexcept = default;
  OnlineSnapshot(const OnlineSnapshot&) = delete;
  OnlineSnapshot& operator=(const OnlineSnapshot&) = delete;

  const std::string& version() const { return version_; }
  Date as_of() const { return as_of_; }
  const std::string& created_at() const { return created_at_; }
  const std::string& project() const { return project_; }
  const std::string& feature_set_version() const { return feature_set_version_; }
  const std::string& entity_column() const { return entity_column_; }
  const std::vector<OnlineFeature>& features() const { return features_; }
  size_t rows() const { return row_entity_.empty() ? 0 : row_entity_.size() - 1; }

  // The row of `entity`, or nullopt when the snapshot has none.
  std::optional<size_t> Find(std::string_view entity) const;
  // The index of a feature by name, or nullopt.
  std::optional<size_t> FeatureIndex(std::string_view name) const;
  std::string_view Entity(size_t row) const;
  // A feature's value in a row (row < rows(), feature < features().size()).
  OnlineValue Value(size_t row, size_t feature) const;
  // Typed accessors: nullopt for null (and for the other kind of feature).
  std::optional<double> Number(size_t row, size_t feature) const;
  std::optional<std::string_view> Text(size_t row, size_t feature) const;

 private:
  friend class SnapshotParser;
  friend class BinarySnapshotReader;
  // Adds `row` (its entity already stored) to index_, which has room; 0 when added, else the
  // row + 1 that already holds the same entity.
  uint32_t IndexRow(uint32_t row);
  std::string version_, created_at_, project_, feature_set_version_, entity_column_;
  Date as_of_;
  std::vector<OnlineFeature> features_;
  // Per feature: its position among numeric (or text) columns.
  std::vector<uint32_t> slot_;
  size_t numeric_count_ = 0, text_count_ = 0;
  std::vector<double> numbers_;       // rows x numeric_count_
  std::vector<uint8_t> valid_;        // rows x numeric_count_; 1 = not null
  std::vector<uint32_t> text_codes_;  // rows x text_count_; 0 = null, else dictionary index + 1
  std::vector<std::vector<std::string>> dictionaries_;  // per text column
  std::string entities_;                                // every entity, back to back
  std::vector<uint64_t> row_entity_;                    // rows + 1 offsets into entities_
  std::vector<uint32_t> index_;  // open addressing: row + 1, 0 = empty; size a power of 2
};

// Loads the snapshot named by <online_dir>/CURRENT: reads its manifest.json, verifies the
// sha256 and size of its data file (features.bin or features.csv), and reads it. Errors name
// the file: NotFound for a missing CURRENT or snapshot folder; DataLoss for a checksum
// mismatch, a malformed CSV line (with its line number) or features.bin section, a header
// that disagrees with the manifest, a duplicate entity or a row count that disagrees;
// InvalidArgument for a malformed CURRENT or manifest.
StatusOr<OnlineSnapshot> LoadOnlineSnapshot(const std::filesystem::path& online_dir);
// The same for one snapshot folder (<online_dir>/snapshots/<version>).
StatusOr<OnlineSnapshot> LoadOnlineSnapshotDir(const std::filesystem::path& snapshot_dir);

}  // namespace riskpipe::features
