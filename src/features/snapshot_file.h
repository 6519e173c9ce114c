#pragma once
// The data file of an online snapshot (docs/online-store.md, "Snapshot files"), in two formats:
//   features.bin  riskpipe-online-snapshot/2, the default: the loader's in-memory layout, so a
//                 load is a few copies and checks instead of parsing text;
//   features.csv  riskpipe-online-snapshot/1: text for people and other tools.
// Both writers stream through a buffer and hash on a second thread as they go, so the file is
// written once and never read back to be checksummed.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "db/database.h"

namespace riskpipe::features {

class OnlineSnapshot;

struct SnapshotFileInfo {
  int64_t bytes = 0;
  std::string sha256;
};

// The rows to write: columns[0] is the entity (text, never null), the others the features in
// manifest order (numbers with NaN for null, or dictionary-coded text), rows in file order.
// Writes `path` (a new file in the caller's temporary folder) and fsyncs it. Internal on I/O
// errors, naming the file.
StatusOr<SnapshotFileInfo> WriteSnapshotBinary(const db::ColumnarTable& table,
                                               const std::filesystem::path& path);
// The same as CSV with a header of the column names: text fields always quoted ('"' doubled)
// unless `quote_entity` is false for the entity, numbers in their shortest exact form, null
// as an empty unquoted field.
StatusOr<SnapshotFileInfo> WriteSnapshotCsv(const db::ColumnarTable& table, bool quote_entity,
                                            const std::filesystem::path& path);

// Reads a features.bin image into `snap`, whose features_ (from the manifest) are set. DataLoss
// naming `file` and the section for anything that does not fit the manifest or the format.
class BinarySnapshotReader {
 public:
  static Status Read(std::string_view data, const std::string& file, int64_t rows,
                     OnlineSnapshot& snap);
};

}  // namespace riskpipe::features
