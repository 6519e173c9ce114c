// ReadGbtreeHeader: accepts a real XGBoost binary:logistic model and points into it; refuses
// every shape its readers (FlatForest, serving's TreeSHAP) cannot use, naming the reader.
#include "model/gbtree_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xgb/xgb.h"

namespace riskpipe::model {
namespace {

using json = nlohmann::json;

// A 3-feature binary:logistic model of a few trees, saved by XGBoost itself.
json SavedModel() {
  std::vector<float> x, y;
  for (int i = 0; i < 200; ++i) {
    for (int j = 0; j < 3; ++j) x.push_back(static_cast<float>((i * (j + 3)) % 17));
    y.push_back(i % 3 == 0 ? 1.0f : 0.0f);
  }
  auto m = xgb::DMatrix::FromDense(x, 200, 3);
  EXPECT_TRUE(m.ok());
  EXPECT_TRUE(m->SetLabels(y).ok());
  const xgb::DMatrix* cache[] = {&*m};
  auto b = xgb::Booster::Create(cache);
  EXPECT_TRUE(b.ok());
  EXPECT_TRUE(b->SetParam("objective", "binary:logistic").ok());
  EXPECT_TRUE(b->SetParam("nthread", "1").ok());
  for (int r = 0; r < 3; ++r) EXPECT_TRUE(b->UpdateOneIter(r, *m).ok());
  auto bytes = b->SaveModel("json");
  EXPECT_TRUE(bytes.ok());
  return json::parse(*bytes);
}

TEST(GbtreeHeader, ReadsTheBoosterObjectiveAndBaseScore) {
  const json model = SavedModel();
  auto h = ReadGbtreeHeader(model, 3, "reader");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->objective, "binary:logistic");
  EXPECT_EQ(h->booster->at("model").at("trees").size(), 3u);
  EXPECT_DOUBLE_EQ(ParamNumber(*h->base_score), 0.5);
}

TEST(GbtreeHeader, RefusesOtherShapesNamingTheReader) {
  const json model = SavedModel();
  auto expect_refused = [](const json& m, size_t features, const std::string& words) {
    auto h = ReadGbtreeHeader(m, features, "flat forest");
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(h.status().message().rfind("flat forest: ", 0), 0u) << h.status().message();
    EXPECT_NE(h.status().message().find(words), std::string::npos) << h.status().message();
  };
  expect_refused(model, 4, "the model has");
  json dart = model;
  dart["learner"]["gradient_booster"]["name"] = "dart";
  expect_refused(dart, 3, "is not gbtree");
  json multi = model;
  multi["learner"]["learner_model_param"]["num_class"] = "3";
  expect_refused(multi, 3, "multi-output");
  json squared = model;
  squared["learner"]["objective"]["name"] = "reg:squarederror";
  expect_refused(squared, 3, "objective reg:squarederror");
  expect_refused(json::object(), 3, "unexpected model layout");
}

TEST(GbtreeHeader, ParamNumberReadsNumbersAndTheirText) {
  EXPECT_DOUBLE_EQ(ParamNumber(json(0.25)), 0.25);
  EXPECT_DOUBLE_EQ(ParamNumber(json("5E-1")), 0.5);
}

}  // namespace
}  // namespace riskpipe::model
