#pragma once
// The monitoring statistics of one model and month as pure functions over columns in memory:
// stability against the development reference (no labels) and performance on labels (realised)
// or on the calibrated PDs alone (estimated). docs/monitoring.md gives every formula.
// Thread-safe: months may be computed on different threads; each thread keeps its sort
// buffers between calls (tens of megabytes for a million rows) to avoid page faults.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/frame.h"
#include "monitoring/reference.h"

namespace riskpipe::monitoring {

// One row of gold/monitoring_stability (without the model and month columns).
struct StabilityRow {
  std::string metric;
  std::string feature;  // "" = NULL (score-level)
  std::string bucket;   // "" = NULL
  double value = 0;
  std::optional<double> reference;
  int64_t rows = 0;
};

// One row of gold/monitoring_performance (without the model and month columns).
struct PerformanceRow {
  std::string status;  // matured | immature
  std::string metric;
  std::string bucket;               // "" = NULL
  std::optional<double> value;      // realised (NULL when immature)
  std::optional<double> estimated;  // from the calibrated PDs
  int64_t rows = 0, labelled = 0;
};

// The current month's rows of one model.
struct MonthColumns {
  std::span<const double> pd;
  std::span<const uint8_t> approved;  // 1 = approve; empty: pd < reference threshold
  std::span<const uint8_t> referred;  // 1 = refer (no PD, manual review); empty: pd is NaN
  // The month's frame holding every reference feature by name (numbers or codes).
  const model::Frame* frame = nullptr;
  // Mean |attribution| per reference feature this month; empty = not computed.
  std::vector<double> importance;
};

// Stability metrics: score_psi, score_js, score_ks, score_ks_pvalue, score_bin (share per
// score decile), approval_rate, refer_rate, mean_pd, csi, null_rate, importance, decile_mean.
// Rows without a PD (refer) count in approval_rate and refer_rate, not in the PD metrics.
// Features the frame lacks count as entirely missing.
std::vector<StabilityRow> ComputeStability(const Reference& ref, const MonthColumns& month);

// Performance of one scoring month. `labels` (1 = default) holds a label per row of `pd` or
// is empty when none has matured; `label_known[i]` says whether row i's label may be used
// (matured by the end of the monitored month). `matured` sets the status. Realised values use
// only the known labels; estimated values use every row's PD. Rows without a PD (NaN: refer,
// no decision by the model) are left out of every metric and of `rows`.
std::vector<PerformanceRow> ComputePerformance(std::span<const double> pd,
                                               std::span<const uint8_t> labels,
                                               std::span<const uint8_t> label_known,
                                               double threshold, bool matured);

// KS two-sample statistic and p-value of `current` (any order) against an ascending reference.
struct KsOut {
  double statistic = 0, p_value = 1;
};
KsOut KsAgainstSorted(std::span<const double> sorted_reference, std::span<const double> current);

}  // namespace riskpipe::monitoring
