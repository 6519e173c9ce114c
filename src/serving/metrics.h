#pragma once
// Prometheus metrics of the server: request counts by route and status and latency
// histograms by route, kept in one cache-line-aligned shard per event loop (no contention on
// the hot path) and summed when /metrics is scraped, plus reload and connection counters.
// Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serving/http_server.h"

namespace riskpipe::serving {

enum class Route {
  kFeatures,
  kPredict,
  kChallenge,  // POST /, the source challenge's request shape
  kHealthz,
  kReadyz,
  kMetrics,
  kAdminReload,
  kAdminRollback,
  kAdminRouting,
  kOther,  // unknown paths and requests the server rejected before routing
};
inline constexpr size_t kRouteCount = 10;
std::string_view RouteName(Route route);

class Metrics {
 public:
  explicit Metrics(int workers);
  // Counts one answered request; `worker` selects the shard.
  void Record(int worker, Route route, int status, uint64_t latency_ns);
  void CountPrediction(int worker, bool challenger, bool shadow);
  // A reload attempt of "model", "challenger" or "snapshot" that succeeded or failed.
  void CountReload(std::string_view what, bool ok);
  // A connection event of the HTTP layer, and the connection cap in force.
  void CountConnection(ConnectionEvent event);
  void SetMaxConnections(int max_connections);
  // The request and reload metrics as Prometheus text exposition lines.
  std::string Text() const;

  // Latency histogram bucket upper bounds in seconds: 50 µs to 1 s, covering the targets
  // (p99 0.5 ms and 2 ms) with resolution on both sides.
  static constexpr std::array<double, 14> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                      0.002,   0.005,  0.01,    0.025,  0.05,
                                                      0.1,     0.25,   0.5,     1.0};

 private:
  // Status codes we answer; anything else is counted as "other".
  static constexpr std::array<int, 13> kStatuses = {200, 400, 401, 403, 404, 405, 409,
                                                    413, 415, 431, 500, 503, 0};
  struct alignas(64) Shard {
    std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>, kRouteCount> count{};
    std::array<std::array<std::atomic<uint64_t>, kBuckets.size() + 1>, kRouteCount> bucket{};
    std::array<std::atomic<uint64_t>, kRouteCount> latency_ns_sum{};
    std::array<std::atomic<uint64_t>, 3> predictions{};  // champion, challenger, shadow
  };
  std::vector<std::unique_ptr<Shard>> shards_;
  // model, challenger, snapshot x ok, failed
  std::array<std::array<std::atomic<uint64_t>, 2>, 3> reloads_{};
  // By ConnectionEvent (kOpened .. kAcceptFailed, the last).
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ConnectionEvent::kAcceptFailed) + 1>
      connections_{};
  std::atomic<int> max_connections_{0};
};

}  // namespace riskpipe::serving
