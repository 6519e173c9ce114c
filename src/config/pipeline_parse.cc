// Parsing of the `pipeline:` section (config/pipeline.h).

#include <yaml-cpp/yaml.h>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {
namespace {

Status ReadMonth(YamlMap& m, const std::string& key, std::optional<Month>& out) {
  std::string text;
  RETURN_IF_ERROR(m.ReadString(key, text, false));
  if (text.empty()) return OkStatus();
  auto month = Month::Parse(text);
  if (!month.ok()) {
    const YAML::Node at = m.Get(key);
    return m.Error(key, "expected a month YYYY-MM, got \"" + text + "\"", &at);
  }
  out = *month;
  return OkStatus();
}

}  // namespace

Status ParsePipeline(const YAML::Node& node, const std::string& origin, PipelineDef& out) {
  YamlMap m(node, origin, "pipeline");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  RETURN_IF_ERROR(ReadMonth(m, "from", out.from));
  RETURN_IF_ERROR(ReadMonth(m, "to", out.to));
  if (out.from && out.to && *out.to < *out.from) return m.Error("to", "is before `from`");
  if (const YAML::Node t = m.Get("training"); t.IsDefined() && !t.IsNull()) {
    YamlMap tm(t, origin, m.ChildPath("training"));
    RETURN_IF_ERROR(tm.CheckIsMap());
    RETURN_IF_ERROR(ReadMonth(tm, "initial", out.training.initial));
    int64_t every = out.training.every_months, gap = out.training.min_months_between;
    RETURN_IF_ERROR(tm.ReadInt("every_months", every, 0));
    RETURN_IF_ERROR(tm.ReadInt("min_months_between", gap, 1));
    if (every > 120) return tm.Error("every_months", "at most 120");
    if (gap > 120) return tm.Error("min_months_between", "at most 120");
    out.training.every_months = static_cast<int>(every);
    out.training.min_months_between = static_cast<int>(gap);
    RETURN_IF_ERROR(tm.ReadBool("on_trigger", out.training.on_trigger));
    RETURN_IF_ERROR(tm.CheckNoUnknownKeys());
  }
  if (const YAML::Node a = m.Get("auto_approve"); a.IsDefined() && !a.IsNull()) {
    YamlMap am(a, origin, m.ChildPath("auto_approve"));
    RETURN_IF_ERROR(am.CheckIsMap());
    RETURN_IF_ERROR(am.ReadString("by", out.auto_approve.by, true));
    RETURN_IF_ERROR(am.ReadString("reason", out.auto_approve.reason, true));
    if (out.auto_approve.by.empty()) return am.Error("by", "must name who approves");
    if (out.auto_approve.reason.empty()) return am.Error("reason", "must say why");
    out.auto_approve.enabled = true;
    RETURN_IF_ERROR(am.CheckNoUnknownKeys());
  }
  int64_t retries = out.retries;
  RETURN_IF_ERROR(m.ReadInt("retries", retries, 0));
  if (retries > 10) return m.Error("retries", "at most 10");
  out.retries = static_cast<int>(retries);
  std::optional<double> backoff;
  RETURN_IF_ERROR(m.ReadDouble("backoff_seconds", backoff));
  if (backoff) {
    if (*backoff < 0 || *backoff > 60) return m.Error("backoff_seconds", "expected 0..60");
    out.backoff_seconds = *backoff;
  }
  std::string gate;
  RETURN_IF_ERROR(m.ReadString("quality_gate", gate, false));
  if (gate == "warn") {
    out.quality_gate = QualityGate::kWarn;
  } else if (!gate.empty() && gate != "stop") {
    return m.Error("quality_gate", "expected stop or warn, got \"" + gate + "\"");
  }
  RETURN_IF_ERROR(m.ReadBool("shadow_challenger", out.shadow_challenger));
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
