#pragma once
// The `reason_codes:` section of riskpipe.yaml: the versioned table of human-readable reason
// texts that batch inference and serving attach to a decision (docs/reason-codes.md).
//
//   reason_codes:
//     version: "2024-06"        # recorded with every prediction that uses the table
//     top: 3                    # reasons per decision
//     texts:
//       delay_from_due_date: "Payments are often made late"
//
// A feature without a text gets "<feature> increases the estimated risk".

#include <map>
#include <string>

namespace riskpipe::config {

struct ReasonCodesDef {
  bool present = false;
  int line = 0;
  std::string version = "default";
  int top = 3;
  std::map<std::string, std::string> texts;  // feature -> reason text
};

}  // namespace riskpipe::config
