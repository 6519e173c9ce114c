// materialize: the online snapshot of every customer's latest features as of the month's last
// day.

#include "features/materialize.h"
#include "pipeline/steps.h"

namespace riskpipe::pipeline {
namespace {

class MaterializeStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    if (!env_.project.features.defined()) return NotDue("no features section");
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    features::MaterializeOptions o;
    o.as_of = c.month.Next().first_day().AddDays(-1);
    auto s = features::Materialize(env_.project, *con, o);
    if (!s.ok() && s.status().code() == StatusCode::kFailedPrecondition &&
        s.status().message().find("no spine event") != std::string::npos) {
      return NotDue("no applications yet");
    }
    if (!s.ok()) return s.status();
    out.rows_out = s->rows;
    out.fingerprint = s->version;
    out.message = "snapshot " + s->version + " (" + std::to_string(s->rows) + " customers)";
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> NewMaterializeStep(Env& env, const StepDef& def) {
  return std::make_unique<MaterializeStep>(env, def);
}

}  // namespace riskpipe::pipeline
