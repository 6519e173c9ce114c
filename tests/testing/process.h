#pragma once
// Process helpers for tests of code that asks whether a process is alive.

#include <sys/types.h>

namespace riskpipe::testing {

// The pid of a child that has just exited and been reaped: a pid no running process has
// (until the kernel reuses it, which takes a full turn of the pid space).
pid_t DeadPid();

}  // namespace riskpipe::testing
