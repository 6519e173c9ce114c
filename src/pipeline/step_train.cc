// train: when the schedule or a monitoring trigger says so, trains with cut-off = the month's
// first day and registers the chosen model (docs/pipeline.md, "Training schedule").

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/json.h"
#include "metastore/metastore.h"
#include "monitoring/monitoring.h"
#include "pipeline/steps.h"
#include "training/selection.h"
#include "training/trainer.h"
#include "validation/validation.h"

namespace riskpipe::pipeline {

using nlohmann::json;

StatusOr<TrainingProject> ProjectForTraining(Env& env, db::Connection& con, Month month) {
  TrainingProject tp{training::ShiftedProject(env.project, month), {}};
  // A source that stopped covering new applicants: a model trained on its features would
  // decide everything it scores on imputed values.
  ASSIGN_OR_RETURN(tp.absent, validation::FeaturesAbsentFromApplications(env.project, con, month));
  auto& exclude = tp.project.model->exclude;
  for (const std::string& f : tp.absent) {
    if (std::find(exclude.begin(), exclude.end(), f) == exclude.end()) exclude.push_back(f);
  }
  return tp;
}

StatusOr<Registered> TrainAndRegister(Env& env, db::Connection& con, const StepContext& c,
                                      const config::Project& project,
                                      const std::string& inputs_key) {
  const std::string name = project.model->name;
  ASSIGN_OR_RETURN(auto versions, env.registry.List(name));
  for (const auto& v : versions) {
    const json m = json::parse(v.metrics_json, nullptr, false);
    if (m.is_object() && m.value("pipeline_inputs", "") == inputs_key) {
      return Registered{v.id, m.value("candidate", ""), m.value("oot_auc", 0.0), 0, true};
    }
  }
  training::TrainOptions o;
  o.cutoff = c.month.first_day();
  o.checkpoint_root = project.workspace.checkpoints();
  o.resume = true;  // checkpoints are keyed by inputs: a killed run continues where it stopped
  ASSIGN_OR_RETURN(std::filesystem::path staging, env.registry.NewStagingDir(name));
  auto trained = training::Train(project, con, o, staging);
  if (!trained.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(staging, ec);
    return trained.status();
  }
  const auto& chosen = trained->leaderboard[trained->chosen];
  registry::RegisterInfo info;
  info.run_id = c.run_id;
  info.created_by = "riskpipe pipeline";
  info.family = chosen.family;
  info.metrics_json = json{
      {"validation_auc", chosen.validation.metrics.auc},
      {"oot_auc", chosen.oot.metrics.auc},
      {"oot_ks", chosen.oot.metrics.ks},
      {"candidate", chosen.name},
      {"cutoff", o.cutoff.ToString()},
      {"pipeline_inputs",
       inputs_key}}.dump();
  ASSIGN_OR_RETURN(registry::ModelRecord record, env.registry.Register(staging, name, info));
  return Registered{record.id, chosen.name, chosen.oot.metrics.auc,
                    chosen.train.metrics.n + chosen.validation.metrics.n + chosen.oot.metrics.n,
                    false};
}

namespace {

// The last month before `month` in which the pipeline trained a model, from the run log.
StatusOr<std::optional<Month>> LastTraining(metastore::Metastore& meta, Month month) {
  metastore::StepFilter f;
  f.step = "train";
  f.limit = 1000;
  ASSIGN_OR_RETURN(auto steps, meta.ListSteps(f));
  std::optional<Month> last;
  for (const auto& s : steps) {
    if (s.status != metastore::RunStatus::kSucceeded || s.details_json.empty()) continue;
    const json d = json::parse(s.details_json, nullptr, false);
    if (!d.is_object() || !d.contains("model_id")) continue;
    auto m = Month::Parse(s.partition);
    if (!m.ok() || !(*m < month)) continue;
    if (!last || *last < *m) last = *m;
  }
  return last;
}

class TrainStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  // Training reads every earlier month: chain the previous month's features.
  StatusOr<std::string> Inputs(const StepContext& c) override {
    const std::optional<StepOutcome> prev = c.result(c.month.Next(-1), "features");
    return prev ? "prev=" + prev->fingerprint : std::string();
  }

