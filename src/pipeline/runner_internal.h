#pragma once
// The runner's own parts shared by runner.cc, runner_log.cc and runner_plan.cc: the state of
// one run and the run-log records. Not for steps. Thread-safety: RunState's methods may be
// called from the parallel phase's threads; its other members only from the main thread.

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metastore/metastore.h"
#include "pipeline/runner.h"

namespace riskpipe::pipeline {

class RunState {
 public:
  RunState(const RunnerSettings& settings, const RunOptions& options)
      : settings(settings), options(options) {}

  const RunnerSettings& settings;
  const RunOptions& options;
  std::vector<Step*> order;  // execution order within a month
  int64_t run_id = 0;
  RunSummary summary;  // steps only through Finish

  bool Skipped(const std::string& step) const {
    return std::find(options.skip.begin(), options.skip.end(), step) != options.skip.end();
  }
  // One line to options.log; lines of parallel threads do not interleave.
  void Log(const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu_);
    options.log(line);
  }
  // How `step` of `month` ended in this run, if it has.
  std::optional<StepOutcome> Result(Month month, std::string_view step) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = done_.find({month.index(), std::string(step)});
    if (it == done_.end()) return std::nullopt;
    return it->second;
  }
  // Records how a step ended: its outcome and output fingerprint, and its report.
  void Finish(const StepReport& report, std::string fingerprint) {
    std::lock_guard<std::mutex> lock(mu_);
    done_[{report.month.index(), report.step}] = {report.outcome, std::move(fingerprint)};
    summary.steps.push_back(report);
  }
  StepContext Context(Month month, int lane, metastore::Metastore& meta) {
    StepContext c;
    c.month = month;
    c.run_id = run_id;
    c.lane = lane;
    c.run_log = &meta;
    c.result = [this](Month m, std::string_view step) { return Result(m, step); };
    return c;
  }

 private:
  mutable std::mutex mu_, log_mu_;
  std::map<std::pair<int, std::string>, StepOutcome> done_;  // (month index, step)
};

// ---- the run log (runner_log.cc) ----------------------------------------------------------
// Every record's table_name is "pipeline" and its partition the month's first day. Errors of a
// write name the record: "run log: features 2023-03: cannot record the success: ...".

// The latest success of `step` in `month` when its inputs were `inputs`.
struct PastSuccess {
  std::string message, fingerprint;
  int64_t rows = 0;
  bool not_due = false;
};
std::optional<PastSuccess> LatestSuccess(metastore::Metastore& meta, const std::string& step,
                                         Month month, const std::string& inputs);

// Opens the run log and marks the runs of dead processes interrupted.
StatusOr<metastore::Metastore> OpenRunLog(const std::filesystem::path& path);
StatusOr<int64_t> BeginRunRecord(metastore::Metastore& meta, const RunOptions& options);
// Ends the run: failed when paused or some month failed, else succeeded.
Status FinishRunRecord(metastore::Metastore& meta, int64_t run_id, const RunSummary& summary);

StatusOr<int64_t> BeginRecord(metastore::Metastore& meta, int64_t run_id, const std::string& step,
                              Month month, const std::string& inputs);
// A succeeded (or paused, recorded as failed "paused: ...") step with its output.
Status FinishRecord(metastore::Metastore& meta, int64_t step_id, const std::string& step,
                    Month month, const StepOutput& out, const std::string& fingerprint,
                    int attempts);
Status FinishFailedRecord(metastore::Metastore& meta, int64_t step_id, const std::string& step,
                          Month month, const Status& error);
// A month of a one-pass batch: begun and finished at once.
Status RecordBatched(metastore::Metastore& meta, int64_t run_id, const std::string& step,
                     Month month, const std::string& inputs, const StepOutput& out);

}  // namespace riskpipe::pipeline
