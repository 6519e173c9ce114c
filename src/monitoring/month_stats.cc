// Stability and performance statistics of one model-month (docs/monitoring.md). Every metric
// is one or two linear passes after at most one sort of the month's PDs.

#include "monitoring/month_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "stats/distribution.h"

namespace riskpipe::monitoring {
namespace internal {

// bin[i] += number of edges below v[i], for 1024 values. Built twice (AVX2 and the baseline;
// the loader picks one for the CPU): AVX2 compares four doubles at once, which the baseline
// x86-64 (SSE2) build does not vectorise at all for a byte result.
__attribute__((target_clones("avx2", "default"))) void CountEdgesBelow(const double* __restrict v,
                                                                       uint8_t* __restrict bin,
                                                                       const double* edges,
                                                                       size_t n_edges) {
  for (size_t j = 0; j < n_edges; ++j) {
    const double e = edges[j];
    for (size_t i = 0; i < 1024; ++i) bin[i] += v[i] > e;
  }
}

}  // namespace internal
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string BucketName(size_t i) { return std::to_string(i + 1); }

// Adds to `counts` the bin of each of the n values among `edges` (at most kBins - 1 of
// them), NaN into bin `missing`. Blocks of 1024 values get their bins in a byte buffer with
// one compare-and-add sweep per edge (CountEdgesBelow), then a
// histogram over the bytes with four interleaved counters (no store-to-load chains).
void BinNumbers(const double* x, size_t n, const std::vector<double>& edges, size_t missing,
                std::vector<double>& counts) {
  constexpr size_t kBlock = 1024;
  alignas(64) uint8_t bin[kBlock];
  alignas(64) double tail[kBlock];
  std::vector<int64_t> k(4 * 256, 0);
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t m = std::min(kBlock, n - start);
    const double* v = x + start;
    if (m < kBlock) {  // the last partial block, padded so every loop runs kBlock times
      std::fill(std::copy(v, v + m, tail), tail + kBlock, 0.0);
      v = tail;
    }
    for (size_t i = 0; i < kBlock; ++i) bin[i] = 0;
    internal::CountEdgesBelow(v, bin, edges.data(), edges.size());
    for (size_t i = 0; i < kBlock; ++i)
      bin[i] = v[i] != v[i] ? static_cast<uint8_t>(missing) : bin[i];
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
      ++k[bin[i]];
      ++k[256 + bin[i + 1]];
      ++k[512 + bin[i + 2]];
      ++k[768 + bin[i + 3]];
    }
    for (; i < m; ++i) ++k[bin[i]];
  }
  for (size_t b = 0; b < counts.size(); ++b) {
    counts[b] += static_cast<double>(k[b] + k[256 + b] + k[512 + b] + k[768 + b]);
  }
}

// Counts of one feature's values over the reference bins (value bins, then missing).
std::vector<double> FeatureCounts(const FeatureReference& f, const model::Frame& frame, size_t n) {
  std::vector<double> counts(f.counts.size(), 0.0);
  const size_t missing = counts.size() - 1;
  const int col = frame.Find(f.name);
  if (col < 0) {
    counts[missing] = static_cast<double>(n);
    return counts;
  }
  const model::FrameColumn& c = frame.columns[col];
  if (f.text != c.text) {
    counts[missing] = static_cast<double>(n);  // wrong kind: nothing usable
    return counts;
  }
  if (!f.text) {
    BinNumbers(c.numbers.data(), n, f.edges, missing, counts);
    return counts;
  }
  // Text: dictionary code -> reference level (or the "other" bin).
  std::vector<size_t> bin_of_code(c.dictionary.size(), f.levels.size());
  for (size_t d = 0; d < c.dictionary.size(); ++d) {
    const auto it = std::find(f.levels.begin(), f.levels.end(), c.dictionary[d]);
    if (it != f.levels.end()) bin_of_code[d] = static_cast<size_t>(it - f.levels.begin());
  }
  std::vector<int64_t> k(counts.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    const int32_t code = c.codes[i];
    ++k[code < 0 ? missing : bin_of_code[code]];
  }
  for (size_t i = 0; i < k.size(); ++i) counts[i] = static_cast<double>(k[i]);
  return counts;
}

// The bit pattern of a non-negative double (-0 read as +0): it orders like the value.
inline uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b & ~(uint64_t{1} << 63);
}

