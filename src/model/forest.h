#pragma once
// FlatForest: an XGBoost gbtree model's trees copied into a layout made for scoring many rows
// at once. Each tree of depth D becomes a perfect binary tree of 2^D - 1 split nodes (a leaf
// above the bottom is padded with splits whose both sides lead to copies of it) and 2^D
// leaves, so a row walks exactly D steps without branches: next = 2 i + 1 + (go right). Rows
// are scored in blocks, tree by tree, so the trees stay in cache and independent rows overlap
// in the CPU. Margins equal XGBoost's PredictFromDense output bit for bit: the same float
// comparisons (left when x < threshold, missing follows default_left), the base margin as
// ReadGbtree computes it (in float, as XGBoost does), and leaf values added in float in tree
// order (tests/model/forest_test.cc checks equality on many rows). Immutable after
// construction; thread-safe.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/gbtree_json.h"

namespace riskpipe::model {

class FlatForest {
 public:
  // Trees deeper than this are not flattened (2^depth leaves each); callers use XGBoost.
  static constexpr int kMaxDepth = 14;

  // From the UBJSON bytes of Booster::SaveModel("ubj") (float values arrive exactly as stored)
  // of a binary:logistic, reg:logistic or binary:logitraw gbtree model over `num_features`
  // dense numeric features. InvalidArgument for anything else (dart, multi-output, categorical
  // splits, deeper trees, another feature count): callers fall back to XGBoost.
  static StatusOr<FlatForest> FromUbjson(std::string_view ubjson, size_t num_features);

  size_t num_features() const { return num_features_; }
  size_t num_trees() const { return trees_.size(); }

  // Margins of `rows` rows of the row-major matrix `x` (rows x num_features(), NaN =
  // missing) into `out` (size rows), on the calling thread.
  void Margins(std::span<const float> x, size_t rows, std::span<float> out) const;

 private:
  struct Node {
    float threshold = 0;   // go left when x < threshold
    uint32_t feature = 0;  // bit 31: a missing value goes right
  };
  struct Tree {
    int depth = 0;
    uint32_t nodes = 0;   // offset of its 2^depth - 1 split nodes in nodes_
    uint32_t leaves = 0;  // offset of its 2^depth leaf values in leaves_
  };
  // Appends `t` (at most kMaxDepth deep) padded to a perfect tree.
  void AddFlattened(const GbtreeTree& t);
  template <int kDepth>
  void AddTree(const Tree& tree, const float* x, size_t rows, float* acc) const;

  std::vector<Tree> trees_;
  std::vector<Node> nodes_;
  std::vector<float> leaves_;
  size_t num_features_ = 0;
  float base_margin_ = 0;
};

}  // namespace riskpipe::model
