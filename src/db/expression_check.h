#pragma once
// The guard on SQL text that comes from project files (feature expressions, the feature
// spine's `where`, data-quality expectation expressions). riskpipe splices such text into its
// own queries, so it must be exactly one scalar expression over the named columns: DuckDB's
// own parser reads it (json_serialize_sql on a private, file-less database) and the parse
// tree is checked node by node. Subqueries, `*`, parameters, qualified or unknown column
// names, schema-qualified functions and the functions that read settings, the environment,
// sequences or files are refused, so the text can neither leave its row nor reach a table
// function (such as riskpipe's own row source) or the file system. Aggregate and window calls
// are allowed: the step that runs the text decides which it needs, and DuckDB's binder then
// checks types and names when it compiles the query.
//
// Thread-safe: calls are serialised on one parser connection.

#include <set>
#include <string>
#include <string_view>

#include "core/status.h"

namespace riskpipe::db {

struct ExpressionRules {
  // The column names the expression may reference, compared case-insensitively (as DuckDB
  // does). Ignored when `any_column` is set (the table's columns are not known statically;
  // the query's binder checks them).
  std::set<std::string> columns;
  bool any_column = false;
};

// OK when `expr` is exactly one scalar SQL expression that keeps to `rules`; InvalidArgument
// naming the first problem otherwise (the parser's message for a syntax error). Internal
// when the parser cannot be started.
Status CheckExpression(std::string_view expr, const ExpressionRules& rules);

}  // namespace riskpipe::db
