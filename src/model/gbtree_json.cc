#include "model/gbtree_json.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/json.h"

namespace riskpipe::model {

using json = nlohmann::json;

namespace {

// XGBoost's split_type values (tree_model.h FeatureType).
constexpr int kNumerical = 0;
constexpr int kCategorical = 1;

// base_score as XGBoost 1.7 holds it: a float (LearnerModelParamLegacy::base_score), saved as
// its shortest decimal text, which strtof reads back exactly.
float ParamFloat(const json& value) {
  if (value.is_number()) return value.get<float>();
  return std::strtof(value.get<std::string>().c_str(), nullptr);
}

// The node arrays of one saved tree, each checked to have the same length.
struct TreeArrays {
  const json& left;
  const json& right;
  const json& feature;
  const json& condition;
  const json& default_left;
  const json& cover;
  const json* split_type;  // null when the model predates split types
};

// Copies every node of `t` and checks that its reachable nodes form a tree of numerical
// splits; `fail(text)` builds the error.
template <typename Fail>
StatusOr<GbtreeTree> ReadTree(const TreeArrays& t, size_t num_features, const Fail& fail) {
  const size_t n = t.left.size();
  if (n == 0 || t.right.size() != n || t.feature.size() != n || t.condition.size() != n ||
      t.default_left.size() != n || t.cover.size() != n ||
      (t.split_type != nullptr && t.split_type->size() != n)) {
    return fail(" is malformed: its node arrays differ in length");
  }
  GbtreeTree tree;
  tree.nodes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    GbtreeNode& node = tree.nodes[i];
    node.left = t.left[i].get<int32_t>();
    node.right = t.right[i].get<int32_t>();
    node.feature = t.feature[i].get<uint32_t>();
    node.split_condition = t.condition[i].get<float>();
    node.default_left = t.default_left[i].get<int>() != 0;
    node.cover = t.cover[i].get<double>();
  }
  // A walk from the root: each reachable split is numerical, on a known feature, and has two
  // children inside the arrays that no other split reaches.
  std::vector<int> depth(n, -1);
  depth[0] = 0;
  std::vector<size_t> stack = {0};
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    const GbtreeNode& node = tree.nodes[i];
    const std::string at = " node " + std::to_string(i);
    if (node.left == -1 && node.right == -1) {
      tree.depth = std::max(tree.depth, depth[i]);
      continue;
    }
    const int type = t.split_type == nullptr ? kNumerical : (*t.split_type)[i].get<int>();
    if (type == kCategorical) return fail(at + ": categorical splits are not supported");
    if (type != kNumerical) {
      return fail(at + ": unknown split_type " + std::to_string(type) +
                  " (0 numerical, 1 categorical)");
    }
    if (node.feature >= num_features) {
      return fail(" is malformed:" + at + " splits on feature " + std::to_string(node.feature));
    }
    for (const int32_t c : {node.left, node.right}) {
      if (c <= 0 || static_cast<size_t>(c) >= n || depth[c] >= 0) {
        return fail(" is malformed:" + at + " has child " + std::to_string(c));
      }
      depth[c] = depth[i] + 1;
      stack.push_back(static_cast<size_t>(c));
    }
  }
  return tree;
}

}  // namespace

double ParamNumber(const json& value) {
  if (value.is_number()) return value.get<double>();
  return std::strtod(value.get<std::string>().c_str(), nullptr);
}

StatusOr<GbtreeHeader> ReadGbtreeHeader(const json& model, size_t num_features,
                                        std::string_view reader) {
  const std::string who(reader);
  GbtreeHeader h;
  try {
    const json& learner = model.at("learner");
    const json& param = learner.at("learner_model_param");
    h.objective = learner.at("objective").at("name").get<std::string>();
    h.booster = &learner.at("gradient_booster");
    if (h.booster->at("name") != "gbtree") {
      return InvalidArgumentError(who + ": booster " + h.booster->at("name").dump() +
                                  " is not gbtree");
    }
    if (ParamNumber(param.value("num_class", json("0"))) > 1 ||
        ParamNumber(param.value("num_target", json("1"))) > 1) {
      return InvalidArgumentError(who + ": multi-output models are not supported");
    }
    if (static_cast<size_t>(ParamNumber(param.at("num_feature"))) != num_features) {
      return InvalidArgumentError(who + ": the model has " + param.at("num_feature").dump() +
                                  " features, expected " + std::to_string(num_features));
    }
    if (h.objective != "binary:logistic" && h.objective != "reg:logistic" &&
        h.objective != "binary:logitraw") {
      return InvalidArgumentError(who + ": objective " + h.objective + " is not supported");
    }
    h.base_score = &param.at("base_score");
    (void)h.booster->at("model").at("trees");
  } catch (const json::exception& e) {
    return InvalidArgumentError(who + ": unexpected model layout: " + e.what());
  }
  return h;
}

StatusOr<Gbtree> ReadGbtree(const json& model, size_t num_features, std::string_view reader) {
  ASSIGN_OR_RETURN(const GbtreeHeader header, ReadGbtreeHeader(model, num_features, reader));
  const std::string who(reader);
  Gbtree out;
  out.objective = header.objective;
  try {
    const float base_score = ParamFloat(*header.base_score);
    if (header.objective == "binary:logitraw") {
      out.base_margin = base_score;
    } else if (base_score > 0.0f && base_score < 1.0f) {
      out.base_margin = -logf(1.0f / base_score - 1.0f);
    } else {
      return InvalidArgumentError(who + ": base_score " + header.base_score->dump() +
                                  " is out of (0, 1)");
    }
    const json& trees = header.booster->at("model").at("trees");
    out.trees.reserve(trees.size());
    for (size_t k = 0; k < trees.size(); ++k) {
      const json& t = trees[k];
      const TreeArrays arrays{t.at("left_children"),
                              t.at("right_children"),
                              t.at("split_indices"),
                              t.at("split_conditions"),
                              t.at("default_left"),
                              t.at("sum_hessian"),
                              t.contains("split_type") ? &t.at("split_type") : nullptr};
      auto fail = [&](const std::string& what) {
        return InvalidArgumentError(who + ": tree " + std::to_string(k) + what);
      };
      ASSIGN_OR_RETURN(GbtreeTree tree, ReadTree(arrays, num_features, fail));
      out.trees.push_back(std::move(tree));
    }
    const json& info = header.booster->at("model").value("tree_info", json::array());
    for (const json& group : info) {
      if (group.get<int>() != 0) {
        return InvalidArgumentError(who + ": more than one output group");
      }
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(who + ": unexpected model layout: " + e.what());
  }
  return out;
}

}  // namespace riskpipe::model
