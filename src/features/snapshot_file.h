#pragma once
// The data file of an online snapshot (docs/online-store.md, "Snapshot files"), in two formats:
//   features.bin  riskpipe-online-snapshot/2, the default: the loader's in-memory layout, so a
//                 load is a few copies and checks instead of parsing text;
//   features.csv  riskpipe-online-snapshot/1: text for people and other tools.
// Writers take the rows column by column (SnapshotTable); readers give the cells in the layout
// OnlineSnapshot serves from (SnapshotCells). No DuckDB: the server reads snapshots with this
// code alone. Free functions on caller-owned data, safe to call from any thread.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace riskpipe::features {

struct SnapshotFileInfo {
  int64_t bytes = 0;
  std::string sha256;
};

// The rows to write: columns[0] is the entity (text, never null), the others the features in
// manifest order; rows in file order.
struct SnapshotTable {
  struct Column {
    std::string name;
    bool text = false;
    std::vector<double> numbers;          // number columns: one per row, NaN for null
    std::vector<int32_t> codes;           // text columns: index into `dictionary`, -1 for null
    std::vector<std::string> dictionary;  // text columns: written in this order
  };
  std::vector<Column> columns;
  size_t rows = 0;
};

// A snapshot's cells as they are served: numeric features row-major as doubles with a validity
// byte (one lookup reads one contiguous block), text features as dictionary codes.
struct SnapshotCells {
  std::string entities;                  // every entity, back to back
  std::vector<uint64_t> entity_offsets;  // rows + 1 offsets into `entities`
  std::vector<double> numbers;           // rows x numeric features; 0 where null
  std::vector<uint8_t> valid;            // rows x numeric features; 1 = value, 0 = null
  std::vector<uint32_t> text_codes;      // rows x text features; 0 = null, else index + 1
  std::vector<std::vector<std::string>> dictionaries;  // per text feature
  size_t rows() const { return entity_offsets.empty() ? 0 : entity_offsets.size() - 1; }
};

// What the manifest says a data file holds.
struct SnapshotShape {
  int64_t rows = 0;
  std::string entity;                 // the entity column's name
  std::vector<std::string> features;  // in file order
  std::vector<bool> numeric;          // per feature: numbers, else text
};

// Writes `path` (a new file in the caller's temporary folder) and fsyncs it, streaming through
// a buffer and hashing on a second thread as it goes, so the file is never read back to be
// checksummed. Internal on I/O errors, naming the file.
StatusOr<SnapshotFileInfo> WriteSnapshotBinary(const SnapshotTable& table,
                                               const std::filesystem::path& path);
// The same as CSV with a header of the column names: text fields always quoted ('"' doubled)
// unless `quote_entity` is false for the entity, numbers in their shortest exact form, null
// as an empty unquoted field.
StatusOr<SnapshotFileInfo> WriteSnapshotCsv(const SnapshotTable& table, bool quote_entity,
                                            const std::filesystem::path& path);

// Reads a features.bin image. DataLoss naming `file` and the section for anything that does not
// fit `shape` or the format. Entities are not checked for repeats here (OnlineSnapshot::Build
// does, as it indexes them).
StatusOr<SnapshotCells> ReadSnapshotBinary(std::string_view data, const std::string& file,
                                           const SnapshotShape& shape);
// Reads a features.csv text (RFC 4180 as WriteSnapshotCsv writes it). DataLoss naming `file`
// and the line for a malformed line, a header that disagrees with `shape`, an empty entity or
// a number that does not parse, and for a row count other than shape.rows.
StatusOr<SnapshotCells> ReadSnapshotCsv(std::string_view data, const std::string& file,
                                        const SnapshotShape& shape);

}  // namespace riskpipe::features
