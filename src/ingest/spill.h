#pragma once
// Internal: per-month spill files. The first ingestion pass splits the source into one
// binary file per snapshot month, each record with its line, its fields and its raw bytes,
// so the second pass can stream a month into Parquet in bounded memory whatever the order of
// the source. Files live in <workspace>/tmp and are removed after the run. One writer or
// reader per thread.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/csv_reader.h"

namespace riskpipe::ingest::internal {

// A record read back from a spill file; views are valid until the next Next().
struct SpillRecord {
  int64_t line = 0;
  int64_t duplicate_of = -1;     // line of the first record with the same key, or -1
  int64_t invalid_utf8_at = -1;  // as in CsvRecord
  bool unterminated_quote = false;
  bool bad_quote = false;
  std::string_view raw;
  std::vector<std::string_view> fields;
  // Quarantine spills carry the reason instead of fields.
  std::string_view reason;
};

// Encodes records in the spill format into a caller's buffer, so pass 1 can build a block's
// spill bytes on a worker thread and append them to the month's file later, in file order.
class SpillEncoder {
 public:
  // Appends `rec` to `out`; returns the record's offset in `out`.
  size_t Add(const CsvRecord& rec, int64_t duplicate_of, std::string& out);

 private:
  std::string extra_;
  std::vector<uint32_t> offsets_;
};

// Adds `line_offset` to the line of the encoded record at `record` and sets its duplicate_of
// (lines of a block are counted from the block's start until its place in the file is known).
void PatchSpillRecord(char* record, int64_t line_offset, int64_t duplicate_of);

class SpillWriter {
 public:
  // Creates (truncates) the file. Internal on failure.
  static StatusOr<std::unique_ptr<SpillWriter>> Create(const std::filesystem::path& path);
  ~SpillWriter();

  Status Add(const CsvRecord& rec, int64_t duplicate_of);
  // Appends records encoded by a SpillEncoder.
  Status AddEncoded(std::string_view records);
  // A quarantine entry: line, raw text and reason.
  Status AddQuarantine(int64_t line, std::string_view raw, std::string_view reason);
  // Flushes and closes; Internal on write errors.
  Status Close();

 private:
  SpillWriter(std::filesystem::path path, std::FILE* f) : path_(std::move(path)), file_(f) {}
  Status Flush();
  void Put(const void* data, size_t n) { buf_.append(static_cast<const char*>(data), n); }

  std::filesystem::path path_;
  std::FILE* file_;
  std::string buf_;
  SpillEncoder encoder_;
};

class SpillReader {
 public:
  static StatusOr<std::unique_ptr<SpillReader>> Open(const std::filesystem::path& path);
  ~SpillReader();
  // Reads the next record; false at the end. DataLoss for a damaged file.
  StatusOr<bool> Next(SpillRecord& rec);

 private:
  SpillReader(std::filesystem::path path, std::FILE* f) : path_(std::move(path)), file_(f) {}
  // Makes at least `n` unread bytes available in buf_; false at end of file.
  bool Ensure(size_t n);
  Status Damaged(int64_t line) const;

  std::filesystem::path path_;
  std::FILE* file_;
  std::string buf_;   // read-ahead; records are parsed in place
  size_t pos_ = 0, end_ = 0;
  std::vector<uint32_t> offsets_;
};

}  // namespace riskpipe::ingest::internal
