#pragma once
// The development reference of a model version: what monitoring compares every month with.
// Score bins and sorted PDs, approval rate, and per feature its bins (numeric: reference
// deciles; text: levels), bin shares with a separate missing bin, null rate, mean |attribution|
// and mean per score decile. Built once from the model's held-out development rows (its
// validation and out-of-time rows, reproduced from metadata.json; training rows are scored
// over-confidently by flexible models) and cached as JSON plus a binary file of the
// sorted PDs under <workspace>/monitoring/reference/<name>/<version>/. Plain values.

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "db/database.h"
#include "model/frame.h"
#include "registry/registry.h"

namespace riskpipe::monitoring {

// Bins per score and per numeric feature: deciles (the customary PSI/CSI grid).
inline constexpr int kBins = 10;
// Top features (by development mean |attribution|) profiled per score decile.
inline constexpr int kProfileFeatures = 5;

struct FeatureReference {
  std::string name;
  bool text = false;
  std::vector<double> edges;        // numeric: interior cut points (value bins = edges + 1)
  std::vector<std::string> levels;  // text: one bin per level, then an "other" bin
  // Counts per value bin, then one last bin for missing values.
  std::vector<double> counts;
  double null_rate = 0;
  double importance = 0;  // mean |attribution| on the development sample (0 when unknown)
  std::vector<double> decile_means;  // per score decile (NaN when empty); numeric only
  // Number of value bins (counts.size() - 1).
  size_t value_bins() const { return counts.empty() ? 0 : counts.size() - 1; }
};

struct Reference {
  std::string model_id, model_name;
  int64_t model_version = 0;
  std::string sample;  // how the development sample was chosen, for the evidence
  int64_t rows = 0;
  std::vector<double> score_edges;   // PD deciles of the development sample (interior)
  std::vector<double> score_counts;  // rows per score bin (score_edges.size() + 1)
  std::vector<double> sorted_pd;     // every development PD, ascending (for the KS test)
  double threshold = 0.5;            // decline when pd >= threshold
  double approval_rate = 0, mean_pd = 0, default_rate = 0;
  double auc = 0;  // development AUC (metadata: out-of-time, else validation, else this sample)
  // Observed default rate and mean PD of the out-of-time rows alone (NaN without them): the
  // model's calibration on data it was neither fitted nor calibrated on, the evidence for its
  // estimated calibration gap until its own scoring months mature.
  double oot_default_rate = std::numeric_limits<double>::quiet_NaN();
  double oot_mean_pd = std::numeric_limits<double>::quiet_NaN();
  std::optional<Month> oot_end;            // last month the model's data covered
  std::vector<FeatureReference> features;  // the model's input features, in its order
  std::vector<int> profile;  // indices into features: the top numeric ones by importance
};

// Builds the reference from `pd`, optional mean |attribution| per feature, and `frame` rows.
// `features` names the model's inputs (frame columns). Pure; used by tests and the bench.
Reference BuildReference(const model::Frame& frame, const std::vector<std::string>& features,
                         const std::vector<double>& pd, const std::vector<uint8_t>* labels,
                         const std::vector<double>& importance, double threshold);

// Bin of `v` among `edges` (v <= edges[0] -> 0, ..., > edges.back() -> edges.size()).
inline int BinOf(double v, const std::vector<double>& edges) {
  int b = 0;
  for (double e : edges) b += v > e;
  return b;
}

// The cached reference of model `model_id` (<name>/<version>), built on first use: loads the
// package through the registry (MANIFEST verified), reproduces its development sample with
// features::LoadTrainingData at the package's cutoff and splits, scores it and computes
// attributions. NotFound for an unknown model; FailedPrecondition when the stores are gone.
StatusOr<Reference> LoadOrBuildReference(const config::Project& project, registry::Registry& reg,
                                         db::Connection& con, const std::string& model_id);

// Cache files (exposed for tests and docs).
std::filesystem::path ReferenceDir(const config::Project& project, const std::string& model_id);
Status SaveReference(const Reference& ref, const std::filesystem::path& dir);
StatusOr<Reference> ReadReference(const std::filesystem::path& dir);

}  // namespace riskpipe::monitoring
