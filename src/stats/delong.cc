// DeLong, DeLong & Clarke-Pearson (1988) variance of AUC from placement values, computed
// after one sort per score (Sun & Xu 2014 show the same O(n log n) idea with mid-ranks), and
// the normal quantile behind the intervals (declared in metrics.h).

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "stats/internal/score_order.h"
#include "stats/metrics.h"

namespace riskpipe::stats {
namespace {

using internal::RankedRow;
using internal::SortByScore;
using internal::SortSplit;
using internal::SplitKeys;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Placement value of each row: for a default, the share of goods it outranks
// (V10 = (goods below + ½ goods tied) / N); for a good, the share of defaults that outrank it
// (V01 = (defaults above + ½ defaults tied) / P). Both average to the AUC.
struct Placements {
  internal::LargeVector<double> value;  // by row index
  int64_t positives = 0, negatives = 0;
  double auc = kNaN;
};

Placements PlacementsOf(std::span<const double> scores, std::span<const uint8_t> labels) {
  const auto sorted = SortByScore(scores, labels);
  Placements out;
  for (const RankedRow& r : sorted) out.positives += r.label;
  out.negatives = static_cast<int64_t>(sorted.size()) - out.positives;
  if (out.positives == 0 || out.negatives == 0) return out;
  out.value.resize(sorted.size());
  const double p = static_cast<double>(out.positives), n = static_cast<double>(out.negatives);
  int64_t pos_below = 0, neg_below = 0;
  double wins = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    int64_t pos = 0;
    while (j < sorted.size() && sorted[j].key == sorted[i].key) pos += sorted[j++].label;
    const int64_t neg = static_cast<int64_t>(j - i) - pos;
    const double half_neg = static_cast<double>(neg_below) + 0.5 * static_cast<double>(neg);
    const double v10 = half_neg / n;
    const double v01 =
        (static_cast<double>(out.positives - pos_below - pos) + 0.5 * static_cast<double>(pos)) / p;
    for (size_t k = i; k < j; ++k) out.value[sorted[k].row] = sorted[k].label != 0 ? v10 : v01;
    wins += static_cast<double>(pos) * half_neg;
    pos_below += pos;
    neg_below += neg;
    i = j;
  }
  out.auc = wins / (p * n);
  return out;
}

// Sample covariances of the placements of two scores over defaults (s10) and goods (s01).
struct Covariance {
  double s10 = 0, s01 = 0;
};

Covariance PlacementCovariance(const Placements& a, const Placements& b,
                               std::span<const uint8_t> labels) {
  double s10 = 0, s01 = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double d = (a.value[i] - a.auc) * (b.value[i] - b.auc);
    if (labels[i] != 0) {
      s10 += d;
    } else {
      s01 += d;
    }
  }
  return {s10 / static_cast<double>(a.positives - 1), s01 / static_cast<double>(a.negatives - 1)};
}

double VarianceOf(const Covariance& c, const Placements& p) {
  return c.s10 / static_cast<double>(p.positives) + c.s01 / static_cast<double>(p.negatives);
}

// z of a two-sided interval at `level`; NaN when level is not in (0, 1).
double TwoSidedZ(double level) {
  if (!(level > 0.0 && level < 1.0)) return kNaN;
  return NormalQuantile(0.5 + 0.5 * level);
}

}  // namespace

