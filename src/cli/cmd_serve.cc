#include <cstdio>

#include "cli/commands.h"
#include "serving/server.h"

namespace riskpipe::cli {

void RegisterServe(CLI::App& app, ServeFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve the online feature API and the prediction API of the production model over\n"
      "HTTP (docs/api.md): GET /v1/features/{id}, POST /v1/predict, POST /, /healthz,\n"
      "/readyz, /metrics and the admin endpoints. Picks up promotions, rollbacks and new\n"
      "online snapshots without a restart; drains and exits on SIGTERM or Ctrl-C.");
  cmd->add_option("--host", flags.host, "Address to listen on (default: serving.host, 127.0.0.1)");
  cmd->add_option("-p,--port", flags.port, "Port (default: serving.port, 8080; 0 = any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--threads", flags.threads,
                  "Event loops (default: serving.threads, one per core)")
      ->check(CLI::Range(1, 256));
}

int RunServe(const GlobalFlags& global, const ServeFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  serving::ServeOverrides overrides;
  if (!flags.host.empty()) overrides.host = flags.host;
  if (flags.port >= 0) overrides.port = flags.port;
  if (flags.threads > 0) overrides.threads = flags.threads;
  const Status status = serving::ServeUntilSignal(*project, overrides);
  if (!status.ok()) {
    return ReportFailure(status, status.code() == StatusCode::kInvalidArgument ||
                                         status.code() == StatusCode::kFailedPrecondition
                                     ? kExitUsage
                                     : kExitFailed);
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
