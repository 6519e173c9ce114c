#include "stats/internal/score_order.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace riskpipe::stats::internal {
namespace {

// Radix digits of 11 bits: six passes cover 64 bits (5 x 11 + 9), with 2048-entry
// histograms that stay in L1.
constexpr int kDigitBits = 11;
constexpr int kPasses = 6;
constexpr size_t kBuckets = size_t{1} << kDigitBits;
// Below this many rows a comparison sort is faster than six histogram passes.
constexpr size_t kRadixMinRows = 256;

size_t Digit(uint64_t key, int pass) {
  return static_cast<size_t>((key >> (pass * kDigitBits)) & (kBuckets - 1));
}

// Stable LSD radix sort of `rows` by key; input in row order, so ties stay in row order.
void RadixSort(std::vector<RankedRow>& rows) {
  const size_t n = rows.size();
  std::vector<std::array<uint32_t, kBuckets>> counts(kPasses);
  for (auto& c : counts) c.fill(0);
  for (const RankedRow& r : rows) {
    for (int p = 0; p < kPasses; ++p) ++counts[p][Digit(r.key, p)];
  }
  std::vector<RankedRow> buffer(n);
  for (int p = 0; p < kPasses; ++p) {
    auto& c = counts[p];
    // A digit every key shares moves nothing: skip the pass (the exponent bytes of
    // probabilities often do).
    if (c[Digit(rows[0].key, p)] == n) continue;
    uint32_t offset = 0;
    for (uint32_t& v : c) {
      const uint32_t here = v;
      v = offset;
      offset += here;
    }
    for (const RankedRow& r : rows) buffer[c[Digit(r.key, p)]++] = r;
    rows.swap(buffer);
  }
}

}  // namespace

uint64_t OrderKey(double x) {
  if (std::isnan(x)) return 0;
  if (x == 0) x = 0.0;  // -0.0 and +0.0 compare equal, so they share a key
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  // Negative numbers: flip every bit (larger magnitude -> smaller key). Non-negative: set the
  // sign bit so they sort above all negatives. The smallest key a number gets is
  // ~bits(-inf) = 0x000FFFFFFFFFFFFF > 0, so 0 is free for NaN.
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

double KeyValue(uint64_t key) {
  if (key == 0) return std::numeric_limits<double>::quiet_NaN();
  const uint64_t bits = (key >> 63) != 0 ? key & ~(uint64_t{1} << 63) : ~key;
  return std::bit_cast<double>(bits);
}

std::vector<RankedRow> SortByScore(std::span<const double> scores, std::span<const uint8_t> labels,
                                   NanReading nan) {
  std::vector<RankedRow> rows(scores.size());
  const uint64_t nan_key = nan == NanReading::kZero ? OrderKey(0.0) : 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    rows[i] = {std::isnan(scores[i]) ? nan_key : OrderKey(scores[i]), static_cast<uint32_t>(i),
               static_cast<uint8_t>(!labels.empty() && labels[i] != 0)};
  }
  if (rows.size() < kRadixMinRows) {
    std::sort(rows.begin(), rows.end(), [](const RankedRow& a, const RankedRow& b) {
      return a.key != b.key ? a.key < b.key : a.row < b.row;
    });
  } else {
    RadixSort(rows);
  }
  return rows;
}

std::vector<ScoreGroup> GroupByScore(std::span<const RankedRow> sorted) {
  size_t distinct = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    distinct += (i == 0 || sorted[i].key != sorted[i - 1].key) ? 1 : 0;
  }
  std::vector<ScoreGroup> groups;
  groups.reserve(distinct);
  for (const RankedRow& r : sorted) {
    if (groups.empty() || groups.back().key != r.key) groups.push_back({r.key, 0, 0});
    if (r.label != 0) {
      ++groups.back().positives;
    } else {
      ++groups.back().negatives;
    }
  }
  return groups;
}

}  // namespace riskpipe::stats::internal
