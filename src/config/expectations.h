#pragma once
// Data-quality expectation suites: one YAML file per table and layer, named
// "<layer>.<table>.yaml", in the project's expectations folder (riskpipe.yaml key
// `expectations`, default "expectations" beside the project file). Parsing is as strict as
// the project file: an unknown kind or key, a wrong type or a missing rationale is an error
// "<file>:<line>: <key path>: <problem>". Plain values; thread-safe once built.
// docs/quality.md describes every kind and its semantics.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/status.h"

namespace riskpipe::config {

enum class ExpectationKind {
  kRowCount,       // min/max rows in the partition
  kNullRate,       // max null fraction of a column, overall or per segment (`by`)
  kRange,          // values within [min, max] for at least `mostly` of non-null rows
  kAllowedValues,  // values in `values` for at least `mostly` of non-null rows
  kUnique,         // no two rows share the key `columns`
  kFreshness,      // the month's partition exists and holds rows
  kDistribution,   // PSI / KS / chi-square against a reference window of the same table
};
std::string_view ExpectationKindName(ExpectationKind kind);

enum class Severity {
  kError,  // a failure stops the pipeline for the month
  kWarn,   // a failure is recorded and reported only
};
std::string_view SeverityName(Severity severity);

struct Expectation {
  std::string name;  // unique within the suite
  ExpectationKind kind = ExpectationKind::kRowCount;
  std::string column;      // the column checked ("" for row_count, unique, freshness)
  std::string expression;  // optional SQL expression evaluated instead of `column`
  Severity severity = Severity::kError;
  std::string rationale;  // where the threshold comes from; required
  std::optional<double> min, max;  // row_count: rows; null_rate: max fraction; range: values
  double mostly = 1.0;             // range, allowed_values: fraction that must comply
  std::string by;                  // null_rate: segment column
  int64_t min_segment_rows = 1;    // null_rate by segment: smaller segments are not judged
  std::vector<std::string> values;   // allowed_values
  std::vector<std::string> columns;  // unique: the key
  // distribution: at least one threshold and the reference window (inclusive months).
  std::optional<double> psi_max, ks_pvalue_min, chi2_pvalue_min;
  int bins = 10;  // distribution, numeric: equal-frequency bins from the reference
  Month reference_from, reference_to;
  int line = 0;
};

struct ExpectationSuite {
  std::string table;
  std::string layer;  // bronze | silver | quarantine | gold
  std::filesystem::path file;
  std::vector<Expectation> expectations;
};

// "<dir>/<layer>.<table>.yaml".
std::filesystem::path SuiteFile(const std::filesystem::path& dir, std::string_view layer,
                                std::string_view table);

// Parses one suite from YAML text; `origin` names it in messages. InvalidArgument
// "<origin>:<line>: <key path>: <problem>" for anything wrong.
StatusOr<ExpectationSuite> ParseExpectationSuite(std::string_view yaml_text,
                                                 const std::filesystem::path& origin);
// Loads a suite file; NotFound when missing. The file name must match the suite's layer and
// table ("silver.loans.yaml" for table loans, layer silver): InvalidArgument otherwise.
StatusOr<ExpectationSuite> LoadExpectationSuite(const std::filesystem::path& file);
// Every "*.yaml" suite in `dir`, sorted by file name; empty when the folder does not exist.
StatusOr<std::vector<ExpectationSuite>> LoadExpectationSuites(const std::filesystem::path& dir);

}  // namespace riskpipe::config
