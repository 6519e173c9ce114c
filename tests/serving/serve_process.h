#pragma once
// `riskpipe serve` as a child process for the end-to-end serving tests: started in a project
// folder with `--port 0`, so the kernel picks a free loopback port, which is read back from the
// server's "listening on" line. One object per process; not thread-safe.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace riskpipe::testing {

class ServeProcess {
 public:
  struct Options {
    // Arguments after `serve --port 0`.
    std::vector<std::string> args = {"--threads", "2"};
    // Variables set in the child's environment on top of the test's own (e.g. an admin key).
    std::vector<std::pair<std::string, std::string>> env;
    // How long to wait for the "listening on" line before giving up.
    int start_timeout_ms = 15'000;
  };

  // Starts the riskpipe binary under test (testing::RiskpipeBinary) in `folder` with stdout
  // and stderr going to `log`, and waits for it to listen. port() is 0 when it did not (the
  // log says why).
  ServeProcess(const std::filesystem::path& folder, const std::filesystem::path& log,
               const Options& options);
  ServeProcess(const std::filesystem::path& folder, const std::filesystem::path& log)
      : ServeProcess(folder, log, Options()) {}
  // Kills the process (SIGKILL) if it is still running.
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  // The server's output so far.
  std::string Log() const;
  // Sends SIGTERM and waits for the exit. Returns the wait status (see waitpid), or -1 when
  // there was no process to wait for.
  int Terminate();

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace riskpipe::testing
