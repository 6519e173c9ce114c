#pragma once
// An online snapshot (docs/online-store.md): each customer's features as of one date, as
// `riskpipe materialize` publishes them under <workspace>/online, and the loader `riskpipe serve`
// reads them with. Nothing here uses DuckDB. A loaded OnlineSnapshot is immutable and safe to
// read from any number of threads.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/date.h"
#include "core/status.h"
#include "features/snapshot_file.h"

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

// Whether a feature of this DuckDB type (as the manifest records it) is served as a number
// (integers, decimals, floats, booleans as 0/1); every other type is served as text.
bool IsNumericType(std::string_view type);

// One feature of a snapshot, from its manifest.
struct OnlineFeature {
  std::string name;
  std::string type;      // DuckDB type name, e.g. "DOUBLE", "BIGINT", "VARCHAR"
  std::string view;      // the feature view that computes it
  bool numeric = false;  // numbers (and booleans as 0/1); everything else is text
};

// What a snapshot's manifest says about it, besides its data file.
struct OnlineSnapshotInfo {
  std::string version, created_at, project, feature_set_version, entity_column;
  Date as_of;
  std::vector<OnlineFeature> features;
};

// A cell: null, a number, or text (a view into the snapshot, valid while it lives).
using OnlineValue = std::variant<std::monostate, double, std::string_view>;

// A snapshot in memory: its cells (SnapshotCells) and an open-addressing index entity -> row.
// Move-only; immutable once built.
class OnlineSnapshot {
 public:
  OnlineSnapshot() = default;
  OnlineSnapshot(OnlineSnapshot&&) noexcept = default;
  OnlineSnapshot& operator=(OnlineSnapshot&&) noexcept = default;
  OnlineSnapshot(const OnlineSnapshot&) = delete;
  OnlineSnapshot& operator=(const OnlineSnapshot&) = delete;

  // Takes the cells read from a data file and indexes their entities. DataLoss naming `file`
  // for an empty or repeated entity (with its row), or cells whose sizes do not fit the
  // features (the readers never produce those).
  static StatusOr<OnlineSnapshot> Build(OnlineSnapshotInfo info, SnapshotCells cells,
                                        const std::string& file);

  const std::string& version() const { return info_.version; }
  Date as_of() const { return info_.as_of; }
  const std::string& created_at() const { return info_.created_at; }
  const std::string& project() const { return info_.project; }
  const std::string& feature_set_version() const { return info_.feature_set_version; }
  const std::string& entity_column() const { return info_.entity_column; }
  const std::vector<OnlineFeature>& features() const { return info_.features; }
  size_t rows() const { return cells_.rows(); }

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
  // Adds `row` to index_, which has room; 0 when added, else the row + 1 that already holds
  // the same entity.
  uint32_t IndexRow(uint32_t row);
  OnlineSnapshotInfo info_;
  SnapshotCells cells_;
  // Per feature: its position among numeric (or text) columns.
  std::vector<uint32_t> slot_;
  size_t numeric_count_ = 0, text_count_ = 0;
  std::vector<uint32_t> index_;  // open addressing: row + 1, 0 = empty; size a power of 2
};

// Loads the snapshot named by <online_dir>/CURRENT: reads its manifest.json, verifies the
// sha256 and size of its data file (features.bin or features.csv), and reads it. Errors name
// the file: NotFound for a missing CURRENT or snapshot folder; DataLoss for a checksum
// mismatch, a malformed CSV line (with its line number) or features.bin section, a header
// that disagrees with the manifest, an empty or duplicate entity or a row count that
// disagrees; InvalidArgument for a malformed CURRENT or manifest.
StatusOr<OnlineSnapshot> LoadOnlineSnapshot(const std::filesystem::path& online_dir);
// The same for one snapshot folder (<online_dir>/snapshots/<version>).
StatusOr<OnlineSnapshot> LoadOnlineSnapshotDir(const std::filesystem::path& snapshot_dir);

}  // namespace riskpipe::features
