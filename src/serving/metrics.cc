#include "serving/metrics.h"

#include <algorithm>
#include <cstdio>

namespace riskpipe::serving {

namespace {

constexpr std::array<std::string_view, kRouteCount> kRouteNames = {
    "features", "predict",      "challenge",      "healthz",       "readyz",
    "metrics",  "admin_reload", "admin_rollback", "admin_routing", "other"};
constexpr std::array<std::string_view, 3> kReloadWhat = {"model", "challenger", "snapshot"};

void Add(std::atomic<uint64_t>& a, uint64_t v) { a.fetch_add(v, std::memory_order_relaxed); }
uint64_t Get(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

}  // namespace

std::string_view RouteName(Route route) { return kRouteNames[static_cast<size_t>(route)]; }

Metrics::Metrics(int workers) {
  for (int i = 0; i < std::max(workers, 1); ++i) shards_.push_back(std::make_unique<Shard>());
}

void Metrics::Record(int worker, Route route, int status, uint64_t latency_ns) {
  Shard& s = *shards_[static_cast<size_t>(worker) % shards_.size()];
  const size_t r = static_cast<size_t>(route);
  size_t k = 0;
  while (k + 1 < kStatuses.size() && kStatuses[k] != status) ++k;
  Add(s.count[r][k], 1);
  const double seconds = static_cast<double>(latency_ns) * 1e-9;
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  Add(s.bucket[r][b], 1);
  Add(s.latency_ns_sum[r], latency_ns);
}

void Metrics::CountPrediction(int worker, bool challenger, bool shadow) {
  Shard& s = *shards_[static_cast<size_t>(worker) % shards_.size()];
  if (challenger) Add(s.predictions[1], 1);
  if (!challenger) Add(s.predictions[0], 1);
  if (shadow) Add(s.predictions[2], 1);
}

void Metrics::CountReload(std::string_view what, bool ok) {
  for (size_t i = 0; i < kReloadWhat.size(); ++i) {
    if (kReloadWhat[i] == what) Add(reloads_[i][ok ? 0 : 1], 1);
  }
}

void Metrics::CountConnection(ConnectionEvent event) {
  const auto i = static_cast<size_t>(event);
  if (i < connections_.size()) Add(connections_[i], 1);
}

void Metrics::SetMaxConnections(int max_connections) {
  max_connections_.store(max_connections, std::memory_order_relaxed);
}

std::string Metrics::Text() const {
  std::string out;
  char line[256];
  out += "# HELP riskpipe_http_requests_total Requests answered, by route and status.\n";
  out += "# TYPE riskpipe_http_requests_total counter\n";
  for (size_t r = 0; r < kRouteCount; ++r) {
    for (size_t k = 0; k < kStatuses.size(); ++k) {
      uint64_t n = 0;
      for (const auto& s : shards_) n += Get(s->count[r][k]);
      if (n == 0) continue;
      const std::string status = kStatuses[k] ? std::to_string(kStatuses[k]) : "other";
      std::snprintf(line, sizeof line,
                    "riskpipe_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                    kRouteNames[r].data(), status.c_str(), static_cast<unsigned long long>(n));
      out += line;
    }
  }
  out +=
      "# HELP riskpipe_http_request_duration_seconds Time from a parsed request to its "
      "response, by route.\n";
  out += "# TYPE riskpipe_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < kRouteCount; ++r) {
    uint64_t total = 0, sum_ns = 0;
    std::array<uint64_t, kBuckets.size() + 1> buckets{};
    for (const auto& s : shards_) {
      for (size_t b = 0; b <= kBuckets.size(); ++b) buckets[b] += Get(s->bucket[r][b]);
      sum_ns += Get(s->latency_ns_sum[r]);
    }
    for (uint64_t b : buckets) total += b;
    if (total == 0) continue;
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += buckets[b];
      const std::string le = b < kBuckets.size() ? std::to_string(kBuckets[b]) : "+Inf";
      std::snprintf(line, sizeof line,
                    "riskpipe_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
                    kRouteNames[r].data(), le.c_str(), static_cast<unsigned long long>(cumulative));
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "riskpipe_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
                  "riskpipe_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                  kRouteNames[r].data(), static_cast<double>(sum_ns) * 1e-9, kRouteNames[r].data(),
                  static_cast<unsigned long long>(total));
    out += line;
  }
  out +=
      "# HELP riskpipe_predictions_total Predictions by arm (shadow: also scored by the "
      "challenger, not returned).\n# TYPE riskpipe_predictions_total counter\n";
  constexpr std::array<std::string_view, 3> kArms = {"champion", "challenger", "shadow"};
  for (size_t a = 0; a < kArms.size(); ++a) {
    uint64_t n = 0;
    for (const auto& s : shards_) n += Get(s->predictions[a]);
    std::snprintf(line, sizeof line, "riskpipe_predictions_total{arm=\"%s\"} %llu\n",
                  kArms[a].data(), static_cast<unsigned long long>(n));
    out += line;
  }
  out +=
      "# HELP riskpipe_reloads_total Hot reload attempts by what was loaded and result.\n"
      "# TYPE riskpipe_reloads_total counter\n";
  for (size_t i = 0; i < kReloadWhat.size(); ++i) {
    for (int ok = 0; ok < 2; ++ok) {
      std::snprintf(line, sizeof line, "riskpipe_reloads_total{what=\"%s\",result=\"%s\"} %llu\n",
                    kReloadWhat[i].data(), ok == 0 ? "ok" : "failed",
                    static_cast<unsigned long long>(Get(reloads_[i][static_cast<size_t>(ok)])));
      out += line;
    }
  }
  const auto count = [&](ConnectionEvent e) {
    return std::to_string(Get(connections_[static_cast<size_t>(e)]));
  };
  const uint64_t opened = Get(connections_[static_cast<size_t>(ConnectionEvent::kOpened)]);
  const uint64_t closed = Get(connections_[static_cast<size_t>(ConnectionEvent::kClosed)]);
  out +=
      "# HELP riskpipe_http_connections Client connections open now.\n"
      "# TYPE riskpipe_http_connections gauge\nriskpipe_http_connections " +
      std::to_string(opened > closed ? opened - closed : 0) +
      "\n# HELP riskpipe_http_max_connections The connection cap in force.\n"
      "# TYPE riskpipe_http_max_connections gauge\nriskpipe_http_max_connections " +
      std::to_string(max_connections_.load(std::memory_order_relaxed)) +
      "\n# HELP riskpipe_http_connections_rejected_total Connections refused at the cap: "
      "answered 503, or closed unanswered with every refusal slot in use.\n"
      "# TYPE riskpipe_http_connections_rejected_total counter\n"
      "riskpipe_http_connections_rejected_total{how=\"503\"} " +
      count(ConnectionEvent::kRefused) +
      "\nriskpipe_http_connections_rejected_total{how=\"closed\"} " +
      count(ConnectionEvent::kDropped) +
      "\n# HELP riskpipe_http_idle_connections_closed_total Idle connections closed to make "
      "room for a new one at the cap.\n"
      "# TYPE riskpipe_http_idle_connections_closed_total counter\n"
      "riskpipe_http_idle_connections_closed_total " +
      count(ConnectionEvent::kIdleClosed) +
      "\n# HELP riskpipe_http_accept_errors_total Failed accepts (out of descriptors or "
      "memory), each followed by a pause of the accept loop.\n"
      "# TYPE riskpipe_http_accept_errors_total counter\nriskpipe_http_accept_errors_total " +
      count(ConnectionEvent::kAcceptFailed) + "\n";
  return out;
}

}  // namespace riskpipe::serving
