#include "model/gbtree_json.h"

#include <cstdlib>

namespace riskpipe::model {

using json = nlohmann::json;

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

}  // namespace riskpipe::model
