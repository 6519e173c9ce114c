#include "model/forest.h"

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

float ParamFloat(const json& v) {
  if (v.is_number()) return v.get<float>();
  return std::strtof(v.get<std::string>().c_str(), nullptr);
}

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
  FlatForest f;
  f.num_features_ = num_features;
  ASSIGN_OR_RETURN(const GbtreeHeader header, ReadGbtreeHeader(j, num_features, "flat forest"));
  const json& booster = *header.booster;
  try {
    // The base margin as XGBoost computes it: in float, from the stored base_score.
    const float base_score = ParamFloat(*header.base_score);
    if (header.objective == "binary:logitraw") {
      f.base_margin_ = base_score;
    } else {
      if (!(base_score > 0.0f && base_score < 1.0f)) {
        return InvalidArgumentError("flat forest: base_score out of (0, 1)");
      }
      f.base_margin_ = -logf(1.0f / base_score - 1.0f);
    }
    for (const json& t : booster.at("model").at("trees")) {
      const json& left = t.at("left_children");
      const json& right = t.at("right_children");
      const json& feature = t.at("split_indices");
      const json& cond = t.at("split_conditions");
      const json& dleft = t.at("default_left");
      const json* type = t.contains("split_type") ? &t.at("split_type") : nullptr;
      const size_t n = left.size();
      if (n == 0 || right.size() != n || feature.size() != n || cond.size() != n ||
          dleft.size() != n) {
        return InvalidArgumentError("flat forest: a tree has inconsistent node arrays");
      }
      // Depth of every node from the root, checking the structure is a tree.
      std::vector<int> depth(n, -1);
      depth[0] = 0;
      int max_depth = 0;
      std::vector<uint32_t> stack = {0};
      while (!stack.empty()) {
        const uint32_t i = stack.back();
        stack.pop_back();
        const int l = left[i].get<int>(), r = right[i].get<int>();
        if (l < 0) {
          max_depth = std::max(max_depth, depth[i]);
          continue;
        }
        if (type != nullptr && (*type)[i].get<int>() != 0) {
          return InvalidArgumentError("flat forest: categorical splits are not supported");
        }
        if (feature[i].get<uint64_t>() >= num_features) {
          return InvalidArgumentError("flat forest: a split uses feature " + feature[i].dump());
        }
        for (int c : {l, r}) {
          if (c <= 0 || static_cast<size_t>(c) >= n || depth[c] >= 0) {
            return InvalidArgumentError("flat forest: a tree is not a tree");
          }
          depth[c] = depth[i] + 1;
          stack.push_back(static_cast<uint32_t>(c));
        }
      }
      if (max_depth > kMaxDepth) {
        return InvalidArgumentError("flat forest: a tree is " + std::to_string(max_depth) +
                                    " deep (at most " + std::to_string(kMaxDepth) + ")");
      }
      Tree tree;
      tree.depth = max_depth;
      tree.nodes = static_cast<uint32_t>(f.nodes_.size());
      tree.leaves = static_cast<uint32_t>(f.leaves_.size());
      const uint32_t internal = (1u << max_depth) - 1;
      f.nodes_.resize(f.nodes_.size() + internal);
      f.leaves_.resize(f.leaves_.size() + (1u << max_depth));
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
        const bool leaf = left[it.i].get<int>() < 0;
        if (it.level == max_depth) {
          f.leaves_[tree.leaves + it.p - internal] = cond[it.i].get<float>();
          continue;
        }
        Node& node = f.nodes_[tree.nodes + it.p];
        uint32_t l = it.i, r = it.i;
        if (!leaf) {
          node.threshold = cond[it.i].get<float>();
          node.feature =
              feature[it.i].get<uint32_t>() | (dleft[it.i].get<int>() != 0 ? 0u : 1u << 31);
          l = left[it.i].get<uint32_t>();
          r = right[it.i].get<uint32_t>();
        }
        pending.push_back({2 * it.p + 1, l, it.level + 1});
        pending.push_back({2 * it.p + 2, r, it.level + 1});
      }
      f.trees_.push_back(tree);
    }
    if (booster.at("model").contains("tree_info")) {
      for (const json& g : booster.at("model").at("tree_info")) {
        if (g.get<int>() != 0)
          return InvalidArgumentError("flat forest: more than one output group");
      }
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("flat forest: unexpected model layout: ") + e.what());
  }
  return f;
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
