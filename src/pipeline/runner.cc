// RunSteps: the phases of a run (one pass for batching steps, the parallel phase, the months in
// order, the once-steps), each step through RunStep. Run-log records: runner_log.cc; the order
// and the plan: runner_plan.cc.

#include "pipeline/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "core/hash.h"
#include "pipeline/runner_internal.h"

namespace riskpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool Transient(const Status& s) { return s.code() == StatusCode::kUnavailable; }

bool Stops(Outcome o) {
  return o == Outcome::kFailed || o == Outcome::kBlocked || o == Outcome::kPaused;
}

// The inputs fingerprint of a step: the run's base fingerprint, the step, the month, the output
// fingerprints of its dependencies in this month and what the step adds (Step::Inputs).
StatusOr<std::string> InputsFingerprint(RunState& run, Step& step, const StepContext& c) {
  const StepDef& def = step.def();
  std::string text = run.settings.base_fingerprint + "|" + def.name + "|" + c.month.ToString();
  for (const std::string& d : def.deps) {
    const std::optional<StepOutcome> dep = run.Result(c.month, d);
    text += "|" + d + "=" + (dep ? dep->fingerprint : "");
  }
  ASSIGN_OR_RETURN(std::string more, step.Inputs(c));
  if (!more.empty()) text += "|" + more;
  return Sha256Hex(text);
}

// Runs the step with retries: a transient failure (of the step or of the fault hook) is tried
// again after the backoff, doubling each time. Sets `attempts`.
StatusOr<StepOutput> RunWithRetries(RunState& run, Step& step, const StepContext& c,
                                    int& attempts) {
  const std::string& name = step.def().name;
  StatusOr<StepOutput> out = InternalError("not run");
  const int allowed = 1 + std::max(0, run.settings.retries);
  for (int attempt = 0; attempt < allowed; ++attempt) {
    attempts = attempt + 1;
    Status fault =
        run.options.fault_hook ? run.options.fault_hook(name, c.month, attempt) : OkStatus();
    out = fault.ok() ? step.Run(c) : StatusOr<StepOutput>(fault);
    if (out.ok() || !Transient(out.status()) || attempt + 1 == allowed) break;
    const double delay = run.settings.backoff_seconds * (1 << attempt);
    run.Log("  " + c.month.ToString() + " " + name + ": transient failure (" +
            out.status().message() + "), retry " + std::to_string(attempt + 1) + " in " +
            std::to_string(delay).substr(0, 4) + " s");
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
  return out;
}

// Runs one step of one month: blocked by a stopped dependency, skipped when its inputs are
// those of its latest success (unless --force), else run with retries and recorded. `meta` is
// the run-log handle of the calling thread.
StepReport RunStep(RunState& run, Step& step, Month month, int lane, metastore::Metastore& meta) {
  const StepDef& def = step.def();
  StepReport report;
  report.month = month;
  report.step = def.name;
  const auto start = Clock::now();
  auto finish = [&](Outcome o, std::string fingerprint) {
    report.outcome = o;
    report.seconds = Since(start);
    run.Finish(report, std::move(fingerprint));
    return report;
  };
  for (const std::string& d : def.deps) {
    const std::optional<StepOutcome> dep = run.Result(month, d);
    if (dep && Stops(dep->outcome)) {
      report.message = "waits for " + d;
      return finish(Outcome::kBlocked, "");
    }
  }
  StepContext context = run.Context(month, lane, meta);
  auto inputs = InputsFingerprint(run, step, context);
  if (!inputs.ok()) {
    report.message = inputs.status().message();
    return finish(Outcome::kFailed, "");
  }
  context.inputs = *inputs;
  if (!run.options.force) {
    if (std::optional<PastSuccess> last = LatestSuccess(meta, def.name, month, *inputs)) {
      report.message = last->message;
      report.rows = last->rows;
      return finish(last->not_due ? Outcome::kNotDue : Outcome::kUpToDate, last->fingerprint);
    }
  }
  auto step_id = BeginRecord(meta, run.run_id, def.name, month, *inputs);
  if (!step_id.ok()) {
    report.message = step_id.status().message();
    return finish(Outcome::kFailed, "");
  }
  StatusOr<StepOutput> out = RunWithRetries(run, step, context, report.attempts);
  if (!out.ok()) {
    Status logged = FinishFailedRecord(meta, *step_id, def.name, month, out.status());
    report.message = out.status().message() + (logged.ok() ? "" : "; " + logged.message());
    return finish(Outcome::kFailed, "");
  }
  const std::string fingerprint = out->fingerprint.empty() ? *inputs : out->fingerprint;
  Status logged = FinishRecord(meta, *step_id, def.name, month, *out, fingerprint, report.attempts);
  report.message = logged.ok() ? out->message : logged.message();
  report.rows = out->rows_out;
  if (!logged.ok()) return finish(Outcome::kFailed, "");
  if (out->paused) return finish(Outcome::kPaused, "");
  return finish(out->not_due ? Outcome::kNotDue : Outcome::kDone, fingerprint);
}

void LogReport(RunState& run, const StepReport& r) {
  if (r.outcome == Outcome::kUpToDate || r.outcome == Outcome::kNotDue) return;
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f s", r.seconds);
  run.Log("  " + r.month.ToString() + " " + r.step + ": " + std::string(OutcomeName(r.outcome)) +
          (r.message.empty() ? "" : " - " + r.message) + " (" + secs + ")");
}

// One pass of a batching step over every month of the range where it is not up to date, then
// recorded month by month as RunStep would. A failing pass records nothing: each month's own
// step then runs and reports it.
void RunBatch(RunState& run, Step& step, metastore::Metastore& meta) {
  const StepDef& def = step.def();
  std::vector<Month> months;
  std::vector<std::string> inputs;
  for (Month m = run.options.from; m <= run.options.to; m = m.Next()) {
    auto hash = InputsFingerprint(run, step, run.Context(m, 0, meta));
    if (!hash.ok()) return;
    if (!run.options.force && LatestSuccess(meta, def.name, m, *hash)) continue;
    months.push_back(m);
    inputs.push_back(*hash);
  }
  if (months.size() < 2) return;
  const auto start = Clock::now();
  auto batch = step.RunBatch(months, run.Context(months.front(), 0, meta));
  if (!batch.ok() || batch->months.size() != months.size()) return;
  const double each = Since(start) / static_cast<double>(months.size());
  for (size_t i = 0; i < months.size(); ++i) {
    const StepOutput& out = batch->months[i];
    StepReport report{months[i], def.name, Outcome::kDone, out.message, 1, each, out.rows_out};
    Status logged = RecordBatched(meta, run.run_id, def.name, months[i], inputs[i], out);
    if (!logged.ok()) {
      report.outcome = Outcome::kFailed;
      report.message = logged.message();
      LogReport(run, report);
    }
    run.Finish(report, logged.ok() ? inputs[i] : "");
  }
  run.Log("  " + def.name + ": " + batch->message + " (" +
          std::to_string(Since(start)).substr(0, 5) + " s)");
}

// With --parallel K: the own_month steps (whose dependencies are own_month steps too) of K
// months at once, each thread with its own run-log handle and lane.
void RunParallelPhase(RunState& run) {
  std::vector<Step*> own;
  std::set<std::string> included;
  for (Step* step : run.order) {
    const StepDef& def = step->def();
    if (!def.own_month || def.once || run.Skipped(def.name)) continue;
    if (!std::all_of(def.deps.begin(), def.deps.end(),
                     [&](const std::string& d) { return included.count(d) > 0; })) {
      continue;
    }
    own.push_back(step);
    included.insert(def.name);
  }
  if (own.empty()) return;
  const int k_max = run.options.parallel;
  for (Month m = run.options.from; m <= run.options.to; m = m.Next(k_max)) {
    std::vector<std::thread> threads;
    for (int k = 0; k < k_max && m.Next(k) <= run.options.to; ++k) {
      threads.emplace_back([&run, &own, month = m.Next(k), lane = k + 1] {
        auto meta = metastore::Metastore::Open(run.settings.run_log);
        if (!meta.ok()) return;  // the main sequence runs these steps again and reports
        for (Step* step : own) {
          StepReport r = RunStep(run, *step, month, lane, *meta);
          LogReport(run, r);
        }
      });
    }
    for (auto& t : threads) t.join();
  }
}

// The months in order, every step not done in an earlier phase; a paused step stops the run.
void RunMonths(RunState& run, metastore::Metastore& meta) {
  for (Month m = run.options.from; m <= run.options.to && !run.summary.paused; m = m.Next()) {
    bool month_failed = false;
    for (Step* step : run.order) {
      const StepDef& def = step->def();
      if (def.once || run.Skipped(def.name)) continue;
      Outcome o;
      if (std::optional<StepOutcome> earlier = run.Result(m, def.name)) {
        o = earlier->outcome;
      } else {
        StepReport r = RunStep(run, *step, m, 0, meta);
        LogReport(run, r);
        o = r.outcome;
        if (o == Outcome::kPaused) {
          run.summary.paused = true;
          run.summary.pause_message = r.message;
          break;
        }
      }
      month_failed |= o == Outcome::kFailed || o == Outcome::kBlocked;
    }
    if (month_failed) run.summary.failed_months.push_back(m);
  }
}

}  // namespace