AucCi AucConfidence(std::span<const double> scores, std::span<const uint8_t> labels, double level) {
  AucCi ci{kNaN, kNaN, kNaN, kNaN};
  if (scores.size() != labels.size()) return ci;
  // Rows of one score group share their placement, so two walks over the groups (one for the
  // AUC, one for the variances around it) do without a per-row array.
  const SplitKeys keys = SortSplit(scores, labels);
  const int64_t np = static_cast<int64_t>(keys.positives.size());
  const int64_t nn = static_cast<int64_t>(keys.negatives.size());
  if (np == 0 || nn == 0) return ci;
  const double p = static_cast<double>(np), n = static_cast<double>(nn);
  double wins = 0;  // Σ over defaults of (goods below + ½ goods tied): exact, as in Auc
  int64_t neg_above = 0;
  internal::ForEachGroupDescending(keys, [&](uint64_t, int64_t pos, int64_t neg) {
    wins += static_cast<double>(pos) *
            (static_cast<double>(nn - neg_above - neg) + 0.5 * static_cast<double>(neg));
    neg_above += neg;
  });
  ci.auc = wins / (p * n);
  if (np < 2 || nn < 2) return ci;
  double ss10 = 0, ss01 = 0;
  int64_t pos_above = 0;
  neg_above = 0;
  internal::ForEachGroupDescending(keys, [&](uint64_t, int64_t pos, int64_t neg) {
    const double v10 =
        (static_cast<double>(nn - neg_above - neg) + 0.5 * static_cast<double>(neg)) / n;
    const double v01 = (static_cast<double>(pos_above) + 0.5 * static_cast<double>(pos)) / p;
    ss10 += static_cast<double>(pos) * (v10 - ci.auc) * (v10 - ci.auc);
    ss01 += static_cast<double>(neg) * (v01 - ci.auc) * (v01 - ci.auc);
    pos_above += pos;
    neg_above += neg;
  });
  ci.se = std::sqrt(ss10 / (p - 1) / p + ss01 / (n - 1) / n);
  const double z = TwoSidedZ(level);
  ci.lower = std::max(0.0, ci.auc - z * ci.se);
  ci.upper = std::min(1.0, ci.auc + z * ci.se);
  if (std::isnan(z)) ci.lower = ci.upper = kNaN;
  return ci;
}

AucDiff AucDifference(std::span<const double> scores_a, std::span<const double> scores_b,
                      std::span<const uint8_t> labels, double level) {
  AucDiff d{kNaN, kNaN, kNaN, kNaN, kNaN};
  if (scores_a.size() != labels.size() || scores_b.size() != labels.size()) return d;
  const Placements a = PlacementsOf(scores_a, labels);
  const Placements b = PlacementsOf(scores_b, labels);
  d.diff = a.auc - b.auc;
  if (a.positives < 2 || a.negatives < 2) return d;
  const double var = VarianceOf(PlacementCovariance(a, a, labels), a) +
                     VarianceOf(PlacementCovariance(b, b, labels), b) -
                     2.0 * VarianceOf(PlacementCovariance(a, b, labels), a);
  d.se = std::sqrt(std::max(0.0, var));
  const double z = TwoSidedZ(level);
  d.lower = d.diff - z * d.se;
  d.upper = d.diff + z * d.se;
  if (d.se > 0) {
    d.p_value = std::erfc(std::fabs(d.diff / d.se) / std::numbers::sqrt2);
  } else {
    d.p_value = d.diff == 0 ? 1.0 : 0.0;
  }
  return d;
}

double NormalQuantile(double p) {
  if (!(p >= 0.0 && p <= 1.0)) return kNaN;
  if (p == 0.0) return -std::numeric_limits<double>::infinity();
  if (p == 1.0) return std::numeric_limits<double>::infinity();
  // Φ⁻¹(p) = -Φ⁻¹(1 - p), and 1 - p is exact for p > ½; working in the lower half keeps the
  // Halley step's Φ(x) - p free of cancellation.
  if (p > 0.5) return -NormalQuantile(1.0 - p);
  // Coefficients of Acklam's approximation (P. J. Acklam, "An algorithm for computing the
  // inverse normal cumulative distribution function", 2003; relative error 1.15e-9).
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;  // Acklam's break between the tail and central fits
  const auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  double x;
  if (p < kLow) {
    x = tail(std::sqrt(-2 * std::log(p)));
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // One Halley step on Φ(x) - p, with Φ from erfc, takes the error to machine precision.
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace riskpipe::stats
