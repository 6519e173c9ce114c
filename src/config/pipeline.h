#pragma once
// The `pipeline:` section of riskpipe.yaml: how the pipeline runner (docs/pipeline.md)
// schedules training and gates deployment. Every key is optional:
//
//   pipeline:
//     from: 2023-01                 # default range of `riskpipe backfill`
//     to: 2024-12
//     training:
//       initial: 2024-03            # first training month (cut-off: its first day)
//       every_months: 6             # scheduled refresh; 0 = none
//       on_trigger: true            # retrain when monitoring recommends it
//       min_months_between: 3       # never retrain sooner than this after the last training
//     auto_approve:                 # demos only: approve and promote without a person,
//       by: "demo pipeline"         # recorded in the registry as an auto-approval
//       reason: "demo project: no risk officer in the loop"
//     retries: 2                    # extra attempts of a step after a transient failure
//     backoff_seconds: 0.5          # first retry delay, doubled each time
//     quality_gate: stop            # stop | warn: what an error-severity expectation does
//     shadow_challenger: true       # score a newer version awaiting approval as a shadow

#include <optional>
#include <string>

#include "core/date.h"

namespace riskpipe::config {

struct TrainingSchedule {
  std::optional<Month> initial;  // default: the month of model.cutoff
  int every_months = 0;
  bool on_trigger = true;
  int min_months_between = 3;
};

struct AutoApprove {
  bool enabled = false;
  std::string by;
  std::string reason;
};

enum class QualityGate { kStop, kWarn };

struct PipelineDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file
  std::optional<Month> from, to;
  TrainingSchedule training;
  AutoApprove auto_approve;
  int retries = 2;
  double backoff_seconds = 0.5;
  QualityGate quality_gate = QualityGate::kStop;
  bool shadow_challenger = true;
};

}  // namespace riskpipe::config
