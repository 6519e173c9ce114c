// riskpipe validate: the pre-deployment validation gate on a registered model version
// (docs/validation.md). Exit 0 when every check passed, 1 when one failed (the result is
// stored in the package either way), 2 for usage or configuration errors.

#include <cstdio>

#include "cli/commands.h"
#include "db/database.h"
#include "registry/registry.h"
#include "validation/validation.h"

namespace riskpipe::cli {

void RegisterValidate(CLI::App& app, ValidateFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Run the pre-deployment validation gate on a registered model version, loaded back from\n"
      "the registry: OOT AUC/KS floors, logistic-baseline and production benchmarks, AUC per\n"
      "OOT month and per segment, protected attributes (not inputs, PDs invariant), directional\n"
      "expectations, noise robustness, missing values, calibration by decile and the\n"
      "four-fifths approval-rate rule. Thresholds come from the validation: section. The\n"
      "result is stored in the package as validation.json with a registry event; promotion to\n"
      "production needs a passing one (docs/validation.md). Exit 0 passed, 1 a check failed.");
  cmd->add_option("model", flags.ref,
                  "Model version: NAME/VERSION, NAME/latest, latest, NAME/production")
      ->required();
  cmd->add_flag("--json", flags.json, "Print validation.json instead of the table");
}

int RunValidate(const GlobalFlags& global, const ValidateFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  if (!project->model) {
    return ReportFailure(InvalidArgumentError(project->config_path.string() +
                                              ": no `model:` section, so there are no rows to "
                                              "validate on (docs/training.md)"),
                         kExitUsage);
  }
  auto reg = registry::Registry::Open(project->workspace);
  if (!reg.ok()) return ReportFailure(reg.status());
  auto database = db::Database::Open(":memory:");
  if (!database.ok()) return ReportFailure(database.status());
  auto con = database->Connect();
  if (!con.ok()) return ReportFailure(con.status());
  auto report = validation::ValidateModel(*project, *con, *reg, flags.ref);
  if (!report.ok()) {
    const bool usage = report.status().code() == StatusCode::kInvalidArgument;
    return ReportFailure(report.status().WithPrefix("validate " + flags.ref),
                         usage ? kExitUsage : kExitFailed);
  }
  if (flags.json) {
    std::printf("%s\n", report->json.dump(2).c_str());
  } else {
    std::printf("validation of %s\n%s", report->model_id.c_str(),
                validation::FormatReport(*report).c_str());
    std::printf("stored as validation.json in the package (riskpipe models show %s)\n",
                report->model_id.c_str());
  }
  return report->passed ? kExitOk : kExitFailed;
}

}  // namespace riskpipe::cli
