#include "stats/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "stats/internal/score_order.h"

namespace riskpipe::stats {
namespace {

using internal::ForEachGroupAscending;
using internal::KeyValue;
using internal::SortSplit;
using internal::SplitKeys;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Newton settings of Lin, Lin & Weng (2007), section 4 pseudo-code.
constexpr int kPlattMaxIterations = 100;
constexpr double kPlattMinStep = 1e-10;       // smallest backtracking step
constexpr double kPlattHessianRidge = 1e-12;  // added to the Hessian diagonal
constexpr double kPlattGradientTol = 1e-5;    // stop when |g1| and |g2| are below this
constexpr double kArmijo = 1e-4;              // sufficient-decrease constant of the line search

// Blocks reserved up front for PAV. The stack rarely holds more than a few thousand blocks
// (a calibration curve has few steps), and it grows geometrically past this if it must.
constexpr size_t kIsotonicInitialBlocks = 4096;

double Logistic(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// Shared checks of both fits: equal sizes, finite scores, both classes present.
Status CheckFitInput(std::string_view what, std::span<const double> scores,
                     std::span<const uint8_t> labels, int64_t* positives) {
  const std::string name(what);
  if (scores.size() != labels.size()) {
    return InvalidArgumentError(name + ": " + std::to_string(scores.size()) + " scores but " +
                                std::to_string(labels.size()) + " labels");
  }
  *positives = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      return InvalidArgumentError(name + ": score at row " + std::to_string(i) +
                                  " is not finite (" + std::to_string(scores[i]) + ")");
    }
    *positives += labels[i] != 0 ? 1 : 0;
  }
  const int64_t n = static_cast<int64_t>(scores.size());
  if (*positives == 0 || *positives == n) {
    return InvalidArgumentError(name + ": " + std::to_string(*positives) + " defaults among " +
                                std::to_string(n) + " rows; both classes are needed");
  }
  return OkStatus();
}

// Cross-entropy of the smoothed targets under P(default) = 1 / (1 + exp(A·f + B)) (Lin et
// al.'s sign convention), written so that exp never overflows.
double PlattObjective(std::span<const double> f, std::span<const uint8_t> labels, double hi,
                      double lo, double A, double B) {
  double sum = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const double t = labels[i] != 0 ? hi : lo;
    const double z = f[i] * A + B;
    sum += z >= 0 ? t * z + std::log1p(std::exp(-z)) : (t - 1) * z + std::log1p(std::exp(z));
  }
  return sum;
}

}  // namespace

double PlattCalibrator::Apply(double score) const { return Logistic(a * score + b); }

std::vector<double> PlattCalibrator::Apply(std::span<const double> scores) const {
  std::vector<double> out(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) out[i] = Apply(scores[i]);
  return out;
}

StatusOr<PlattCalibrator> FitPlatt(std::span<const double> scores,
                                   std::span<const uint8_t> labels) {
  int64_t positives = 0;
  RETURN_IF_ERROR(CheckFitInput("Platt fit", scores, labels, &positives));
  const double n_pos = static_cast<double>(positives);
  const double n_neg = static_cast<double>(scores.size()) - n_pos;
  const double hi = (n_pos + 1) / (n_pos + 2), lo = 1 / (n_neg + 2);
  double A = 0, B = std::log((n_neg + 1) / (n_pos + 1));
  double fval = PlattObjective(scores, labels, hi, lo, A, B);
  for (int iter = 0; iter < kPlattMaxIterations; ++iter) {
    // Gradient and Hessian of the objective at (A, B).
    double h11 = kPlattHessianRidge, h22 = kPlattHessianRidge, h21 = 0, g1 = 0, g2 = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
      const double f = scores[i];
      const double p = Logistic(-(f * A + B));  // P(default)
      const double d2 = p * (1 - p);
      const double d1 = (labels[i] != 0 ? hi : lo) - p;
      h11 += f * f * d2;
      h22 += d2;
      h21 += f * d2;
      g1 += f * d1;
      g2 += d1;
    }
    if (std::fabs(g1) < kPlattGradientTol && std::fabs(g2) < kPlattGradientTol) break;
    const double det = h11 * h22 - h21 * h21;
    const double dA = -(h22 * g1 - h21 * g2) / det;
    const double dB = -(-h21 * g1 + h11 * g2) / det;
    const double gd = g1 * dA + g2 * dB;
    double step = 1;
    while (step >= kPlattMinStep) {
      const double new_a = A + step * dA, new_b = B + step * dB;
      const double new_f = PlattObjective(scores, labels, hi, lo, new_a, new_b);
      if (new_f < fval + kArmijo * step * gd) {
        A = new_a;
        B = new_b;
        fval = new_f;
        break;
      }
      step /= 2;
    }
    if (step < kPlattMinStep) break;  // no descent left at double precision
  }
  return PlattCalibrator{-A, -B};
}

double IsotonicCalibrator::Apply(double score) const {
  if (x.empty() || std::isnan(score)) return kNaN;
  if (score <= x.front()) return y.front();
  if (score >= x.back()) return y.back();
  // x.front() < score < x.back(): hi is in [1, size - 1].
  const size_t hi = static_cast<size_t>(std::upper_bound(x.begin(), x.end(), score) - x.begin());
  const size_t lo = hi - 1;
  const double w = (score - x[lo]) / (x[hi] - x[lo]);
  return y[lo] + w * (y[hi] - y[lo]);
}

std::vector<double> IsotonicCalibrator::Apply(std::span<const double> scores) const {
  std::vector<double> out(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) out[i] = Apply(scores[i]);
  return out;
}

StatusOr<IsotonicCalibrator> FitIsotonic(std::span<const double> scores,
                                         std::span<const uint8_t> labels) {
  int64_t positives = 0;
  RETURN_IF_ERROR(CheckFitInput("isotonic fit", scores, labels, &positives));
  // Tie groups ascending. A block: rows, defaults and score sum. Blocks on the stack have
  // strictly increasing default rates; each group is pushed, then merged down while it is not
  // above the block before it. Rates are compared as cross products of counts, exact in uint64
  // for fewer than 2^32 rows.
  struct Block {
    uint64_t n, defaults;
    double score_sum;
  };
  const SplitKeys keys = SortSplit(scores, labels);
  std::vector<Block> blocks;
  blocks.reserve(std::min<size_t>(scores.size(), kIsotonicInitialBlocks));
  ForEachGroupAscending(keys, [&](uint64_t key, int64_t pos, int64_t neg) {
    Block b{static_cast<uint64_t>(pos + neg), static_cast<uint64_t>(pos), 0};
    b.score_sum = KeyValue(key) * static_cast<double>(b.n);
    while (!blocks.empty() && blocks.back().defaults * b.n >= b.defaults * blocks.back().n) {
      b.n += blocks.back().n;
      b.defaults += blocks.back().defaults;
      b.score_sum += blocks.back().score_sum;
      blocks.pop_back();
    }
    blocks.push_back(b);
  });
  IsotonicCalibrator cal;
  cal.x.reserve(blocks.size());
  cal.y.reserve(blocks.size());
  for (const Block& b : blocks) {
    const double n = static_cast<double>(b.n);
    cal.x.push_back(b.score_sum / n);
    cal.y.push_back(static_cast<double>(b.defaults) / n);
  }
  return cal;
}

}  // namespace riskpipe::stats
