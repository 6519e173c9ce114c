#include "testing/process.h"

#include <sys/wait.h>
#include <unistd.h>

namespace riskpipe::testing {

pid_t DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace riskpipe::testing
