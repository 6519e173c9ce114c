#include "model/forest.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/json.h"
#include "model/gbtree_json.h"

namespace riskpipe::model {

using json = nlohmann::json;

namespace {

// Rows scored together: their encoded values (kBlock x features floats) and margins stay in
// L1/L2 while every tree passes over them.
constexpr size_t kBlock = 128;

}  // namespace

template <int kDepth>
void FlatForest::AddTree(const Tree& tree, const float* x, size_t rows, float* acc) const {
  const Node* nodes = nodes_.data() + tree.nodes;
  const float* leaves = leaves_.data() + tree.leaves - ((1u << kDepth) - 1);
  const size_t width = num_features_;
  // One step of a row's walk: right when v >= threshold (false for NaN), or when v is missing
  // and the node sends missing values right. No branch: the next index is computed.
  auto step = [&](const float* row, uint32_t i) {
    const Node n = nodes[i];
    const float v = row[n.feature & 0x7fffffffu];
    const uint32_t right = static_cast<uint32_t>(v >= n.threshold) |
                           (static_cast<uint32_t>(v != v) & (n.feature >> 31));
    return 2 * i + 1 + right;
  };
  // kLanes rows walk the tree together: a walk is a chain of dependent loads, so independent
  // rows side by side keep the core busy instead of waiting on each load in turn.
  constexpr size_t kLanes = 16;
  size_t r = 0;
  for (; r + kLanes <= rows; r += kLanes) {
    uint32_t i[kLanes] = {};
    const float* row = x + r * width;
    for (int d = 0; d < kDepth; ++d) {
      for (size_t k = 0; k < kLanes; ++k) i[k] = step(row + k * width, i[k]);
    }
    for (size_t k = 0; k < kLanes; ++k) acc[r + k] += leaves[i[k]];
  }
  for (; r < rows; ++r) {
    uint32_t i = 0;
    for (int d = 0; d < kDepth; ++d) i = step(x + r * width, i);
    acc[r] += leaves[i];
  }
}

StatusOr<FlatForest> FlatForest::FromUbjson(std::string_view ubjson, size_t num_features) {
  const json j = json::from_ubjson(ubjson, /*strict=*/true, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("flat forest: the model is not UBJSON");
  ASSIGN_OR_RETURN(const Gbtree model, ReadGbtree(j, num_features, "flat forest"));
  FlatForest f;
  f.num_features_ = num_features;
  f.base_margin_ = model.base_margin;
  for (const GbtreeTree& t : model.trees) {
    if (t.depth > kMaxDepth) {
      return InvalidArgumentError("flat forest: a tree is " + std::to_string(t.depth) +
                                  " deep (at most " + std::to_string(kMaxDepth) + ")");
    }
    f.AddFlattened(t);
  }
  return f;
}

void FlatForest::AddFlattened(const GbtreeTree& t) {
  Tree tree;
  tree.depth = t.depth;
  tree.nodes = static_cast<uint32_t>(nodes_.size());
  tree.leaves = static_cast<uint32_t>(leaves_.size());
  const uint32_t internal = (1u << t.depth) - 1;
  nodes_.resize(nodes_.size() + internal);
  leaves_.resize(leaves_.size() + (1u << t.depth));
  // Fill the perfect tree: position p at `level` mirrors XGBoost node i; a leaf above the
  // bottom fills its whole subtree (any split below it reaches a copy of its value).
  struct Item {
    uint32_t p, i;
    int level;
  };
  std::vector<Item> pending = {{0, 0, 0}};
  while (!pending.empty()) {
    const Item it = pending.back();
    pending.pop_back();
    const GbtreeNode& source = t.nodes[it.i];
    if (it.level == t.depth) {
      leaves_[tree.leaves + it.p - internal] = source.split_condition;
      continue;
    }
    uint32_t l = it.i, r = it.i;
    if (source.left >= 0) {
      Node& node = nodes_[tree.nodes + it.p];
      node.threshold = source.split_condition;
      node.feature = source.feature | (source.default_left ? 0u : 1u << 31);
      l = static_cast<uint32_t>(source.left);
      r = static_cast<uint32_t>(source.right);
    }
    pending.push_back({2 * it.p + 1, l, it.level + 1});
    pending.push_back({2 * it.p + 2, r, it.level + 1});
  }
  trees_.push_back(tree);
}

void FlatForest::Margins(std::span<const float> x, size_t rows, std::span<float> out) const {
  using Kernel = void (FlatForest::*)(const Tree&, const float*, size_t, float*) const;
  static constexpr Kernel kKernels[kMaxDepth + 1] = {
      &FlatForest::AddTree<0>,  &FlatForest::AddTree<1>,  &FlatForest::AddTree<2>,
      &FlatForest::AddTree<3>,  &FlatForest::AddTree<4>,  &FlatForest::AddTree<5>,
      &FlatForest::AddTree<6>,  &FlatForest::AddTree<7>,  &FlatForest::AddTree<8>,
      &FlatForest::AddTree<9>,  &FlatForest::AddTree<10>, &FlatForest::AddTree<11>,
      &FlatForest::AddTree<12>, &FlatForest::AddTree<13>, &FlatForest::AddTree<14>};
  for (size_t start = 0; start < rows; start += kBlock) {
    const size_t n = std::min(kBlock, rows - start);
    float* acc = out.data() + start;
    for (size_t r = 0; r < n; ++r) acc[r] = base_margin_;
    const float* block = x.data() + start * num_features_;
    for (const Tree& t : trees_) (this->*kKernels[t.depth])(t, block, n, acc);
  }
}

}  // namespace riskpipe::model
