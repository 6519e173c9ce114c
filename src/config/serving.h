#pragma once
// The `serving:` section of riskpipe.yaml: `riskpipe serve`'s listen address, limits and
// timeouts, the admin key's environment variable, champion/challenger routing, hot reload and
// the prediction log (docs/api.md). Every field has a default, so no section at all serves
// the production model on 127.0.0.1:8080.
//
//   serving:
//     host: 127.0.0.1
//     port: 8080
//     admin_key_env: RISKPIPE_ADMIN_KEY   # the key itself never goes in this file
//     challenger: {model: kueski_pd/4, mode: canary, percent: 10}
//     prediction_log: {dir: logs/predictions, rotate_bytes: 67108864}

#include <cstdint>
#include <string>

namespace riskpipe::config {

enum class ChallengerMode { kCanary, kShadow };

struct ChallengerDef {
  // Registry reference of the challenger ("kueski_pd/4", "kueski_pd/latest"); empty = none.
  std::string model;
  // kCanary: `percent` of customers (by a stable hash of customer_id) get the challenger's
  // answer. kShadow: every request is also scored by the challenger, logged, never returned.
  ChallengerMode mode = ChallengerMode::kCanary;
  double percent = 0;  // 0..100, canary only
};

struct ServingDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file

  std::string host = "127.0.0.1";  // loopback unless the operator opens it up
  int port = 8080;
  int threads = 0;  // event loops (one per core); 0 = the number of cores
  // Request limits: a larger body gets 413, larger headers 431 (8 KiB: what common proxies
  // allow; a predict body with inline features is a few hundred bytes).
  int64_t body_limit_bytes = 64 * 1024;
  int64_t header_limit_bytes = 8 * 1024;
  // Whole-request deadline from its first byte to its last (slow senders are cut off), and
  // how long a keep-alive connection may sit idle between requests.
  int64_t request_timeout_ms = 10'000;
  int64_t idle_timeout_ms = 30'000;
  // How long SIGTERM waits for in-flight requests before closing what is left.
  int64_t drain_timeout_ms = 10'000;
  // Client connections held open at once. 0 = derived from the descriptor limit (RLIMIT_NOFILE)
  // so that descriptors stay free for the files a reload opens; a larger value is lowered to
  // that (docs/api.md "Connection limit").
  int64_t max_connections = 0;
  // The environment variable holding the admin API key; unset or empty disables admin.
  std::string admin_key_env = "RISKPIPE_ADMIN_KEY";
  ChallengerDef challenger;
  // How often the registry's production version and the online CURRENT are polled.
  int64_t reload_poll_ms = 2'000;
  // JSON-lines prediction log (relative to the workspace), rotated at rotate_bytes; `keep`
  // rotated files are kept besides the active one. Empty dir: no prediction log.
  std::string prediction_log_dir = "logs/predictions";
  int64_t prediction_log_rotate_bytes = 64 * 1024 * 1024;
  int64_t prediction_log_keep = 20;
  // JSON-lines access log (method, route, status, latency; no customer ids), same rotation.
  std::string access_log_dir = "logs/access";
};

}  // namespace riskpipe::config
