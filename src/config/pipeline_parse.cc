// Parsing of the `pipeline:` section (config/pipeline.h).

#include <yaml-cpp/yaml.h>

#include "config/sections_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {

Status ParsePipeline(const YAML::Node& node, const std::string& origin, PipelineDef& out) {
  YamlMap m(node, origin, "pipeline");
  RETURN_IF_ERROR(m.CheckIsMap());
  out.present = true;
  out.line = LineOf(node);
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
