#pragma once
// The HTTP API of `riskpipe serve` (docs/api.md): routes a parsed request to the feature,
// prediction, challenge, health, metrics and admin handlers, routes predictions between the
// champion and a challenger, writes the prediction and access logs and records metrics.
// Thread-safe: Handle is called from every event loop at once; each loop caches the current
// ServingState and refreshes it when the ModelStore's generation moves.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/serving.h"
#include "model/reasons.h"
#include "serving/http_server.h"
#include "serving/jsonl_log.h"
#include "serving/metrics.h"
#include "serving/model_store.h"

namespace riskpipe::serving {

struct ServiceOptions {
  int workers = 1;        // event loops (one state cache and metrics shard each)
  std::string admin_key;  // empty: admin endpoints answer 403
  std::string admin_key_env = "RISKPIPE_ADMIN_KEY";  // named in the 403 message
  config::ChallengerDef challenger;
  model::ReasonTable reasons;
};

// True when `customer_id` belongs to the canary share `percent` (0..100): a stable hash of
// the id, so a customer always gets the same arm, independent of process and platform.
bool InCanary(std::string_view customer_id, double percent);

class Service {
 public:
  // `predictions` and `access` may be null (no log). Every pointer must outlive the Service.
  Service(ServiceOptions options, ModelStore* store, Metrics* metrics, JsonlLog* predictions,
          JsonlLog* access);
  ~Service();

  void Handle(const HttpRequest& request, HttpResponse& response);
  // Metrics and access log of a request the HTTP layer answered itself.
  void OnReject(int status, int worker, std::string_view request_id);

  struct Call;  // one request in flight (service.cc)

 private:
  const ServingState& StateFor(int worker);
  Route Dispatch(Call& call);
  void Features(Call& call, std::string_view customer_id);
  void Predict(Call& call, bool challenge_shape);
  void Healthz(Call& call);
  void Readyz(Call& call);
  void MetricsText(Call& call);
  void AdminReload(Call& call);
  void AdminRollback(Call& call);
  void AdminRouting(Call& call);
  // Answers 401/403 and returns false unless the request carries the admin key.
  bool Authorized(Call& call);
  void AccessLog(int worker, std::string_view request_id, std::string_view method, Route route,
                 int status, uint64_t latency_ns, size_t bytes);

  ServiceOptions options_;
  ModelStore* store_;
  Metrics* metrics_;
  JsonlLog* predictions_;
  JsonlLog* access_;
  struct Slot;
  std::vector<std::unique_ptr<Slot>> slots_;  // one per worker
};

}  // namespace riskpipe::serving
