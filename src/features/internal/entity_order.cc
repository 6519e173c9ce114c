#include "features/internal/entity_order.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <iterator>

#include "core/parallel.h"
#include "features/dense_codes.h"

namespace riskpipe::features::internal {

// Sorted as (key, code) pairs, in two halves on two threads, then merged: the key is the
// number, or for text the 8 bytes after the prefix every entity shares (big-endian, so integer
// order is byte order), and only entities with equal keys are compared as strings. Comparing
// the strings themselves through the codes costs a cache miss or two per comparison.
std::vector<uint32_t> SortedCodes(const std::vector<std::string>& entities, bool numeric) {
  const size_t n = entities.size();
  size_t prefix = n == 0 ? 0 : entities[0].size();
  if (!numeric) {
    for (const std::string& e : entities) {
      size_t i = 0;
      const size_t limit = std::min(prefix, e.size());
      while (i < limit && e[i] == entities[0][i]) ++i;
      prefix = i;
    }
  }
  struct Item {
    uint64_t key;  // text: the bytes after the prefix; numbers: the order of the double
    uint32_t code;
  };
  std::vector<Item> items(n);
  for (uint32_t c = 0; c < n; ++c) {
    const std::string& e = entities[c];
    uint64_t key = 0;
    if (numeric) {
      double v = 0;
      std::from_chars(e.data(), e.data() + e.size(), v);
      // A double's bits as an unsigned number in the double's order.
      const uint64_t bits = std::bit_cast<uint64_t>(v == 0 ? 0.0 : v);
      key = (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
    } else {
      for (size_t i = 0; i < 8; ++i) {
        const size_t at = prefix + i;
        key = (key << 8) | (at < e.size() ? static_cast<unsigned char>(e[at]) : 0u);
      }
    }
    items[c] = {key, c};
  }
  auto less = [&](const Item& a, const Item& b) {
    if (a.key != b.key) return a.key < b.key;
    return entities[a.code] < entities[b.code];
  };
  const auto mid = items.begin() + static_cast<std::ptrdiff_t>(n / 2);
  ForBlocks(2, 2, [&](size_t half) {
    if (half == 0) {
      std::sort(items.begin(), mid, less);
    } else {
      std::sort(mid, items.end(), less);
    }
  });
  std::inplace_merge(items.begin(), mid, items.end(), less);
  std::vector<uint32_t> codes(n);
  for (size_t i = 0; i < n; ++i) codes[i] = items[i].code;
  return codes;
}

Status CodeIntegers(db::ColumnarTable::Column& col) {
  // 2^53: the integers above it are not all doubles.
  constexpr double kExact = 9007199254740992.0;
  DenseCoding coding = DenseCodes(col);
  for (const double v : coding.values) {
    if (!(std::fabs(v) <= kExact)) {  // also NaN (a null)
      return InternalError("online store: entity " + std::to_string(v) +
                           " is not an integer a double holds exactly");
    }
    col.dictionary.push_back(std::to_string(static_cast<int64_t>(v)));
  }
  col.codes.assign(coding.codes.begin(), coding.codes.end());
  col.numbers = {};
  col.type = db::Type::kVarchar;
  return OkStatus();
}

void RecodeInOrder(db::ColumnarTable::Column& col) {
  std::vector<int32_t> recode(col.dictionary.size(), -1);
  std::vector<std::string> dictionary;
  for (const int32_t c : col.codes) {
    if (c >= 0 && recode[c] < 0) {
      recode[c] = static_cast<int32_t>(dictionary.size());
      dictionary.push_back(std::move(col.dictionary[c]));
    }
  }
  for (int32_t& c : col.codes) {
    if (c >= 0) c = recode[c];
  }
  col.dictionary = std::move(dictionary);
}

}  // namespace riskpipe::features::internal
