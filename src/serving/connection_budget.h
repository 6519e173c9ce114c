#pragma once
// The connection cap of the HTTP server, set from the process's descriptor limit so that a
// flood of connections leaves descriptors free for the files the rest of the server opens
// (docs/api.md "Connection limit"). Thread-safe: a pure function of the process state.

#include <cstdint>

#include "core/status.h"

namespace riskpipe::serving {

// Connections answered 503 at once beyond the cap; each holds its descriptor while its answer
// lingers (at most half a second), and a connection past them is closed unanswered.
inline constexpr int kRefusalSlots = 8;

// How the cap was set: max_connections = fd_limit - fds_open - fd_reserve - kRefusalSlots, or
// the configured value when smaller.
struct ConnectionBudget {
  int max_connections = 0;
  int64_t fd_limit = 0;  // RLIMIT_NOFILE's soft limit (ulimit -n)
  int64_t fds_open = 0;  // descriptors open when the budget was made
  int fd_reserve = 0;    // kept free for files
};

// The budget of this process now, for a configured `max_connections` (0 = as many as the
// limit allows) and `fd_reserve` descriptors kept for files. FailedPrecondition, naming the
// numbers, when the limit leaves no room for one connection; Internal when the limit or the
// open descriptors (/proc/self/fd) cannot be read.
StatusOr<ConnectionBudget> MakeConnectionBudget(int max_connections, int fd_reserve);

}  // namespace riskpipe::serving
