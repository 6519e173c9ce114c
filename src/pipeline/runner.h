#pragma once
// The runner (docs/pipeline.md): runs steps per month in dependency order through the Step
// interface, fingerprints each step's inputs, skips a step whose latest success had the same
// fingerprint, retries transient failures, blocks a failed step's dependents in its month and
// records every step in the metastore's run log. It knows nothing of what a step does: the
// steps of the flow are in step_*.cc, and tests give it fake ones.
// Thread-safety: one RunSteps call at a time per step set; steps run on the calling thread,
// except own_month steps under --parallel, which run on up to `parallel` threads at once.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/json.h"
#include "core/status.h"
#include "metastore/metastore.h"
#include "pipeline/pipeline.h"

namespace riskpipe::pipeline {

// What one step did for one month.
struct StepOutput {
  bool not_due = false;  // nothing to do this month (recorded as a success, shown "not due")
  bool paused = false;   // waits for a person: the run stops after this step
  std::string message;   // one line for the summary and the run log
  // Identifies the output for the dependents' fingerprints; empty = the inputs fingerprint
  // (the output is a pure function of the inputs).
  std::string fingerprint;
  int64_t rows_in = 0, rows_out = 0, rows_quarantined = 0;
  nlohmann::json details = nlohmann::json::object();  // stored with the step in the run log
};

// A step with nothing to do this month, and why.
StepOutput NotDue(std::string why);

// How a step of this run ended: its outcome and output fingerprint.
struct StepOutcome {
  Outcome outcome = Outcome::kDone;
  std::string fingerprint;
};

// What a step sees of the run while it computes its inputs or runs.
struct StepContext {
  Month month;
  int64_t run_id = 0;
  // 0 for the main sequence; 1..parallel for the threads of the parallel phase, which run at
  // the same time (a step keeps per-lane resources, e.g. a database connection, by this).
  int lane = 0;
  // The step's inputs fingerprint for this month ("" while the fingerprint is computed).
  std::string inputs;
  metastore::Metastore* run_log = nullptr;  // this lane's handle; steps only read it
  // How `step` of `month` ended in this run, or nullopt when it has not run (yet).
  std::function<std::optional<StepOutcome>(Month month, std::string_view step)> result;
};

// Several months of a step done in one pass (Step::RunBatch).
struct BatchOutput {
  std::vector<StepOutput> months;  // one per month asked for, in the same order
  std::string message;             // one line for the log, e.g. "13 months in one pass"
};

// One step of the flow. The runner calls Inputs, then (unless skipped) Run, per month.
class Step {
 public:
  virtual ~Step() = default;
  virtual const StepDef& def() const = 0;
  // What the step's inputs hold beyond the run's base fingerprint, its name, the month and its
  // dependencies' output fingerprints (e.g. the model it will use); "" for nothing more.
  virtual StatusOr<std::string> Inputs(const StepContext&) { return std::string(); }
  // Does the step's work for context.month. An Unavailable error is transient (retried).
  virtual StatusOr<StepOutput> Run(const StepContext& context) = 0;
  // Whether RunBatch may do several months of this step at once. Only a step without
  // dependencies can: the others' inputs are known only when their month has run.
  virtual bool batches() const { return false; }
  // Does `months` (ascending) in one pass with the outputs Run would give each. On failure
  // nothing is recorded and each month's Run is called as usual.
  virtual StatusOr<BatchOutput> RunBatch(const std::vector<Month>&, const StepContext&) {
    return InternalError(def().name + " does not run months in one pass");
  }
};

struct RunnerSettings {
  std::filesystem::path run_log;  // the metastore file holding the run log
  // What every step's inputs share (e.g. the config and source files); a change reruns all.
  std::string base_fingerprint;
  int retries = 2;               // further attempts after a transient failure
  double backoff_seconds = 0.5;  // before the first retry; doubles with each one
};

// The steps' order of execution within a month: declared order, except that a step comes
// after every step it depends on. InvalidArgument for an unknown dependency or a cycle.
StatusOr<std::vector<const StepDef*>> ExecutionOrder(const std::vector<const StepDef*>& defs);

// InvalidArgument when `options` do not fit `defs`: a range ending before it starts,
// --parallel outside 1..64, --skip naming an unknown step. Then the order's errors.
Status CheckOptions(const std::vector<const StepDef*>& defs, const RunOptions& options);

// The plan of a dry run: every month x step (outcome kNotDue, message the step's `what`),
// once-steps last as the range's last month. Changes nothing.
StatusOr<RunSummary> Plan(const std::vector<const StepDef*>& defs, const RunOptions& options);

// Runs `steps` (not owned) for every month of options.from..to as the header describes, or
// plans them with options.dry_run. Returns the summary even when steps failed (see
// failed_months); a step whose run-log record cannot be written counts as failed, with a
// message starting "run log:". Errors: InvalidArgument from CheckOptions; the metastore's
// error when the run log cannot be opened, or the run cannot be begun or finished in it.
StatusOr<RunSummary> RunSteps(const std::vector<Step*>& steps, const RunnerSettings& settings,
                              const RunOptions& options);

}  // namespace riskpipe::pipeline
