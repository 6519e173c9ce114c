#pragma once
// Internal to the quality module: formatting and the distribution check.

#include <string>
#include <vector>

#include "config/expectations.h"
#include "core/status.h"
#include "db/database.h"
#include "quality/quality.h"

namespace riskpipe::quality::internal {

// A number for messages: integers without decimals, others with `digits` significant digits.
std::string Fmt(double v, int digits = 4);
// The SQL of the checked value: the expectation's expression in parentheses, or its column.
std::string ValueSql(const config::Expectation& e);
// A DuckDB cell as double (ints, doubles, bools); NaN for null or text.
double AsDouble(const db::Value& v);
// "<suite file>:<line>: expectation <name>: <problem>" as InvalidArgument.
Status ExpectationError(const config::ExpectationSuite& suite, const config::Expectation& e,
                        const std::string& problem);

// Evaluates a distribution expectation. `current_sql` and `reference_sql` are table
// expressions; `value_type` is the DuckDB type of the checked value in the current data.
StatusOr<ExpectationResult> CheckDistribution(db::Connection& con,
                                              const config::ExpectationSuite& suite,
                                              const config::Expectation& e,
                                              const std::string& current_sql,
                                              const std::string& reference_sql,
                                              const std::string& value_type);

}  // namespace riskpipe::quality::internal