StepOutput NotDue(std::string why) {
  StepOutput out;
  out.not_due = true;
  out.message = std::move(why);
  return out;
}

StatusOr<RunSummary> RunSteps(const std::vector<Step*>& steps, const RunnerSettings& settings,
                              const RunOptions& options) {
  std::vector<const StepDef*> defs;
  for (const Step* s : steps) defs.push_back(&s->def());
  RETURN_IF_ERROR(CheckOptions(defs, options));
  if (options.dry_run) return Plan(defs, options);
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<const StepDef*> order, ExecutionOrder(defs));
  RunState run(settings, options);
  for (const StepDef* def : order) {
    run.order.push_back(steps[std::find(defs.begin(), defs.end(), def) - defs.begin()]);
  }
  ASSIGN_OR_RETURN(metastore::Metastore meta, OpenRunLog(settings.run_log));
  ASSIGN_OR_RETURN(run.run_id, BeginRunRecord(meta, options));
  run.summary.run_id = run.run_id;

  // One pass for batching steps; with a fault hook every (step, month) runs alone.
  if (options.parallel == 1 && !options.fault_hook) {
    for (Step* step : run.order) {
      const StepDef& def = step->def();
      if (step->batches() && def.deps.empty() && !def.once && !run.Skipped(def.name)) {
        RunBatch(run, *step, meta);
      }
    }
  }
  if (options.parallel > 1) RunParallelPhase(run);
  RunMonths(run, meta);
  if (!run.summary.paused) {
    for (Step* step : run.order) {
      if (!step->def().once || run.Skipped(step->def().name)) continue;
      StepReport r = RunStep(run, *step, options.to, 0, meta);
      LogReport(run, r);
    }
  }
  run.summary.seconds = Since(start);
  RETURN_IF_ERROR(FinishRunRecord(meta, run.run_id, run.summary));
  return std::move(run.summary);
}

}  // namespace riskpipe::pipeline
