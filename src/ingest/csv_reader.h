#pragma once
// A streaming RFC 4180 CSV reader that keeps what ingestion needs to lose nothing: the line
// each record starts on, the record's raw bytes, and what was wrong with it (unterminated
// quote, text after a closing quote, invalid UTF-8) instead of throwing it away. Handles a
// UTF-8 BOM, CRLF and LF line ends, quoted fields with delimiters, quotes and newlines, blank
// lines and a last line without a newline. Memory is bounded by the largest record plus the
// read buffer. One reader per thread.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace riskpipe::ingest {

struct CsvRecord {
  int64_t line = 0;                       // 1-based line the record starts on
  std::string_view raw;                   // the record's bytes, without its line end
  std::vector<std::string_view> fields;   // unquoted, "" unescaped; valid until next Next()
  bool blank = false;                     // an empty line (no fields)
  bool unterminated_quote = false;        // the file ended inside a quoted field
  bool bad_quote = false;                 // characters between a closing quote and the delimiter
  int64_t invalid_utf8_at = -1;           // byte offset in raw of the first invalid UTF-8, or -1
};

class CsvReader {
 public:
  // NotFound when the file does not exist; Internal when it cannot be read.
  static StatusOr<std::unique_ptr<CsvReader>> Open(const std::filesystem::path& path,
                                                   char delimiter = ',');
  // A reader for the records that start in [begin, stop) of the file: `begin` must be where a
  // record starts; the last record may run past `stop`. Lines are counted from 0 at `begin`
  // (see line()). When a record would need bytes beyond `give_up_at`, Next() returns false and
  // gave_up() is true: a caller guessing record starts uses this to bound a wrong guess.
  static StatusOr<std::unique_ptr<CsvReader>> OpenRange(const std::filesystem::path& path,
                                                        char delimiter, uint64_t begin,
                                                        uint64_t stop, uint64_t give_up_at);
  // Moves a reader to another range, as OpenRange would open it, keeping its read buffer.
  // Internal when the file cannot be repositioned.
  Status SetRange(uint64_t begin, uint64_t stop, uint64_t give_up_at);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the header record (a leading UTF-8 BOM is dropped). InvalidArgument "<file>: the
  // file is empty" for an empty file and for one whose header is not valid CSV.
  StatusOr<std::vector<std::string>> ReadHeader();
  // Reads the next record into `rec`; returns false at the end of the file. Internal on read
  // errors.
  StatusOr<bool> Next(CsvRecord& rec);

  uint64_t file_size() const { return file_size_; }
  // Offset in the file just past the last record returned (or of the header).
  uint64_t bytes_consumed() const { return consumed_ + pos_; }
  // The line the next record starts on.
  int64_t line() const { return line_; }
  bool gave_up() const { return gave_up_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  CsvReader(std::filesystem::path path, std::FILE* file, uint64_t size, char delimiter);
  // Moves unread bytes to the front and reads more; returns false at end of file.
  StatusOr<bool> Refill();
  // Parses one record at pos_. Returns false when the buffer ended before the record did
  // (and the file has more bytes).
  bool ParseRecord(CsvRecord& rec);

  std::filesystem::path path_;
  std::FILE* file_;
  uint64_t file_size_;
  char delim_;
  std::string buf_;
  size_t pos_ = 0;        // start of unread bytes in buf_
  size_t end_ = 0;        // end of valid bytes in buf_
  uint64_t consumed_ = 0; // bytes dropped from the front of buf_ so far
  bool eof_ = false;
  int64_t line_ = 1;
  uint64_t stop_ = UINT64_MAX;        // no record starting at or after this offset is read
  uint64_t give_up_at_ = UINT64_MAX;  // never read past this offset
  bool gave_up_ = false;
  std::string scratch_;   // unescaped quoted fields of the current record
};

// Offset of the first invalid UTF-8 sequence in `s`, or -1 when it is all valid.
int64_t FindInvalidUtf8(std::string_view s);
// `s` with every byte of an invalid UTF-8 sequence written as \xNN: safe to store as text.
std::string EscapeInvalidUtf8(std::string_view s);

}  // namespace riskpipe::ingest
