// Parsing of the `governance:` section (config/governance.h).

#include <yaml-cpp/yaml.h>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {

Status ParseGovernance(const YAML::Node& node, const std::string& origin, GovernanceDef& out) {
  YamlMap m(node, origin, "governance");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
