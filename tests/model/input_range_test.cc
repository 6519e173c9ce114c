// Inputs at and beyond the edges of what a model can encode: a value beyond float's range
// (or infinite) gives no PD and a refer decision, never an infinite encoded value or an
// approve; a finite value outside the training range is clipped to it; the decision on a PD
// that is not a number is refer. Logistic, scorecard and XGBoost packages alike.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "model/package.h"
#include "testing/temp_dir.h"
#include "xgb/xgb.h"

namespace riskpipe::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// x, z numeric; y from a logistic model of both.
struct Data {
  Frame frame;
  std::vector<uint8_t> y;
};

Data MakeData(size_t n) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  FrameColumn x{"x", false, "DOUBLE", {}, {}, {}};
  FrameColumn z{"z", false, "DOUBLE", {}, {}, {}};
  Data d;
  for (size_t i = 0; i < n; ++i) {
    const double xv = 5 + normal(rng), zv = normal(rng);
    d.y.push_back(unit(rng) < 1 / (1 + std::exp(-(-0.5 + 1.5 * (xv - 5) - 0.7 * zv))));
    x.numbers.push_back(xv);
    z.numbers.push_back(zv);
  }
  d.frame.columns = {x, z};
  d.frame.rows = n;
  return d;
}

// One row per probe value of x (z = 0 throughout).
Frame Probe(const std::vector<double>& xs) {
  Frame f;
  f.columns = {FrameColumn{"x", false, "DOUBLE", xs, {}, {}},
               FrameColumn{"z", false, "DOUBLE", std::vector<double>(xs.size(), 0.0), {}, {}}};
  f.rows = xs.size();
  return f;
}

// The probes of the regression: float's edge, just beyond it, far beyond it, infinities, NaN
// (missing) and negative zero.
const std::vector<double> kProbes = {3.40e38, 3.41e38, 1e39, kInf, -kInf, kNaN, -0.0, -1e39};

StatusOr<xgb::Booster> FitBooster(const Preprocessor& pre, const Data& d) {
  const std::vector<uint32_t> rows = AllRows(d.frame.rows);
  std::vector<float> x;
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

// A logistic, a scorecard and an XGBoost package on the same preprocessing, threshold 0.5.
std::vector<ModelPackage> Packages(const Data& d) {
  const std::vector<uint32_t> rows = AllRows(d.frame.rows);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z"}, rows, 20);
  EXPECT_TRUE(pre.ok());
  std::vector<float> x;
  EXPECT_TRUE(pre->Encode(d.frame, rows, Encoding::kLinear, x).ok());
  auto fit = FitLogistic(x, rows.size(), pre->width(), d.y, {});
  EXPECT_TRUE(fit.ok());
  auto sc = ScorecardEstimator::Fit(d.frame, rows, d.y, *pre, {});
  EXPECT_TRUE(sc.ok());
  auto booster = FitBooster(*pre, d);
  EXPECT_TRUE(booster.ok()) << booster.status().ToString();
  const DecisionPolicy policy{0.5, "test", {{"A", 0, 0.5}, {"B", 0.5, 1.0 + 1e-12}}};
  std::vector<ModelPackage> out;
  out.emplace_back(*pre, std::make_unique<LinearEstimator>(pre->encoded_names(), *fit),
                   Calibrator(), policy);
  out.emplace_back(*pre, std::move(*sc), Calibrator(), policy);
  out.emplace_back(*pre, std::make_unique<BoosterEstimator>("xgboost", std::move(*booster)),
                   Calibrator(), policy);
  return out;
}

TEST(InputRange, NoProbeEverEncodesAsInfinity) {
  const Data d = MakeData(2000);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z"}, AllRows(d.frame.rows), 20);
  ASSERT_TRUE(pre.ok());
  const Frame probe = Probe(kProbes);
  for (Encoding e : {Encoding::kTree, Encoding::kLinear}) {
    std::vector<float> x;
    ASSERT_TRUE(pre->Encode(probe, AllRows(probe.rows), e, x).ok());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_FALSE(std::isinf(x[i])) << "value " << i;
  }
}

TEST(InputRange, OnlyValuesBeyondFloatAreUnscorable) {
  const Data d = MakeData(2000);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z"}, AllRows(d.frame.rows), 20);
  ASSERT_TRUE(pre.ok());
  const Frame probe = Probe(kProbes);
  const std::vector<bool> unscorable = {false, true, true, true, true, false, false, true};
  for (uint32_t i = 0; i < probe.rows; ++i) {
    EXPECT_EQ(pre->UnscorableInput(probe, i).has_value(), unscorable[i]) << kProbes[i];
  }
  EXPECT_EQ(pre->UnscorableRows(probe, AllRows(probe.rows)),
            (std::vector<size_t>{1, 2, 3, 4, 7}));
  EXPECT_EQ(UnscorableInputText("loan_amt", 1e39),
            "loan_amt = 1e+39 does not fit the model's float inputs (|x| > 3.4028235e+38)");
}

TEST(InputRange, ValuesOutsideTheTrainingRangeScoreAsTheNearestEdge) {
  const Data d = MakeData(2000);
  for (const ModelPackage& pkg : Packages(d)) {
    const FeatureSpec& x = pkg.preprocessor().features()[0];
    ASSERT_TRUE(x.has_range);
    const Frame probe = Probe({x.max, x.max + 1000, 3.40e38, x.min, x.min - 1000, -3.40e38});
    auto s = pkg.Score(probe);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->pd[1], s->pd[0]) << pkg.estimator().family();
    EXPECT_EQ(s->pd[2], s->pd[0]) << pkg.estimator().family();
    EXPECT_EQ(s->pd[4], s->pd[3]) << pkg.estimator().family();
    EXPECT_EQ(s->pd[5], s->pd[3]) << pkg.estimator().family();
  }
}

