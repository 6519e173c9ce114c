#pragma once
// The datamart on disk: Hive-partitioned Parquet per layer, table and snapshot month
// (<root>/<layer>/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet), written through DuckDB.
// Every partition is written under a temporary name and renamed into place, so readers and
// crashes see a whole old file or a whole new one, and re-writing a partition replaces
// exactly that partition. Thread-compatible: distinct partitions may be written concurrently.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/status.h"
#include "db/database.h"

namespace riskpipe::datamart {

enum class Layer { kBronze, kSilver, kQuarantine, kGold };
std::string_view LayerName(Layer layer);

// The Hive partition column every table is partitioned by (the first day of a month).
inline constexpr char kPartitionColumn[] = "snapshot_date";
// The partition for rows whose date could not be read at all (kept, never dropped):
// 1900-01-01, a date no loan data of ours can have.
Date UndatedPartition();

// How Datamart::Stage writes Parquet beyond the fixed zstd compression.
struct ParquetOptions {
  // Dictionary-encode columns (DuckDB's default). Off skips hashing every value, which pays
  // for tables of raw text that are mostly written and rarely read (bronze), at a few percent
  // of file size since zstd still compresses repeats.
  bool dictionary = true;
  // Rows per row group; 0 keeps DuckDB's default (122880). Smaller groups mean smaller
  // write buffers (faster to fill and compress) at a little file size.
  int64_t row_group_rows = 0;
};

class Datamart {
 public:
  // `root` is <workspace>/datamart.
  explicit Datamart(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path TableDir(Layer layer, std::string_view table) const;
  std::filesystem::path PartitionDir(Layer layer, std::string_view table, Date partition) const;
  std::filesystem::path PartitionFile(Layer layer, std::string_view table, Date partition) const;

  // A partition written under its temporary name, not yet visible.
  struct Staged {
    std::filesystem::path tmp;
    std::filesystem::path target;
    int64_t rows = 0;
  };
  // Writes the rows of `select_sql` to a temporary file beside the partition's file.
  StatusOr<Staged> Stage(db::Connection& con, Layer layer, std::string_view table, Date partition,
                         std::string_view select_sql,
                         const ParquetOptions& parquet = ParquetOptions()) const;
  // Renames a staged file into place (atomic replace). Internal on failure.
  Status Publish(const Staged& staged) const;
  // Removes a staged file that will not be published.
  void Discard(const Staged& staged) const;
  // Publishes staged partitions that belong together (a month's bronze, silver and
  // quarantine) as one step: a journal naming every staged file is written (atomically)
  // first, then each is renamed into place, then the journal is removed. A writer killed
  // between the renames leaves the journal, and RecoverPublishes completes the renames before
  // anything reads the tables, so no reader sees layers from two different runs. `name`
  // identifies the group (e.g. "ingest.loans.2024-03"). `after_rename(i)` (a test seam) runs
  // after the i-th rename (0-based) and `after_rename(-1)` once the journal is written.
  Status PublishTogether(const std::vector<Staged>& staged, std::string_view name,
                         const std::function<void(int)>& after_rename = nullptr) const;
  // Completes the publications a killed writer left half done (see PublishTogether); returns
  // how many groups it completed. The workspace's writer calls it before it removes stale
  // temporaries (which would otherwise take the staged files). Internal when a rename fails.
  StatusOr<int> RecoverPublishes() const;
  // Where the publication journals live: <root>/_journal.
  std::filesystem::path JournalDir() const { return root_ / "_journal"; }

  // Runs `select_sql` on `con` and publishes its rows as the partition's Parquet file
  // (zstd), replacing any previous one atomically. The query must not produce a column named
  // snapshot_date (the partition folder carries it). Returns the number of rows written;
  // InvalidArgument for a failing query, Internal for I/O errors.
  StatusOr<int64_t> WritePartition(db::Connection& con, Layer layer, std::string_view table,
                                   Date partition, std::string_view select_sql) const;

  // The partitions present for a table, ascending. Empty when the table does not exist.
  std::vector<Date> ListPartitions(Layer layer, std::string_view table) const;
  // SQL table expression reading the whole table (or the given partitions) with the
  // partition column typed as DATE. NotFound when no partition exists.
  StatusOr<std::string> ReadSql(Layer layer, std::string_view table) const;
  // Removes a partition (atomically: renamed away, then deleted).
  Status DeletePartition(Layer layer, std::string_view table, Date partition) const;
  // Completes half-done publications (RecoverPublishes), then removes the temporaries a
  // crashed writer left; returns how many temporaries were removed.
  int RemoveStaleTemporaries() const;

 private:
  std::filesystem::path root_;
};

}  // namespace riskpipe::datamart
