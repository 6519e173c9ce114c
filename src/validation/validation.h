#pragma once
// The pre-deployment validation gate (docs/validation.md): a registered model version, loaded
// back from the registry (MANIFEST verified), is checked on the out-of-time rows its training
// used — performance floors and benchmarks, stability by month, slices, invariance to
// protected attributes, directional expectations, noise robustness, missing values,
// calibration and fairness. The result is stored in the package as validation.json, with a
// "validated" registry event; Registry::Promote refuses a version without a passing one
// unless an override reason is recorded. Thread-safety: one call per Registry/Connection.

#include <string>
#include <string_view>

#include "config/config.h"
#include "core/date.h"
#include "core/json.h"
#include "core/status.h"
#include "db/database.h"
#include "registry/registry.h"

namespace riskpipe::validation {

// One check of the gate, as stored in validation.json's "checks".
struct CheckResult {
  std::string name;       // e.g. "oot_auc_floor"
  std::string status;     // "passed", "failed" or "not applicable" (which also passes)
  bool passed = false;
  nlohmann::json value;      // the measured number (null when not applicable)
  nlohmann::json threshold;  // the configured bound it was compared with
  std::string threshold_key;  // the validation: key of that bound
  std::string rationale;      // why the check exists and why it passed or failed
  nlohmann::json details;     // per month / segment / feature / decile figures
};

struct ValidationReport {
  std::string model_id;  // "<name>/<version>"
  bool passed = false;   // every check passed
  std::vector<CheckResult> checks;
  nlohmann::json json;   // exactly what validation.json holds
};

// Runs every check on the version `model_ref` resolves to (see Registry::Get), on the rows
// LoadTrainingData + MakeSplits give for `project`'s model section with the cutoff stored in
// the package's metadata, then stores validation.json in the package (Registry::AddFile) and
// records a "validated" event. A failing check is a result (report.passed false), not an
// error. Errors: NotFound for an unknown reference; DataLoss for a tampered package;
// FailedPrecondition when the project has no model section or no out-of-time rows;
// InvalidArgument for a config problem (a segment or direction naming an unknown column).
StatusOr<ValidationReport> ValidateModel(const config::Project& project, db::Connection& con,
                                         registry::Registry& registry,
                                         std::string_view model_ref);

// The report as a fixed-width text table: one line per check with value, threshold and
// verdict, then the failed checks' rationale.
std::string FormatReport(const ValidationReport& report);

// Whether a check fails on what a model's functional form does under small input changes
// (directional expectations, perturbation robustness, missing values, protected attributes),
// not on a sample's statistics. A model failing only these may be replaced by another
// candidate of the same training; a failed statistical check may not, since trying further
// candidates on the same out-of-time rows would select on them (docs/pipeline.md).
bool IsBehaviouralCheck(std::string_view check_name);

// Features of the project that no application of `month` (gold feature store partition) nor of
// the newest partition before it carries: NULL in every row of both, i.e. a source that stopped
// covering new applicants. Two months, so that a one-month outage does not count. Empty for a
// project trained from one file or with fewer than two partitions up to `month`. The pipeline
// trains without them; the production benchmark scores both models without them
// (docs/validation.md). Errors of the store.
StatusOr<std::vector<std::string>> FeaturesAbsentFromApplications(const config::Project& project,
                                                                  db::Connection& con, Month month);

}  // namespace riskpipe::validation
