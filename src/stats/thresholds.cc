// Decisions at a PD cut: the confusion table, and cuts chosen for an approval rate or a cost
// ratio (declared in metrics.h).

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/internal/score_order.h"
#include "stats/metrics.h"

namespace riskpipe::stats {
namespace {

using internal::ForEachGroupDescending;
using internal::KeyValue;
using internal::NanReading;
using internal::SortSplit;
using internal::SplitKeys;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double ReadProb(double p) { return std::isnan(p) ? 0.0 : p; }

double Ratio(int64_t num, int64_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

// The cut that declines nobody: the next double above the highest key (`keys` not empty).
double AboveAll(const SplitKeys& keys) {
  uint64_t top = 0;
  if (!keys.positives.empty()) top = keys.positives.back();
  if (!keys.negatives.empty()) top = std::max(top, keys.negatives.back());
  return std::nextafter(KeyValue(top), kInf);
}

}  // namespace

ConfusionAt AtThreshold(std::span<const double> probs, std::span<const uint8_t> labels,
                        double threshold) {
  ConfusionAt c;
  c.threshold = threshold;
  if (probs.size() != labels.size() || probs.empty()) {
    c.precision = c.recall = c.f1 = c.approval_rate = kNaN;
    return c;
  }
  int64_t declined = 0, positives = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const int64_t d = ReadProb(probs[i]) >= threshold ? 1 : 0;
    const int64_t y = labels[i] != 0 ? 1 : 0;
    c.tp += d & y;
    declined += d;
    positives += y;
  }
  const int64_t n = static_cast<int64_t>(probs.size());
  c.fp = declined - c.tp;
  c.fn = positives - c.tp;
  c.tn = n - declined - c.fn;
  c.precision = Ratio(c.tp, declined);
  c.recall = Ratio(c.tp, positives);
  const double pr = c.precision + c.recall;
  c.f1 = pr > 0 ? 2.0 * c.precision * c.recall / pr : 0.0;
  c.approval_rate = Ratio(n - declined, n);
  return c;
}

double ThresholdForApprovalRate(std::span<const double> probs, double approval_rate) {
  if (probs.empty() || !(approval_rate >= 0.0 && approval_rate <= 1.0)) return kNaN;
  const SplitKeys keys = SortSplit(probs, {}, NanReading::kZero);  // every row a "good"
  const auto& k = keys.negatives;
  const size_t n = k.size();
  const size_t target = static_cast<size_t>(std::llround(approval_rate * static_cast<double>(n)));
  if (target == n) return AboveAll(keys);
  // Row `target` sits in the tie group [lo, hi). Cutting at its prob approves lo rows; cutting
  // at the next group's prob (or above everything) approves hi rows. Take the nearer, the
  // lower on a tie.
  const size_t lo =
      static_cast<size_t>(std::lower_bound(k.begin(), k.end(), k[target]) - k.begin());
  const size_t hi =
      static_cast<size_t>(std::upper_bound(k.begin(), k.end(), k[target]) - k.begin());
  if (target - lo <= hi - target) return KeyValue(k[lo]);
  return hi < n ? KeyValue(k[hi]) : AboveAll(keys);
}

double ThresholdForCostRatio(std::span<const double> probs, std::span<const uint8_t> labels,
                             double cost_fn_over_fp) {
  if (probs.size() != labels.size() || probs.empty() || !std::isfinite(cost_fn_over_fp) ||
      cost_fn_over_fp < 0) {
    return kNaN;
  }
  const SplitKeys keys = SortSplit(probs, labels, NanReading::kZero);
  int64_t fp = 0, fn = static_cast<int64_t>(keys.positives.size());
  // Start by declining nobody, then lower the cut one group at a time; a strict improvement
  // is needed to move, so equal costs keep the higher cut.
  double best_cut = AboveAll(keys);
  double best_cost = cost_fn_over_fp * static_cast<double>(fn);
  ForEachGroupDescending(keys, [&](uint64_t key, int64_t pos, int64_t neg) {
    fp += neg;
    fn -= pos;
    const double cost = static_cast<double>(fp) + cost_fn_over_fp * static_cast<double>(fn);
    if (cost < best_cost) {
      best_cost = cost;
      best_cut = KeyValue(key);
    }
  });
  return best_cut;
}

}  // namespace riskpipe::stats