TEST(InputRange, EveryFamilyRefersRowsItCannotEncodeAndNeverApprovesThem) {
  const Data d = MakeData(2000);
  const Frame probe = Probe(kProbes);
  for (const ModelPackage& pkg : Packages(d)) {
    const std::string family = pkg.estimator().family();
    auto s = pkg.Score(probe);
    ASSERT_TRUE(s.ok()) << family << ": " << s.status().ToString();
    for (size_t i = 0; i < probe.rows; ++i) {
      const bool unscorable = pkg.preprocessor().UnscorableInput(probe, i).has_value();
      const Decision decision = pkg.policy().Decide(s->pd[i]);
      if (unscorable) {
        EXPECT_TRUE(std::isnan(s->pd[i])) << family << " x=" << kProbes[i];
        EXPECT_EQ(decision, Decision::kRefer) << family << " x=" << kProbes[i];
        EXPECT_EQ(pkg.policy().BandOf(s->pd[i]), "") << family;
      } else {
        EXPECT_TRUE(s->pd[i] >= 0 && s->pd[i] <= 1) << family << " x=" << kProbes[i];
        EXPECT_NE(decision, Decision::kRefer) << family << " x=" << kProbes[i];
      }
    }
    // -0 scores as 0 does.
    auto zero = pkg.Score(Probe({0.0}));
    ASSERT_TRUE(zero.ok());
    EXPECT_EQ(s->pd[6], zero->pd[0]) << family;
  }
}

TEST(DecisionPolicy, ApprovesOnlyAPdBelowTheThreshold) {
  const DecisionPolicy p{0.3, "test", {{"A", 0, 0.3}, {"B", 0.3, 1.0 + 1e-12}}};
  EXPECT_EQ(p.Decide(0.1), Decision::kApprove);
  EXPECT_EQ(p.Decide(-0.0), Decision::kApprove);
  EXPECT_EQ(p.Decide(0.3), Decision::kDecline);
  EXPECT_EQ(p.Decide(1.0), Decision::kDecline);
  for (double bad : {kNaN, -kNaN, kInf, -kInf, -0.5, 1.5}) {
    EXPECT_EQ(p.Decide(bad), Decision::kRefer) << bad;
    EXPECT_EQ(p.BandOf(bad), "") << bad;
  }
  // A policy whose threshold is NaN approves nothing.
  const DecisionPolicy broken{kNaN, "broken", {}};
  EXPECT_EQ(broken.Decide(0.01), Decision::kDecline);
  EXPECT_STREQ(DecisionName(Decision::kRefer), "refer");
}

TEST(InputRange, TrainingCountsValuesBeyondFloatAsMissing) {
  Data d = MakeData(1000);
  d.frame.columns[0].numbers[0] = 1e39;
  d.frame.columns[0].numbers[1] = kInf;
  auto pre = Preprocessor::Fit(d.frame, {"x", "z"}, AllRows(d.frame.rows), 20);
  ASSERT_TRUE(pre.ok());
  const FeatureSpec& x = pre->features()[0];
  EXPECT_LT(x.max, 100);  // the range, mean and deviation are those of the encodable values
  EXPECT_LT(x.stddev, 100);
  EXPECT_DOUBLE_EQ(x.missing_rate, 2.0 / 1000);
}

TEST(InputRange, APackageWithoutTrainingRangesStillLoadsAndDoesNotClip) {
  const Data d = MakeData(500);
  auto pre = Preprocessor::Fit(d.frame, {"x", "z"}, AllRows(d.frame.rows), 20);
  ASSERT_TRUE(pre.ok());
  nlohmann::json j = pre->ToJson();
  for (auto& f : j["features"]) {
    f.erase("min");
    f.erase("max");
  }
  auto old = Preprocessor::FromJson(j);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_FALSE(old->features()[0].has_range);
  EXPECT_TRUE(Preprocessor::FromJson(pre->ToJson())->features()[0].has_range);
  std::vector<float> x;
  const Frame probe = Probe({1e6, 3.41e38});
  ASSERT_TRUE(old->Encode(probe, AllRows(2), Encoding::kTree, x).ok());
  EXPECT_EQ(x[0], 1e6f);                   // not clipped: no range recorded
  EXPECT_TRUE(std::isnan(x[2]));           // beyond float: encoded as missing, never inf
  EXPECT_TRUE(old->UnscorableInput(probe, 1).has_value());
}

}  // namespace
}  // namespace riskpipe::model
