// approve: the approval gate. Promotes the month's validated model once it is approved (by a
// person, or by pipeline.auto_approve); until then the run pauses.

#include "pipeline/steps.h"

namespace riskpipe::pipeline {
namespace {

// The model the validate step of this month ended with (the trained one, or the candidate that
// replaced it), if any: its output fingerprint is "<model id>:passed" or ":failed".
std::optional<std::string> ValidatedThisMonth(const StepContext& c) {
  const std::optional<StepOutcome> validate = c.result(c.month, "validate");
  if (!validate || validate->outcome == Outcome::kNotDue) return std::nullopt;
  const std::string& fp = validate->fingerprint;
  const size_t colon = fp.rfind(':');
  if (fp.find('/') == std::string::npos || colon == std::string::npos) return std::nullopt;
  return fp.substr(0, colon);
}

// Needs no inputs beyond its dependency's: a paused gate is recorded as failed, so it runs
// again on the next run.
class ApproveStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    const auto model = ValidatedThisMonth(c);
    if (!model) return NotDue("no new model");
    registry::Registry& registry = env_.registry;
    ASSIGN_OR_RETURN(registry::ModelRecord record, registry.Get(*model));
    const auto& auto_approve = env_.project.pipeline.auto_approve;
    if (record.stage == registry::Stage::kCandidate && auto_approve.enabled) {
      ASSIGN_OR_RETURN(record, registry.Approve(record.id, auto_approve.by,
                                                "auto-approve (pipeline.auto_approve in " +
                                                    env_.project.config_path.filename().string() +
                                                    "): " + auto_approve.reason));
    }
    switch (record.stage) {
      case registry::Stage::kCandidate:
        out.paused = true;
        out.message = "model " + record.id + " awaits approval: riskpipe models approve " +
                      record.id + " --by NAME --reason TEXT (then run again)";
        return out;
      case registry::Stage::kRejected:
      case registry::Stage::kArchived:
        out.message = record.id + " was " + std::string(registry::StageName(record.stage)) +
                      "; production unchanged";
        out.details = {{"promoted", false}};
        return out;
      case registry::Stage::kApproved:
        return Promote(record.id, auto_approve.enabled ? auto_approve.by : "riskpipe pipeline");
      case registry::Stage::kProduction:
        out.fingerprint = record.id;
        out.message = record.id + " is in production";
        return out;
    }
    return out;
  }

 private:
  StatusOr<StepOutput> Promote(const std::string& id, const std::string& by) {
    StepOutput out;
    auto promoted = env_.registry.Promote(id, by);
    if (!promoted.ok() && promoted.status().code() == StatusCode::kFailedPrecondition) {
      // The gate refused it (e.g. failed validation): production stays as it was.
      out.message = "not promoted: " + promoted.status().message();
      out.details = {{"promoted", false}, {"reason", promoted.status().message()}};
      return out;
    }
    if (!promoted.ok()) return promoted.status();
    out.fingerprint = promoted->id;
    out.message = "promoted " + promoted->id + " to production";
    out.details = {{"promoted", true}, {"model_id", promoted->id}};
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> NewApproveStep(Env& env, const StepDef& def) {
  return std::make_unique<ApproveStep>(env, def);
}

}  // namespace riskpipe::pipeline
