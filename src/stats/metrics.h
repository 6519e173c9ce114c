#pragma once
// Credit-scoring metrics of a binary classifier: rank metrics (AUC, Gini, KS, average
// precision) with DeLong confidence intervals, probability metrics (log loss, Brier), the
// confusion table at a PD cut, cuts for an approval rate or a cost ratio, and the calibration
// table. Pure functions on spans (docs/metrics.md gives every formula); thread-safe.
//
// Conventions shared by every function:
// - labels: 0 = good, any non-zero value = default (the positive class, counted as 1).
// - scores rank rows, higher = riskier; probs are PDs in [0, 1] (not checked).
// - NaN is a caller error with a fixed reading: a NaN score ranks below every number (-inf
//   included) and ties with the other NaNs; a NaN prob is read as 0. So a NaN row is always
//   the least risky.
// - Spans of different sizes: NaN from the double-returning functions, empty or NaN-filled
//   results (described per function) from the others.
// - Ties are grouped: rows with equal scores always get the same decision.
// - Each call sorts at most once per score span: O(n log n) time, O(n) memory; at most
//   2^32 - 1 rows.

#include <cstdint>
#include <span>
#include <vector>

namespace riskpipe::stats {

// Area under the ROC curve: the Mann–Whitney U over P·N, with ties counted ½
// (mid-ranks): AUC = P(score_pos > score_neg) + ½ P(score_pos = score_neg). NaN when a class
// is empty.
double Auc(std::span<const double> scores, std::span<const uint8_t> labels);
// Gini = 2·AUC - 1 (accuracy ratio). NaN when AUC is.
double Gini(std::span<const double> scores, std::span<const uint8_t> labels);
// Kolmogorov–Smirnov: max over cuts t of |TPR(t) - FPR(t)|, TPR(t) = share of positives with
// score >= t, FPR(t) likewise for negatives; t runs over the distinct scores, so ties are
// grouped. In [0, 1]; NaN when a class is empty.
double KsStatistic(std::span<const double> scores, std::span<const uint8_t> labels);
// Average precision as scikit-learn's average_precision_score: Σ_k (R_k - R_{k-1})·P_k over
// the distinct scores descending (recall R, precision P of "score >= s_k", R_0 = 0). NaN when
// there are no positives; 1 when there are no negatives.
double PrAuc(std::span<const double> scores, std::span<const uint8_t> labels);

// Clip applied to probs in LogLoss, as scikit-learn's log_loss (keeps ln finite).
inline constexpr double kLogLossEpsilon = 1e-15;
// Mean of -[y ln p + (1 - y) ln(1 - p)], p clipped to [1e-15, 1 - 1e-15]. NaN when empty.
double LogLoss(std::span<const double> probs, std::span<const uint8_t> labels);
// Mean of (p - y)². NaN when empty.
double Brier(std::span<const double> probs, std::span<const uint8_t> labels);

// Confusion table of "decline when prob >= threshold" (declined = predicted default).
struct ConfusionAt {
  double threshold = 0;
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;  // tp: defaults declined; fn: defaults approved
  double precision = 0;                    // tp / (tp + fp); 0 when nothing is declined
  double recall = 0;                       // tp / (tp + fn); 0 when there are no defaults
  double f1 = 0;             // 2·precision·recall / (precision + recall); 0 when both are 0
  double approval_rate = 0;  // (tn + fn) / n, the share below the threshold
};
// O(n), no sort. Sizes that differ or no rows: counts 0 and every rate NaN.
ConfusionAt AtThreshold(std::span<const double> probs, std::span<const uint8_t> labels,
                        double threshold);

// The PD cut c that approves (prob < c) about `approval_rate` of the rows. Rows tied on a
// prob share one decision, so only the shares at tie-group edges are reachable: the edge
// nearest to round(approval_rate · n) rows is chosen, the lower one when two are equally near.
// c is a prob of the rows (the lowest prob of the first declined group), or the next double
// above the highest prob when every row is approved. NaN when empty or approval_rate is not in
// [0, 1].
double ThresholdForApprovalRate(std::span<const double> probs, double approval_rate);

// The cut t minimising cost(t) = FP(t) + cost_fn_over_fp · FN(t) on these rows (decline when
// prob >= t; a missed default costs `cost_fn_over_fp` wrongly declined goods). Candidates are
// the distinct probs and the next double above the highest (decline nobody); among equal
// costs the highest cut (fewest declines) wins. For calibrated PDs the population optimum is
// 1 / (1 + cost_fn_over_fp). NaN when empty, sizes differ or the ratio is negative or NaN.
double ThresholdForCostRatio(std::span<const double> probs, std::span<const uint8_t> labels,
                             double cost_fn_over_fp);

// One bin of the calibration table.
struct CalibrationBin {
  int bin = 0;                // 0-based, ascending by prob
  int64_t n = 0;              // rows in the bin
  int64_t positives = 0;      // defaults in the bin
  double min_score = 0;       // lowest prob in the bin
  double max_score = 0;       // highest prob in the bin
  double mean_predicted = 0;  // mean prob
  double observed_rate = 0;   // positives / n
};
// Equal-count bins of the rows sorted by (prob, row index): bin b holds sorted rows
// [floor(b·n/bins), floor((b+1)·n/bins)), so bins differ by at most one row and a tie group
// on a boundary is split by row order. min(bins, n) bins; empty when sizes differ, no rows or
// bins < 1.
std::vector<CalibrationBin> CalibrationTable(std::span<const double> probs,
                                             std::span<const uint8_t> labels, int bins = 10);

// The standard report of a PD model, from one sort.
struct BinaryMetrics {
  int64_t n = 0, positives = 0;
  double base_rate = 0;  // positives / n
  double auc = 0, gini = 0, ks = 0, log_loss = 0, brier = 0, pr_auc = 0;
};
// Every metric above on probs (NaN read as 0 throughout, also for the rank metrics). Sizes
// that differ: n = 0 and every metric NaN.
BinaryMetrics Evaluate(std::span<const double> probs, std::span<const uint8_t> labels);

// AUC with its DeLong et al. (1988) standard error and a normal confidence interval
// auc ± z·se clipped to [0, 1], z = Φ⁻¹((1 + level) / 2).
struct AucCi {
  double auc = 0, se = 0, lower = 0, upper = 0;
};
// se needs at least two rows of each class (NaN otherwise); everything is NaN when a class is
// empty or sizes differ; bounds are NaN when level is not in (0, 1).
AucCi AucConfidence(std::span<const double> scores, std::span<const uint8_t> labels,
                    double level = 0.95);

// AUC(a) - AUC(b) for two scores of the same rows, with DeLong's paired variance
// Var = Var(a) + Var(b) - 2 Cov(a, b), a normal interval and the two-sided p-value of
// H0: AUC(a) = AUC(b). When se = 0 (identical rankings) p is 1 if diff = 0, else 0.
struct AucDiff {
  double diff = 0, se = 0, lower = 0, upper = 0, p_value = 1;
};
// NaN fields as for AucConfidence; also when the two score spans differ in size.
AucDiff AucDifference(std::span<const double> scores_a, std::span<const double> scores_b,
                      std::span<const uint8_t> labels, double level = 0.95);

// Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation refined by one Halley
// step on erfc; about 1e-15 relative). NaN outside (0, 1); ∓inf at 0 and 1.
double NormalQuantile(double p);

}  // namespace riskpipe::stats
