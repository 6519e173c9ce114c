#pragma once
// The `governance:` section of riskpipe.yaml: governance policy: monitoring thresholds, alerts, retrain triggers (docs/governance.md).

namespace riskpipe::config {

struct GovernanceDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file
};

}  // namespace riskpipe::config
