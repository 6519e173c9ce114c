// Parsing of the `validation:` section (config/validation.h). Every key is optional; values
// are range-checked so a typo such as `min_auc: 60` fails here, not silently in the gate.

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {
namespace {

// Reads `key` into `out` when present; InvalidArgument unless it lies in [lo, hi].
Status ReadIn(YamlMap& m, const std::string& key, double lo, double hi, double& out) {
  std::optional<double> v;
  RETURN_IF_ERROR(m.ReadDouble(key, v));
  if (!v) return OkStatus();
  if (!(*v >= lo && *v <= hi)) {
    const YAML::Node at = m.Get(key);
    char text[96];
    std::snprintf(text, sizeof text, "expected a number in [%g, %g], got %g", lo, hi, *v);
    return m.Error(key, text, &at);
  }
  out = *v;
  return OkStatus();
}

Status ParseSegment(const YAML::Node& node, const std::string& origin, const std::string& path,
                    SegmentDef& out) {
  YamlMap m(node, origin, path);
  RETURN_IF_ERROR(m.CheckIsMap());
  out.line = LineOf(node);
  RETURN_IF_ERROR(m.ReadString("column", out.column, /*required=*/true));
  RETURN_IF_ERROR(m.ReadStringList("levels", out.levels));
  if (const YAML::Node bands = m.Get("bands"); bands.IsDefined() && !bands.IsNull()) {
    if (!bands.IsSequence() || bands.size() == 0) {
      return m.Error("bands", "expected a non-empty list of increasing numbers", &bands);
    }
    for (const auto& b : bands) {
      double v = 0;
      if (!b.IsScalar() || !YAML::convert<double>::decode(b, v) || !std::isfinite(v)) {
        return m.Error("bands", "\"" + b.Scalar() + "\" is not a number", &b);
      }
      if (!out.bands.empty() && v <= out.bands.back()) {
        return m.Error("bands", "band edges must increase", &b);
      }
      out.bands.push_back(v);
    }
  }
  if (!out.bands.empty() && !out.levels.empty()) {
    return m.Error("bands", "give either bands (numeric column) or levels (text column)");
  }
  return m.CheckNoUnknownKeys();
}

}  // namespace

Status ParseValidation(const YAML::Node& node, const std::string& origin, ValidationDef& out) {
  YamlMap m(node, origin, "validation");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  RETURN_IF_ERROR(ReadIn(m, "min_auc", 0, 1, out.min_auc));
  RETURN_IF_ERROR(ReadIn(m, "min_ks", 0, 1, out.min_ks));
  RETURN_IF_ERROR(ReadIn(m, "max_auc_below_baseline", 0, 1, out.max_auc_below_baseline));
  RETURN_IF_ERROR(ReadIn(m, "max_auc_below_production", 0, 1, out.max_auc_below_production));
  RETURN_IF_ERROR(ReadIn(m, "min_month_auc", 0, 1, out.min_month_auc));
  RETURN_IF_ERROR(m.ReadInt("min_month_rows", out.min_month_rows, 1));
  RETURN_IF_ERROR(ReadIn(m, "min_segment_auc", 0, 1, out.min_segment_auc));
  RETURN_IF_ERROR(ReadIn(m, "max_segment_gap", 0, 1, out.max_segment_gap));
  RETURN_IF_ERROR(m.ReadInt("min_segment_rows", out.min_segment_rows, 1));
  RETURN_IF_ERROR(m.ReadBool("auto_segments", out.auto_segments));
  if (const YAML::Node segs = m.Get("segments"); segs.IsDefined() && !segs.IsNull()) {
    if (!segs.IsSequence()) return m.Error("segments", "expected a list of {column: ...}", &segs);
    for (size_t i = 0; i < segs.size(); ++i) {
      SegmentDef s;
      RETURN_IF_ERROR(
          ParseSegment(segs[i], origin, "validation.segments[" + std::to_string(i) + "]", s));
      out.segments.push_back(std::move(s));
    }
  }
  RETURN_IF_ERROR(m.ReadBool("allow_protected_inputs", out.allow_protected_inputs));
  RETURN_IF_ERROR(ReadIn(m, "invariance_epsilon", 0, 1, out.invariance_epsilon));
  if (const YAML::Node dirs = m.Get("directions"); dirs.IsDefined() && !dirs.IsNull()) {
    if (!dirs.IsMap()) return m.Error("directions", "expected a map of feature: 1 or -1", &dirs);
    YamlMap dm(dirs, origin, "validation.directions");
    for (const auto& kv : dirs) {
      const std::string s = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (s != "1" && s != "-1" && s != "+1") {
        return dm.Error(kv.first.Scalar(), "expected 1 (PD must not fall as it rises) or -1",
                        &kv.second);
      }
      out.directions[kv.first.Scalar()] = s == "-1" ? -1 : 1;
    }
  }
  RETURN_IF_ERROR(ReadIn(m, "direction_step", 1e-6, 100, out.direction_step));
  RETURN_IF_ERROR(ReadIn(m, "direction_tolerance", 0, 1, out.direction_tolerance));
  RETURN_IF_ERROR(ReadIn(m, "max_direction_violations", 0, 1, out.max_direction_violations));
  RETURN_IF_ERROR(ReadIn(m, "noise", 0, 10, out.noise));
  RETURN_IF_ERROR(ReadIn(m, "max_noise_pd_change", 0, 1, out.max_noise_pd_change));
  RETURN_IF_ERROR(ReadIn(m, "max_noise_pd_change_p99", 0, 1, out.max_noise_pd_change_p99));
  RETURN_IF_ERROR(ReadIn(m, "calibration_abs_tolerance", 0, 1, out.calibration_abs_tolerance));
  RETURN_IF_ERROR(ReadIn(m, "calibration_rel_tolerance", 0, 10, out.calibration_rel_tolerance));
  RETURN_IF_ERROR(ReadIn(m, "min_approval_ratio", 0, 1, out.min_approval_ratio));
  RETURN_IF_ERROR(m.ReadInt("min_group_rows", out.min_group_rows, 1));
  RETURN_IF_ERROR(m.ReadInt("max_rows", out.max_rows, 1));
  int64_t seed = static_cast<int64_t>(out.seed);
  RETURN_IF_ERROR(m.ReadInt("seed", seed, 0));
  out.seed = static_cast<uint64_t>(seed);
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
