#include "stats/distribution.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/special.h"

namespace riskpipe::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Sum(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

std::vector<double> SortedFinite(std::span<const double> v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v) {
    if (!std::isnan(x)) out.push_back(x);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Quantile q of sorted values with linear interpolation between order statistics
// (position q · (n - 1)).
double SortedQuantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

std::vector<double> QuantileEdges(std::span<const double> reference, int bins) {
  const std::vector<double> sorted = SortedFinite(reference);
  std::vector<double> edges;
  if (sorted.empty() || bins < 2) return edges;
  for (int i = 1; i < bins; ++i) {
    const double e = SortedQuantile(sorted, static_cast<double>(i) / bins);
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  return edges;
}

std::vector<double> QuantileEdgesFromCounts(std::span<const double> values,
                                            std::span<const double> counts, int bins) {
  std::vector<double> edges;
  const double n = Sum(counts);
  if (values.size() != counts.size() || n <= 0 || bins < 2) return edges;
  // The value of order statistic k (0-based): the first distinct value whose cumulative
  // count exceeds k. Fractions are visited in increasing order, so one forward walk serves.
  size_t at = 0;
  double below = 0;  // occurrences of values before `at`
  const auto order_stat = [&](double k) {
    while (at + 1 < values.size() && below + counts[at] <= k) below += counts[at++];
    return values[at];
  };
  for (int i = 1; i < bins; ++i) {
    const double pos = static_cast<double>(i) / bins * (n - 1);
    const double lo_k = std::floor(pos);
    const double lo = order_stat(lo_k);
    // The next order statistic may sit in a later distinct value; look ahead without moving.
    const size_t save_at = at;
    const double save_below = below;
    const double hi = order_stat(std::min(lo_k + 1, n - 1));
    at = save_at;
    below = save_below;
    const double e = lo + (pos - lo_k) * (hi - lo);
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  return edges;
}

std::vector<double> BinCounts(std::span<const double> values, std::span<const double> edges) {
  std::vector<double> counts(edges.size() + 1, 0.0);
  for (double x : values) {
    if (std::isnan(x)) continue;
    // First edge >= x: x belongs to the bin that edge closes.
    const auto it = std::lower_bound(edges.begin(), edges.end(), x);
    counts[static_cast<size_t>(it - edges.begin())] += 1.0;
  }
  return counts;
}

double Psi(std::span<const double> reference_counts, std::span<const double> current_counts,
           double epsilon) {
  if (reference_counts.size() != current_counts.size()) return kNaN;
  const double ref_total = Sum(reference_counts), cur_total = Sum(current_counts);
  if (ref_total <= 0 || cur_total <= 0) return kNaN;
  double psi = 0;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    const double e = std::max(reference_counts[i] / ref_total, epsilon);
    const double a = std::max(current_counts[i] / cur_total, epsilon);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

double PsiOfSamples(std::span<const double> reference, std::span<const double> current, int bins,
                    double epsilon) {
  const std::vector<double> edges = QuantileEdges(reference, bins);
  return Psi(BinCounts(reference, edges), BinCounts(current, edges), epsilon);
}

double JensenShannon(std::span<const double> p_counts, std::span<const double> q_counts) {
  if (p_counts.size() != q_counts.size()) return kNaN;
  const double p_total = Sum(p_counts), q_total = Sum(q_counts);
  if (p_total <= 0 || q_total <= 0) return kNaN;
  double js = 0;
  for (size_t i = 0; i < p_counts.size(); ++i) {
    const double p = p_counts[i] / p_total, q = q_counts[i] / q_total;
    const double m = 0.5 * (p + q);
    if (p > 0) js += 0.5 * p * std::log2(p / m);
    if (q > 0) js += 0.5 * q * std::log2(q / m);
  }
  return std::max(0.0, js);
}

double KsPValue(double d, int64_t n, int64_t m) {
  if (n <= 0 || m <= 0) return 1.0;
  const double ne = static_cast<double>(n) * static_cast<double>(m) / static_cast<double>(n + m);
  const double sqrt_ne = std::sqrt(ne);
  return KolmogorovSurvival((sqrt_ne + 0.12 + 0.11 / sqrt_ne) * d);
}

KsResult KsTwoSample(std::span<const double> a, std::span<const double> b) {
  const std::vector<double> x = SortedFinite(a), y = SortedFinite(b);
  KsResult r;
  r.n = static_cast<int64_t>(x.size());
  r.m = static_cast<int64_t>(y.size());
  if (x.empty() || y.empty()) return r;
  size_t i = 0, j = 0;
  double d = 0;
  // Walk the merged order; after consuming every copy of the next value from both samples,
  // the ECDF difference is evaluated (so ties never open a spurious gap).
  while (i < x.size() && j < y.size()) {
    const double v = std::min(x[i], y[j]);
    while (i < x.size() && x[i] == v) ++i;
    while (j < y.size() && y[j] == v) ++j;
    d = std::max(d, std::fabs(static_cast<double>(i) / r.n - static_cast<double>(j) / r.m));
  }
  r.statistic = d;
  r.p_value = KsPValue(d, r.n, r.m);
  return r;
}

KsResult KsFromCounts(std::span<const double> a_counts, std::span<const double> b_counts) {
  KsResult r;
  if (a_counts.size() != b_counts.size()) return r;
  const double na = Sum(a_counts), nb = Sum(b_counts);
  r.n = static_cast<int64_t>(na);
  r.m = static_cast<int64_t>(nb);
  if (na <= 0 || nb <= 0) return r;
  double ca = 0, cb = 0, d = 0;
  for (size_t i = 0; i < a_counts.size(); ++i) {
    ca += a_counts[i];
    cb += b_counts[i];
    d = std::max(d, std::fabs(ca / na - cb / nb));
  }
  r.statistic = d;
  r.p_value = KsPValue(d, r.n, r.m);
  return r;
}

ChiSquareResult ChiSquareHomogeneity(std::span<const double> reference_counts,
                                     std::span<const double> current_counts) {
  ChiSquareResult r;
  if (reference_counts.size() != current_counts.size()) return r;
  const double ref_total = Sum(reference_counts), cur_total = Sum(current_counts);
  const double total = ref_total + cur_total;
  if (ref_total <= 0 || cur_total <= 0) return r;
  int categories = 0;
  double chi2 = 0;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    const double col = reference_counts[i] + current_counts[i];
    if (col <= 0) continue;
    ++categories;
    const double e_ref = ref_total * col / total, e_cur = cur_total * col / total;
    chi2 += (reference_counts[i] - e_ref) * (reference_counts[i] - e_ref) / e_ref;
    chi2 += (current_counts[i] - e_cur) * (current_counts[i] - e_cur) / e_cur;
  }
  if (categories < 2) return r;
  r.statistic = chi2;
  r.df = categories - 1;
  r.p_value = ChiSquareSurvival(chi2, r.df);
  return r;
}

}  // namespace riskpipe::stats
