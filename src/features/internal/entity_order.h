#pragma once
// Internal to materialize (features/materialize.h): the order a snapshot's rows are published
// in, and the codes that make its bytes depend only on its cells. Pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "db/database.h"

namespace riskpipe::features::internal {

// The order of the codes 0..n-1 of `entities` by entity, as DuckDB's ORDER BY would give it:
// by value when `numeric` (the texts are numbers), else by bytes.
std::vector<uint32_t> SortedCodes(const std::vector<std::string>& entities, bool numeric);

// Turns a column of integers (as doubles, none null) into a text column: codes by first
// appearance, the dictionary their decimal text (as CAST(x AS VARCHAR) writes it). Internal
// for a value that is not an integer a double holds exactly.
Status CodeIntegers(db::ColumnarTable::Column& col);

// Renumbers a text column's codes by first use (dropping unused dictionary entries), so the
// same cells give the same dictionary whatever order the values were first met in.
void RecodeInOrder(db::ColumnarTable::Column& col);

}  // namespace riskpipe::features::internal
