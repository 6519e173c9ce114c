// Routing, the feature and prediction endpoints, and the prediction log. Health, metrics and
// admin handlers are in admin.cc.

#include "serving/service.h"

#include <chrono>
#include <cmath>

#include "core/json.h"
#include "serving/json_writer.h"
#include "serving/scorer.h"
#include "serving/service_internal.h"

namespace riskpipe::serving {

using json = nlohmann::json;

bool InCanary(std::string_view customer_id, double percent) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  // FNV-1a 64 over a fixed salt and the id, then a murmur3 finaliser to spread the low bits.
  uint64_t h = 1469598103934665603ULL;
  for (const char c : std::string_view("riskpipe-canary/")) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  for (const char c : customer_id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  // Basis points, so fractional percentages such as 2.5 work.
  return static_cast<double>(h % 10000) < percent * 100.0;
}

Service::Service(ServiceOptions options, ModelStore* store, Metrics* metrics, JsonlLog* predictions,
                 JsonlLog* access)
    : options_(std::move(options)),
      store_(store),
      metrics_(metrics),
      predictions_(predictions),
      access_(access) {
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    slots_.push_back(std::make_unique<Slot>());
}

Service::~Service() = default;

const ServingState& Service::StateFor(int worker) {
  Slot& slot = *slots_[static_cast<size_t>(worker) % slots_.size()];
  const uint64_t generation = store_->generation();
  if (!slot.state || slot.generation != generation) {
    slot.state = store_->state();
    slot.generation = generation;
  }
  return *slot.state;
}

void Service::Handle(const HttpRequest& request, HttpResponse& response) {
  const auto start = std::chrono::steady_clock::now();
  // The worker's slot keeps this state alive until the worker's next request, so the request
  // needs no reference count of its own (which would bounce a cache line between cores).
  Call call{request, response, &StateFor(request.worker)};
  const Route route = Dispatch(call);
  const auto ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  metrics_->Record(request.worker, route, response.status, ns);
  AccessLog(request.worker, request.request_id, request.method, route, response.status, ns,
            response.body.size());
}

void Service::OnReject(int status, int worker, std::string_view request_id) {
  metrics_->Record(worker, Route::kOther, status, 0);
  AccessLog(worker, request_id, "", Route::kOther, status, 0, 0);
}

void Service::AccessLog(int worker, std::string_view request_id, std::string_view method,
                        Route route, int status, uint64_t latency_ns, size_t bytes) {
  if (access_ == nullptr) return;
  JsonWriter w;
  w.Reserve(192);
  w.BeginObject();
  w.Field("ts", internal::UtcNowIso());
  w.Field("request_id", request_id);
  w.Field("method", method);
  w.Field("route", RouteName(route));  // the route, never the path: paths carry customer ids
  w.Field("status", static_cast<int64_t>(status));
  w.Field("latency_us", static_cast<double>(latency_ns / 100) / 10.0);
  w.Field("bytes", static_cast<int64_t>(bytes));
  w.Field("worker", static_cast<int64_t>(worker));
  w.EndObject();
  access_->Append(w.str());
}

Route Service::Dispatch(Call& call) {
  std::string_view path = call.request.target;
  if (const size_t q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  const std::string_view method = call.request.method;
  const auto only = [&](std::string_view allowed, Route route) {
    if (method == allowed) return true;
    call.Error(405, "method_not_allowed",
               std::string(path) + " accepts " + std::string(allowed) + " only");
    (void)route;
    return false;
  };
  constexpr std::string_view kFeatures = "/v1/features/";
  if (path.starts_with(kFeatures)) {
    if (!only("GET", Route::kFeatures)) return Route::kFeatures;
    std::string id;
    if (!internal::PercentDecode(path.substr(kFeatures.size()), id) || id.empty() ||
        id.find('/') != std::string::npos) {
      call.Error(400, "invalid_customer_id", "the path must be /v1/features/{customer_id}");
      return Route::kFeatures;
    }
    Features(call, id);
    return Route::kFeatures;
  }
  struct Entry {
    std::string_view path, method;
    Route route;
    void (Service::*handler)(Call&);
  };
  static const Entry kRoutes[] = {
      {"/healthz", "GET", Route::kHealthz, &Service::Healthz},
      {"/readyz", "GET", Route::kReadyz, &Service::Readyz},
      {"/metrics", "GET", Route::kMetrics, &Service::MetricsText},
      {"/admin/reload", "POST", Route::kAdminReload, &Service::AdminReload},
      {"/admin/rollback", "POST", Route::kAdminRollback, &Service::AdminRollback},
      {"/admin/routing", "GET", Route::kAdminRouting, &Service::AdminRouting},
  };
  if (path == "/v1/predict") {
    if (only("POST", Route::kPredict)) Predict(call, /*challenge_shape=*/false);
    return Route::kPredict;
  }
  if (path == "/") {
    if (only("POST", Route::kChallenge)) Predict(call, /*challenge_shape=*/true);
    return Route::kChallenge;
  }
  for (const Entry& e : kRoutes) {
    if (path != e.path) continue;
    if (only(e.method, e.route)) (this->*e.handler)(call);
    return e.route;
  }
  call.Error(404, "not_found", "no endpoint " + std::string(path) + " (docs/api.md lists them)");
  return Route::kOther;
}

void Service::Features(Call& call, std::string_view customer_id) {
  const ServingState& s = *call.state;
  if (!s.snapshot) {
    call.Error(503, "not_ready", "no online snapshot is loaded (run `riskpipe materialize`)");
    return;
  }
  const features::OnlineSnapshot& snap = *s.snapshot;
  const auto row = snap.Find(customer_id);
  if (!row) {
    call.Error(
        404, "customer_not_found",
        "customer " + std::string(customer_id) + " is not in online snapshot " + snap.version());
    return;
  }
  JsonWriter w;
  w.Reserve(320);
  w.BeginObject();
  w.Field("customer_id", customer_id);
  w.Key("features");
  w.BeginObject();
  for (size_t f = 0; f < snap.features().size(); ++f) {
    w.Key(snap.features()[f].name);
    const features::OnlineValue v = snap.Value(*row, f);
    if (const double* d = std::get_if<double>(&v)) {
      w.Number(*d);
    } else if (const auto* t = std::get_if<std::string_view>(&v)) {
      w.String(*t);
    } else {
      w.Null();
    }
  }
  w.EndObject();
  w.Field("as_of", snap.as_of().ToString());
  w.Field("snapshot_version", snap.version());
  w.Field("request_id", call.request.request_id);
  w.EndObject();
  call.response.body = w.Take();
}

}  // namespace riskpipe::serving