  StatusOr<StepOutput> Run(const StepContext& c) override {
    const config::Project& project = env_.project;
    if (!project.model) return NotDue("no model section");
    const config::TrainingSchedule& sched = project.pipeline.training;
    const Month initial = sched.initial           ? *sched.initial
                          : project.model->cutoff ? Month::Of(*project.model->cutoff)
                                                  : env_.options.from;
    if (c.month < initial) return NotDue("before the first training month " + initial.ToString());
    ASSIGN_OR_RETURN(std::optional<Month> last, LastTraining(*c.run_log, c.month));
    Decision due;
    if (!last) {
      due.train = "initial model (first training month " + initial.ToString() + ")";
    } else {
      ASSIGN_OR_RETURN(due, Due(c.month, *last));
    }
    if (!due.wait.empty()) return NotDue(due.wait);
    if (due.train.empty()) {
      return NotDue(last ? "not scheduled (last trained " + last->ToString() + ")"
                         : "not scheduled");
    }
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    ASSIGN_OR_RETURN(TrainingProject tp, ProjectForTraining(env_, *con, c.month));
    ASSIGN_OR_RETURN(Registered r, TrainAndRegister(env_, *con, c, tp.project, c.inputs));
    return Output(c.month, r, due.train, tp.absent);
  }

 private:
  // Whether a model last trained in an earlier month is retrained in this one.
  struct Decision {
    std::string train;  // why it is retrained now; "" when it is not
    std::string wait;   // why a recommended retraining waits; "" when it does not
  };

  StatusOr<Decision> Due(Month month, Month last) {
    const config::Project& project = env_.project;
    const config::TrainingSchedule& sched = project.pipeline.training;
    const int since = month.index() - last.index();
    if (sched.every_months > 0 && since >= sched.every_months) {
      return Decision{
          "scheduled refresh (" + std::to_string(since) + " months since " + last.ToString() + ")",
          ""};
    }
    if (!sched.on_trigger || since < sched.min_months_between) return Decision{};
    ASSIGN_OR_RETURN(std::optional<monitoring::RetrainTrigger> trigger,
                     monitoring::RetrainRecommended(project, project.model->name, month.Next(-1)));
    if (!trigger) return Decision{};
    // A drift is answered by a model calibrated on the drifted population: wait until the
    // validation (calibration) window starts at or after the month the drift began.
    const std::optional<config::MonthRange> validation =
        training::ShiftedProject(project, month).model->splits.validation;
    if (trigger->drift_since && validation && validation->from < *trigger->drift_since) {
      const Month ready = month.Next(trigger->drift_since->index() - validation->from.index());
      return Decision{"", "retraining recommended for " + trigger->model_id + " (drift since " +
                              trigger->drift_since->ToString() +
                              ") waits for the drifted months' labels: a model trained now " +
                              "would be calibrated on " + validation->from.ToString() +
                              ", before the drift; first in " + ready.ToString()};
    }
    return Decision{
        "monitoring trigger on " + trigger->model_id + " (" +
            (trigger->reasons.empty() ? trigger->month.ToString() : trigger->reasons.front()) + ")",
        ""};
  }

  static StepOutput Output(Month month, const Registered& r, const std::string& why,
                           const std::vector<std::string>& absent) {
    StepOutput out;
    out.fingerprint = r.id;
    out.rows_in = r.rows;
    out.rows_out = r.reused ? 0 : 1;
    out.details = {{"model_id", r.id},
                   {"reason", why},
                   {"cutoff", month.first_day().ToString()},
                   {"candidate", r.candidate},
                   {"oot_auc", r.oot_auc},
                   {"reused", r.reused},
                   {"absent_features_left_out", absent}};
    if (r.reused) {
      out.message = "reused " + r.id + " trained on the same inputs";
      return out;
    }
    char auc[32];
    std::snprintf(auc, sizeof auc, "%.3f", r.oot_auc);
    out.message = "registered " + r.id + " (" + r.candidate + ", OOT AUC " + auc + "): " + why;
    if (!absent.empty()) {
      out.message += "; left out " + std::to_string(absent.size()) +
                     " features no current application has (" + absent.front() +
                     (absent.size() > 1 ? ", ..." : "") + ")";
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> NewTrainStep(Env& env, const StepDef& def) {
  return std::make_unique<TrainStep>(env, def);
}

}  // namespace riskpipe::pipeline
