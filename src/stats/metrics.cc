// Rank metrics from groups of equal score, probability metrics, the calibration table and
// Evaluate. Thresholds are in thresholds.cc, DeLong in delong.cc.

#include "stats/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/internal/score_order.h"

namespace riskpipe::stats {
namespace {

using internal::GroupByScore;
using internal::KeyValue;
using internal::NanReading;
using internal::RankedRow;
using internal::ScoreGroup;
using internal::SortByScore;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ReadProb(double p) { return std::isnan(p) ? 0.0 : p; }

struct ClassCounts {
  int64_t positives = 0, negatives = 0;
};

ClassCounts CountClasses(std::span<const ScoreGroup> groups) {
  ClassCounts c;
  for (const ScoreGroup& g : groups) {
    c.positives += g.positives;
    c.negatives += g.negatives;
  }
  return c;
}

// Σ over positives of (negatives below + ½ negatives tied), over P·N. Every term is a
// multiple of ½, so the sum is exact in a double up to 2^52 pairs.
double AucOfGroups(std::span<const ScoreGroup> groups) {
  const ClassCounts c = CountClasses(groups);
  if (c.positives == 0 || c.negatives == 0) return kNaN;
  double wins = 0;
  int64_t negatives_below = 0;
  for (const ScoreGroup& g : groups) {
    wins += static_cast<double>(g.positives) *
            (static_cast<double>(negatives_below) + 0.5 * static_cast<double>(g.negatives));
    negatives_below += g.negatives;
  }
  return wins / (static_cast<double>(c.positives) * static_cast<double>(c.negatives));
}

// Cuts at each distinct score, from the highest down: TPR and FPR of "score >= cut".
double KsOfGroups(std::span<const ScoreGroup> groups) {
  const ClassCounts c = CountClasses(groups);
  if (c.positives == 0 || c.negatives == 0) return kNaN;
  const double p = static_cast<double>(c.positives), n = static_cast<double>(c.negatives);
  int64_t tp = 0, fp = 0;
  double ks = 0;
  for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
    tp += g->positives;
    fp += g->negatives;
    ks = std::max(ks, std::fabs(static_cast<double>(tp) / p - static_cast<double>(fp) / n));
  }
  return ks;
}

// scikit-learn's step sum: each cut adds (recall gained) x (precision at the cut).
double AveragePrecisionOfGroups(std::span<const ScoreGroup> groups) {
  const ClassCounts c = CountClasses(groups);
  if (c.positives == 0) return kNaN;
  int64_t tp = 0, fp = 0;
  double ap = 0;
  for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
    tp += g->positives;
    fp += g->negatives;
    if (g->positives == 0) continue;
    ap += static_cast<double>(g->positives) / static_cast<double>(tp + fp) *
          (static_cast<double>(tp) / static_cast<double>(c.positives));
  }
  return ap;
}

double LogLossTerm(double p, uint8_t label) {
  const double q = std::clamp(ReadProb(p), kLogLossEpsilon, 1.0 - kLogLossEpsilon);
  return label != 0 ? -std::log(q) : -std::log1p(-q);
}

std::vector<ScoreGroup> GroupsOf(std::span<const double> scores, std::span<const uint8_t> labels,
                                 NanReading nan) {
  const std::vector<RankedRow> sorted = SortByScore(scores, labels, nan);
  return GroupByScore(sorted);
}

}  // namespace

double Auc(std::span<const double> scores, std::span<const uint8_t> labels) {
  if (scores.size() != labels.size()) return kNaN;
  return AucOfGroups(GroupsOf(scores, labels, NanReading::kBelowAll));
}

double Gini(std::span<const double> scores, std::span<const uint8_t> labels) {
  return 2.0 * Auc(scores, labels) - 1.0;
}

double KsStatistic(std::span<const double> scores, std::span<const uint8_t> labels) {
  if (scores.size() != labels.size()) return kNaN;
  return KsOfGroups(GroupsOf(scores, labels, NanReading::kBelowAll));
}

double PrAuc(std::span<const double> scores, std::span<const uint8_t> labels) {
  if (scores.size() != labels.size()) return kNaN;
  return AveragePrecisionOfGroups(GroupsOf(scores, labels, NanReading::kBelowAll));
}

double LogLoss(std::span<const double> probs, std::span<const uint8_t> labels) {
  if (probs.size() != labels.size() || probs.empty()) return kNaN;
  double sum = 0;
  for (size_t i = 0; i < probs.size(); ++i) sum += LogLossTerm(probs[i], labels[i]);
  return sum / static_cast<double>(probs.size());
}

double Brier(std::span<const double> probs, std::span<const uint8_t> labels) {
  if (probs.size() != labels.size() || probs.empty()) return kNaN;
  double sum = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double e = ReadProb(probs[i]) - (labels[i] != 0 ? 1.0 : 0.0);
    sum += e * e;
  }
  return sum / static_cast<double>(probs.size());
}

std::vector<CalibrationBin> CalibrationTable(std::span<const double> probs,
                                             std::span<const uint8_t> labels, int bins) {
  std::vector<CalibrationBin> table;
  if (probs.size() != labels.size() || probs.empty() || bins < 1) return table;
  const std::vector<RankedRow> sorted = SortByScore(probs, labels, NanReading::kZero);
  const size_t n = sorted.size();
  const size_t k = std::min(static_cast<size_t>(bins), n);
  table.reserve(k);
  for (size_t b = 0; b < k; ++b) {
    const size_t begin = b * n / k, end = (b + 1) * n / k;
    CalibrationBin bin;
    bin.bin = static_cast<int>(b);
    bin.n = static_cast<int64_t>(end - begin);
    bin.min_score = KeyValue(sorted[begin].key);
    bin.max_score = KeyValue(sorted[end - 1].key);
    double sum = 0;
    for (size_t i = begin; i < end; ++i) {
      sum += KeyValue(sorted[i].key);
      bin.positives += sorted[i].label;
    }
    bin.mean_predicted = sum / static_cast<double>(bin.n);
    bin.observed_rate = static_cast<double>(bin.positives) / static_cast<double>(bin.n);
    table.push_back(bin);
  }
  return table;
}

BinaryMetrics Evaluate(std::span<const double> probs, std::span<const uint8_t> labels) {
  BinaryMetrics m;
  if (probs.size() != labels.size()) {
    m.base_rate = m.auc = m.gini = m.ks = m.log_loss = m.brier = m.pr_auc = kNaN;
    return m;
  }
  const std::vector<ScoreGroup> groups = GroupsOf(probs, labels, NanReading::kZero);
  const ClassCounts c = CountClasses(groups);
  m.n = static_cast<int64_t>(probs.size());
  m.positives = c.positives;
  m.base_rate = m.n > 0 ? static_cast<double>(m.positives) / static_cast<double>(m.n) : kNaN;
  m.auc = AucOfGroups(groups);
  m.gini = 2.0 * m.auc - 1.0;
  m.ks = KsOfGroups(groups);
  m.pr_auc = AveragePrecisionOfGroups(groups);
  m.log_loss = LogLoss(probs, labels);
  m.brier = Brier(probs, labels);
  return m;
}

}  // namespace riskpipe::stats