// Sorts `v` ascending by key(x), a double, when every key is finite and >= 0 (PDs): an LSD
// radix sort on 11-bit digits of the bit pattern (2048 counters: they stay in L1), stable, at
// most six passes; a pass whose digit is the same for every element is skipped, so PDs that
// XGBoost computed in float (low 29 bits zero) take four. Any other input falls back to
// std::stable_sort.
template <typename T, typename Key>
void SortByKey(std::vector<T>& v, Key key) {
  bool radix = true;
  for (const T& x : v) radix &= key(x) >= 0 && std::isfinite(key(x));
  if (!radix || v.size() < 4096) {
    std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
    return;
  }
  constexpr int kDigit = 11;
  constexpr uint64_t kMask = (uint64_t{1} << kDigit) - 1;
  // Scratch kept per thread between calls: a month's buffers are tens of megabytes, and
  // fresh ones cost page faults and zeroing on every call.
  thread_local std::vector<uint64_t> bits, bits_tmp;
  thread_local std::vector<T> tmp;
  bits.resize(v.size());
  bits_tmp.resize(v.size());
  tmp.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) bits[i] = Bits(key(v[i]));
  std::vector<size_t> count(kMask + 2);
  for (int shift = 0; shift < 64; shift += kDigit) {
    std::fill(count.begin(), count.end(), 0);
    for (uint64_t b : bits) ++count[((b >> shift) & kMask) + 1];
    if (std::count(count.begin(), count.end(), v.size()) == 1) continue;  // one digit only
    for (size_t d = 1; d < count.size(); ++d) count[d] += count[d - 1];
    for (size_t i = 0; i < v.size(); ++i) {
      const size_t to = count[(bits[i] >> shift) & kMask]++;
      tmp[to] = v[i];
      bits_tmp[to] = bits[i];
    }
    v.swap(tmp);
    bits.swap(bits_tmp);
  }
}

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

}  // namespace

KsOut KsAgainstSorted(std::span<const double> ref, std::span<const double> current) {
  thread_local std::vector<double> cur;
  cur.clear();
  cur.reserve(current.size());
  for (double v : current) {
    if (!std::isnan(v)) cur.push_back(v);
  }
  SortByKey(cur, [](double v) { return v; });
  KsOut out;
  const size_t n = ref.size(), m = cur.size();
  if (n == 0 || m == 0) return out;
  size_t i = 0, j = 0;
  double d = 0;
  while (i < n && j < m) {
    const double v = std::min(ref[i], cur[j]);
    while (i < n && ref[i] <= v) ++i;
    while (j < m && cur[j] <= v) ++j;
    d = std::max(d, std::fabs(static_cast<double>(i) / n - static_cast<double>(j) / m));
  }
  out.statistic = d;
  out.p_value = stats::KsPValue(d, static_cast<int64_t>(n), static_cast<int64_t>(m));
  return out;
}

