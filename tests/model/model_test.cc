// The model package: preprocessing fitted on training rows only, the estimators, save/load
// round trips that score bit for bit the same, and XGBoost interoperability with Debian's
// python3-xgboost.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>

#include "core/files.h"
#include "model/package.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "xgb/xgb.h"

namespace riskpipe::model {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::StatusIs;
using riskpipe::testing::TempDir;
using ::testing::HasSubstr;

// x: numeric with gaps; job: text; y from a logistic model with known coefficients.
struct Data {
  Frame frame;
  std::vector<uint8_t> y;
};

Data MakeData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  FrameColumn x{"x", false, "DOUBLE", {}, {}, {}};
  FrameColumn z{"z", false, "DOUBLE", {}, {}, {}};
  FrameColumn job{"job", true, "VARCHAR", {}, {}, {"a", "b", "c"}};
  Data d;
  for (size_t i = 0; i < n; ++i) {
    const double xv = normal(rng), zv = 3 + 2 * normal(rng);
    const int j = static_cast<int>(unit(rng) * 3) % 3;
    const double eta = -0.5 + 1.2 * xv - 0.4 * (zv - 3) / 2 + (j == 1 ? 0.8 : 0.0);
    d.y.push_back(unit(rng) < 1 / (1 + std::exp(-eta)));
    x.numbers.push_back(unit(rng) < 0.05 ? NAN : xv);
    z.numbers.push_back(zv);
    job.codes.push_back(unit(rng) < 0.02 ? -1 : j);
  }
  d.frame.columns = {x, z, job};
  d.frame.rows = n;
  return d;
}

TEST(Preprocessor, FitsOnTrainingRowsOnly) {
  Data d = MakeData(1000, 1);
  std::vector<uint32_t> train(500);
  for (uint32_t i = 0; i < 500; ++i) train[i] = i;
  auto a = Preprocessor::Fit(d.frame, {"x", "z", "job"}, train, 20);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // Changing rows outside the training rows changes nothing that was fitted.
  Data e = d;
  for (size_t i = 500; i < 1000; ++i) e.frame.columns[1].numbers[i] = 1e6;
  auto b = Preprocessor::Fit(e.frame, {"x", "z", "job"}, train, 20);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->ToJson().dump(), b->ToJson().dump());
  EXPECT_LT(a->features()[1].max, 1e3);
  // And changing a training row does change it.
  e.frame.columns[1].numbers[0] = 1e6;
  auto c = Preprocessor::Fit(e.frame, {"x", "z", "job"}, train, 20);
  EXPECT_EQ(c->features()[1].max, 1e6);
}

TEST(Preprocessor, EncodesUnseenAndMissingLevelsAndRoundTrips) {
  Data d = MakeData(200, 2);
  const std::vector<uint32_t> rows = AllRows(200);
  auto p = Preprocessor::Fit(d.frame, {"x", "job"}, rows, 2);  // 3 levels, 2 kept -> (other)
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->width(), 1u + 3u);
  EXPECT_EQ(p->encoded_names().back(), "job=(other)");
  Frame f;
  f.rows = 3;
  f.columns = {
      {"x", false, "DOUBLE", {NAN, 1.0, 2.0}, {}, {}},
      {"job", true, "VARCHAR", {}, {0, 1, -1}, {"zzz-unseen", p->features()[1].levels[0]}}};
  std::vector<float> tree, linear;
  ASSERT_TRUE(p->Encode(f, AllRows(3), Encoding::kTree, tree).ok());
  ASSERT_TRUE(p->Encode(f, AllRows(3), Encoding::kLinear, linear).ok());
  EXPECT_TRUE(std::isnan(tree[0]));  // trees see the gap
  EXPECT_FLOAT_EQ(linear[0], static_cast<float>((p->features()[0].median - p->features()[0].mean) /
                                                p->features()[0].stddev));
  EXPECT_EQ(tree[0 * 4 + 3], 1.0f);  // unseen level -> (other)
  EXPECT_EQ(tree[1 * 4 + 1], 1.0f);  // known level -> its column
  EXPECT_EQ(tree[2 * 4 + 1] + tree[2 * 4 + 2] + tree[2 * 4 + 3], 0.0f);  // missing -> zeros
  auto back = Preprocessor::FromJson(p->ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson().dump(), p->ToJson().dump());
  // A wrong kind of column is refused with its name.
  f.columns[1].text = false;
  f.columns[1].numbers = {1, 2, 3};
  Status s = p->Encode(f, AllRows(3), Encoding::kTree, tree);
  EXPECT_NE(s.message().find("job"), std::string::npos);
}

TEST(Preprocessor, RefusesAllConstantFeatures) {
  Frame f;
  f.rows = 50;
  f.columns = {{"k", false, "DOUBLE", std::vector<double>(50, 7.0), {}, {}}};
  EXPECT_THAT(Preprocessor::Fit(f, {"k"}, AllRows(50), 20),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("every feature is constant")));
}

