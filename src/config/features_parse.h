#pragma once
// Internal: parsers of the label and features sections (config/features.h).

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"

namespace riskpipe::config::internal {

Status ParseLabel(const YAML::Node& node, const std::string& origin,
                  const std::vector<Source>& sources, LabelDef& label);
Status ParseFeatures(const YAML::Node& node, const std::string& origin,
                     const std::vector<Source>& sources, FeatureSet& features);

}  // namespace riskpipe::config::internal
