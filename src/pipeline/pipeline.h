#pragma once
// The pipeline runner (docs/pipeline.md): the steps of DESIGN.md's flow, declared with their
// dependencies, run per snapshot month in order for one month or a backfill range.
//
//   ingest ─┬─ quality ── features ─┬─ train ── validate ── approve ── predict ── monitor
//           └─ labels ──────────────┘                                  materialize
//   (report once, after the last month)
//
// Each step of each month is recorded in the metastore's run log with a fingerprint of its
// inputs (config, upstream outputs, source files, the model it uses). A step whose latest
// success has the same fingerprint is skipped, so re-running a range redoes only what changed
// and a run killed mid-way resumes from the first unfinished step. A failing step (after
// retries with backoff for transient errors) marks its month failed and blocks that month's
// dependents; later months carry on. Training follows the `pipeline.training` schedule and
// the approval gate pauses the run until a person approves (or `pipeline.auto_approve`).
// The runner itself (runner.h) knows no step; each step is one file, step_<name>.cc.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"

namespace riskpipe::pipeline {

struct StepDef {
  std::string name;
  std::vector<std::string> deps;  // steps of the same month that must have succeeded
  std::string what;               // one line for --help and the plan
  // Runs once, after the last month (as the range's last month), instead of every month.
  bool once = false;
  // Reads and writes only its own month, so --parallel may run it for several months at once
  // (when its dependencies are own_month steps too).
  bool own_month = false;
};
// The declared steps, in execution order within a month (report runs once at the end).
const std::vector<StepDef>& Steps();

struct RunOptions {
  Month from, to;
  bool force = false;    // redo steps even when their inputs are unchanged
  bool dry_run = false;  // print the plan, change nothing
  // Months whose ingest and quality steps run at once (they read only their own month);
  // the other steps run in month order.
  int parallel = 1;
  std::vector<std::string> skip;  // step names not to run (e.g. "report")
  std::string command = "run";    // recorded in the run log
  std::function<void(const std::string&)> log = [](const std::string&) {};
  // Test seam: called before every attempt (0, 1, ...) of every step of every month. A non-ok
  // status is that attempt's result and the step does not run; Unavailable counts as transient
  // and is retried like a real transient failure. While set, no step does several months in
  // one pass, so each (step, month) meets the hook. Unset (the default) in the product.
  std::function<Status(std::string_view step, Month month, int attempt)> fault_hook;
};

enum class Outcome {
  kDone,      // ran and succeeded
  kUpToDate,  // skipped: same inputs as its last success
  kNotDue,    // nothing to do this month (e.g. no training scheduled)
  kFailed,
  kBlocked,  // a dependency failed or paused
  kPaused,   // waiting for a person (model approval)
};
std::string_view OutcomeName(Outcome o);

struct StepReport {
  Month month;
  std::string step;
  Outcome outcome = Outcome::kDone;
  std::string message;
  int attempts = 0;
  double seconds = 0;
  int64_t rows = 0;
};

struct RunSummary {
  int64_t run_id = 0;
  std::vector<StepReport> steps;
  std::vector<Month> failed_months;
  bool paused = false;
  std::string pause_message;
  double seconds = 0;
};

// Runs (or with dry_run, plans) the steps for every month of [from, to]. Returns the summary
// even when steps failed (see failed_months); an error only for what stops everything (an
// unreadable metastore, a bad range).
StatusOr<RunSummary> Run(const config::Project& project, const RunOptions& options);

// The table `riskpipe run` prints: month x step outcomes.
std::string FormatSummary(const RunSummary& summary);

}  // namespace riskpipe::pipeline
