// Rank metrics from groups of equal score, probability metrics, the calibration table and
// Evaluate. Thresholds are in thresholds.cc, DeLong in delong.cc.

#include "stats/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/internal/score_order.h"

namespace riskpipe::stats {
namespace {

using internal::ForEachGroupDescending;
using internal::KeyValue;
using internal::NanReading;
using internal::RankedRow;
using internal::SortByScore;
using internal::SortSplit;
using internal::SplitKeys;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ReadProb(double p) { return std::isnan(p) ? 0.0 : p; }

// AUC, KS and average precision from one walk down the distinct scores. Each cut "score >= s"
// adds a group of pos defaults and neg goods; tp and fp count the rows above the group.
struct RankMetrics {
  double auc = kNaN, ks = kNaN, average_precision = kNaN;
};

RankMetrics RankMetricsOf(const SplitKeys& keys) {
  RankMetrics m;
  const int64_t p = static_cast<int64_t>(keys.positives.size());
  const int64_t n = static_cast<int64_t>(keys.negatives.size());
  if (p == 0) return m;
  const double dp = static_cast<double>(p), dn = static_cast<double>(n);
  int64_t tp = 0, fp = 0;
  // wins: Σ over defaults of (goods below + ½ goods tied). Every term is a multiple of ½, so
  // the sum is exact in a double up to 2^52 pairs.
  double wins = 0, ks = 0, ap = 0;
  ForEachGroupDescending(keys, [&](uint64_t, int64_t pos, int64_t neg) {
    const int64_t goods_below = n - fp - neg;
    wins += static_cast<double>(pos) *
            (static_cast<double>(goods_below) + 0.5 * static_cast<double>(neg));
    tp += pos;
    fp += neg;
    if (n > 0) {
      ks = std::max(ks, std::fabs(static_cast<double>(tp) / dp - static_cast<double>(fp) / dn));
    }
    // scikit-learn's step sum: recall gained x precision at this cut.
    ap += static_cast<double>(pos) / dp * (static_cast<double>(tp) / static_cast<double>(tp + fp));
  });
  m.average_precision = ap;
  if (n > 0) {
    m.auc = wins / (dp * dn);
    m.ks = ks;
  }
  return m;
}

RankMetrics RankMetricsOf(std::span<const double> scores, std::span<const uint8_t> labels) {
  if (scores.size() != labels.size()) return {};
  return RankMetricsOf(SortSplit(scores, labels, NanReading::kBelowAll));
}

double LogLossTerm(double p, uint8_t label) {
  const double q = std::clamp(ReadProb(p), kLogLossEpsilon, 1.0 - kLogLossEpsilon);
  return label != 0 ? -std::log(q) : -std::log1p(-q);
}

}  // namespace

double Auc(std::span<const double> scores, std::span<const uint8_t> labels) {
  return RankMetricsOf(scores, labels).auc;
}

double Gini(std::span<const double> scores, std::span<const uint8_t> labels) {
  return 2.0 * Auc(scores, labels) - 1.0;
}

double KsStatistic(std::span<const double> scores, std::span<const uint8_t> labels) {
  return RankMetricsOf(scores, labels).ks;
}

double PrAuc(std::span<const double> scores, std::span<const uint8_t> labels) {
  return RankMetricsOf(scores, labels).average_precision;
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
  const auto sorted = SortByScore(probs, labels, NanReading::kZero);
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
  const SplitKeys keys = SortSplit(probs, labels, NanReading::kZero);
  const RankMetrics r = RankMetricsOf(keys);
  m.n = static_cast<int64_t>(probs.size());
  m.positives = static_cast<int64_t>(keys.positives.size());
  m.base_rate = m.n > 0 ? static_cast<double>(m.positives) / static_cast<double>(m.n) : kNaN;
  m.auc = r.auc;
  m.gini = 2.0 * r.auc - 1.0;
  m.ks = r.ks;
  m.pr_auc = r.average_precision;
  m.log_loss = LogLoss(probs, labels);
  m.brier = Brier(probs, labels);
  return m;
}

}  // namespace riskpipe::stats