std::vector<StabilityRow> ComputeStability(const Reference& ref, const MonthColumns& month) {
  std::vector<StabilityRow> rows;
  const size_t n = month.pd.size();
  const int64_t n64 = static_cast<int64_t>(n);
  // Score bins, kept per row for the decile profile.
  std::vector<uint8_t> bin(n);
  std::vector<int64_t> score_k(ref.score_edges.size() + 1, 0);
  double pd_sum = 0;
  int64_t pd_rows = 0, approved = 0, referred = 0;
  const bool have_decisions = month.approved.size() == n;
  const bool have_refers = month.referred.size() == n;
  for (size_t i = 0; i < n; ++i) {
    const double p = month.pd[i];
    approved += have_decisions ? month.approved[i] != 0 : p < ref.threshold;
    referred += have_refers ? month.referred[i] != 0 : std::isnan(p);
    if (std::isnan(p)) {
      bin[i] = 255;
      continue;
    }
    const int b = BinOf(p, ref.score_edges);
    bin[i] = static_cast<uint8_t>(b);
    ++score_k[b];
    pd_sum += p;
    ++pd_rows;
  }
  std::vector<double> score_counts(score_k.begin(), score_k.end());
  const double ref_total = Sum(ref.score_counts);
  rows.push_back(
      {"score_psi", "", "", stats::Psi(ref.score_counts, score_counts), std::nullopt, n64});
  rows.push_back({"score_js", "", "", stats::JensenShannon(ref.score_counts, score_counts),
                  std::nullopt, n64});
  const KsOut ks = KsAgainstSorted(ref.sorted_pd, month.pd);
  rows.push_back({"score_ks", "", "", ks.statistic, std::nullopt, n64});
  rows.push_back({"score_ks_pvalue", "", "", ks.p_value, std::nullopt, n64});
  rows.push_back({"approval_rate", "", "", n ? static_cast<double>(approved) / n : kNaN,
                  ref.approval_rate, n64});
  // Applications the model gave no decision (refer: manual review); none in development.
  rows.push_back({"refer_rate", "", "", n ? static_cast<double>(referred) / n : kNaN, 0.0, n64});
  rows.push_back({"mean_pd", "", "", pd_rows ? pd_sum / pd_rows : kNaN, ref.mean_pd, pd_rows});
  for (size_t b = 0; b < score_counts.size(); ++b) {
    rows.push_back({"score_share", "", BucketName(b), pd_rows ? score_counts[b] / pd_rows : kNaN,
                    ref_total > 0 ? ref.score_counts[b] / ref_total : kNaN, n64});
  }
  const model::Frame empty;
  const model::Frame& frame = month.frame ? *month.frame : empty;
  for (size_t fi = 0; fi < ref.features.size(); ++fi) {
    const FeatureReference& f = ref.features[fi];
    const std::vector<double> counts = FeatureCounts(f, frame, n);
    rows.push_back({"csi", f.name, "", stats::Psi(f.counts, counts), std::nullopt, n64});
    rows.push_back({"null_rate", f.name, "", n ? counts.back() / n : kNaN, f.null_rate, n64});
    if (month.importance.size() == ref.features.size()) {
      rows.push_back({"importance", f.name, "", month.importance[fi], f.importance, n64});
    }
  }
  // Decile profile: mean of each top feature per reference score decile.
  for (int fi : ref.profile) {
    const FeatureReference& f = ref.features[fi];
    const int col = frame.Find(f.name);
    if (col < 0 || frame.columns[col].text) continue;
    const std::vector<double>& x = frame.columns[col].numbers;
    std::vector<double> sum(score_counts.size(), 0.0);
    std::vector<int64_t> cnt(score_counts.size(), 0);
    for (size_t i = 0; i < n; ++i) {
      if (bin[i] == 255 || std::isnan(x[i])) continue;
      sum[bin[i]] += x[i];
      ++cnt[bin[i]];
    }
    for (size_t b = 0; b < sum.size(); ++b) {
      const std::optional<double> r = b < f.decile_means.size() && !std::isnan(f.decile_means[b])
                                          ? std::optional<double>(f.decile_means[b])
                                          : std::nullopt;
      rows.push_back(
          {"decile_mean", f.name, BucketName(b), cnt[b] ? sum[b] / cnt[b] : kNaN, r, cnt[b]});
    }
  }
  return rows;
}

namespace {

struct Scored {
  double pd;
  uint8_t y;
  uint8_t known;
};

// Rank metrics over rows sorted ascending by pd, with weights: for realised metrics the
// weights are (y, 1 - y) of known rows; for estimated ones (p, 1 - p) of every row.
struct RankOut {
  double auc = kNaN, ks = kNaN;
};
template <typename Pos, typename Neg>
RankOut Rank(const std::vector<Scored>& s, Pos pos, Neg neg, double self_pairs) {
  double total_pos = 0, total_neg = 0;
  for (const Scored& r : s) {
    total_pos += pos(r);
    total_neg += neg(r);
  }
  RankOut out;
  const double pairs = total_pos * total_neg - self_pairs;
  if (!(total_pos > 0) || !(total_neg > 0) || !(pairs > 0)) return out;
  double neg_below = 0, pos_below = 0, num = 0, ks = 0;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    double gp = 0, gn = 0, gself = 0;
    while (j < s.size() && s[j].pd == s[i].pd) {
      gp += pos(s[j]);
      gn += neg(s[j]);
      gself += pos(s[j]) * neg(s[j]);
      ++j;
    }
    num += gp * neg_below + 0.5 * (gp * gn - gself);
    neg_below += gn;
    pos_below += gp;
    // Decline when pd >= cut: TPR = positives above, FPR likewise; |TPR - FPR| = |F- - F+|.
    ks = std::max(ks, std::fabs(neg_below / total_neg - pos_below / total_pos));
    i = j;
  }
  out.auc = num / pairs;
  out.ks = ks;
  return out;
}

std::optional<double> Opt(double v, bool keep = true) {
  return keep && !std::isnan(v) ? std::optional<double>(v) : std::nullopt;
}

}  // namespace

