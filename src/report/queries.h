#pragma once
// Internal to report: the SQL behind every dataset, over temp tables loaded from the gold
// tables whose columns /work/notes/gold-schemas.md and docs/monitoring.md fix. Months are text
// "YYYY-MM" in every dataset. "The model of a month" is the champion of gold/predictions that
// month, else the model with most monitored rows (see primary_model in queries.cc).

#include <string_view>
#include <vector>

namespace riskpipe::report::internal {

// A gold table copied into a temp table `name` with `select` (and `tail`, e.g. GROUP BY);
// `empty_schema` makes the same columns when the table is missing.
struct SourceTable {
  std::string_view name;
  std::string_view gold_table;
  std::string_view select;
  std::string_view tail;
  std::string_view empty_schema;
};

// A query whose whole result becomes the dataset `name`, or whose first row's columns become
// facts (Facts()).
struct NamedQuery {
  std::string_view name;
  std::string_view sql;
};

const std::vector<SourceTable>& SourceTables();
// Statements run after the source tables exist (derived temp tables).
const std::vector<std::string_view>& SetupStatements();
const std::vector<NamedQuery>& Datasets();
const std::vector<NamedQuery>& Facts();

}  // namespace riskpipe::report::internal
