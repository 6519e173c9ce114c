#include "registry/internal/fs_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "core/files.h"

namespace riskpipe::registry::internal {
namespace fs = std::filesystem;

namespace {

std::string Errno() { return std::strerror(errno); }

}  // namespace

Status FsyncPath(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InternalError("cannot open " + path.string() + " to sync: " + Errno());
  const int rc = ::fsync(fd);
  const std::string err = rc != 0 ? Errno() : "";
  ::close(fd);
  if (rc != 0) return InternalError("cannot sync " + path.string() + ": " + err);
  return OkStatus();
}

Status RenameNoReplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return OkStatus();
  }
  if (errno == EEXIST || errno == ENOTEMPTY) {
    return AlreadyExistsError("cannot rename " + from.string() + ": " + to.string() +
                              " already exists");
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return InternalError("cannot rename " + from.string() + " to " + to.string() + ": " + Errno());
  }
  // The filesystem has no RENAME_NOREPLACE: check, then rename (callers hold the registry's
  // write lock, so no other riskpipe process races for the name).
  std::error_code ec;
  if (fs::exists(to, ec)) {
    return AlreadyExistsError("cannot rename " + from.string() + ": " + to.string() +
                              " already exists");
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return InternalError("cannot rename " + from.string() + " to " + to.string() + ": " + Errno());
  }
  return OkStatus();
}

Status ExchangeFolders(const fs::path& replacement, const fs::path& live) {
  if (::renameat2(AT_FDCWD, replacement.c_str(), AT_FDCWD, live.c_str(), RENAME_EXCHANGE) == 0) {
    return OkStatus();
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return InternalError("cannot exchange " + replacement.string() + " and " + live.string() +
                         ": " + Errno());
  }
  const fs::path parked = TempPathFor(live);
  if (::rename(live.c_str(), parked.c_str()) != 0) {
    return InternalError("cannot move " + live.string() + " aside: " + Errno());
  }
  if (::rename(replacement.c_str(), live.c_str()) != 0) {
    const std::string err = Errno();
    if (::rename(parked.c_str(), live.c_str()) != 0) {
      return InternalError("cannot put " + replacement.string() + " in place (" + err +
                           ") nor restore " + live.string() + " from " + parked.string());
    }
    return InternalError("cannot put " + replacement.string() + " in place: " + err);
  }
  if (::rename(parked.c_str(), replacement.c_str()) != 0) {
    return InternalError("cannot move " + parked.string() + " to " + replacement.string() + ": " +
                         Errno());
  }
  return OkStatus();
}

Status LinkOrCopy(const fs::path& from, const fs::path& to) {
  RETURN_IF_ERROR(MakeDirs(to.parent_path()));
  if (::link(from.c_str(), to.c_str()) == 0) return OkStatus();
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return InternalError("cannot copy " + from.string() + " to " + to.string() + ": " +
                         ec.message());
  return FsyncPath(to);
}

bool RemoveTree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  return !fs::exists(path, ec);
}

}  // namespace riskpipe::registry::internal
