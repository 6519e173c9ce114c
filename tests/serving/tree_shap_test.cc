// The flattened-tree margins and TreeSHAP agree with XGBoost's own on many rows, including
// missing values, repeated splits on one feature and deep trees.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "serving/tree_shap.h"
#include "xgb/xgb.h"

namespace riskpipe::serving {
namespace {

struct Data {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows = 0, cols = 0;
};

Data Planted(size_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uniform(0, 1);
  Data d{std::vector<float>(rows * cols), std::vector<float>(rows), rows, cols};
  for (size_t i = 0; i < rows; ++i) {
    float z = 0;
    for (size_t j = 0; j < cols; ++j) {
      float v = normal(rng);
      if (j % 3 == 2) v = std::round(v * 2);  // some discrete features
      d.x[i * cols + j] = v;
      z += (j % 2 ? -0.7f : 0.5f) * v + (j == 0 ? v * v * 0.3f : 0);
    }
    d.y[i] = uniform(rng) < 1 / (1 + std::exp(-z)) ? 1.0f : 0.0f;
    if (uniform(rng) < 0.1) d.x[i * cols + (i % cols)] = std::nanf("");  // missing values
  }
  return d;
}

xgb::Booster Train(const Data& d, int depth, int rounds) {
  auto m = xgb::DMatrix::FromDense(d.x, d.rows, d.cols, 1);
  EXPECT_TRUE(m.ok());
  EXPECT_TRUE(m->SetLabels(d.y).ok());
  const xgb::DMatrix* cache[] = {&*m};
  auto b = xgb::Booster::Create(cache);
  EXPECT_TRUE(b.ok());
  for (auto [k, v] : {std::pair{"objective", "binary:logistic"},
                      {"nthread", "1"},
                      {"tree_method", "hist"},
                      {"eta", "0.3"},
                      {"base_score", "0.3"}}) {
    EXPECT_TRUE(b->SetParam(k, v).ok());
  }
  EXPECT_TRUE(b->SetParam("max_depth", std::to_string(depth)).ok());
  for (int i = 0; i < rounds; ++i) EXPECT_TRUE(b->UpdateOneIter(i, *m).ok());
  return std::move(*b);
}

void ExpectAgrees(int depth, int rounds) {
  const Data train = Planted(3000, 6, 1);
  const xgb::Booster booster = Train(train, depth, rounds);
  auto dump = booster.SaveModel("json");
  ASSERT_TRUE(dump.ok());
  auto explainer = TreeExplainer::FromXgboostJson(*dump, train.cols);
  ASSERT_TRUE(explainer.ok()) << explainer.status().ToString();
  const Data test = Planted(500, 6, 2);
  auto margins = booster.PredictMargin(test.x, test.rows, test.cols);
  auto contrib = booster.Contributions(test.x, test.rows, test.cols);
  ASSERT_TRUE(margins.ok() && contrib.ok());
  for (size_t i = 0; i < test.rows; ++i) {
    const std::span<const float> row(test.x.data() + i * test.cols, test.cols);
    // The same float sums from the same base margin (model::ReadGbtree): equal to the bit.
    EXPECT_EQ(static_cast<float>((*explainer)->Margin(row)), (*margins)[i]) << "row " << i;
    std::vector<double> phi(test.cols, 0.0);
    (*explainer)->Contributions(row, phi);
    double sum = 0;
    for (size_t j = 0; j < test.cols; ++j) {
      EXPECT_NEAR(phi[j], (*contrib)[i * (test.cols + 1) + j], 1e-4) << "row " << i << " f " << j;
      sum += phi[j];
    }
    // Local accuracy: contributions plus the bias add up to the margin.
    EXPECT_NEAR(sum + (*contrib)[i * (test.cols + 1) + test.cols], (*margins)[i], 1e-3);
  }
}

TEST(TreeExplainer, AgreesWithXgboostOnShallowTrees) { ExpectAgrees(3, 40); }

TEST(TreeExplainer, AgreesWithXgboostOnDeepTrees) { ExpectAgrees(8, 15); }

TEST(TreeExplainer, RejectsWhatItCannotExplain) {
  EXPECT_EQ(TreeExplainer::FromXgboostJson("not json", 3).status().code(),
            StatusCode::kInvalidArgument);
  const Data train = Planted(500, 4, 3);
  auto dump = Train(train, 2, 2).SaveModel("json");
  ASSERT_TRUE(dump.ok());
  EXPECT_EQ(TreeExplainer::FromXgboostJson(*dump, 5).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace riskpipe::serving
