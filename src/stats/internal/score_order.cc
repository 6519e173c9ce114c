#include "stats/internal/score_order.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

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

uint64_t KeyOf(uint64_t key) { return key; }
uint64_t KeyOf(const RankedRow& r) { return r.key; }

// Transparent huge pages are 2 MiB on x86-64 and arm64 with 4 KiB base pages.
constexpr size_t kHugePage = size_t{2} << 20;

// Stable LSD radix sort by key, so elements with equal keys keep their input order.
template <typename T>
void RadixSort(LargeVector<T>& v) {
  const size_t n = v.size();
  if (n == 0) return;
  std::vector<std::array<uint32_t, kBuckets>> counts(kPasses);
  for (auto& c : counts) c.fill(0);
  for (const T& x : v) {
    const uint64_t key = KeyOf(x);
    for (int p = 0; p < kPasses; ++p) ++counts[p][Digit(key, p)];
  }
  LargeVector<T> buffer;
  for (int p = 0; p < kPasses; ++p) {
    auto& c = counts[p];
    // A digit every key shares moves nothing: skip the pass (the sign and exponent bits of
    // probabilities often are).
    if (c[Digit(KeyOf(v[0]), p)] == n) continue;
    uint32_t offset = 0;
    for (uint32_t& slot : c) {
      const uint32_t here = slot;
      slot = offset;
      offset += here;
    }
    buffer.resize(n);
    for (const T& x : v) buffer[c[Digit(KeyOf(x), p)]++] = x;
    v.swap(buffer);
  }
}

}  // namespace

void* AllocateLarge(size_t bytes) {
  if (bytes < kHugePage) return ::operator new(bytes);
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, rounded, MADV_HUGEPAGE);  // advice only: on failure the pages are 4 KiB
#endif
  return p;
}

void DeallocateLarge(void* p, size_t bytes) {
  if (bytes < kHugePage) {
    ::operator delete(p);
  } else {
    std::free(p);
  }
}

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

SplitKeys SortSplit(std::span<const double> scores, std::span<const uint8_t> labels,
                    NanReading nan) {
  size_t positives = 0;
  for (uint8_t y : labels) positives += y != 0 ? 1 : 0;
  SplitKeys out;
  out.positives.reserve(positives);
  out.negatives.reserve(scores.size() - positives);
  const uint64_t nan_key = nan == NanReading::kZero ? OrderKey(0.0) : 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const uint64_t key = std::isnan(scores[i]) ? nan_key : OrderKey(scores[i]);
    if (!labels.empty() && labels[i] != 0) {
      out.positives.push_back(key);
    } else {
      out.negatives.push_back(key);
    }
  }
  for (LargeVector<uint64_t>* keys : {&out.positives, &out.negatives}) {
    if (keys->size() < kRadixMinRows) {
      std::sort(keys->begin(), keys->end());
    } else {
      RadixSort(*keys);
    }
  }
  return out;
}

LargeVector<RankedRow> SortByScore(std::span<const double> scores, std::span<const uint8_t> labels,
                                   NanReading nan) {
  LargeVector<RankedRow> rows(scores.size());
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

}  // namespace riskpipe::stats::internal
