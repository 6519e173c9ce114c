#include "stats/special.h"

#include <cmath>
#include <limits>
#include <numbers>

namespace riskpipe::stats {
namespace {

// Iteration cap and tolerance for the series and the continued fraction; 1e-15 is a little
// above double's epsilon, 500 terms is far more than either needs for a <= 1e6.
constexpr int kMaxIterations = 500;
constexpr double kTolerance = 1e-15;
// Smallest magnitude Lentz's method lets a denominator reach before it is nudged.
constexpr double kTiny = 1e-300;

// P(a, x) by its power series: e^{-x} x^a / Γ(a+1) Σ_n x^n / ((a+1)...(a+n)).
double GammaPSeries(double a, double x) {
  double term = 1.0 / a;
  double sum = term;
  for (int n = 1; n < kMaxIterations; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kTolerance) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Q(a, x) by the continued fraction of Γ(a, x), evaluated with modified Lentz.
double GammaQContinuedFraction(double a, double x) {
  double b = x + 1.0 - a;
  double c = 1.0 / kTiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kTolerance) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

double RegularizedGammaP(double a, double x) {
  if (!(a > 0) || !(x >= 0)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return 0.0;
  if (x < a + 1.0) return GammaPSeries(a, x);
  return 1.0 - GammaQContinuedFraction(a, x);
}

double RegularizedGammaQ(double a, double x) {
  if (!(a > 0) || !(x >= 0)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return 1.0;
  if (x < a + 1.0) return 1.0 - GammaPSeries(a, x);
  return GammaQContinuedFraction(a, x);
}

double ChiSquareSurvival(double x, double df) {
  if (!(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0) return 1.0;
  return RegularizedGammaQ(df / 2.0, x / 2.0);
}

double KolmogorovSurvival(double lambda) {
  if (!(lambda > 0)) return 1.0;
  // Below λ = 0.2 the tail is 1 to within 1e-20.
  if (lambda < 0.2) return 1.0;
  const double pi = std::numbers::pi;
  if (lambda < 1.18) {
    const double y = std::exp(-pi * pi / (8.0 * lambda * lambda));
    // Σ exp(-(2j-1)² π²/(8λ²)) = y + y^9 + y^25 + y^49 + ...
    const double sum = y + std::pow(y, 9) + std::pow(y, 25) + std::pow(y, 49) + std::pow(y, 81);
    return 1.0 - std::sqrt(2.0 * pi) / lambda * sum;
  }
  double sum = 0.0;
  for (int j = 1; j <= 100; ++j) {
    const double term = std::exp(-2.0 * j * j * lambda * lambda);
    sum += (j % 2 == 1 ? term : -term);
    if (term < 1e-17) break;
  }
  return std::fmin(1.0, std::fmax(0.0, 2.0 * sum));
}

}  // namespace riskpipe::stats
