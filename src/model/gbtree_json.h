#pragma once
// The one reader of XGBoost's saved gbtree models (JSON, or UBJSON parsed to the same tree)
// for riskpipe's own evaluators: the batch scorer (model/forest.h) and serving's TreeSHAP
// (serving/tree_shap.h) both take their base margin and trees from ReadGbtree, so they read
// a model the same way. Stateless; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace riskpipe::model {

struct GbtreeHeader {
  const nlohmann::json* booster = nullptr;     // learner.gradient_booster: its model.trees
  std::string objective;                       // binary:logistic, reg:logistic, binary:logitraw
  const nlohmann::json* base_score = nullptr;  // as stored: a number or its text
};

// Checks `model` (the whole saved document) and points into it; `model` must outlive the
// result. InvalidArgument, prefixed with `reader` (e.g. "flat forest"), for another booster,
// a multi-output model, another feature count or objective, or a document of another shape.
StatusOr<GbtreeHeader> ReadGbtreeHeader(const nlohmann::json& model, size_t num_features,
                                        std::string_view reader);

// A model parameter that XGBoost stores as a number or as its decimal text.
double ParamNumber(const nlohmann::json& value);

// One node of a saved tree, with XGBoost's meaning of each array entry.
struct GbtreeNode {
  int32_t left = -1;          // left child's index in GbtreeTree::nodes; -1 for a leaf
  int32_t right = -1;         // right child's index; -1 for a leaf
  uint32_t feature = 0;       // a split's feature index (< num_features)
  float split_condition = 0;  // a split's threshold (x < it goes left), a leaf's value
  bool default_left = true;   // a split sends a missing value (NaN) left
  double cover = 0;           // sum of the hessians of the training rows that reached it
};

struct GbtreeTree {
  std::vector<GbtreeNode> nodes;  // nodes[0] is the root; unreachable (deleted) nodes kept
  int depth = 0;                  // edges from the root to the deepest leaf
};

struct Gbtree {
  std::string objective;
  // The margin every row starts from, in float as XGBoost 1.7 computes it
  // (ObjFunction::ProbToMargin of the float base_score): -logf(1 / base_score - 1), or
  // base_score itself for binary:logitraw. Summing leaf values onto it in float, tree by tree,
  // gives XGBoost's margin bit for bit.
  float base_margin = 0;
  std::vector<GbtreeTree> trees;  // in XGBoost's order
};

// Reads the base margin and every tree of `model` (the whole saved document), after
// ReadGbtreeHeader. Each tree's reachable nodes must form a tree (children inside the node
// arrays, each reached once, splits on features < num_features). `split_type` is optional
// (models from XGBoost before 1.3 omit it) and means numerical when absent; a categorical
// split is refused, as is an unknown split_type. Errors, all InvalidArgument and prefixed with
// `reader`: those of ReadGbtreeHeader; "base_score ... is out of (0, 1)"; "tree T node N:
// categorical splits are not supported"; "tree T node N: unknown split_type S"; "tree T is
// malformed: ..."; "more than one output group"; "unexpected model layout" for missing or
// mistyped arrays.
StatusOr<Gbtree> ReadGbtree(const nlohmann::json& model, size_t num_features,
                            std::string_view reader);

}  // namespace riskpipe::model
