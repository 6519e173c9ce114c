#pragma once
// Internal: parsers of the sections owned by later modules (validation, governance, serving,
// pipeline, reason_codes). Each reads its map strictly: unknown keys are errors naming the
// key and its line. `origin` is the config file name used in messages.

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/governance.h"
#include "config/pipeline.h"
#include "config/reason_codes.h"
#include "config/serving.h"
#include "config/validation.h"
#include "core/status.h"

namespace riskpipe::config::internal {

Status ParseValidation(const YAML::Node& node, const std::string& origin, ValidationDef& out);
Status ParseGovernance(const YAML::Node& node, const std::string& origin, GovernanceDef& out);
Status ParseServing(const YAML::Node& node, const std::string& origin, ServingDef& out);
Status ParsePipeline(const YAML::Node& node, const std::string& origin, PipelineDef& out);
Status ParseReasonCodes(const YAML::Node& node, const std::string& origin, ReasonCodesDef& out);

}  // namespace riskpipe::config::internal
