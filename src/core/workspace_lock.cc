#include "core/workspace_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>
#include <thread>
#include <utility>

#include "core/files.h"

namespace riskpipe {
namespace fs = std::filesystem;
namespace {

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "riskpipe <command> (pid N, since T)" from the lock file's "pid\ncommand\nsince\n".
std::string Holder(int fd) {
  char buf[512];
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "another riskpipe command";
  const std::string text(buf, static_cast<size_t>(n));
  std::string fields[3];
  size_t start = 0;
  for (std::string& f : fields) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) return "another riskpipe command";
    f = text.substr(start, end - start);
    start = end + 1;
  }
  return "riskpipe " + fields[1] + " (pid " + fields[0] + ", since " + fields[2] + ")";
}

// Empties the scratch folder and removes temporaries whose owner is gone; returns how many.
int CleanUp(const Workspace& workspace) {
  int removed = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(workspace.tmp(), ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (!rm) ++removed;
  }
  return removed + RemoveStaleTempFiles(workspace.root());
}

}  // namespace

StatusOr<WorkspaceLock> WorkspaceLock::Acquire(const Workspace& workspace,
                                               std::string_view command, const Options& options) {
  const std::chrono::milliseconds wait = options.wait;
  RETURN_IF_ERROR(MakeDirs(workspace.root()));
  const fs::path path = workspace.lock_file();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return InternalError("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool announced = false;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      const int err = errno;
      ::close(fd);
      return InternalError("cannot lock " + path.string() + ": " + std::strerror(err));
    }
    const std::string holder = Holder(fd);
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return UnavailableError("workspace " + workspace.string() + " is in use by " + holder +
                              (wait.count() > 0 ? "; waited " +
                                                      std::to_string(wait.count() / 1000) + " s"
                                                : "; pass --wait SECONDS to wait for it"));
    }
    if (!announced && options.on_wait) options.on_wait(holder);
    announced = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string me =
      std::to_string(::getpid()) + "\n" + std::string(command) + "\n" + UtcNow() + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) !=
                                     static_cast<ssize_t>(me.size())) {
    const int err = errno;
    ::close(fd);
    return InternalError("cannot write " + path.string() + ": " + std::strerror(err));
  }
  if (options.before_cleanup) {
    if (Status s = options.before_cleanup(); !s.ok()) {
      ::close(fd);
      return s;
    }
  }
  return WorkspaceLock(fd, CleanUp(workspace));
}

WorkspaceLock::WorkspaceLock(WorkspaceLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), removed_(other.removed_) {}

WorkspaceLock& WorkspaceLock::operator=(WorkspaceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    removed_ = other.removed_;
  }
  return *this;
}

WorkspaceLock::~WorkspaceLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

}  // namespace riskpipe
