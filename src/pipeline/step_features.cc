// features: the gold feature store partition of the month (point in time).

#include "features/feature_store.h"
#include "pipeline/steps.h"

namespace riskpipe::pipeline {
namespace {

class FeaturesStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    if (!env_.project.features.defined()) return NotDue("no features section");
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    features::FeatureBuildOptions o;
    o.from = o.to = c.month;
    ASSIGN_OR_RETURN(features::FeatureBuildSummary s,
                     features::BuildFeatureStore(env_.project, *con, o));
    out.rows_out = s.rows;
    out.message =
        std::to_string(s.rows) + " applications, " + std::to_string(s.features) + " features";
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> NewFeaturesStep(Env& env, const StepDef& def) {
  return std::make_unique<FeaturesStep>(env, def);
}

}  // namespace riskpipe::pipeline