std::vector<PerformanceRow> ComputePerformance(std::span<const double> pd,
                                               std::span<const uint8_t> labels,
                                               std::span<const uint8_t> label_known,
                                               double threshold, bool matured) {
  const size_t all = pd.size();
  const bool have_labels = labels.size() == all && label_known.size() == all;
  thread_local std::vector<Scored> s;  // reused: see SortByKey
  s.clear();
  s.reserve(all);
  for (size_t i = 0; i < all; ++i) {
    if (std::isnan(pd[i])) continue;  // refer: no PD to measure
    s.push_back({pd[i], static_cast<uint8_t>(have_labels && labels[i] != 0),
                 static_cast<uint8_t>(have_labels && label_known[i] != 0)});
  }
  const size_t n = s.size();  // rows with a PD
  SortByKey(s, [](const Scored& r) { return r.pd; });
  // Realised sums over known rows; estimated over all rows.
  int64_t labelled = 0, positives = 0, tp = 0, fp = 0, fn = 0;
  double brier = 0, pd_known = 0, pd_all = 0, brier_est = 0, tp_e = 0, fp_e = 0, fn_e = 0;
  double self_est = 0;
  for (const Scored& r : s) {
    pd_all += r.pd;
    brier_est += r.pd * (1 - r.pd);
    self_est += r.pd * (1 - r.pd);
    const bool decline = r.pd >= threshold;
    (decline ? tp_e : fn_e) += r.pd;
    if (decline) fp_e += 1 - r.pd;
    if (!r.known) continue;
    ++labelled;
    positives += r.y;
    pd_known += r.pd;
    brier += (r.pd - r.y) * (r.pd - r.y);
    if (decline)
      (r.y ? tp : fp) += 1;
    else if (r.y)
      ++fn;
  }
  const RankOut real = Rank(
      s, [](const Scored& r) { return r.known ? double(r.y) : 0.0; },
      [](const Scored& r) { return r.known ? 1.0 - r.y : 0.0; }, 0.0);
  const RankOut est = Rank(
      s, [](const Scored& r) { return r.pd; }, [](const Scored& r) { return 1.0 - r.pd; },
      self_est);
  const bool use = labelled > 0;
  const double L = static_cast<double>(labelled);
  const std::string status = matured ? "matured" : "immature";
  const int64_t rows = static_cast<int64_t>(n);
  std::vector<PerformanceRow> out;
  auto add = [&](const std::string& metric, double value, double estimated,
                 std::string bucket = "") {
    out.push_back(
        {status, metric, std::move(bucket), Opt(value, use), Opt(estimated), rows, labelled});
  };
  add("auc", real.auc, est.auc);
  add("gini", 2 * real.auc - 1, 2 * est.auc - 1);
  add("ks", real.ks, est.ks);
  add("brier", use ? brier / L : kNaN, n ? brier_est / n : kNaN);
  add("default_rate", use ? positives / L : kNaN, n ? pd_all / n : kNaN);
  add("mean_pd", use ? pd_known / L : kNaN, n ? pd_all / n : kNaN);
  add("precision", tp + fp > 0 ? double(tp) / (tp + fp) : kNaN,
      tp_e + fp_e > 0 ? tp_e / (tp_e + fp_e) : kNaN);
  add("recall", tp + fn > 0 ? double(tp) / (tp + fn) : kNaN,
      tp_e + fn_e > 0 ? tp_e / (tp_e + fn_e) : kNaN);
  // Calibration by decile: equal-count bins of the rows sorted by pd (labelled rows for the
  // realised values, every row for the estimate).
  std::vector<const Scored*> known;
  known.reserve(labelled);
  for (const Scored& r : s) {
    if (r.known) known.push_back(&r);
  }
  for (int b = 0; b < kBins; ++b) {
    double obs = kNaN, pred = kNaN, est = kNaN;
    const size_t k0 = known.size() * b / kBins, k1 = known.size() * (b + 1) / kBins;
    if (k1 > k0) {
      double y = 0, p = 0;
      for (size_t k = k0; k < k1; ++k) {
        y += known[k]->y;
        p += known[k]->pd;
      }
      obs = y / (k1 - k0);
      pred = p / (k1 - k0);
    }
    const size_t a0 = n * b / kBins, a1 = n * (b + 1) / kBins;
    if (a1 > a0) {
      double p = 0;
      for (size_t k = a0; k < a1; ++k) p += s[k].pd;
      est = p / (a1 - a0);
    }
    add("calib_observed", obs, est, BucketName(b));
    add("calib_predicted", pred, est, BucketName(b));
  }
  return out;
}

}  // namespace riskpipe::monitoring
