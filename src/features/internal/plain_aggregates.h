#pragma once
// Internal to materialize (features/materialize.h): aggregate views reduced in C++ from their
// source rows streamed out of DuckDB. DuckDB's GROUP BY of a million entities (each thread
// building a table of nearly every group) costs several times the plain scan of the same rows,
// so a view whose every feature is a count, or a sum, mean, min or max of a DOUBLE, is reduced
// here, with DuckDB's results; every other aggregate view is DuckDB's GROUP BY. The choice
// follows from the view's definition alone, never from the data. PlainCallOf and
// ReducibleCalls are pure; ReduceAggregates runs one query on the target's connection.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "db/database.h"

namespace riskpipe::features::internal {

// One feature that is a single call: count(*), count(x), or sum, avg, min or max of x.
struct PlainCall {
  enum class Function { kCountStar, kCount, kSum, kAvg, kMin, kMax };
  Function function = Function::kCountStar;
  std::string argument;  // the SQL of x; empty for count(*)
};

// The call `expr` is ("avg(fe_1::DOUBLE)" -> {kAvg, "fe_1::DOUBLE"}; "count()" is count(*)),
// or nullopt for anything else: two calls, DISTINCT, FILTER, OVER or ORDER BY inside the call,
// another function. The argument's parentheses and quotes must balance, so "sum(a) + sum(b)"
// is not one call.
std::optional<PlainCall> PlainCallOf(const std::string& expr);

// Whether the calls can be reduced here, given their arguments' DuckDB types (in the order of
// the calls that have one): counts of any type, the rest of DOUBLE only (an integer sum is
// DuckDB's exact HUGEINT, which doubles cannot carry, and a min or max of text or dates is no
// number).
bool ReducibleCalls(const std::vector<PlainCall>& calls, const std::vector<std::string>& types);

// Where the reduced rows go: the spine's entities (codes 0..n-1 in `entities`, which reads add
// others to) and their file positions.
struct ReduceTarget {
  db::Connection& con;
  db::TextDictionary& entities;
  const std::vector<uint32_t>& position_of;  // entity code -> file position
  size_t n = 0;
  double limit = 0;       // the latest day a row may have (the point-in-time audit)
  bool violated = false;  // set when a row is dated after `limit`
};

// The view's features in file order, one DOUBLE column per call, computed as DuckDB computes
// them (a NaN is greater than every number and makes a sum, mean or max NaN; the snapshot
// stores NaN as null). `args_sql` gives _e (not null), _t, then _a0, _a1, ... (the argument
// of each call but count(*)) for every source row in the view's window; the calls must be
// ReducibleCalls. An entity without rows gets count 0 and nulls, as an aggregate over no rows.
// InvalidArgument for SQL errors.
StatusOr<std::vector<db::ColumnarTable::Column>> ReduceAggregates(
    const config::FeatureView& v, const std::vector<PlainCall>& calls, const std::string& args_sql,
    ReduceTarget& target);

}  // namespace riskpipe::features::internal
