#include "serving/connection_budget.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace riskpipe::serving {
namespace {

// The descriptor limit taken for "no limit": Linux's default most per process (fs.nr_open).
constexpr int64_t kNoLimit = 1 << 20;

// Descriptors open in this process (the listing's own included: one too many at most).
StatusOr<int64_t> CountOpenDescriptors() {
  std::error_code ec;
  int64_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  if (ec) {
    return InternalError("serve: cannot count the open descriptors in /proc/self/fd: " +
                         ec.message());
  }
  return n;
}

}  // namespace

StatusOr<ConnectionBudget> MakeConnectionBudget(int max_connections, int fd_reserve) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return InternalError(std::string("serve: getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  ConnectionBudget b;
  b.fd_limit = limit.rlim_cur == RLIM_INFINITY
                   ? kNoLimit
                   : static_cast<int64_t>(std::min<rlim_t>(limit.rlim_cur, kNoLimit));
  ASSIGN_OR_RETURN(b.fds_open, CountOpenDescriptors());
  b.fd_reserve = fd_reserve;
  const int64_t room = b.fd_limit - b.fds_open - b.fd_reserve - kRefusalSlots;
  if (room < 1) {
    return FailedPreconditionError(
        "serve: the descriptor limit (RLIMIT_NOFILE, ulimit -n) of " + std::to_string(b.fd_limit) +
        " leaves no room for a connection: " + std::to_string(b.fds_open) + " are open, " +
        std::to_string(b.fd_reserve) + " are kept for files and " + std::to_string(kRefusalSlots) +
        " for refusals; raise the limit");
  }
  b.max_connections =
      static_cast<int>(max_connections > 0 ? std::min<int64_t>(max_connections, room) : room);
  return b;
}

}  // namespace riskpipe::serving