TEST(Logistic, RecoversKnownCoefficients) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  const size_t n = 40000;
  std::vector<float> x(n * 2);
  std::vector<uint8_t> y(n);
  for (size_t i = 0; i < n; ++i) {
    x[2 * i] = static_cast<float>(normal(rng));
    x[2 * i + 1] = static_cast<float>(normal(rng));
    const double eta = -1.0 + 0.8 * x[2 * i] - 1.5 * x[2 * i + 1];
    y[i] = unit(rng) < 1 / (1 + std::exp(-eta));
  }
  LogisticOptions o;
  o.l2 = 0;
  auto fit = FitLogistic(x, n, 2, y, o);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_TRUE(fit->converged);
  EXPECT_NEAR(fit->intercept, -1.0, 0.06);
  EXPECT_NEAR(fit->beta[0], 0.8, 0.06);
  EXPECT_NEAR(fit->beta[1], -1.5, 0.06);
  // The result does not depend on the thread count.
  o.threads = 1;
  auto one = FitLogistic(x, n, 2, y, o);
  o.threads = 3;
  auto three = FitLogistic(x, n, 2, y, o);
  EXPECT_EQ(one->beta, three->beta);
  EXPECT_EQ(one->intercept, three->intercept);
  // A single class is refused.
  std::vector<uint8_t> zeros(n, 0);
  EXPECT_THAT(FitLogistic(x, n, 2, zeros, o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("the labels have a single class")));
}

TEST(Scorecard, PointsAddUpToTheMarginAndRiskierBinsScoreLower) {
  Data d = MakeData(5000, 4);
  const std::vector<uint32_t> rows = AllRows(5000);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z", "job"}, rows, 20);
  ASSERT_TRUE(pre.ok());
  ScorecardOptions o;
  auto sc = ScorecardEstimator::Fit(d.frame, rows, d.y, *pre, o);
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  auto scores = (*sc)->Scores(d.frame, rows, *pre);
  auto margins = (*sc)->Margins(d.frame, rows, *pre);
  ASSERT_TRUE(scores.ok() && margins.ok());
  const double factor = o.pdo / std::log(2.0);
  const double offset = o.base_score - factor * std::log(o.base_odds);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_NEAR((*margins)[i], (offset - (*scores)[i]) / factor, 1e-9);
  }
  // x raises risk: the row with the highest x scores fewer points than the lowest.
  size_t lo = 0, hi = 0;
  for (size_t i = 0; i < 5000; ++i) {
    const double v = d.frame.columns[0].numbers[i];
    if (std::isnan(v)) continue;
    if (std::isnan(d.frame.columns[0].numbers[lo]) || v < d.frame.columns[0].numbers[lo]) lo = i;
    if (std::isnan(d.frame.columns[0].numbers[hi]) || v > d.frame.columns[0].numbers[hi]) hi = i;
  }
  auto contrib = (*sc)->Contributions(
      d.frame, std::vector<uint32_t>{static_cast<uint32_t>(lo), static_cast<uint32_t>(hi)}, *pre);
  ASSERT_TRUE(contrib.ok());
  EXPECT_GT((*contrib)[3 + 0], (*contrib)[0]);  // feature x, row hi vs row lo
}

// Fits a small booster on the tree encoding of `d`.
StatusOr<xgb::Booster> FitBooster(const Preprocessor& pre, const Data& d, std::vector<float>& x) {
  const std::vector<uint32_t> rows = AllRows(d.frame.rows);
  RETURN_IF_ERROR(pre.Encode(d.frame, rows, Encoding::kTree, x));
  ASSIGN_OR_RETURN(xgb::DMatrix m, xgb::DMatrix::FromDense(x, rows.size(), pre.width()));
  std::vector<float> labels(d.y.begin(), d.y.end());
  RETURN_IF_ERROR(m.SetLabels(labels));
  const xgb::DMatrix* cache[] = {&m};
  ASSIGN_OR_RETURN(xgb::Booster b, xgb::Booster::Create(cache));
  RETURN_IF_ERROR(b.SetParam("objective", "binary:logistic"));
  RETURN_IF_ERROR(b.SetParam("max_depth", "3"));
  RETURN_IF_ERROR(b.SetParam("seed", "7"));
  for (int i = 0; i < 20; ++i) RETURN_IF_ERROR(b.UpdateOneIter(i, m));
  return b;
}

TEST(Xgb, MisspeltParametersFail) {
  Data d = MakeData(300, 5);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z"}, AllRows(300), 20);
  std::vector<float> x;
  ASSERT_TRUE(pre->Encode(d.frame, AllRows(300), Encoding::kTree, x).ok());
  auto m = xgb::DMatrix::FromDense(x, 300, pre->width());
  std::vector<float> labels(d.y.begin(), d.y.end());
  ASSERT_TRUE(m->SetLabels(labels).ok());
  const xgb::DMatrix* cache[] = {&*m};
  auto b = xgb::Booster::Create(cache);
  ASSERT_TRUE(b->SetParam("max_dpeth", "3").ok());
  EXPECT_THAT(
      b->UpdateOneIter(0, *m),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("not used (misspelt?): { \"max_dpeth\" }")));
}

