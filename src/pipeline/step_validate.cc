// validate: the pre-deployment gate (docs/validation.md) on the model the month's train step
// registered; it takes part in model selection (below).

#include <algorithm>

#include "core/json.h"
#include "pipeline/steps.h"
#include "training/selection.h"
#include "validation/validation.h"

namespace riskpipe::pipeline {
namespace {

using nlohmann::json;

// The model the train step of this month produced, if any: its output fingerprint is the
// model id ("name/version").
std::optional<std::string> TrainedThisMonth(const StepContext& c) {
  const std::optional<StepOutcome> train = c.result(c.month, "train");
  if (!train || train->outcome == Outcome::kNotDue) return std::nullopt;
  if (train->fingerprint.find('/') == std::string::npos) return std::nullopt;
  return train->fingerprint;
}

// `candidates` reduced to the one named `name` (a candidate without a name is named by its
// family).
void KeepOnly(std::vector<config::Candidate>& candidates, const std::string& name) {
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                  [&](const config::Candidate& k) {
                                    const std::string n =
                                        k.name.empty() ? std::string(config::FamilyName(k.family))
                                                       : k.name;
                                    return n != name;
                                  }),
                   candidates.end());
}

// The gate is part of model selection: when the chosen candidate fails only behavioural checks
// (validation::IsBehaviouralCheck: it steps or turns the wrong way under small input changes),
// the next eligible candidate of the same leaderboard (training::RunnersUp) is trained alone,
// registered and validated in turn. A failed statistical check (performance, calibration,
// fairness) stops here: trying further candidates against the same out-of-time rows would
// select on them. The output fingerprint is "<model id>:passed" or ":failed" for the last one.
class ValidateStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    const auto trained = TrainedThisMonth(c);
    if (!trained) return NotDue("no new model");
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    const config::Project shifted = training::ShiftedProject(env_.project, c.month);
    std::string model = *trained;
    json attempts = json::array();
    std::vector<std::string> queue;
    bool first = true;
    while (true) {
      ASSIGN_OR_RETURN(validation::ValidationReport report,
                       validation::ValidateModel(shifted, *con, env_.registry, model));
      std::vector<std::string> failed;
      bool behavioural_only = true;
      for (const auto& check : report.checks) {
        if (check.passed) continue;
        failed.push_back(check.name);
        behavioural_only &= validation::IsBehaviouralCheck(check.name);
      }
      ASSIGN_OR_RETURN(registry::ModelRecord record, env_.registry.Get(model));
      attempts.push_back({{"model_id", model},
                          {"family", record.family},
                          {"passed", report.passed},
                          {"failed_checks", failed}});
      if (first) queue = training::RunnersUp(record.path);
      first = false;
      std::string names;
      for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
      out.message += std::string(out.message.empty() ? "" : "; ") +
                     (report.passed ? model + ": all " + std::to_string(report.checks.size()) +
                                          " checks passed"
                                    : model + " (" + record.family + ") FAILED " + names);
      out.rows_out += static_cast<int64_t>(report.checks.size());
      if (report.passed || !behavioural_only || queue.empty()) {
        out.fingerprint = model + (report.passed ? ":passed" : ":failed");
        out.details = {{"model_id", model}, {"passed", report.passed}, {"attempts", attempts}};
        if (!report.passed) out.message += ": it will not be promoted";
        return out;
      }
      const std::string next = queue.front();
      queue.erase(queue.begin());
      ASSIGN_OR_RETURN(TrainingProject tp, ProjectForTraining(env_, *con, c.month));
      KeepOnly(tp.project.model->candidates, next);
      if (tp.project.model->candidates.empty()) {
        return InternalError("runner-up candidate \"" + next + "\" not in the config");
      }
      ASSIGN_OR_RETURN(Registered r, TrainAndRegister(env_, *con, c, tp.project,
                                                      c.inputs + "|after:" + model + "|" + next));
      out.message += " -> next candidate " + next + " as " + r.id;
      model = r.id;
    }
  }
};

}  // namespace

std::unique_ptr<Step> NewValidateStep(Env& env, const StepDef& def) {
  return std::make_unique<ValidateStep>(env, def);
}

}  // namespace riskpipe::pipeline
