#pragma once
// Exact path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2) and margins evaluated on
// copies of an XGBoost model's trees, read from its JSON dump by model::ReadGbtree. One row costs a
// few microseconds instead of the ~1 ms XGBoost's own contribution call spends building a DMatrix
// (dependency-notes.md); tests check both against XGBoost on many rows. Immutable after
// construction; thread-safe.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/gbtree_json.h"

namespace riskpipe::serving {

class TreeExplainer {
 public:
  // Parses `model_json` (Booster::SaveModel("json")) of a binary:logistic (or logitraw) gbtree
  // model over `num_features` dense features. InvalidArgument for anything else (dart,
  // multi-class, categorical splits, another feature count): callers fall back to XGBoost.
  static StatusOr<std::unique_ptr<TreeExplainer>> FromXgboostJson(std::string_view model_json,
                                                                  size_t num_features);

  size_t num_features() const { return num_features_; }
  // The raw margin (log-odds) of one encoded row (NaN = missing), as XGBoost predicts it.
  double Margin(std::span<const float> x) const;
  // Adds each encoded feature's SHAP value for row `x` to `phi` (size num_features(); the
  // bias is not included).
  void Contributions(std::span<const float> x, std::span<double> phi) const;

 private:
  using Node = model::GbtreeNode;
  using Tree = model::GbtreeTree;
  struct PathElement;
  uint32_t Next(const Node& n, std::span<const float> x) const;
  void Recurse(const Tree& tree, std::span<const float> x, std::span<double> phi, uint32_t node,
               uint32_t depth, PathElement* parent_path, double parent_zero, double parent_one,
               int parent_feature) const;

  std::vector<Tree> trees_;
  size_t num_features_ = 0;
  float base_margin_ = 0;  // model::Gbtree::base_margin
  int max_depth_ = 0;
};

}  // namespace riskpipe::serving
