#include "features/internal/hashed_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace riskpipe::features::internal {
namespace fs = std::filesystem;

StatusOr<std::unique_ptr<HashedFile>> HashedFile::Create(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return InternalError(path.string() + ": cannot create: " + std::strerror(errno));
  return std::unique_ptr<HashedFile>(new HashedFile(path, fd));
}

HashedFile::HashedFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {
  for (auto& b : buffers_) b = std::make_unique<char[]>(kBufferBytes);
}

HashedFile::~HashedFile() {
  Wait();
  if (fd_ >= 0) ::close(fd_);
}

void HashedFile::Append(const void* p, size_t n) {
  const char* bytes = static_cast<const char*>(p);
  while (n > 0) {
    const size_t piece = std::min(n, kBufferBytes);
    std::memcpy(Space(piece), bytes, piece);
    Commit(piece);
    bytes += piece;
    n -= piece;
  }
}

void HashedFile::PadTo8() {
  static constexpr char kZeros[8] = {};
  Append(kZeros, Pad8(bytes()) - bytes());
}

StatusOr<SnapshotFileInfo> HashedFile::Finish() {
  Flush();
  Wait();
  if (error_.empty() && ::fsync(fd_) != 0) error_ = std::string("fsync: ") + std::strerror(errno);
  if (::close(fd_) != 0 && error_.empty()) error_ = std::string("close: ") + std::strerror(errno);
  fd_ = -1;
  if (!error_.empty()) return InternalError(path_.string() + ": " + error_);
  return SnapshotFileInfo{static_cast<int64_t>(bytes_), sha_.HexDigest()};
}

// Both tasks of the previous buffer finish first (the file and the digest take the buffers in
// order). Each write also starts the kernel's writeback of its range, so the final fsync mostly
// waits for what is already under way: hashing and writing overlap each other and the caller's
// filling of the next buffer instead of adding up.
void HashedFile::Flush() {
  if (fill_ == 0) return;
  Wait();
  const char* data = buffers_[current_].get();
  const size_t size = fill_;
  hashing_ = std::async(std::launch::async,
                        [this, data, size] { sha_.Update(std::string_view(data, size)); });
  const uint64_t offset = bytes_;
  writing_ = std::async(std::launch::async, [this, data, size, offset] {
    for (size_t done = 0; done < size && error_.empty();) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = std::string("write: ") + std::strerror(errno);
      } else {
        done += static_cast<size_t>(n);
      }
    }
    // Only a hint: fsync in Finish() is what makes the file durable.
    (void)::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(size),
                            SYNC_FILE_RANGE_WRITE);
  });
  bytes_ += size;
  current_ ^= 1;
  fill_ = 0;
}

void HashedFile::Wait() {
  if (hashing_.valid()) hashing_.wait();
  if (writing_.valid()) writing_.wait();
}

}  // namespace riskpipe::features::internal