TEST(Package, SavedAndLoadedScoresBitForBit) {
  Data d = MakeData(3000, 6);
  const std::vector<uint32_t> rows = AllRows(3000);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z", "job"}, rows, 20);
  ASSERT_TRUE(pre.ok());
  std::vector<float> x;
  auto booster = FitBooster(*pre, d, x);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  DecisionPolicy policy{0.3, "test", {{"A", 0, 0.2}, {"B", 0.2, 1.0 + 1e-12}}};
  ModelPackage pkg(*pre, std::make_unique<BoosterEstimator>("xgboost", std::move(*booster)),
                   Calibrator(stats::PlattCalibrator{0.9, -0.1}), policy);
  TempDir dir;
  ASSERT_TRUE(pkg.Save(dir.path()).ok());
  auto loaded = ModelPackage::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto a = pkg.Score(d.frame);
  auto b = loaded->Score(d.frame);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->margin, b->margin);
  EXPECT_EQ(a->pd, b->pd);
  EXPECT_EQ(loaded->policy().threshold, 0.3);
  EXPECT_EQ(loaded->policy().BandOf(0.1), "A");
  EXPECT_EQ(loaded->calibrator().method(), "platt");
  // A corrupt file is refused with its name.
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "calibration.json", "{not json").ok());
  EXPECT_THAT(ModelPackage::Load(dir.path()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("calibration.json")));
}

TEST(Package, LinearAndScorecardRoundTrip) {
  Data d = MakeData(3000, 8);
  const std::vector<uint32_t> rows = AllRows(3000);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z", "job"}, rows, 20);
  std::vector<float> x;
  ASSERT_TRUE(pre->Encode(d.frame, rows, Encoding::kLinear, x).ok());
  auto fit = FitLogistic(x, rows.size(), pre->width(), d.y, {});
  ASSERT_TRUE(fit.ok());
  auto sc = ScorecardEstimator::Fit(d.frame, rows, d.y, *pre, {});
  ASSERT_TRUE(sc.ok());
  std::vector<std::unique_ptr<Estimator>> estimators;
  estimators.push_back(std::make_unique<LinearEstimator>(pre->encoded_names(), *fit));
  estimators.push_back(std::move(*sc));
  for (auto& est : estimators) {
    ModelPackage pkg(*pre, std::move(est), Calibrator(), DecisionPolicy{});
    TempDir dir;
    ASSERT_TRUE(pkg.Save(dir.path()).ok());
    EXPECT_TRUE(fs::exists(dir.path() / "model.json"));
    auto loaded = ModelPackage::Load(dir.path());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto a = pkg.Score(d.frame);
    auto b = loaded->Score(d.frame);
    for (size_t i = 0; i < d.frame.rows; ++i) ASSERT_NEAR(a->margin[i], b->margin[i], 1e-12);
  }
}

// Debian's python3-xgboost (system interpreter) loads model.ubj and gives the same raw scores.
TEST(Package, PythonXgboostGivesTheSameRawScores) {
  if (std::system("/usr/bin/python3 -c 'import xgboost, numpy' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-xgboost is not installed (scripts/setup.sh installs it)";
  }
  Data d = MakeData(500, 9);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z", "job"}, AllRows(500), 20);
  std::vector<float> x;
  auto booster = FitBooster(*pre, d, x);
  ASSERT_TRUE(booster.ok());
  auto margins = booster->PredictMargin(x, 500, pre->width());
  ASSERT_TRUE(margins.ok());
  TempDir dir;
  auto bytes = booster->SaveModel("ubj");
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "model.ubj", *bytes).ok());
  {
    std::ofstream out(dir.path() / "x.bin", std::ios::binary);
    out.write(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float));
  }
  const std::string script =
      "import numpy as np, xgboost as xgb, sys\n"
      "d = sys.argv[1]\n"
      "x = np.fromfile(d + '/x.bin', dtype=np.float32).reshape(500, " +
      std::to_string(pre->width()) +
      ")\n"
      "b = xgb.Booster(model_file=d + '/model.ubj')\n"
      "m = b.predict(xgb.DMatrix(x, missing=np.nan), output_margin=True)\n"
      "m.astype(np.float32).tofile(d + '/py.bin')\n";
  dir.Write("score.py", script);
  const std::string cmd =
      "/usr/bin/python3 " + (dir.path() / "score.py").string() + " " + dir.path().string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir.path() / "py.bin", std::ios::binary);
  std::vector<float> py(500);
  in.read(reinterpret_cast<char*>(py.data()), 500 * sizeof(float));
  ASSERT_EQ(in.gcount(), static_cast<std::streamsize>(500 * sizeof(float)));
  EXPECT_EQ(py, *margins);
}

}  // namespace
}  // namespace riskpipe::model
