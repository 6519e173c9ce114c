#pragma once
// Internal to stats: the one sort behind the ranking metrics and the calibrators. Scores
// become order-preserving 64-bit keys sorted by a stable LSD radix sort. NaN sorts below every
// number, -inf included, and all NaNs tie (or NaN reads as 0, for probabilities); -0.0 ties
// with +0.0. Thread-safe (pure functions).
//
// Two forms: SplitKeys (8 bytes a row: the defaults' and the goods' keys, each sorted) for
// everything that needs only counts per distinct score, and RankedRow (16 bytes a row, with
// the row index, ties in row order) for the few results that depend on which row is where.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace riskpipe::stats::internal {

// Memory for the sort's large arrays. A block of 2 MiB or more is 2 MiB-aligned and advised
// as transparent huge pages (Linux madvise; elsewhere plain memory), so first touching a
// 16 MB array takes 8 page faults instead of 4096: 54 ms -> 1.2 ms on the project's machine,
// where a page fault costs about 13 µs. Smaller blocks come from operator new.
void* AllocateLarge(size_t bytes);
void DeallocateLarge(void* p, size_t bytes);

template <typename T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { DeallocateLarge(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const LargeAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using LargeVector = std::vector<T, LargeAllocator<T>>;

// Monotone map from double to uint64: a < b  <=>  OrderKey(a) < OrderKey(b), NaN -> 0
// (below everything), -0.0 -> OrderKey(+0.0).
uint64_t OrderKey(double x);
// The score a key came from (NaN for key 0).
double KeyValue(uint64_t key);

// How a NaN score is read: below every number (rank metrics) or as probability 0.
enum class NanReading { kBelowAll, kZero };

// Keys of the defaults (label != 0) and of the goods, each ascending. `labels` is either empty
// (every row a good) or as long as `scores`. At most 2^32 - 1 rows.
struct SplitKeys {
  LargeVector<uint64_t> positives;
  LargeVector<uint64_t> negatives;
};
SplitKeys SortSplit(std::span<const double> scores, std::span<const uint8_t> labels,
                    NanReading nan = NanReading::kBelowAll);

// Calls f(key, positives, negatives) for each distinct key of `s`, descending: a merge walk
// from the top of both sorted arrays.
template <typename F>
void ForEachGroupDescending(const SplitKeys& s, F&& f) {
  size_t i = s.positives.size(), j = s.negatives.size();
  while (i > 0 || j > 0) {
    const uint64_t key = i == 0                                    ? s.negatives[j - 1]
                         : j == 0                                  ? s.positives[i - 1]
                         : s.positives[i - 1] > s.negatives[j - 1] ? s.positives[i - 1]
                                                                   : s.negatives[j - 1];
    int64_t pos = 0, neg = 0;
    for (; i > 0 && s.positives[i - 1] == key; --i) ++pos;
    for (; j > 0 && s.negatives[j - 1] == key; --j) ++neg;
    f(key, pos, neg);
  }
}

// The same, ascending.
template <typename F>
void ForEachGroupAscending(const SplitKeys& s, F&& f) {
  const size_t np = s.positives.size(), nn = s.negatives.size();
  size_t i = 0, j = 0;
  while (i < np || j < nn) {
    const uint64_t key = i == np                           ? s.negatives[j]
                         : j == nn                         ? s.positives[i]
                         : s.positives[i] < s.negatives[j] ? s.positives[i]
                                                           : s.negatives[j];
    int64_t pos = 0, neg = 0;
    for (; i < np && s.positives[i] == key; ++i) ++pos;
    for (; j < nn && s.negatives[j] == key; ++j) ++neg;
    f(key, pos, neg);
  }
}

// A row in score order.
struct RankedRow {
  uint64_t key;   // OrderKey(score)
  uint32_t row;   // index into the caller's spans
  uint8_t label;  // 1 when the caller's label was non-zero, else 0
};

// Rows of `scores` sorted by (score, row index); `labels` as for SortSplit.
LargeVector<RankedRow> SortByScore(std::span<const double> scores, std::span<const uint8_t> labels,
                                   NanReading nan = NanReading::kBelowAll);

}  // namespace riskpipe::stats::internal
