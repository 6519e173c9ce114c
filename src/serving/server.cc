#include "serving/server.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "serving/http_server.h"
#include "serving/jsonl_log.h"
#include "serving/metrics.h"
#include "serving/model_store.h"
#include "serving/service.h"
#include "serving/service_internal.h"

namespace riskpipe::serving {

namespace fs = std::filesystem;

struct Server::Impl {
  std::function<void(const std::string&)> log;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<ModelStore> store;
  std::unique_ptr<JsonlLog> predictions, access;
  std::unique_ptr<Service> service;
  std::unique_ptr<HttpServer> http;
  std::chrono::milliseconds poll{2000};
  std::thread poller;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool waited = false;

  void Flush() {
    if (predictions) predictions->Flush();
    if (access) access->Flush();
  }

  // Polls the registry and CURRENT, and flushes the logs, until Stop.
  void Poll() {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, poll, [&] { return stopping; })) {
      lock.unlock();
      store->Check();
      Flush();
      lock.lock();
    }
  }
};

namespace {

void DefaultLog(const std::string& message) {
  std::fprintf(stderr, "%s riskpipe serve: %s\n", internal::UtcNowIso().c_str(), message.c_str());
}

StatusOr<std::unique_ptr<JsonlLog>> OpenLog(const Workspace& workspace, const std::string& dir,
                                            const std::string& prefix,
                                            const config::ServingDef& def) {
  if (dir.empty()) return std::unique_ptr<JsonlLog>();
  JsonlLogOptions o;
  o.dir = workspace.Resolve(dir);
  o.prefix = prefix;
  o.rotate_bytes = def.prediction_log_rotate_bytes;
  o.keep = def.prediction_log_keep;
  return JsonlLog::Open(o);
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StatusOr<std::unique_ptr<Server>> Server::Start(const config::Project& project,
                                                const ServeOverrides& overrides) {
  if (!project.model) {
    return FailedPreconditionError(
        "serve: the project has no model section, so there is no model name to serve");
  }
  const config::ServingDef& def = project.serving;
  auto impl = std::make_unique<Impl>();
  impl->log = overrides.log ? overrides.log : DefaultLog;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = overrides.threads.value_or(def.threads > 0 ? def.threads : cores);
  impl->metrics = std::make_unique<Metrics>(threads);
  ModelStoreOptions so;
  so.workspace = project.workspace;
  so.model_name = project.model->name;
  so.challenger_ref = def.challenger.model;
  so.log = impl->log;
  so.metrics = impl->metrics.get();
  impl->store = std::make_unique<ModelStore>(std::move(so));
  const ReloadReport first = impl->store->Check();
  if (!impl->store->state()->ready()) {
    impl->log("not ready yet (no production model of " + project.model->name +
              " or no online snapshot); polling every " + std::to_string(def.reload_poll_ms) +
              " ms");
  }
  ASSIGN_OR_RETURN(impl->predictions,
                   OpenLog(project.workspace, def.prediction_log_dir, "predictions", def));
  ASSIGN_OR_RETURN(impl->access, OpenLog(project.workspace, def.access_log_dir, "access", def));

  ServiceOptions svc;
  svc.workers = threads;
  svc.admin_key_env = def.admin_key_env;
  if (const char* key = std::getenv(def.admin_key_env.c_str())) svc.admin_key = key;
  svc.challenger = def.challenger;
  const config::ReasonCodesDef& rc = project.reason_codes;
  svc.reasons = model::ReasonTable(rc.version, rc.top, rc.texts);
  const bool admin_enabled = !svc.admin_key.empty();
  impl->service = std::make_unique<Service>(std::move(svc), impl->store.get(), impl->metrics.get(),
                                            impl->predictions.get(), impl->access.get());
  HttpServerOptions http;
  http.host = overrides.host.value_or(def.host);
  http.port = overrides.port.value_or(def.port);
  http.threads = threads;
  http.body_limit = static_cast<size_t>(def.body_limit_bytes);
  http.header_limit = static_cast<size_t>(def.header_limit_bytes);
  http.request_timeout = std::chrono::milliseconds(def.request_timeout_ms);
  http.idle_timeout = std::chrono::milliseconds(def.idle_timeout_ms);
  http.drain_timeout = std::chrono::milliseconds(def.drain_timeout_ms);
  // Config validation bounds it by 2^20, so it fits.
  http.max_connections = static_cast<int>(def.max_connections);
  Service* service = impl->service.get();
  Metrics* metrics = impl->metrics.get();
  ASSIGN_OR_RETURN(
      impl->http,
      HttpServer::Start(
          http, [service](const HttpRequest& rq, HttpResponse& rs) { service->Handle(rq, rs); },
          [service](int status, int worker, std::string_view id) {
            service->OnReject(status, worker, id);
          },
          [metrics](ConnectionEvent event) { metrics->CountConnection(event); }));
  const ConnectionBudget& budget = impl->http->budget();
  metrics->SetMaxConnections(budget.max_connections);
  if (def.max_connections > budget.max_connections) {
    impl->log("warning: serving.max_connections " + std::to_string(def.max_connections) +
              " lowered to " + std::to_string(budget.max_connections) +
              ": the descriptor limit (ulimit -n) is " + std::to_string(budget.fd_limit) + ", " +
              std::to_string(budget.fds_open) + " descriptors are open and " +
              std::to_string(budget.fd_reserve + kRefusalSlots) +
              " are kept for files and refusals");
  }
  impl->log(
      "listening on " + http.host + ":" + std::to_string(impl->http->port()) + " with " +
      std::to_string(threads) + " event loops, at most " + std::to_string(budget.max_connections) +
      " connections" +
      (!admin_enabled ? "; admin endpoints disabled ($" + def.admin_key_env + " is not set)" : ""));
  impl->poll = std::chrono::milliseconds(def.reload_poll_ms);
  Impl* p = impl.get();
  impl->poller = std::thread([p] { p->Poll(); });
  (void)first;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->http->port(); }

void Server::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->log("stopping: draining in-flight requests");
  impl_->http->Stop();
}

void Server::Wait() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->waited) return;
    impl_->waited = true;
  }
  impl_->http->Wait();
  if (impl_->poller.joinable()) impl_->poller.join();
  impl_->Flush();
  impl_->log("stopped");
}

void Server::ReloadNow() { impl_->store->Check(); }

void Server::FlushLogs() { impl_->Flush(); }

Server::~Server() {
  Stop();
  Wait();
}

Status ServeUntilSignal(const config::Project& project, const ServeOverrides& overrides) {
  // Block the signals before any thread starts so every thread inherits the mask, and take
  // them synchronously here.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(project, overrides));
  int sig = 0;
  sigwait(&set, &sig);
  server->Stop();
  server->Wait();
  return OkStatus();
}

}  // namespace riskpipe::serving
