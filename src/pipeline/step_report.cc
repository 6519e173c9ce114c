// report: the dashboard and the business report, once after the last month.

#include "pipeline/steps.h"
#include "report/report.h"

namespace riskpipe::pipeline {
namespace {

class ReportStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext&) override {
    StepOutput out;
    report::Options o;
    o.pdf = report::FindChromium().ok();
    ASSIGN_OR_RETURN(report::Outputs r, report::WriteReports(env_.project, o));
    out.rows_out = r.dashboard_charts + r.report_charts;
    out.fingerprint = "report";
    out.message =
        r.dashboard.string() + ", " + r.report_html.string() +
        (r.report_pdf.empty() ? " (no PDF: chromium not found)" : ", " + r.report_pdf.string());
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> NewReportStep(Env& env, const StepDef& def) {
  return std::make_unique<ReportStep>(env, def);
}

}  // namespace riskpipe::pipeline
