#include "serving/tree_shap.h"

#include <algorithm>
#include <cmath>

#include "core/json.h"
#include "model/gbtree_json.h"

namespace riskpipe::serving {

using json = nlohmann::json;

struct TreeExplainer::PathElement {
  int feature = -1;
  double zero_fraction = 0, one_fraction = 0, pweight = 0;
};

StatusOr<std::unique_ptr<TreeExplainer>> TreeExplainer::FromXgboostJson(std::string_view model_json,
                                                                        size_t num_features) {
  const json j = json::parse(model_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("tree explainer: the model is not JSON");
  ASSIGN_OR_RETURN(model::Gbtree model, model::ReadGbtree(j, num_features, "tree explainer"));
  std::unique_ptr<TreeExplainer> e(new TreeExplainer());
  e->num_features_ = num_features;
  e->base_margin_ = model.base_margin;
  for (const Tree& t : model.trees) e->max_depth_ = std::max(e->max_depth_, t.depth);
  e->trees_ = std::move(model.trees);
  return e;
}

uint32_t TreeExplainer::Next(const Node& n, std::span<const float> x) const {
  const float v = x[n.feature];
  if (std::isnan(v)) return static_cast<uint32_t>(n.default_left ? n.left : n.right);
  return static_cast<uint32_t>(v < n.split_condition ? n.left : n.right);
}

double TreeExplainer::Margin(std::span<const float> x) const {
  // Summed in float like XGBoost's predictor, so margins agree to the last bits.
  float sum = base_margin_;
  for (const Tree& t : trees_) {
    uint32_t i = 0;
    while (t.nodes[i].left >= 0) i = Next(t.nodes[i], x);
    sum += t.nodes[i].split_condition;
  }
  return static_cast<double>(sum);
}

// The three path helpers of the paper (EXTEND, UNWIND and the unwound sum).
static void Extend(auto* path, uint32_t depth, double zero, double one, int feature) {
  path[depth].feature = feature;
  path[depth].zero_fraction = zero;
  path[depth].one_fraction = one;
  path[depth].pweight = depth == 0 ? 1.0 : 0.0;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    path[i + 1].pweight += one * path[i].pweight * (i + 1) / static_cast<double>(depth + 1);
    path[i].pweight = zero * path[i].pweight * (depth - i) / static_cast<double>(depth + 1);
  }
}

static void Unwind(auto* path, uint32_t depth, uint32_t index) {
  const double one = path[index].one_fraction, zero = path[index].zero_fraction;
  double next_one = path[depth].pweight;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    if (one != 0) {
      const double tmp = path[i].pweight;
      path[i].pweight = next_one * (depth + 1) / static_cast<double>((i + 1) * one);
      next_one = tmp - path[i].pweight * zero * (depth - i) / static_cast<double>(depth + 1);
    } else {
      path[i].pweight = path[i].pweight * (depth + 1) / (zero * (depth - i));
    }
  }
  for (uint32_t i = index; i < depth; ++i) {
    path[i].feature = path[i + 1].feature;
    path[i].zero_fraction = path[i + 1].zero_fraction;
    path[i].one_fraction = path[i + 1].one_fraction;
  }
}

static double UnwoundSum(const auto* path, uint32_t depth, uint32_t index) {
  const double one = path[index].one_fraction, zero = path[index].zero_fraction;
  double next_one = path[depth].pweight, total = 0;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    if (one != 0) {
      const double tmp = next_one * (depth + 1) / static_cast<double>((i + 1) * one);
      total += tmp;
      next_one = path[i].pweight - tmp * zero * ((depth - i) / static_cast<double>(depth + 1));
    } else {
      total += (path[i].pweight / zero) / ((depth - i) / static_cast<double>(depth + 1));
    }
  }
  return total;
}

void TreeExplainer::Recurse(const Tree& tree, std::span<const float> x, std::span<double> phi,
                            uint32_t node, uint32_t depth, PathElement* parent_path,
                            double parent_zero, double parent_one, int parent_feature) const {
  const Node& n = tree.nodes[node];
  PathElement* path = parent_path + depth + 1;
  std::copy(parent_path, parent_path + depth + 1, path);
  Extend(path, depth, parent_zero, parent_one, parent_feature);
  if (n.left < 0) {
    for (uint32_t i = 1; i <= depth; ++i) {
      const double w = UnwoundSum(path, depth, i);
      phi[static_cast<size_t>(path[i].feature)] +=
          w * (path[i].one_fraction - path[i].zero_fraction) * n.split_condition;
    }
    return;
  }
  const uint32_t hot = Next(n, x);
  const uint32_t cold = hot == static_cast<uint32_t>(n.left) ? static_cast<uint32_t>(n.right)
                                                             : static_cast<uint32_t>(n.left);
  const double hot_zero = tree.nodes[hot].cover / n.cover;
  const double cold_zero = tree.nodes[cold].cover / n.cover;
  double incoming_zero = 1, incoming_one = 1;
  // A feature split on again higher up the path: undo that split, redo it here.
  uint32_t index = 0;
  for (; index <= depth; ++index) {
    if (path[index].feature == static_cast<int>(n.feature)) break;
  }
  if (index != depth + 1) {
    incoming_zero = path[index].zero_fraction;
    incoming_one = path[index].one_fraction;
    Unwind(path, depth, index);
    depth -= 1;
  }
  const int f = static_cast<int>(n.feature);
  Recurse(tree, x, phi, hot, depth + 1, path, hot_zero * incoming_zero, incoming_one, f);
  Recurse(tree, x, phi, cold, depth + 1, path, cold_zero * incoming_zero, 0, f);
}

void TreeExplainer::Contributions(std::span<const float> x, std::span<double> phi) const {
  // Path storage for every level of the recursion: (d + 2)(d + 3) / 2 elements.
  const size_t d = static_cast<size_t>(max_depth_);
  thread_local std::vector<PathElement> storage;
  storage.resize((d + 2) * (d + 3) / 2);
  for (const Tree& t : trees_) {
    Recurse(t, x, phi, 0, 0, storage.data(), 1, 1, -1);
  }
}

}  // namespace riskpipe::serving
