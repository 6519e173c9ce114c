// Parsing of the `serving:` section (config/serving.h).

#include <yaml-cpp/yaml.h>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {
namespace {

// The most descriptors a Linux process may have unless fs.nr_open is raised (2^20): a larger
// connection cap could never be reached.
constexpr int64_t kMaxConnections = 1 << 20;

Status ParseChallenger(const YAML::Node& node, const std::string& origin, ChallengerDef& out) {
  YamlMap m(node, origin, "serving.challenger");
  RETURN_IF_ERROR(m.CheckIsMap());
  RETURN_IF_ERROR(m.ReadString("model", out.model, true));
  std::string mode = "canary";
  RETURN_IF_ERROR(m.ReadString("mode", mode, false));
  if (mode == "canary") {
    out.mode = ChallengerMode::kCanary;
  } else if (mode == "shadow") {
    out.mode = ChallengerMode::kShadow;
  } else {
    return m.Error("mode", "\"" + mode + "\" is not canary or shadow");
  }
  std::optional<double> percent;
  RETURN_IF_ERROR(m.ReadDouble("percent", percent));
  if (percent) {
    if (!(*percent >= 0 && *percent <= 100)) return m.Error("percent", "must be within 0..100");
    if (out.mode == ChallengerMode::kShadow) {
      return m.Error("percent", "applies to canary mode only (shadow scores every request)");
    }
    out.percent = *percent;
  } else if (out.mode == ChallengerMode::kCanary) {
    return m.Missing("percent");
  }
  return m.CheckNoUnknownKeys();
}

Status ParseLog(const YAML::Node& node, const std::string& origin, ServingDef& out) {
  YamlMap m(node, origin, "serving.prediction_log");
  RETURN_IF_ERROR(m.CheckIsMap());
  RETURN_IF_ERROR(m.ReadString("dir", out.prediction_log_dir, false));
  RETURN_IF_ERROR(m.ReadInt("rotate_bytes", out.prediction_log_rotate_bytes, 4096));
  RETURN_IF_ERROR(m.ReadInt("keep", out.prediction_log_keep, 1));
  return m.CheckNoUnknownKeys();
}

}  // namespace

Status ParseServing(const YAML::Node& node, const std::string& origin, ServingDef& out) {
  YamlMap m(node, origin, "serving");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  RETURN_IF_ERROR(m.ReadString("host", out.host, false));
  if (out.host.empty()) return m.Error("host", "must not be empty");
  int64_t port = out.port, threads = out.threads;
  RETURN_IF_ERROR(m.ReadInt("port", port, 0));
  if (port > 65535) return m.Error("port", "must be within 0..65535");
  out.port = static_cast<int>(port);
  RETURN_IF_ERROR(m.ReadInt("threads", threads, 0));
  if (threads > 256) return m.Error("threads", "at most 256 event loops");
  out.threads = static_cast<int>(threads);
  RETURN_IF_ERROR(m.ReadInt("body_limit_bytes", out.body_limit_bytes, 256));
  RETURN_IF_ERROR(m.ReadInt("header_limit_bytes", out.header_limit_bytes, 1024));
  RETURN_IF_ERROR(m.ReadInt("request_timeout_ms", out.request_timeout_ms, 1));
  RETURN_IF_ERROR(m.ReadInt("idle_timeout_ms", out.idle_timeout_ms, 1));
  RETURN_IF_ERROR(m.ReadInt("drain_timeout_ms", out.drain_timeout_ms, 0));
  RETURN_IF_ERROR(m.ReadInt("max_connections", out.max_connections, 0));
  if (out.max_connections > kMaxConnections) {
    return m.Error("max_connections", "at most " + std::to_string(kMaxConnections));
  }
  RETURN_IF_ERROR(m.ReadInt("reload_poll_ms", out.reload_poll_ms, 50));
  RETURN_IF_ERROR(m.ReadString("admin_key_env", out.admin_key_env, false));
  RETURN_IF_ERROR(m.ReadString("access_log_dir", out.access_log_dir, false));
  if (const YAML::Node c = m.Get("challenger"); c.IsDefined() && !c.IsNull()) {
    RETURN_IF_ERROR(ParseChallenger(c, origin, out.challenger));
  }
  if (const YAML::Node l = m.Get("prediction_log"); l.IsDefined() && !l.IsNull()) {
    RETURN_IF_ERROR(ParseLog(l, origin, out));
  }
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
