#pragma once
// Dense codes for grouping the rows of a ColumnarTable column by value, without sorting: the
// feature store groups loans by customer (features/spine_windows.h) and materialize codes an
// integer entity column (features/internal/entity_order.h) with them.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "db/database.h"

namespace riskpipe::features {

struct DenseCoding {
  std::vector<uint32_t> codes;  // per row, in 0..count-1; equal values (nulls too) share one
  size_t count = 0;
  // Number columns: each code's value (NaN for the nulls' code), codes numbered by first
  // appearance. Empty for text, whose codes are its dictionary codes (the nulls' code last).
  std::vector<double> values;
};

// Numbers go through an open-addressing table of their bit patterns (-0.0 counts as 0.0).
DenseCoding DenseCodes(const db::ColumnarTable::Column& col);

}  // namespace riskpipe::features
