// quality: the expectation suites on the month's bronze and silver partitions; a failure stops
// the month (pipeline.quality_gate: stop) after raising its data-quality alert, or is only
// reported (warn).

#include <chrono>
#include <filesystem>

#include "metastore/metastore.h"
#include "monitoring/monitoring.h"
#include "pipeline/steps.h"
#include "quality/quality.h"

namespace riskpipe::pipeline {
namespace {

class QualityStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext& c) override {
    const config::Project& project = env_.project;
    StepOutput out;
    if (!std::filesystem::is_directory(project.expectations_dir)) {
      return NotDue("no expectation suites");
    }
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    ASSIGN_OR_RETURN(auto suites, config::LoadExpectationSuites(project.expectations_dir));
    std::vector<quality::SuiteResult> results;
    std::string failures;
    const quality::RunContext context{
        c.run_id, metastore::FormatUtcTimestamp(std::chrono::system_clock::now())};
    for (const auto& suite : suites) {
      if (suite.layer != "silver" && suite.layer != "bronze") continue;
      ASSIGN_OR_RETURN(quality::SuiteResult r,
                       quality::EvaluateSuite(*con, env_.mart, suite, c.month));
      RETURN_IF_ERROR(quality::WriteReport(project.workspace, r, context).status());
      out.rows_in += r.rows;
      if (r.failed()) failures += (failures.empty() ? "" : "; ") + r.FailureMessage();
      results.push_back(std::move(r));
    }
    if (results.empty()) return NotDue("no silver or bronze suites");
    RETURN_IF_ERROR(quality::WriteResults(*con, env_.mart, c.month, results, context));
    out.rows_out = static_cast<int64_t>(results.size());
    if (failures.empty()) {
      out.message = std::to_string(results.size()) + " suites passed";
      return out;
    }
    if (project.pipeline.quality_gate == config::QualityGate::kStop) {
      RETURN_IF_ERROR(RaiseAlerts(*con, c.month));
      return FailedPreconditionError("quality gate: " + failures + " (alerts raised)");
    }
    out.message = "warnings (quality_gate: warn): " + failures;
    out.details["failures"] = failures;
    return out;
  }

 private:
  // The month stops here, so monitoring never sees it: its data-quality alerts are raised now,
  // for the production model whose decisions it would have fed.
  Status RaiseAlerts(db::Connection& con, Month month) {
    std::string model_id;
    {
      std::lock_guard<std::mutex> lock(env_.registry_mu);
      ASSIGN_OR_RETURN(std::optional<Arms> arms, CurrentArms(env_.project, env_.registry, month));
      if (arms) model_id = arms->champion;
    }
    return monitoring::RaiseQualityAlerts(env_.project, con, month, model_id)
        .status()
        .WithPrefix("quality alerts");
  }
};

}  // namespace

std::unique_ptr<Step> NewQualityStep(Env& env, const StepDef& def) {
  return std::make_unique<QualityStep>(env, def);
}

}  // namespace riskpipe::pipeline
