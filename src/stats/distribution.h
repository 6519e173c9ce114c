#pragma once
// Distribution comparisons between a reference sample and a current one: the population
// stability index (PSI), the two-sample Kolmogorov–Smirnov test, the chi-square test of
// homogeneity for category counts and the Jensen–Shannon divergence. Pure functions on
// vectors of values or of bin counts (docs/quality.md gives the formulas); thread-safe.
//
// Histograms are vectors of non-negative counts over the same bins, in the same order.

#include <cstdint>
#include <span>
#include <vector>

namespace riskpipe::stats {

// Proportion that stands in for an empty bin in PSI and JS, so ln(a/e) stays finite. 1e-4
// is the usual choice in credit-scoring practice (one in ten thousand: smaller than any bin
// of a 10-bin PSI on a sample below 10,000 rows can hold, and it caps one empty bin's PSI
// term at about 0.1 * ln(0.1 / 1e-4) ≈ 0.69).
inline constexpr double kPsiEpsilon = 1e-4;

// Interior cut points for `bins` equal-frequency bins of `reference`: its quantiles at
// 1/bins, 2/bins, ..., (bins-1)/bins (linear interpolation, as numpy's default and DuckDB's
// quantile_cont), with duplicates removed, so a variable with few distinct values gets fewer
// bins. Bin i holds values in (edge[i-1], edge[i]]; the first bin is open below and the last
// open above. Empty when `reference` is empty or bins < 2.
std::vector<double> QuantileEdges(std::span<const double> reference, int bins);

// The same cut points from a histogram of the reference over distinct values: `values`
// ascending, `counts[i]` the occurrences of values[i]. Gives exactly what QuantileEdges gives
// on the expanded sample, without expanding it.
std::vector<double> QuantileEdgesFromCounts(std::span<const double> values,
                                            std::span<const double> counts, int bins);

// Counts of `values` per bin of `edges` (edges.size() + 1 bins, as above). NaNs are skipped.
std::vector<double> BinCounts(std::span<const double> values, std::span<const double> edges);

// PSI = Σ_i (a_i - e_i) · ln(a_i / e_i), where e_i and a_i are the proportions of the
// reference (expected) and current (actual) counts in bin i, each floored at `epsilon` when
// the bin is empty. 0 for identical distributions; 0.1 and 0.25 are the customary "watch" and
// "act" levels. Returns NaN when the histograms differ in size or either total is 0.
double Psi(std::span<const double> reference_counts, std::span<const double> current_counts,
           double epsilon = kPsiEpsilon);

// PSI of two samples with bins from the reference's quantiles (QuantileEdges).
double PsiOfSamples(std::span<const double> reference, std::span<const double> current,
                    int bins = 10, double epsilon = kPsiEpsilon);

// Jensen–Shannon divergence in bits: JS = ½ KL(P‖M) + ½ KL(Q‖M), M = ½ (P + Q), with P and Q
// the normalised histograms and 0·log 0 = 0. In [0, 1]; 0 iff P = Q. NaN as for Psi.
double JensenShannon(std::span<const double> p_counts, std::span<const double> q_counts);

struct KsResult {
  double statistic = 0;  // D = sup_x |F_a(x) - F_b(x)| of the empirical CDFs, in [0, 1]
  double p_value = 1;    // asymptotic: Q_KS((√n_e + 0.12 + 0.11/√n_e) · D), n_e = n·m/(n+m)
  int64_t n = 0, m = 0;  // sample sizes
};
// Two-sample KS test. NaNs are skipped; an empty sample gives D = 0 and p = 1.
KsResult KsTwoSample(std::span<const double> a, std::span<const double> b);
// The same from counts over shared distinct values in ascending order (ties handled exactly):
// a_counts[i] and b_counts[i] are how often value i occurs in each sample.
KsResult KsFromCounts(std::span<const double> a_counts, std::span<const double> b_counts);
// The asymptotic p-value of a KS statistic `d` for sample sizes n and m (Stephens' small
// sample correction, as in Numerical Recipes' kstwo).
double KsPValue(double d, int64_t n, int64_t m);

struct ChiSquareResult {
  double statistic = 0;  // Σ (O - E)² / E over the 2 × k table
  double df = 0;         // (non-empty categories) - 1
  double p_value = 1;    // upper tail of chi-square(df)
};
// Chi-square test of homogeneity: are the reference and current counts over the same k
// categories drawn from one distribution? E = row total · column total / grand total;
// categories empty in both samples are dropped. Fewer than two non-empty categories, or an
// empty sample, give statistic 0, df 0 and p = 1 (nothing to test).
ChiSquareResult ChiSquareHomogeneity(std::span<const double> reference_counts,
                                     std::span<const double> current_counts);

}  // namespace riskpipe::stats
