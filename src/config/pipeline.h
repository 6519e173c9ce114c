#pragma once
// The `pipeline:` section of riskpipe.yaml: pipeline runner: training schedule, approval gate, retries (docs/pipeline.md).

namespace riskpipe::config {

struct PipelineDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file
};

}  // namespace riskpipe::config
