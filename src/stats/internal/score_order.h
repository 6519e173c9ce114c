#pragma once
// Internal to stats: the one sort behind the ranking metrics and the calibrators. Rows are
// ordered by score ascending, then by row index (a stable LSD radix sort on an
// order-preserving 64-bit key), so every result is deterministic. NaN sorts below every
// number, -inf included, and all NaNs tie; -0.0 ties with +0.0. Thread-safe (pure functions).

#include <cstdint>
#include <span>
#include <vector>

namespace riskpipe::stats::internal {

// A row in score order. 16 bytes, so a million rows sort in 16 MB.
struct RankedRow {
  uint64_t key;   // OrderKey(score)
  uint32_t row;   // index into the caller's spans
  uint8_t label;  // 1 when the caller's label was non-zero, else 0
};

// Monotone map from double to uint64: a < b  <=>  OrderKey(a) < OrderKey(b), NaN -> 0
// (below everything), -0.0 -> OrderKey(+0.0).
uint64_t OrderKey(double x);
// The score a key came from (NaN for key 0).
double KeyValue(uint64_t key);

// How a NaN score is read: below every number (rank metrics) or as probability 0.
enum class NanReading { kBelowAll, kZero };

// Rows of `scores` sorted by (score, row index). `labels` is either empty (every label 0) or
// as long as `scores`. At most 2^32 - 1 rows.
std::vector<RankedRow> SortByScore(std::span<const double> scores, std::span<const uint8_t> labels,
                                   NanReading nan = NanReading::kBelowAll);

// Rows sharing one score: positives and negatives among them.
struct ScoreGroup {
  uint64_t key;
  int64_t positives;
  int64_t negatives;
};

// Groups of equal score, ascending.
std::vector<ScoreGroup> GroupByScore(std::span<const RankedRow> sorted);

}  // namespace riskpipe::stats::internal
