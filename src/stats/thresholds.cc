// Decisions at a PD cut: the confusion table, and cuts chosen for an approval rate or a cost
// ratio (declared in metrics.h).

#include <cmath>
#include <limits>

#include "stats/internal/score_order.h"
#include "stats/metrics.h"

namespace riskpipe::stats {
namespace {

using internal::GroupByScore;
using internal::KeyValue;
using internal::NanReading;
using internal::ScoreGroup;
using internal::SortByScore;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double ReadProb(double p) { return std::isnan(p) ? 0.0 : p; }

double Ratio(int64_t num, int64_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

// The cut that declines nobody: the next double above the highest prob.
double AboveAll(std::span<const ScoreGroup> ascending) {
  return std::nextafter(KeyValue(ascending.back().key), kInf);
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
  const std::vector<ScoreGroup> groups = GroupByScore(SortByScore(probs, {}, NanReading::kZero));
  const int64_t target = std::llround(approval_rate * static_cast<double>(probs.size()));
  // Edge j approves the rows of groups 0..j-1 with cut = prob of group j; the last edge
  // approves everyone. Walk up to the first edge at or past the target and take it or the
  // one before, whichever is nearer (the lower on a tie).
  int64_t approved = 0, prev_approved = 0;
  double prev_cut = kNaN;
  for (size_t j = 0; j <= groups.size(); ++j) {
    const double cut = j < groups.size() ? KeyValue(groups[j].key) : AboveAll(groups);
    if (approved >= target) {
      if (j == 0 || approved - target < target - prev_approved) return cut;
      return prev_cut;
    }
    prev_approved = approved;
    prev_cut = cut;
    if (j < groups.size()) approved += groups[j].negatives;  // no labels: all rows count here
  }
  return kNaN;  // unreachable: the last edge approves every row
}

double ThresholdForCostRatio(std::span<const double> probs, std::span<const uint8_t> labels,
                             double cost_fn_over_fp) {
  if (probs.size() != labels.size() || probs.empty() || !std::isfinite(cost_fn_over_fp) ||
      cost_fn_over_fp < 0) {
    return kNaN;
  }
  const std::vector<ScoreGroup> groups =
      GroupByScore(SortByScore(probs, labels, NanReading::kZero));
  int64_t fp = 0, fn = 0;
  for (const ScoreGroup& g : groups) fn += g.positives;
  // Start by declining nobody, then lower the cut one group at a time; a strict improvement
  // is needed to move, so equal costs keep the higher cut.
  double best_cut = AboveAll(groups);
  double best_cost = cost_fn_over_fp * static_cast<double>(fn);
  for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
    fp += g->negatives;
    fn -= g->positives;
    const double cost = static_cast<double>(fp) + cost_fn_over_fp * static_cast<double>(fn);
    if (cost < best_cost) {
      best_cost = cost;
      best_cut = KeyValue(g->key);
    }
  }
  return best_cut;
}

}  // namespace riskpipe::stats
