#pragma once
// A buffered, streaming file writer that publishes atomically: bytes go to a temporary file
// beside the target and Commit() fsyncs and renames it into place. Destroying a writer that
// was not committed removes the temporary file, so a failure never leaves a half-written
// target. One writer per thread.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace riskpipe {

class AtomicFileWriter {
 public:
  // Opens a temporary file for `target` (parent folders are created).
  static StatusOr<AtomicFileWriter> Open(const std::filesystem::path& target);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  // Appends bytes; flushes the buffer to the file when it passes the buffer size.
  void Append(std::string_view bytes) {
    buffer_.append(bytes.data(), bytes.size());
    if (buffer_.size() >= kFlushBytes) FlushBuffer();
  }
  void Append(char c) {
    buffer_.push_back(c);
    if (buffer_.size() >= kFlushBytes) FlushBuffer();
  }
  // Direct access for formatting into the buffer; call MaybeFlush() afterwards.
  std::string& buffer() { return buffer_; }
  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) FlushBuffer();
  }
  uint64_t bytes_written() const { return written_ + buffer_.size(); }

  // Flushes, fsyncs and renames into place. Internal on any I/O error (the target is then
  // untouched and the temporary removed).
  Status Commit();

 private:
  // Buffer size: large enough that write() calls are cheap relative to formatting.
  static constexpr size_t kFlushBytes = 1 << 20;

  AtomicFileWriter(std::filesystem::path target, std::filesystem::path tmp, int fd);
  void FlushBuffer();

  std::filesystem::path target_;
  std::filesystem::path tmp_;
  int fd_ = -1;
  std::string buffer_;
  uint64_t written_ = 0;
  std::string error_;  // first write error, reported by Commit()
};

}  // namespace riskpipe
