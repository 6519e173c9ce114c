#pragma once
// Estimators: what turns a row of features into a margin (log-odds of default before
// calibration). Three kinds, each saved without pickle:
//   - LinearEstimator: logistic regression on standardised features (model.json);
//   - ScorecardEstimator: logistic regression on weight-of-evidence bins, scaled to points
//     (model.json);
//   - BoosterEstimator: XGBoost trees for the decision tree, random forest and gradient
//     boosting families (model.ubj, readable by any XGBoost 1.7+).
// Fitting lives here too (logistic regression by Newton's method; trees through XGBoost in
// the training module). Const methods are thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "model/forest.h"
#include "model/frame.h"
#include "model/preprocess.h"
#include "xgb/xgb.h"

namespace riskpipe::model {

// One feature's contribution to a row's margin, for reason codes.
struct Contribution {
  int feature = 0;   // index into Preprocessor::features()
  double value = 0;  // margin contribution (positive = riskier)
};

class Estimator {
 public:
  virtual ~Estimator() = default;
  // "logistic", "scorecard", "decision_tree", "random_forest", "xgboost".
  virtual std::string family() const = 0;
  // File name and bytes of the saved estimator.
  virtual std::string filename() const = 0;
  virtual StatusOr<std::string> Serialize() const = 0;
  // Margins of `rows` of `frame`.
  virtual StatusOr<std::vector<double>> Margins(const Frame& frame, std::span<const uint32_t> rows,
                                                const Preprocessor& pre) const = 0;
  // Per-feature margin contributions of `rows`, rows.size() x features matrix (row-major):
  // exact TreeSHAP for trees, coefficient x (value - mean) for the linear model, points
  // below the feature's best bin for the scorecard (as negative-points-as-risk).
  virtual StatusOr<std::vector<double>> Contributions(const Frame& frame,
                                                      std::span<const uint32_t> rows,
                                                      const Preprocessor& pre) const = 0;
};

// ---- Logistic regression ----

struct LogisticOptions {
  double l2 = 1e-3;  // penalty on the mean log loss: l2/2 * |beta|^2 (not the intercept)
  int max_iterations = 50;
  int threads = 0;  // 0 = hardware concurrency; results do not depend on it
};

struct LogisticFit {
  std::vector<double> beta;  // one per column
  double intercept = 0;
  int iterations = 0;
  bool converged = false;
};

// Newton's method (IRLS) on a row-major float matrix, rows x cols. Deterministic: partial
// sums go over fixed blocks of rows combined in order, whatever the thread count.
StatusOr<LogisticFit> FitLogistic(std::span<const float> x, size_t rows, size_t cols,
                                  std::span<const uint8_t> labels, const LogisticOptions& options);

class LinearEstimator : public Estimator {
 public:
  LinearEstimator(std::vector<std::string> columns, LogisticFit fit)
      : columns_(std::move(columns)), fit_(std::move(fit)) {}
  static StatusOr<std::unique_ptr<LinearEstimator>> FromJson(const nlohmann::json& j);
  std::string family() const override { return "logistic"; }
  std::string filename() const override { return "model.json"; }
  StatusOr<std::string> Serialize() const override;
  StatusOr<std::vector<double>> Margins(const Frame& frame, std::span<const uint32_t> rows,
                                        const Preprocessor& pre) const override;
  StatusOr<std::vector<double>> Contributions(const Frame& frame, std::span<const uint32_t> rows,
                                              const Preprocessor& pre) const override;
  const LogisticFit& fit() const { return fit_; }

 private:
  std::vector<std::string> columns_;  // encoded column names, for readers of model.json
  LogisticFit fit_;
};

// ---- WoE scorecard ----

struct ScorecardOptions {
  int bins = 8;             // quantile bins per numeric feature (fewer when values repeat)
  double pdo = 20;          // points to double the odds (good:bad)
  double base_score = 600;  // score at base_odds
  double base_odds = 50;    // good:bad odds that score base_score
  LogisticOptions logistic;
};

struct ScorecardBinning {
  // Numeric: bin i holds (edges[i-1], edges[i]]; then one bin above the last edge; the last
  // bin is "missing". Categorical: one bin per kept level, then "other", then "missing".
  std::vector<double> edges;
  std::vector<double> woe;     // ln(share of goods / share of bads), smoothed by 0.5
  std::vector<double> points;  // scaled points of each bin
  std::vector<int64_t> count;  // training rows per bin
  double coefficient = 0;
};

class ScorecardEstimator : public Estimator {
 public:
  static StatusOr<std::unique_ptr<ScorecardEstimator>> Fit(const Frame& frame,
                                                           std::span<const uint32_t> rows,
                                                           std::span<const uint8_t> labels,
                                                           const Preprocessor& pre,
                                                           const ScorecardOptions& options);
  static StatusOr<std::unique_ptr<ScorecardEstimator>> FromJson(const nlohmann::json& j,
                                                                const Preprocessor& pre);
  std::string family() const override { return "scorecard"; }
  std::string filename() const override { return "model.json"; }
  StatusOr<std::string> Serialize() const override;
  StatusOr<std::vector<double>> Margins(const Frame& frame, std::span<const uint32_t> rows,
                                        const Preprocessor& pre) const override;
  StatusOr<std::vector<double>> Contributions(const Frame& frame, std::span<const uint32_t> rows,
                                              const Preprocessor& pre) const override;
  // Total points of `rows` (higher = safer).
  StatusOr<std::vector<double>> Scores(const Frame& frame, std::span<const uint32_t> rows,
                                       const Preprocessor& pre) const;

 private:
  // Bin index of each row for feature `f`.
  Status BinRows(const Frame& frame, std::span<const uint32_t> rows, const Preprocessor& pre,
                 size_t f, std::vector<int>& out) const;
  ScorecardOptions options_;
  std::vector<ScorecardBinning> features_;
  double intercept_ = 0;
  double factor_ = 0, offset_ = 0;
};

// ---- XGBoost trees ----

class BoosterEstimator : public Estimator {
 public:
  BoosterEstimator(std::string family, xgb::Booster booster, std::string ubjson = {})
      : family_(std::move(family)), booster_(std::move(booster)), ubjson_(std::move(ubjson)) {}
  static StatusOr<std::unique_ptr<BoosterEstimator>> Load(std::string family,
                                                          std::string_view model_bytes);
  std::string family() const override { return family_; }
  std::string filename() const override { return "model.ubj"; }
  StatusOr<std::string> Serialize() const override { return booster_.SaveModel("ubj"); }
  StatusOr<std::vector<double>> Margins(const Frame& frame, std::span<const uint32_t> rows,
                                        const Preprocessor& pre) const override;
  StatusOr<std::vector<double>> Contributions(const Frame& frame, std::span<const uint32_t> rows,
                                              const Preprocessor& pre) const override;
  const xgb::Booster& booster() const { return booster_; }
  // The trees flattened for batch margins (model/forest.h), built on first use; nullptr when
  // the model cannot be flattened (Margins then calls XGBoost).
  const FlatForest* forest(size_t width) const;

 private:
  std::string family_;
  xgb::Booster booster_;
  std::string ubjson_;  // the saved model, parsed into forest_ on first use
  mutable std::once_flag forest_once_;
  mutable std::optional<FlatForest> forest_;
};

}  // namespace riskpipe::model
