// ReadGbtreeHeader and ReadGbtree: accept a real XGBoost binary:logistic model and read its
// base margin (equal to XGBoost's own, in float) and trees; refuse every shape their readers
// (FlatForest, serving's TreeSHAP) cannot use, naming the reader, the tree and the node.
#include "model/gbtree_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "testing/status_matchers.h"
#include "xgb/xgb.h"

namespace riskpipe::model {
namespace {

using json = nlohmann::json;
using riskpipe::testing::IsOk;
using riskpipe::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr size_t kCols = 3;

struct Data {
  std::vector<float> x, y;
  size_t rows = 200;
};

Data Rows() {
  Data d;
  for (size_t i = 0; i < d.rows; ++i) {
    for (size_t j = 0; j < kCols; ++j) {
      d.x.push_back(static_cast<float>((i * (j + 3)) % 17));
    }
    // Mostly x0 > 8, so every tree splits; one row in seven flipped, so trees go deeper.
    d.y.push_back(((i * 3) % 17 > 8) != (i % 7 == 0) ? 1.0f : 0.0f);
  }
  return d;
}

// A booster over kCols features after `rounds` rounds with learning rate `eta`, trained by
// XGBoost itself on one thread.
xgb::Booster Booster(int rounds, const std::string& base_score = "0.5",
                     const std::string& objective = "binary:logistic",
                     const std::string& eta = "0.3") {
  const Data d = Rows();
  auto m = xgb::DMatrix::FromDense(d.x, d.rows, kCols);
  EXPECT_THAT(m, IsOk());
  EXPECT_THAT(m->SetLabels(d.y), IsOk());
  const xgb::DMatrix* cache[] = {&*m};
  auto b = xgb::Booster::Create(cache);
  EXPECT_THAT(b, IsOk());
  for (const auto& [k, v] : {std::pair<std::string, std::string>{"objective", objective},
                             {"base_score", base_score},
                             {"eta", eta},
                             {"nthread", "1"}}) {
    EXPECT_THAT(b->SetParam(k, v), IsOk()) << k;
  }
  for (int r = 0; r < rounds; ++r) EXPECT_THAT(b->UpdateOneIter(r, *m), IsOk());
  return std::move(*b);
}

json Saved(const xgb::Booster& b, const std::string& format = "json") {
  auto bytes = b.SaveModel(format);
  EXPECT_THAT(bytes, IsOk());
  return format == "json" ? json::parse(*bytes) : json::from_ubjson(*bytes);
}

// A 3-tree model saved as JSON.
json SavedModel() { return Saved(Booster(3)); }

json& Tree(json& model, size_t k) {
  return model["learner"]["gradient_booster"]["model"]["trees"][k];
}

TEST(GbtreeHeader, ReadsTheBoosterObjectiveAndBaseScore) {
  const json model = SavedModel();
  auto h = ReadGbtreeHeader(model, kCols, "reader");
  ASSERT_THAT(h, IsOk());
  EXPECT_EQ(h->objective, "binary:logistic");
  EXPECT_EQ(h->booster->at("model").at("trees").size(), 3u);
  EXPECT_DOUBLE_EQ(ParamNumber(*h->base_score), 0.5);
}

TEST(GbtreeHeader, RefusesOtherShapesNamingTheReader) {
  const json model = SavedModel();
  auto expect_refused = [](const json& m, size_t features, const std::string& words) {
    EXPECT_THAT(ReadGbtreeHeader(m, features, "flat forest"),
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(StartsWith("flat forest: "), HasSubstr(words))));
  };
  expect_refused(model, 4, "the model has");
  json dart = model;
  dart["learner"]["gradient_booster"]["name"] = "dart";
  expect_refused(dart, kCols, "is not gbtree");
  json multi = model;
  multi["learner"]["learner_model_param"]["num_class"] = "3";
  expect_refused(multi, kCols, "multi-output");
  json squared = model;
  squared["learner"]["objective"]["name"] = "reg:squarederror";
  expect_refused(squared, kCols, "objective reg:squarederror");
  expect_refused(json::object(), kCols, "unexpected model layout");
}

TEST(GbtreeHeader, ParamNumberReadsNumbersAndTheirText) {
  EXPECT_DOUBLE_EQ(ParamNumber(json(0.25)), 0.25);
  EXPECT_DOUBLE_EQ(ParamNumber(json("5E-1")), 0.5);
}

TEST(Gbtree, ReadsEveryTreeAsATree) {
  const json model = SavedModel();
  auto g = ReadGbtree(model, kCols, "reader");
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(g->objective, "binary:logistic");
  EXPECT_EQ(g->base_margin, 0.0f);  // base_score 0.5
  ASSERT_EQ(g->trees.size(), 3u);
  const json& saved = model["learner"]["gradient_booster"]["model"]["trees"][0];
  const GbtreeTree& t = g->trees[0];
  ASSERT_EQ(t.nodes.size(), saved["left_children"].size());
  ASSERT_GE(t.nodes[0].left, 0) << "the root is a split";
  EXPECT_GE(t.depth, 1);
  EXPECT_EQ(t.nodes[0].feature, saved["split_indices"][0].get<uint32_t>());
  EXPECT_EQ(t.nodes[0].split_condition, saved["split_conditions"][0].get<float>());
  EXPECT_EQ(t.nodes[0].cover, saved["sum_hessian"][0].get<double>());
}

// The base margin is XGBoost's own to the bit: a booster whose one tree adds zero (eta 0)
// predicts exactly it.
// XGBoost 1.7 holds base_score as a float and takes its logit in float; the logit in double,
// rounded to float, misses XGBoost's by one ulp for 0.33, 0.7, 0.9 and 0.912345.
TEST(Gbtree, BaseMarginIsXgboostsOwnInFloat) {
  const Data d = Rows();
  for (const std::string objective : {"binary:logistic", "reg:logistic", "binary:logitraw"}) {
    for (const std::string score : {"0.5", "0.13", "0.33", "0.7", "0.9", "0.912345", "0.0001"}) {
      SCOPED_TRACE(objective + " base_score " + score);
      const xgb::Booster b = Booster(1, score, objective, /*eta=*/"0");
      auto expected = b.PredictMargin(std::span<const float>(d.x).first(kCols), 1, kCols);
      ASSERT_THAT(expected, IsOk());
      for (const std::string format : {"json", "ubj"}) {
        auto g = ReadGbtree(Saved(b, format), kCols, "reader");
        ASSERT_THAT(g, IsOk());
        EXPECT_EQ(g->base_margin, (*expected)[0]) << format;
      }
    }
  }
}

TEST(Gbtree, MissingSplitTypeMeansNumerical) {
  json model = SavedModel();
  auto with = ReadGbtree(model, kCols, "reader");
  ASSERT_THAT(with, IsOk());
  for (json& t : model["learner"]["gradient_booster"]["model"]["trees"]) t.erase("split_type");
  auto without = ReadGbtree(model, kCols, "reader");
  ASSERT_THAT(without, IsOk());
  ASSERT_EQ(without->trees.size(), with->trees.size());
  for (size_t k = 0; k < with->trees.size(); ++k) {
    EXPECT_EQ(without->trees[k].nodes.size(), with->trees[k].nodes.size());
    EXPECT_EQ(without->trees[k].depth, with->trees[k].depth);
  }
}

TEST(Gbtree, RefusesACategoricalSplit) {
  json model = SavedModel();
  Tree(model, 1)["split_type"][0] = 1;
  EXPECT_THAT(ReadGbtree(model, kCols, "tree explainer"),
              StatusIs(StatusCode::kInvalidArgument,
                       "tree explainer: tree 1 node 0: categorical splits are not supported"));
}

TEST(Gbtree, RefusesAnUnknownSplitType) {
  json model = SavedModel();
  Tree(model, 0)["split_type"][0] = 7;
  EXPECT_THAT(ReadGbtree(model, kCols, "reader"),
              StatusIs(StatusCode::kInvalidArgument,
                       "reader: tree 0 node 0: unknown split_type 7 (0 numerical, 1 categorical)"));
}

TEST(Gbtree, RefusesMalformedTrees) {
  const json model = SavedModel();
  const auto malformed = [](const std::string& words) {
    return StatusIs(StatusCode::kInvalidArgument,
                    AllOf(StartsWith("reader: tree 2 is malformed: "), HasSubstr(words)));
  };
  json outside = model;
  const size_t n = Tree(outside, 2)["left_children"].size();
  Tree(outside, 2)["left_children"][0] = n;
  EXPECT_THAT(ReadGbtree(outside, kCols, "reader"),
              malformed("node 0 has child " + std::to_string(n)));
  json cycle = model;
  const int child = Tree(cycle, 2)["left_children"][0].get<int>();
  Tree(cycle, 2)["right_children"][0] = child;  // both sides lead to one node
  EXPECT_THAT(ReadGbtree(cycle, kCols, "reader"), malformed("has child"));
  json back = model;
  Tree(back, 2)["left_children"][0] = 0;  // the root is its own child
  EXPECT_THAT(ReadGbtree(back, kCols, "reader"), malformed("node 0 has child 0"));
  json half_leaf = model;
  Tree(half_leaf, 2)["right_children"][0] = -1;
  EXPECT_THAT(ReadGbtree(half_leaf, kCols, "reader"), malformed("node 0 has child -1"));
  json feature = model;
  Tree(feature, 2)["split_indices"][0] = kCols;
  EXPECT_THAT(ReadGbtree(feature, kCols, "reader"), malformed("node 0 splits on feature 3"));
  json lengths = model;
  Tree(lengths, 2)["sum_hessian"].erase(0);
  EXPECT_THAT(ReadGbtree(lengths, kCols, "reader"), malformed("node arrays differ in length"));
}

TEST(Gbtree, RefusesMissingOrMistypedArraysAndBadBaseScores) {
  json model = SavedModel();
  json missing = model;
  Tree(missing, 0).erase("sum_hessian");
  EXPECT_THAT(ReadGbtree(missing, kCols, "reader"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("reader: unexpected model layout")));
  json mistyped = model;
  Tree(mistyped, 0)["left_children"][0] = "one";
  EXPECT_THAT(ReadGbtree(mistyped, kCols, "reader"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("reader: unexpected model layout")));
  json certain = model;
  certain["learner"]["learner_model_param"]["base_score"] = "1E0";
  EXPECT_THAT(
      ReadGbtree(certain, kCols, "reader"),
      StatusIs(StatusCode::kInvalidArgument, "reader: base_score \"1E0\" is out of (0, 1)"));
  json groups = model;
  groups["learner"]["gradient_booster"]["model"]["tree_info"][1] = 1;
  EXPECT_THAT(ReadGbtree(groups, kCols, "reader"),
              StatusIs(StatusCode::kInvalidArgument, "reader: more than one output group"));
}

}  // namespace
}  // namespace riskpipe::model
