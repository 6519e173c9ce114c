#pragma once
// The `serving:` section of riskpipe.yaml: online serving: listen address, limits, champion/challenger routing, admin key (docs/api.md).

namespace riskpipe::config {

struct ServingDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file
};

}  // namespace riskpipe::config
