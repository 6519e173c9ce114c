// Parsing of the `validation:` section (config/validation.h).

#include <yaml-cpp/yaml.h>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {

Status ParseValidation(const YAML::Node& node, const std::string& origin, ValidationDef& out) {
  YamlMap m(node, origin, "validation");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
