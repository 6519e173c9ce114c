#pragma once
// Data-quality gate: evaluates an expectation suite (config/expectations.h) over one month's
// Parquet partition with DuckDB aggregates, writes the results to gold/data_quality and a
// Markdown report. A failing expectation is a result, not an error: the Status of these
// functions only reports what kept the evaluation itself from running (a missing column, a
// broken SQL expression, I/O). Thread-compatible: one Connection per thread.
// Semantics of each kind: docs/quality.md.

#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/expectations.h"
#include "core/date.h"
#include "core/status.h"
#include "core/workspace.h"
#include "datamart/datamart.h"
#include "db/database.h"

namespace riskpipe::quality {

// The gold table of results, one partition per evaluated month.
inline constexpr char kResultsTable[] = "data_quality";

enum class Outcome {
  kPass,
  kFail,
  kSkip,  // not evaluated: the partition is missing (freshness reports that) or has no rows
};
std::string_view OutcomeName(Outcome outcome);  // "pass", "fail", "skip"

struct ExpectationResult {
  std::string name, kind, column, severity, rationale;
  Outcome outcome = Outcome::kPass;
  // The measured value compared with the threshold: rows, a fraction, a PSI or a p-value.
  double observed = std::numeric_limits<double>::quiet_NaN();
  std::string observed_text;  // the same for people, e.g. "1.0000 (9000 of 9000 rows null)"
  std::string threshold;      // e.g. "<= 0.01"
  std::string details;        // supporting figures: worst segments, JS divergence, examples
  bool error_failed() const { return outcome == Outcome::kFail && severity == "error"; }
};

struct SuiteResult {
  std::string layer, table;
  Month month;
  std::filesystem::path partition_file;
  bool partition_found = false;
  int64_t rows = 0;
  double seconds = 0;
  std::vector<ExpectationResult> results;  // in suite order

  int Count(Outcome outcome) const;
  // True when an expectation of severity error failed: the month must not go further.
  bool failed() const;
  // "silver/feature_clickstream 2024-03: expectation fe_7_null_rate failed: observed 1.0000
  // (...), threshold <= 0.01[; expectation ...]", naming every failed error expectation.
  std::string FailureMessage() const;
};

// The datamart layer of a suite ("silver" -> kSilver). InvalidArgument for other names.
StatusOr<datamart::Layer> ParseLayer(std::string_view name);

// Parses every SQL `expression:` of `suite` (db::CheckExpression): exactly one scalar
// expression, no subquery, no table function, no file access. With `columns`, it may name
// only those columns; without, any column (the partition's schema decides when it runs).
// InvalidArgument "<suite file>:<line>: expectation <name>: expression: <problem>".
Status CheckSuite(const config::ExpectationSuite& suite,
                  const std::set<std::string>* columns = nullptr);

// Loads every suite of the project's expectations folder and checks it (CheckSuite; a silver
// suite of a configured source against that source's columns). What `check-config` runs.
Status CheckSuites(const config::Project& project);

// Evaluates every expectation of `suite` over its table's partition for `month`. When the
// partition is missing, freshness fails and the other expectations are skipped.
// InvalidArgument naming the suite file, line and expectation when it refers to a column the
// partition lacks, its expression does not run, or a distribution test does not fit the
// column's type; Internal for DuckDB failures reading the files.
StatusOr<SuiteResult> EvaluateSuite(db::Connection& con, const datamart::Datamart& mart,
                                    const config::ExpectationSuite& suite, Month month);

// Where the results of a run come from, stored with every row.
struct RunContext {
  int64_t run_id = 0;        // metastore run, 0 when none
  std::string evaluated_at;  // UTC timestamp text
};

// Writes the results of `suites` (all for `month`) into gold/data_quality's partition for the
// month, replacing earlier rows of the same (layer, table) and keeping other tables' rows, so
// re-running a month is idempotent. The partition is replaced atomically. InvalidArgument or
// Internal from DuckDB and the file system.
Status WriteResults(db::Connection& con, const datamart::Datamart& mart, Month month,
                    const std::vector<SuiteResult>& suites, const RunContext& context);

// The Markdown report of one suite's results: a summary table, then each expectation's
// rationale and details.
std::string ReportMarkdown(const SuiteResult& result, const RunContext& context);
// <workspace>/reports/quality/<table>_<YYYY-MM>.md for silver; other layers prefix the
// layer: <layer>.<table>_<YYYY-MM>.md.
std::filesystem::path ReportPath(const Workspace& workspace, const SuiteResult& r);
// Writes ReportMarkdown atomically to ReportPath; returns the path. Internal on I/O errors.
StatusOr<std::filesystem::path> WriteReport(const Workspace& workspace, const SuiteResult& result,
                                            const RunContext& context);

}  // namespace riskpipe::quality
