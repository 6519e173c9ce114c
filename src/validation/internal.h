#pragma once
// Internal to the validation module: the state every check reads, and the checks themselves
// (performance.cc: rank and calibration checks on the out-of-time rows; perturbation.cc:
// checks that score perturbed copies of real rows). Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/package.h"
#include "features/dataset.h"
#include "validation/validation.h"

namespace riskpipe::validation::internal {

// The production version of the same name, scored on the same out-of-time rows.
struct ProductionComparison {
  std::string id;             // empty when there is none (or it is the validated version)
  std::optional<double> auc;  // nullopt when it could not score these rows
  std::string problem;        // why not
  // Inputs new applications no longer carry (FeaturesAbsentFromApplications at the cutoff):
  // both models are scored with them missing, as they would decide the next applications.
  std::vector<std::string> missing_now;
  std::optional<double> model_auc;  // the validated model on the same rows, when they differ
};

struct Context {
  const config::ValidationDef& cfg;
  const config::ModelDef& model_def;
  const model::ModelPackage& package;
  const features::TrainingData& data;
  const features::SplitRows& splits;
  std::vector<uint8_t> y_oot;  // labels of splits.oot, in order
  std::vector<double> margin_oot, pd_oot;
  double baseline_auc = 0;  // logistic regression fitted on splits.train
  ProductionComparison production;
  std::vector<std::string> protected_present;  // protected attributes that are data columns
  // The perturbation sample: at most cfg.max_rows out-of-time rows (all columns), its PDs.
  model::Frame sample;
  std::vector<double> sample_pd;
};

// A numeric column's label of a value against band edges: "< 25", "[25, 35)", ">= 50".
std::string BandLabel(const std::vector<double>& edges, double v);
// Out-of-time rows (indices into Context::splits.oot) grouped by a column's level or band.
// Numeric columns without edges are cut at the quartiles of the out-of-time values.
struct Group {
  std::string label;
  std::vector<size_t> rows;
};
std::vector<Group> GroupRows(const Context& ctx, const std::string& column,
                             const std::vector<double>& edges,
                             const std::vector<std::string>& levels);

// "%.4g" of a number, for rationale texts.
std::string Num(double v);

// A check's result: status "passed" or "failed" by `passed`, the measured `value` against the
// `threshold` configured under validation:`key`, why (`rationale`) and per-slice `details`.
CheckResult Make(std::string name, bool passed, nlohmann::json value, nlohmann::json threshold,
                 std::string key, std::string rationale,
                 nlohmann::json details = nlohmann::json::object());
// A check that does not apply to this model or data: it passes with status "not applicable",
// a null value and the rationale "not applicable: <why>".
CheckResult NotApplicable(std::string name, nlohmann::json threshold, std::string key,
                          std::string why);

std::vector<CheckResult> PerformanceChecks(const Context& ctx);
CheckResult MonthlyStability(const Context& ctx);
StatusOr<CheckResult> SegmentPerformance(const Context& ctx);
CheckResult Calibration(const Context& ctx);
CheckResult Fairness(const Context& ctx);

CheckResult ProtectedInputs(const Context& ctx);
StatusOr<CheckResult> Invariance(Context& ctx);
StatusOr<CheckResult> Directions(Context& ctx);
StatusOr<CheckResult> Noise(Context& ctx);
StatusOr<CheckResult> MissingValues(Context& ctx);

}  // namespace riskpipe::validation::internal
