#include "core/files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace riskpipe {
namespace fs = std::filesystem;

fs::path TempPathFor(const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  // Built by append: GCC 12 at -O3 reports a false -Wrestrict on chained operator+ here.
  std::string name = ".";
  name += target.filename().string();
  name += ".tmp-";
  name += std::to_string(::getpid());
  name += '-';
  name += std::to_string(counter++);
  return target.parent_path() / name;
}

Status MakeDirs(const fs::path& dir) {
  if (dir.empty()) return OkStatus();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InternalError("cannot create folder " + dir.string() + ": " + ec.message());
  return OkStatus();
}

Status WriteFileAtomic(const fs::path& path, std::string_view contents) {
  RETURN_IF_ERROR(MakeDirs(path.parent_path()));
  const fs::path tmp = TempPathFor(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return InternalError("cannot create " + tmp.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return InternalError("cannot write " + tmp.string() + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return InternalError("cannot flush " + tmp.string() + ": " + std::strerror(errno));
  }
  return RenameReplace(tmp, path);
}

Status RenameReplace(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(from.c_str());
    return InternalError("cannot rename " + from.string() + " to " + to.string() + ": " + err);
  }
  return OkStatus();
}

StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return NotFoundError(path.string() + ": no such file");
    return InternalError(path.string() + ": cannot open");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InternalError(path.string() + ": read error");
  return ss.str();
}

pid_t TempFileOwner(std::string_view filename) {
  if (filename.size() < 2 || filename[0] != '.') return 0;
  const size_t at = filename.find(".tmp-");
  if (at == std::string_view::npos) return 0;
  pid_t pid = 0;
  for (size_t i = at + 5; i < filename.size() && std::isdigit(static_cast<unsigned char>(filename[i]));
       ++i) {
    if (pid > 400000000) return 0;
    pid = pid * 10 + (filename[i] - '0');
  }
  return pid;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

int RemoveStaleTempFiles(const fs::path& dir, bool recursive) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!recursive) it.disable_recursion_pending();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) {
      it.disable_recursion_pending();
      const pid_t owner = TempFileOwner(name);
      if (owner != ::getpid() && !ProcessAlive(owner)) stale.push_back(it->path());
    }
  }
  int removed = 0;
  for (const fs::path& p : stale) {
    std::error_code rm_ec;
    fs::remove_all(p, rm_ec);
    if (!rm_ec) ++removed;
  }
  return removed;
}

}  // namespace riskpipe
