#pragma once
// Probability calibrators that turn a model's raw score into a PD: Platt scaling (a logistic
// in the score, two parameters) and isotonic regression (a monotone step fit, interpolated).
// Fitting is a pure function; a fitted calibrator is an immutable value, so Apply is
// thread-safe. docs/metrics.md says when to prefer which.

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace riskpipe::stats {

// p = 1 / (1 + exp(-(a·score + b))). Fit it on the raw margin (log-odds), not on a
// probability. The defaults make Apply the plain logistic of the score.
struct PlattCalibrator {
  double a = 1;
  double b = 0;
  // PD of one score; NaN for a NaN score. Computed without overflow for any finite a·score + b.
  double Apply(double score) const;
  // Apply to every score, in order.
  std::vector<double> Apply(std::span<const double> scores) const;
};

// Maximum-likelihood fit of a and b by Newton's method with backtracking (Lin, Lin & Weng
// 2007, "A note on Platt's probabilistic outputs for support vector machines"), against
// Platt's smoothed targets (N+ + 1)/(N+ + 2) for defaults and 1/(N- + 2) for goods, which
// keeps a separable sample from driving a to infinity. At most 100 iterations; stops when both
// gradient components are below 1e-5, or when the line search cannot improve (the last iterate
// is returned either way). labels: non-zero = default.
// Errors: InvalidArgument when sizes differ, a score is not finite, or a class is empty.
[[nodiscard]] StatusOr<PlattCalibrator> FitPlatt(std::span<const double> scores,
                                                 std::span<const uint8_t> labels);

// Isotonic regression by pool-adjacent-violators. Rows tied on a score are pooled first; the
// fit is the non-decreasing step function of score minimising the squared error to the
// labels, and its steps ("blocks") have strictly increasing default rates. x[i] is the mean
// score of block i's rows (its centre), y[i] the block's default rate.
struct IsotonicCalibrator {
  std::vector<double> x;  // strictly increasing block centres
  std::vector<double> y;  // strictly increasing block default rates, in [0, 1]
  // Linear interpolation between the two centres around the score; y.front() below x.front(),
  // y.back() above x.back(). NaN for a NaN score or an empty calibrator.
  double Apply(double score) const;
  std::vector<double> Apply(std::span<const double> scores) const;
};

// O(n log n): one sort, then a linear PAV pass. Errors: InvalidArgument when sizes differ, a
// score is not finite, or a class is empty (the fit would be a constant).
[[nodiscard]] StatusOr<IsotonicCalibrator> FitIsotonic(std::span<const double> scores,
                                                       std::span<const uint8_t> labels);

}  // namespace riskpipe::stats
