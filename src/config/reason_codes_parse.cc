// Parsing of the `reason_codes:` section (config/reason_codes.h).

#include <yaml-cpp/yaml.h>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {

Status ParseReasonCodes(const YAML::Node& node, const std::string& origin, ReasonCodesDef& out) {
  YamlMap m(node, origin, "reason_codes");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  RETURN_IF_ERROR(m.ReadString("version", out.version, true));
  if (out.version.empty()) return m.Error("version", "must not be empty");
  int64_t top = out.top;
  RETURN_IF_ERROR(m.ReadInt("top", top, 1));
  if (top > 20) return m.Error("top", "at most 20 reasons per decision");
  out.top = static_cast<int>(top);
  const YAML::Node texts = m.Get("texts");
  if (texts.IsDefined() && !texts.IsNull()) {
    if (!texts.IsMap()) return m.Error("texts", "expected a map of feature: text", &texts);
    for (const auto& kv : texts) {
      const std::string feature = kv.first.as<std::string>();
      if (!kv.second.IsScalar() || kv.second.as<std::string>().empty()) {
        const YAML::Node at = kv.second;
        return m.Error("texts." + feature, "expected a non-empty text", &at);
      }
      out.texts[feature] = kv.second.as<std::string>();
    }
  }
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
