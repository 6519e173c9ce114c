#pragma once
// The part of XGBoost's saved-model document (JSON, or UBJSON parsed to the same tree) that
// every reader of its trees checks first: a gbtree booster with one output over the expected
// number of features and a binary-logistic objective. Shared by the batch scorer
// (model/forest.h) and serving's TreeSHAP (serving/tree_shap.h). Stateless; thread-safe.

#include <string>
#include <string_view>

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

}  // namespace riskpipe::model
