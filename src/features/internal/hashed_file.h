#pragma once
// Internal to the snapshot writers (features/snapshot_file.h): a new file written through two
// buffers. While one buffer is written to the file and hashed (on two more threads, side by
// side), the caller fills the other, so a snapshot is written once and never read back to be
// checksummed. One caller thread at a time; errors are kept and reported by Finish().

#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "core/hash.h"
#include "core/status.h"
#include "features/snapshot_file.h"

namespace riskpipe::features::internal {

// n rounded up to a multiple of 8 (features.bin aligns every section so).
inline size_t Pad8(size_t n) { return (n + 7) & ~size_t{7}; }

class HashedFile {
 public:
  // Creates (truncates) `path`. Internal naming it when it cannot be created.
  static StatusOr<std::unique_ptr<HashedFile>> Create(const std::filesystem::path& path);
  HashedFile(const HashedFile&) = delete;
  HashedFile& operator=(const HashedFile&) = delete;
  ~HashedFile();

  // The buffers' size: the most Space() may ask for at once.
  static constexpr size_t kBufferBytes = 8 << 20;

  // Room for `n` bytes (n <= kBufferBytes) at the end of the buffer; Commit(n) keeps them.
  char* Space(size_t n) {
    if (fill_ + n > kBufferBytes) Flush();
    return buffers_[current_].get() + fill_;
  }
  void Commit(size_t n) { fill_ += n; }
  void Append(const void* p, size_t n);
  template <typename T>
  void Put(T value) {
    Append(&value, sizeof value);
  }
  // Zero bytes up to the next multiple of 8.
  void PadTo8();
  // Bytes appended so far (written or buffered).
  uint64_t bytes() const { return bytes_ + fill_; }

  // Writes what is buffered, fsyncs and closes; the size and digest of the whole file, or
  // Internal naming the file for the first I/O error.
  StatusOr<SnapshotFileInfo> Finish();

 private:
  HashedFile(std::filesystem::path path, int fd);
  // Hands the current buffer to the hashing and writing threads and switches to the other.
  void Flush();
  void Wait();

  std::filesystem::path path_;
  int fd_ = -1;
  std::unique_ptr<char[]> buffers_[2];
  int current_ = 0;
  size_t fill_ = 0;
  uint64_t bytes_ = 0;  // handed to the file
  Sha256Stream sha_;
  std::future<void> hashing_, writing_;
  std::string error_;  // written only by the writing task, read after waiting for it
};

}  // namespace riskpipe::features::internal
