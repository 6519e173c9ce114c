#pragma once
// `riskpipe serve` as a library: loads the production model (and challenger) from the
// registry and the online snapshot, serves the HTTP API (service.h) on one event loop per
// core, polls for new promotions and snapshots (hot reload), and drains gracefully on Stop or
// SIGTERM. docs/api.md describes the endpoints. Thread-safety: Stop() from any thread.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/status.h"

namespace riskpipe::serving {

struct ServeOverrides {
  std::optional<std::string> host;  // else serving.host
  std::optional<int> port;          // else serving.port (0: any free port)
  std::optional<int> threads;       // else serving.threads
  // Receives operational messages (loads, failures, shutdown). Null: stderr with a time.
  std::function<void(const std::string&)> log;
};

class Server {
 public:
  // Starts serving `project`. The server starts even with nothing to serve yet (readyz then
  // answers 503 until a production model and a snapshot appear). FailedPrecondition without a
  // model section; InvalidArgument for a bad host; Unavailable when the port is taken;
  // Internal when a log folder cannot be created.
  static StatusOr<std::unique_ptr<Server>> Start(const config::Project& project,
                                                 const ServeOverrides& overrides = {});
  ~Server();  // Stop(), then Wait()

  int port() const;
  // Graceful stop: no new connections, in-flight requests finish (up to the drain timeout).
  void Stop();
  // Blocks until stopped and drained; flushes the logs.
  void Wait();
  // Runs one reload check now (what POST /admin/reload does).
  void ReloadNow();
  // Pushes buffered prediction and access log lines to their files.
  void FlushLogs();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Serves until SIGTERM or SIGINT, then drains and returns. Blocks those signals in every
// thread it starts. Errors as Server::Start.
Status ServeUntilSignal(const config::Project& project, const ServeOverrides& overrides);

}  // namespace riskpipe::serving
