// labels: loan dpd of the month and the label store of every cohort whose label can still
// change, as of the month's last day.

#include <algorithm>

#include "features/label_store.h"
#include "pipeline/steps.h"

namespace riskpipe::pipeline {
namespace {

// Months a label can take to mature after its application month: the label store of these
// cohorts is rebuilt by each month's labels step.
int LabelMaturityMonths(const config::LabelDef& label) {
  if (label.kind == config::LabelKind::kDpd) return label.mob + 1;
  return (label.outcome_window_days + 29) / 30 + 1;
}

class LabelsStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    const auto& label = env_.project.label;
    if (!label) return NotDue("no label section");
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    if (label->kind == config::LabelKind::kDpd) {
      features::LoanDpdOptions o;
      o.month = c.month;
      auto dpd = features::BuildLoanDpd(env_.project, *con, o);
      if (!dpd.ok() && dpd.status().code() != StatusCode::kNotFound) return dpd.status();
    }
    // Cohorts whose labels can change this month, from the first month the source holds.
    const auto parts = env_.mart.ListPartitions(datamart::Layer::kSilver, label->source);
    Month first = c.month;
    for (Date d : parts) {
      if (d != datamart::UndatedPartition()) {
        first = std::min(first, Month::Of(d));
        break;
      }
    }
    const Date as_of = c.month.Next().first_day().AddDays(-1);
    for (Month m = std::max(first, c.month.Next(-LabelMaturityMonths(*label))); m <= c.month;
         m = m.Next()) {
      features::LabelBuildOptions o;
      o.month = m;
      o.as_of = as_of;
      auto built = features::BuildLabelStore(env_.project, *con, o);
      if (!built.ok() && built.status().code() == StatusCode::kNotFound) {
        out.message = "no label source rows yet";
        continue;
      }
      if (!built.ok()) return built.status();
      out.rows_out += built->rows();
      out.details[m.ToString()] = {{"loans", built->rows()}, {"labelled", built->labelled()}};
    }
    if (out.message.empty()) {
      out.message = std::to_string(out.rows_out) + " loans relabelled as of " + as_of.ToString();
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> NewLabelsStep(Env& env, const StepDef& def) {
  return std::make_unique<LabelsStep>(env, def);
}

}  // namespace riskpipe::pipeline
