// Parsing of the `serving:` section (config/serving.h).

#include <yaml-cpp/yaml.h>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {

Status ParseServing(const YAML::Node& node, const std::string& origin, ServingDef& out) {
  YamlMap m(node, origin, "serving");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
