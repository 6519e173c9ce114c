#include "core/atomic_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/files.h"

namespace riskpipe {

StatusOr<AtomicFileWriter> AtomicFileWriter::Open(const std::filesystem::path& target) {
  RETURN_IF_ERROR(MakeDirs(target.parent_path()));
  std::filesystem::path tmp = TempPathFor(target);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return InternalError("cannot create " + tmp.string() + ": " + std::strerror(errno));
  return AtomicFileWriter(target, std::move(tmp), fd);
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path target, std::filesystem::path tmp,
                                   int fd)
    : target_(std::move(target)), tmp_(std::move(tmp)), fd_(fd) {
  buffer_.reserve(kFlushBytes + (1 << 16));
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : target_(std::move(o.target_)),
      tmp_(std::move(o.tmp_)),
      fd_(o.fd_),
      buffer_(std::move(o.buffer_)),
      written_(o.written_),
      error_(std::move(o.error_)) {
  o.fd_ = -1;
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFileWriter::FlushBuffer() {
  size_t done = 0;
  while (done < buffer_.size() && error_.empty()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = std::strerror(errno);
      break;
    }
    done += static_cast<size_t>(n);
  }
  written_ += done;
  buffer_.clear();
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return InternalError("writer for " + target_.string() + " already closed");
  FlushBuffer();
  if (error_.empty() && ::fsync(fd_) != 0) error_ = std::strerror(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && error_.empty()) error_ = std::strerror(errno);
  if (!error_.empty()) {
    ::unlink(tmp_.c_str());
    return InternalError("cannot write " + target_.string() + ": " + error_);
  }
  return RenameReplace(tmp_, target_);
}

}  // namespace riskpipe
