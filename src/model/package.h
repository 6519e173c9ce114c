#pragma once
// A model package: everything needed to turn raw features into a calibrated probability of
// default, as plain files (docs/model-package.md):
//   model.ubj | model.json   the estimator (XGBoost UBJSON, or riskpipe JSON for linear models)
//   preprocess.json          input schema, imputation, encodings, scaling (fitted on training rows)
//   calibration.json         score -> PD map (Platt or isotonic, fitted on validation rows),
//                            the decision threshold and the score bands
//   metadata.json            id, version, lineage, metrics, parameters, dependency versions
//   MANIFEST                 sha256 of every file (written by the registry)
// A loaded package is immutable; Score and Explain are thread-safe.

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "model/estimator.h"
#include "model/frame.h"
#include "model/preprocess.h"
#include "stats/calibration.h"

namespace riskpipe::model {

class Calibrator {
 public:
  Calibrator() = default;
  explicit Calibrator(stats::PlattCalibrator p) : method_(p) {}
  explicit Calibrator(stats::IsotonicCalibrator i) : method_(std::move(i)) {}
  std::string method() const;
  // PD of a margin: the sigmoid of the margin when no calibrator was fitted ("identity").
  double Apply(double margin) const;
  nlohmann::json ToJson() const;
  static StatusOr<Calibrator> FromJson(const nlohmann::json& j);

 private:
  std::variant<std::monostate, stats::PlattCalibrator, stats::IsotonicCalibrator> method_;
};

// A score band: PDs in [min_pd, max_pd) get this label ("A" safest .. "E").
struct ScoreBand {
  std::string band;
  double min_pd = 0, max_pd = 1;
};

// What a PD decides. kRefer: no decision by the model, the application goes to manual review
// (its PD is not a number in [0, 1], e.g. an input the model cannot encode).
enum class Decision { kApprove, kDecline, kRefer };
// "approve", "decline", "refer": the words of gold/predictions and the API.
const char* DecisionName(Decision d);

// Decision policy stored with the model: approve when PD < threshold, decline when PD >=
// threshold, refer when the PD is not a finite number in [0, 1] (NaN never approves).
struct DecisionPolicy {
  double threshold = 0.5;
  std::string rule;  // how it was chosen, e.g. "approval rate 70% on validation"
  std::vector<ScoreBand> bands;
  // The band of `pd`; "" for a PD that Decide refers (no band without a PD).
  std::string BandOf(double pd) const;
  Decision Decide(double pd) const;
};

struct Scores {
  std::vector<double> margin;  // estimator output (log-odds before calibration)
  // Calibrated probability of default; NaN for a row the package refuses to score (an input
  // beyond float's range: Preprocessor::UnscorableInput) or whose margin is not finite.
  std::vector<double> pd;
};

class ModelPackage {
 public:
  ModelPackage(Preprocessor pre, std::unique_ptr<Estimator> estimator, Calibrator calibrator,
               DecisionPolicy policy);

  // Reads a package folder. Does not check the MANIFEST: load through the registry for that.
  // InvalidArgument naming the file for anything malformed.
  static StatusOr<ModelPackage> Load(const std::filesystem::path& dir);
  // Writes the estimator, preprocess.json and calibration.json into `dir` (which must exist).
  // metadata.json is written by the caller (training), the MANIFEST by the registry.
  Status Save(const std::filesystem::path& dir) const;

  StatusOr<Scores> Score(const Frame& frame, std::span<const uint32_t> rows) const;
  StatusOr<Scores> Score(const Frame& frame) const;

  const Preprocessor& preprocessor() const { return pre_; }
  const Estimator& estimator() const { return *estimator_; }
  const Calibrator& calibrator() const { return calibrator_; }
  const DecisionPolicy& policy() const { return policy_; }
  const nlohmann::json& metadata() const { return metadata_; }
  void set_metadata(nlohmann::json m) { metadata_ = std::move(m); }

 private:
  Preprocessor pre_;
  std::unique_ptr<Estimator> estimator_;
  Calibrator calibrator_;
  DecisionPolicy policy_;
  nlohmann::json metadata_;
};

// Writes `bytes` to dir/name atomically (temporary file, fsync, rename).
Status WritePackageFile(const std::filesystem::path& dir, const std::string& name,
                        std::string_view bytes);

}  // namespace riskpipe::model
