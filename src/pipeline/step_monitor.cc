// monitor: stability and matured performance of the month's predictions, alerts and the
// retrain trigger (docs/monitoring.md).

#include <filesystem>

#include "inference/inference.h"
#include "monitoring/monitoring.h"
#include "pipeline/steps.h"

namespace riskpipe::pipeline {
namespace {

class MonitorStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  // The models monitored: a promotion reruns the step.
  StatusOr<std::string> Inputs(const StepContext& c) override {
    ASSIGN_OR_RETURN(std::optional<Arms> arms, CurrentArms(env_.project, env_.registry, c.month));
    return arms ? "arms=" + arms->champion + "," + arms->challenger : std::string();
  }

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    const std::filesystem::path predictions = env_.mart.PartitionFile(
        datamart::Layer::kGold, inference::kPredictionsTable, c.month.first_day());
    if (!std::filesystem::exists(predictions)) return NotDue("no predictions this month");
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    ASSIGN_OR_RETURN(monitoring::MonitorSummary s,
                     monitoring::MonitorMonth(env_.project, *con, c.month));
    out.rows_in = s.rows;
    out.rows_out = s.alerts_warn + s.alerts_act;
    out.details = {{"alerts_warn", s.alerts_warn},
                   {"alerts_act", s.alerts_act},
                   {"retrain_recommended", s.retrain_recommended}};
    out.message = std::to_string(s.alerts_act) + " act / " + std::to_string(s.alerts_warn) +
                  " warn alerts" + (s.retrain_recommended ? "; retraining recommended" : "");
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> NewMonitorStep(Env& env, const StepDef& def) {
  return std::make_unique<MonitorStep>(env, def);
}

}  // namespace riskpipe::pipeline
