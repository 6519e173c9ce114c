// FlatForest: margins equal to XGBoost's own prediction bit for bit, for trees of many depths
// (padded short branches), missing values sent either way, base scores away from 0.5, random
// forests and raw-logit objectives; models it cannot flatten are refused, not misread.
#include "model/forest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/estimator.h"
#include "testing/status_matchers.h"
#include "xgb/xgb.h"

namespace riskpipe::model {
namespace {

using riskpipe::testing::IsOk;
using riskpipe::testing::StatusIs;
using ::testing::HasSubstr;

constexpr size_t kCols = 7;

// rows x kCols values with about 10% missing; column 6 is missing on 60% of rows so that
// trees learn a default direction for it.
std::vector<float> Matrix(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<float> x(rows * kCols);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < kCols; ++j) {
      const float missing_rate = j == 6 ? 0.6f : 0.1f;
      // Integers on column 5 so that split thresholds meet values exactly.
      const float v = j == 5 ? std::round(normal(rng) * 3) : normal(rng);
      x[i * kCols + j] = unit(rng) < missing_rate ? NAN : v;
    }
  }
  return x;
}

std::vector<float> Labels(const std::vector<float>& x, size_t rows, uint64_t seed,
                          double positive_shift) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<float> y(rows);
  for (size_t i = 0; i < rows; ++i) {
    auto at = [&](size_t j) {
      const float v = x[i * kCols + j];
      return std::isnan(v) ? 0.7 : static_cast<double>(v);
    };
    const double eta = positive_shift + 1.1 * at(0) - 0.8 * at(1) + std::sin(3 * at(2)) +
                       at(3) * at(4) + 0.2 * at(5) + (std::isnan(x[i * kCols + 6]) ? 0.9 : 0.0);
    y[i] = unit(rng) < 1 / (1 + std::exp(-eta)) ? 1.0f : 0.0f;
  }
  return y;
}

xgb::Booster Fit(const std::vector<std::pair<std::string, std::string>>& params, int rounds,
                 double positive_shift = -1.0) {
  const size_t rows = 4000;
  const std::vector<float> x = Matrix(rows, 11);
  auto m = xgb::DMatrix::FromDense(x, rows, kCols);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->SetLabels(Labels(x, rows, 12, positive_shift)).ok());
  const xgb::DMatrix* cache[] = {&*m};
  auto b = xgb::Booster::Create(cache);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->SetParam("seed", "3").ok());
  EXPECT_TRUE(b->SetParam("nthread", "1").ok());
  for (const auto& [k, v] : params) EXPECT_TRUE(b->SetParam(k, v).ok()) << k;
  for (int i = 0; i < rounds; ++i) EXPECT_TRUE(b->UpdateOneIter(i, *m).ok());
  return std::move(*b);
}

// Margins of fresh rows (including all-missing ones and exact threshold values) through both.
void ExpectSameMargins(const xgb::Booster& b) {
  const size_t rows = 3001;  // not a multiple of the block size
  std::vector<float> x = Matrix(rows, 99);
  for (size_t j = 0; j < kCols; ++j) x[j] = NAN;  // row 0: everything missing
  auto bytes = b.SaveModel("ubj");
  ASSERT_TRUE(bytes.ok());
  auto forest = FlatForest::FromUbjson(*bytes, kCols);
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  auto expected = b.PredictMargin(x, rows, kCols);
  ASSERT_TRUE(expected.ok());
  std::vector<float> got(rows);
  forest->Margins(x, rows, got);
  size_t differ = 0;
  for (size_t i = 0; i < rows; ++i) differ += got[i] != (*expected)[i];
  EXPECT_EQ(differ, 0u) << "first: " << got[0] << " vs " << (*expected)[0];
}

TEST(FlatForest, EqualsXgboostAtManyDepths) {
  for (int depth : {1, 2, 4, 6, 9}) {
    SCOPED_TRACE("max_depth " + std::to_string(depth));
    ExpectSameMargins(Fit(
        {{"objective", "binary:logistic"}, {"max_depth", std::to_string(depth)}, {"eta", "0.3"}},
        30));
  }
}

TEST(FlatForest, EqualsXgboostForLossguideRandomForestAndRawLogits) {
  // Lossguide growth: unbalanced trees, leaves at many depths.
  ExpectSameMargins(Fit({{"objective", "binary:logistic"},
                         {"tree_method", "hist"},
                         {"grow_policy", "lossguide"},
                         {"max_leaves", "23"},
                         {"max_depth", "0"}},
                        20, 1.5));
  // A random forest: parallel trees, row and column sampling, one round.
  ExpectSameMargins(Fit({{"objective", "binary:logistic"},
                         {"num_parallel_tree", "40"},
                         {"subsample", "0.7"},
                         {"colsample_bynode", "0.6"},
                         {"eta", "1"},
                         {"max_depth", "5"}},
                        1));
  ExpectSameMargins(Fit({{"objective", "binary:logitraw"}, {"max_depth", "3"}}, 15));
  // A base score far from 0.5.
  ExpectSameMargins(
      Fit({{"objective", "binary:logistic"}, {"base_score", "0.13"}, {"max_depth", "4"}}, 10));
}

TEST(FlatForest, RefusesWhatItCannotFlatten) {
  const xgb::Booster dart = Fit({{"booster", "dart"}, {"objective", "binary:logistic"}}, 3);
  auto bytes = dart.SaveModel("ubj");
  ASSERT_THAT(bytes, IsOk());
  EXPECT_THAT(
      FlatForest::FromUbjson(*bytes, kCols),
      StatusIs(StatusCode::kInvalidArgument, "flat forest: booster \"dart\" is not gbtree"));
  const xgb::Booster ok = Fit({{"objective", "binary:logistic"}}, 2);
  bytes = ok.SaveModel("ubj");
  ASSERT_THAT(bytes, IsOk());
  EXPECT_THAT(FlatForest::FromUbjson(*bytes, kCols + 1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("features, expected 8")));
  EXPECT_THAT(FlatForest::FromUbjson("not a model", kCols),
              StatusIs(StatusCode::kInvalidArgument, "flat forest: the model is not UBJSON"));
  const xgb::Booster squared = Fit({{"objective", "reg:squarederror"}}, 2);
  bytes = squared.SaveModel("ubj");
  ASSERT_THAT(bytes, IsOk());
  EXPECT_THAT(FlatForest::FromUbjson(*bytes, kCols),
              StatusIs(StatusCode::kInvalidArgument,
                       "flat forest: objective reg:squarederror is not supported"));
}

TEST(FlatForest, RefusesTreesDeeperThanItFlattens) {
  const int depth = FlatForest::kMaxDepth + 1;
  const xgb::Booster deep = Fit({{"objective", "binary:logistic"},
                                 {"tree_method", "hist"},
                                 {"grow_policy", "lossguide"},
                                 {"max_depth", std::to_string(depth)},
                                 {"max_leaves", "0"},
                                 {"min_child_weight", "0"},
                                 {"lambda", "0"},
                                 {"gamma", "0"}},
                                3);
  auto bytes = deep.SaveModel("ubj");
  ASSERT_THAT(bytes, IsOk());
  EXPECT_THAT(FlatForest::FromUbjson(*bytes, kCols),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("deep (at most 14)")));
}

}  // namespace
}  // namespace riskpipe::model
