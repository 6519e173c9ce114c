#pragma once
// The `validation:` section of riskpipe.yaml: pre-deployment validation gate (docs/validation.md); filled by the validation module's owner.

namespace riskpipe::config {

struct ValidationDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file
};

}  // namespace riskpipe::config
