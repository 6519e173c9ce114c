#pragma once
// Internal: parser of the `model:` section (config/model.h).

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

#include "config/model.h"
#include "core/status.h"

namespace riskpipe::config::internal {

// `base` anchors a relative dataset file (the config file's folder).
Status ParseModel(const YAML::Node& node, const std::string& origin,
                  const std::filesystem::path& base, ModelDef& model);

}  // namespace riskpipe::config::internal
