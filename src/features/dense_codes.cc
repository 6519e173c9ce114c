#include "features/dense_codes.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/memory.h"

namespace riskpipe::features {

DenseCoding DenseCodes(const db::ColumnarTable::Column& col) {
  DenseCoding out;
  if (col.is_text()) {
    const uint32_t null_code = static_cast<uint32_t>(col.dictionary.size());
    ReserveHuge(out.codes, col.codes.size());
    for (int32_t c : col.codes) out.codes.push_back(c < 0 ? null_code : static_cast<uint32_t>(c));
    out.count = col.dictionary.size() + 1;
    return out;
  }
  constexpr uint64_t kNullBits = ~uint64_t{0};
  std::vector<uint64_t> distinct;
  std::vector<uint32_t> slots(1024, 0);  // code + 1; 0 = empty
  int shift = 64 - 10;
  auto slot_of = [&](uint64_t bits) {
    size_t i = static_cast<size_t>((bits * 0x9E3779B97F4A7C15ULL) >> shift);
    while (slots[i] != 0 && distinct[slots[i] - 1] != bits) i = (i + 1) & (slots.size() - 1);
    return i;
  };
  ReserveHuge(out.codes, col.numbers.size());
  for (double v : col.numbers) {
    uint64_t bits = kNullBits;
    if (!std::isnan(v)) {
      v += 0.0;  // -0.0 -> 0.0
      std::memcpy(&bits, &v, sizeof bits);
    }
    size_t i = slot_of(bits);
    if (slots[i] == 0) {
      distinct.push_back(bits);
      slots[i] = static_cast<uint32_t>(distinct.size());
      if (distinct.size() * 2 > slots.size()) {  // grow: rehash every value
        slots.assign(slots.size() * 2, 0);
        --shift;
        for (uint32_t c = 0; c < distinct.size(); ++c) slots[slot_of(distinct[c])] = c + 1;
      }
      out.codes.push_back(static_cast<uint32_t>(distinct.size() - 1));
    } else {
      out.codes.push_back(slots[i] - 1);
    }
  }
  out.count = distinct.size();
  out.values.reserve(distinct.size());
  for (const uint64_t bits : distinct) {
    double v = std::numeric_limits<double>::quiet_NaN();
    if (bits != kNullBits) std::memcpy(&v, &bits, sizeof v);
    out.values.push_back(v);
  }
  return out;
}

}  // namespace riskpipe::features
