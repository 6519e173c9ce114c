// Parsing of the `governance:` section (config/governance.h). Strict: unknown keys are errors
// naming the key and its line; absent keys keep their documented defaults.

#include <yaml-cpp/yaml.h>

#include <set>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {
namespace {

// The checks a retrain rule may name (docs/monitoring.md, "Alerts").
const std::set<std::string>& KnownChecks() {
  static const std::set<std::string> checks = {
      "score_psi",     "csi",      "score_js",        "score_ks",   "null_rate",
      "approval_rate", "auc_drop", "calibration_gap", "dq_failures"};
  return checks;
}

// `key: {warn: x, act: y}`; `higher_is_worse` false checks act <= warn instead.
Status ReadThreshold(YamlMap& parent, const std::string& key, Threshold& out,
                     bool higher_is_worse = true) {
  const YAML::Node node = parent.Get(key);
  if (!node.IsDefined() || node.IsNull()) return OkStatus();
  YamlMap m(node, parent.origin(), parent.ChildPath(key));
  RETURN_IF_ERROR(m.CheckIsMap());
  std::optional<double> warn, act;
  RETURN_IF_ERROR(m.ReadDouble("warn", warn));
  RETURN_IF_ERROR(m.ReadDouble("act", act));
  if (warn) out.warn = *warn;
  if (act) out.act = *act;
  if (!(out.warn >= 0) || !(out.act >= 0)) return m.Error("warn", "thresholds must be >= 0");
  if (higher_is_worse ? out.act < out.warn : out.act > out.warn) {
    return m.Error("act", higher_is_worse ? "must be >= warn" : "must be <= warn");
  }
  return m.CheckNoUnknownKeys();
}

Status ReadFraction(YamlMap& m, const std::string& key, double& out, double max = 1.0) {
  std::optional<double> v;
  RETURN_IF_ERROR(m.ReadDouble(key, v));
  if (!v) return OkStatus();
  if (!(*v >= 0 && *v <= max)) {
    return m.Error(key, "must be within 0.." + std::to_string(max).substr(0, 4));
  }
  out = *v;
  return OkStatus();
}

Status ReadSmallInt(YamlMap& m, const std::string& key, int& out, int64_t minimum) {
  int64_t v = out;
  RETURN_IF_ERROR(m.ReadInt(key, v, minimum));
  if (v > 1200) return m.Error(key, "at most 1200 months");
  out = static_cast<int>(v);
  return OkStatus();
}

Status ParseRetrain(const YAML::Node& node, const std::string& origin, RetrainRule& out) {
  YamlMap m(node, origin, "governance.retrain");
  RETURN_IF_ERROR(m.CheckIsMap());
  if (m.Has("on")) {
    out.on.clear();
    RETURN_IF_ERROR(m.ReadStringList("on", out.on));
    for (const std::string& check : out.on) {
      if (!KnownChecks().count(check)) {
        return m.Error("on", "\"" + check + "\" is not a monitoring check (docs/monitoring.md)");
      }
    }
  }
  RETURN_IF_ERROR(ReadSmallInt(m, "consecutive_warn_months", out.consecutive_warn_months, 0));
  RETURN_IF_ERROR(ReadSmallInt(m, "max_age_months", out.max_age_months, 0));
  RETURN_IF_ERROR(ReadSmallInt(m, "lookback_months", out.lookback_months, 1));
  return m.CheckNoUnknownKeys();
}

}  // namespace

Status ParseGovernance(const YAML::Node& node, const std::string& origin, GovernanceDef& out) {
  YamlMap m(node, origin, "governance");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  RETURN_IF_ERROR(ReadThreshold(m, "score_psi", out.score_psi));
  RETURN_IF_ERROR(ReadThreshold(m, "csi", out.csi));
  RETURN_IF_ERROR(ReadThreshold(m, "score_js", out.score_js));
  RETURN_IF_ERROR(ReadThreshold(m, "null_rate", out.null_rate));
  RETURN_IF_ERROR(ReadThreshold(m, "approval_rate", out.approval_rate));
  RETURN_IF_ERROR(ReadThreshold(m, "auc_drop", out.auc_drop));
  RETURN_IF_ERROR(ReadThreshold(m, "calibration_gap", out.calibration_gap));
  RETURN_IF_ERROR(ReadThreshold(m, "dq_failures", out.dq_failures));
  RETURN_IF_ERROR(ReadFraction(m, "ks_pvalue", out.ks_pvalue));
  RETURN_IF_ERROR(ReadFraction(m, "ks_statistic", out.ks_statistic));
  if (const YAML::Node r = m.Get("retrain"); r.IsDefined() && !r.IsNull()) {
    RETURN_IF_ERROR(ParseRetrain(r, origin, out.retrain));
  }
  RETURN_IF_ERROR(ReadSmallInt(m, "unseen_months", out.unseen_months, 0));
  std::optional<double> confidence;
  RETURN_IF_ERROR(m.ReadDouble("compare_confidence", confidence));
  if (confidence) {
    if (!(*confidence > 0 && *confidence < 1)) {
      return m.Error("compare_confidence", "must be within (0, 1), e.g. 0.95");
    }
    out.compare_confidence = *confidence;
  }
  RETURN_IF_ERROR(ReadFraction(m, "min_auc_gain", out.min_auc_gain));
  RETURN_IF_ERROR(ReadFraction(m, "max_loss_increase", out.max_loss_increase));
  RETURN_IF_ERROR(ReadFraction(m, "lgd", out.lgd));
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
