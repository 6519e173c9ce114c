// Calibrators against independent answers: a scipy 1.10 fit (optimize.root on the gradient
// of Platt's smoothed cross-entropy) for a 12-row sample, recovery of a known logistic,
// the hand-worked PAV solution, and the max-min characterisation of isotonic regression
// (fit_i = max_{j<=i} min_{k>=i} mean(y_j..y_k) over tie-pooled points) on random samples.

#include "stats/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

namespace riskpipe::stats {
namespace {

using V = std::vector<double>;
using L = std::vector<uint8_t>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double Normal(std::mt19937_64& rng) {  // Box–Muller
  const double u = 1.0 - Uniform(rng), v = Uniform(rng);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v);
}

// ---- Platt -------------------------------------------------------------------------------

TEST(FitPlatt, MatchesScipyOnSmallSample) {
  const V f{-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, -0.2, 0.8};
  const L y{0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1};
  auto fit = FitPlatt(f, y);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_NEAR(fit->a, 0.7915932627375, 1e-8);
  EXPECT_NEAR(fit->b, -0.2058403492062895, 1e-8);
}

TEST(FitPlatt, RecoversAKnownLogistic) {
  // 20,000 rows, score ~ N(0, 1.5²), P(default) = 1 / (1 + exp(-(1.5 s - 2))). The MLE's
  // standard errors here are about 0.03 for both parameters; the smoothed targets move them
  // by O(1/n).
  std::mt19937_64 rng(42);
  const size_t n = 20000;
  V s(n);
  L y(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = 1.5 * Normal(rng);
    y[i] = Uniform(rng) < 1 / (1 + std::exp(-(1.5 * s[i] - 2))) ? 1 : 0;
  }
  auto fit = FitPlatt(s, y);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_NEAR(fit->a, 1.5, 0.1);
  EXPECT_NEAR(fit->b, -2.0, 0.1);
}

TEST(FitPlatt, StaysFiniteOnSeparableData) {
  // Without the smoothed targets the MLE of a is +inf here.
  auto fit = FitPlatt(V{-2, -1, 1, 2}, L{0, 0, 1, 1});
  ASSERT_TRUE(fit.ok());
  EXPECT_TRUE(std::isfinite(fit->a));
  EXPECT_GT(fit->a, 0);
  // The smoothed targets cap the fitted PDs: defaults aim at (2+1)/(2+2), goods at 1/(2+2).
  EXPECT_LT(fit->Apply(2.0), 0.95);
  EXPECT_GT(fit->Apply(-2.0), 0.05);
}

TEST(FitPlatt, RejectsMismatchedSizesOneClassAndNonFiniteScores) {
  auto sizes = FitPlatt(V{1, 2}, L{1});
  EXPECT_EQ(sizes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sizes.status().message(), "Platt fit: 2 scores but 1 labels");
  auto one_class = FitPlatt(V{1, 2}, L{0, 0});
  EXPECT_EQ(one_class.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(one_class.status().message(),
            "Platt fit: 0 defaults among 2 rows; both classes are needed");
  EXPECT_EQ(FitPlatt(V{1, 2}, L{1, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FitPlatt(V{}, L{}).status().code(), StatusCode::kInvalidArgument);
  auto nan = FitPlatt(V{1, kNaN, 3}, L{0, 1, 1});
  EXPECT_EQ(nan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nan.status().message().find("row 1"), std::string::npos);
  EXPECT_EQ(FitPlatt(V{1, kInf}, L{0, 1}).status().code(), StatusCode::kInvalidArgument);
}

TEST(PlattCalibrator, AppliesTheLogisticWithoutOverflow) {
  const PlattCalibrator c{2.0, -1.0};
  EXPECT_DOUBLE_EQ(c.Apply(0.5), 0.5);
  EXPECT_NEAR(c.Apply(1.0), 1 / (1 + std::exp(-1.0)), 1e-15);
  EXPECT_EQ(c.Apply(1e308), 1.0);
  EXPECT_EQ(c.Apply(-1e308), 0.0);
  EXPECT_NEAR(c.Apply(-400.0), std::exp(-801.0), 1e-300);  // no 1 - 1 cancellation
  EXPECT_TRUE(std::isnan(c.Apply(kNaN)));
  EXPECT_EQ(c.Apply(V{0.5, 1e308}), (V{0.5, 1.0}));
  // Defaults: the plain logistic.
  EXPECT_DOUBLE_EQ(PlattCalibrator{}.Apply(0.0), 0.5);
}

// ---- Isotonic ----------------------------------------------------------------------------

TEST(FitIsotonic, EqualsHandWorkedPav) {
  // Labels by score 1..8: 0 1 0 0 1 1 0 1. PAV: {1} 0 | {2,3,4} ⅓ | {5,6,7} ⅔ | {8} 1,
  // centres 1, 3, 6, 8.
  auto fit = FitIsotonic(V{5, 1, 7, 2, 8, 3, 6, 4}, L{1, 0, 0, 1, 1, 0, 1, 0});
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->x, (V{1, 3, 6, 8}));
  ASSERT_EQ(fit->y.size(), 4u);
  EXPECT_DOUBLE_EQ(fit->y[0], 0.0);
  EXPECT_DOUBLE_EQ(fit->y[1], 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(fit->y[2], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(fit->y[3], 1.0);
  // Interpolation between centres and clamping outside them.
  EXPECT_DOUBLE_EQ(fit->Apply(2.0), 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(fit->Apply(7.0), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(fit->Apply(6.0), 2.0 / 3.0);
  EXPECT_EQ(fit->Apply(-100.0), 0.0);
  EXPECT_EQ(fit->Apply(100.0), 1.0);
  EXPECT_TRUE(std::isnan(fit->Apply(kNaN)));
}

TEST(FitIsotonic, PoolsTiesBeforePav) {
  // Score 1: rate ½; score 2: rate 0 -> pooled 1/4 with centre 1.5; score 3: rate 1.
  auto fit = FitIsotonic(V{1, 1, 2, 2, 3}, L{1, 0, 0, 0, 1});
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->x, (V{1.5, 3}));
  EXPECT_EQ(fit->y, (V{0.25, 1.0}));
}

TEST(FitIsotonic, DecreasingLabelsPoolIntoOneBlock) {
  auto fit = FitIsotonic(V{1, 2, 3, 4}, L{1, 1, 0, 0});
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->x, V{2.5});
  EXPECT_EQ(fit->y, V{0.5});
  EXPECT_EQ(fit->Apply(0.0), 0.5);
  EXPECT_EQ(fit->Apply(9.0), 0.5);
}

// Expected calibrator from the max-min formula over tie-pooled points, then adjacent equal
// fitted values joined into blocks.
IsotonicCalibrator MaxMinIsotonic(const V& s, const L& y) {
  std::vector<size_t> order(s.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] < s[b]; });
  V xs, w, ysum;  // distinct scores, their counts and default counts
  for (size_t i : order) {
    if (xs.empty() || xs.back() != s[i]) {
      xs.push_back(s[i]);
      w.push_back(0);
      ysum.push_back(0);
    }
    w.back() += 1;
    ysum.back() += y[i];
  }
  const size_t g = xs.size();
  V fit(g);
  for (size_t i = 0; i < g; ++i) {
    double best = -1;
    for (size_t j = 0; j <= i; ++j) {
      double worst = 2, sw = 0, sy = 0;
      for (size_t k = j; k < g; ++k) {
        sw += w[k];
        sy += ysum[k];
        if (k >= i) worst = std::min(worst, sy / sw);
      }
      best = std::max(best, worst);
    }
    fit[i] = best;
  }
  IsotonicCalibrator out;
  double sw = 0, sx = 0;
  for (size_t i = 0; i < g; ++i) {
    sw += w[i];
    sx += xs[i] * w[i];
    if (i + 1 == g || std::fabs(fit[i + 1] - fit[i]) > 1e-12) {
      out.x.push_back(sx / sw);
      out.y.push_back(fit[i]);
      sw = sx = 0;
    }
  }
  return out;
}

TEST(FitIsotonic, EqualsMaxMinSolutionOnRandomSamples) {
  std::mt19937_64 rng(8);
  for (int trial = 0; trial < 30; ++trial) {
    // Half the trials on a coarse grid (ties), half continuous; sizes cross the radix switch.
    const size_t n = 4 + rng() % 300;
    V s(n);
    L y(n);
    for (size_t i = 0; i < n; ++i) {
      const double u = Uniform(rng);
      s[i] = trial % 2 == 0 ? std::floor(u * 12) : u;
      y[i] = Uniform(rng) < 0.2 + 0.6 * u ? 1 : 0;
    }
    y[0] = 1;
    y[1] = 0;
    auto fit = FitIsotonic(s, y);
    ASSERT_TRUE(fit.ok());
    const IsotonicCalibrator want = MaxMinIsotonic(s, y);
    ASSERT_EQ(fit->x.size(), want.x.size()) << "trial " << trial;
    for (size_t b = 0; b < want.x.size(); ++b) {
      ASSERT_NEAR(fit->x[b], want.x[b], 1e-12) << "trial " << trial << " block " << b;
      ASSERT_NEAR(fit->y[b], want.y[b], 1e-12) << "trial " << trial << " block " << b;
    }
  }
}

TEST(FitIsotonic, IsMonotoneAndWithinUnitInterval) {
  std::mt19937_64 rng(9);
  const size_t n = 5000;
  V s(n);
  L y(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = Normal(rng);
    y[i] = Uniform(rng) < 1 / (1 + std::exp(-s[i])) ? 1 : 0;
  }
  auto fit = FitIsotonic(s, y);
  ASSERT_TRUE(fit.ok());
  ASSERT_GE(fit->x.size(), 2u);
  for (size_t b = 1; b < fit->x.size(); ++b) {
    EXPECT_LT(fit->x[b - 1], fit->x[b]);
    EXPECT_LT(fit->y[b - 1], fit->y[b]);
  }
  EXPECT_GE(fit->y.front(), 0.0);
  EXPECT_LE(fit->y.back(), 1.0);
  V grid;
  for (double t = -5; t <= 5; t += 0.01) grid.push_back(t);
  const V out = fit->Apply(grid);
  for (size_t i = 1; i < out.size(); ++i) ASSERT_LE(out[i - 1], out[i]) << grid[i];
}

TEST(FitIsotonic, RejectsMismatchedSizesOneClassAndNonFiniteScores) {
  EXPECT_EQ(FitIsotonic(V{1, 2}, L{1}).status().code(), StatusCode::kInvalidArgument);
  auto one_class = FitIsotonic(V{1, 2}, L{1, 1});
  EXPECT_EQ(one_class.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(one_class.status().message(),
            "isotonic fit: 2 defaults among 2 rows; both classes are needed");
  EXPECT_EQ(FitIsotonic(V{}, L{}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FitIsotonic(V{-kInf, 1}, L{0, 1}).status().code(), StatusCode::kInvalidArgument);
}

TEST(IsotonicCalibrator, EmptyCalibratorGivesNaN) {
  EXPECT_TRUE(std::isnan(IsotonicCalibrator{}.Apply(0.5)));
}

}  // namespace
}  // namespace riskpipe::stats
