// The runner's records in the metastore's run log (docs/pipeline.md): one run per command,
// one step record per step and month. A write that fails is returned, never dropped: the step
// (or run) it belongs to then counts as failed, so the run log never claims less than was done
// without the run saying so.

#include "core/json.h"
#include "pipeline/runner_internal.h"

namespace riskpipe::pipeline {
namespace {

using nlohmann::json;

// The table_name of every pipeline step record (the ingest command records its own).
constexpr char kTable[] = "pipeline";

std::string Partition(Month month) { return month.first_day().ToString(); }

// "run log: features 2023-03: cannot record the success: <the metastore's reason>".
Status RunLogError(const Status& s, const std::string& what, const std::string& step, Month month) {
  return s.WithPrefix("run log: " + step + " " + month.ToString() + ": cannot " + what);
}

metastore::StepResult ResultOf(const StepOutput& out, const std::string& fingerprint,
                               int attempts) {
  json details = out.details;
  details["message"] = out.message;
  details["fingerprint"] = fingerprint;
  details["attempts"] = attempts;
  if (out.not_due) details["not_due"] = true;
  metastore::StepResult result;
  result.rows_in = out.rows_in;
  result.rows_out = out.rows_out;
  result.rows_quarantined = out.rows_quarantined;
  result.details_json = details.dump();
  if (out.paused) {
    // A paused step is not a success: the next run takes it up again.
    result.status = metastore::RunStatus::kFailed;
    result.error = "paused: " + out.message;
  }
  return result;
}

}  // namespace

std::optional<PastSuccess> LatestSuccess(metastore::Metastore& meta, const std::string& step,
                                         Month month, const std::string& inputs) {
  // An unreadable run log means "not known to be done": the step runs, and a write failure
  // of the run log then fails it with the reason.
  auto last = meta.LatestSucceededStep(step, kTable, Partition(month));
  if (!last.ok() || !*last || (*last)->inputs_hash != inputs) return std::nullopt;
  const json d = json::parse((*last)->details_json, nullptr, false);
  PastSuccess past;
  past.message = d.is_object() ? d.value("message", "") : "";
  past.fingerprint = d.is_object() ? d.value("fingerprint", inputs) : inputs;
  past.not_due = d.is_object() && d.value("not_due", false);
  past.rows = (*last)->rows_out;
  return past;
}

StatusOr<metastore::Metastore> OpenRunLog(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(metastore::Metastore meta, metastore::Metastore::Open(path));
  auto marked = meta.MarkInterrupted();
  if (!marked.ok()) return marked.status().WithPrefix("run log: cannot mark interrupted runs");
  return meta;
}

StatusOr<int64_t> BeginRunRecord(metastore::Metastore& meta, const RunOptions& options) {
  const json args = {{"from", options.from.ToString()},
                     {"to", options.to.ToString()},
                     {"force", options.force},
                     {"parallel", options.parallel}};
  auto run_id = meta.BeginRun(options.command, args.dump());
  if (!run_id.ok()) return run_id.status().WithPrefix("run log: cannot begin the run");
  return run_id;
}

Status FinishRunRecord(metastore::Metastore& meta, int64_t run_id, const RunSummary& summary) {
  std::string months;
  for (Month m : summary.failed_months) months += (months.empty() ? "" : ", ") + m.ToString();
  Status s;
  if (summary.paused) {
    s = meta.FinishRun(run_id, metastore::RunStatus::kFailed, "paused: " + summary.pause_message);
  } else if (!months.empty()) {
    s = meta.FinishRun(run_id, metastore::RunStatus::kFailed, "failed months: " + months);
  } else {
    s = meta.FinishRun(run_id, metastore::RunStatus::kSucceeded);
  }
  return s.WithPrefix("run log: cannot finish run " + std::to_string(run_id));
}

StatusOr<int64_t> BeginRecord(metastore::Metastore& meta, int64_t run_id, const std::string& step,
                              Month month, const std::string& inputs) {
  auto step_id = meta.BeginStep(run_id, step, kTable, Partition(month), inputs);
  if (!step_id.ok()) return RunLogError(step_id.status(), "begin it", step, month);
  return step_id;
}

Status FinishRecord(metastore::Metastore& meta, int64_t step_id, const std::string& step,
                    Month month, const StepOutput& out, const std::string& fingerprint,
                    int attempts) {
  return RunLogError(meta.FinishStep(step_id, ResultOf(out, fingerprint, attempts)),
                     out.paused ? "record the pause" : "record the success", step, month);
}

Status FinishFailedRecord(metastore::Metastore& meta, int64_t step_id, const std::string& step,
                          Month month, const Status& error) {
  metastore::StepResult result;
  result.status = metastore::RunStatus::kFailed;
  result.error = error.message();
  return RunLogError(meta.FinishStep(step_id, result), "record the failure", step, month);
}

Status RecordBatched(metastore::Metastore& meta, int64_t run_id, const std::string& step,
                     Month month, const std::string& inputs, const StepOutput& out) {
  ASSIGN_OR_RETURN(int64_t step_id, BeginRecord(meta, run_id, step, month, inputs));
  return FinishRecord(meta, step_id, step, month, out, inputs, 1);
}

}  // namespace riskpipe::pipeline
