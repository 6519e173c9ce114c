// gold/data_quality and the Markdown report.

#include <cmath>

#include "core/files.h"
#include "quality/internal.h"
#include "quality/quality.h"

namespace riskpipe::quality {
namespace {

namespace fs = std::filesystem;
using internal::Fmt;

// The columns of gold/data_quality, in order, with their SQL types (docs/quality.md).
constexpr std::pair<const char*, const char*> kSchema[] = {
    {"layer", "VARCHAR"},         {"table_name", "VARCHAR"},  {"month", "VARCHAR"},
    {"ordinal", "INTEGER"},       {"expectation", "VARCHAR"}, {"kind", "VARCHAR"},
    {"column_name", "VARCHAR"},   {"severity", "VARCHAR"},    {"outcome", "VARCHAR"},
    {"passed", "BOOLEAN"},        {"observed", "DOUBLE"},     {"observed_text", "VARCHAR"},
    {"threshold", "VARCHAR"},     {"rationale", "VARCHAR"},   {"details", "VARCHAR"},
    {"partition_rows", "BIGINT"}, {"run_id", "BIGINT"},       {"evaluated_at", "VARCHAR"},
};

std::string Lit(const std::string& s) { return db::QuoteLiteral(s); }

std::string Row(const SuiteResult& s, size_t i, const RunContext& c) {
  const ExpectationResult& r = s.results[i];
  const std::string observed = std::isfinite(r.observed) ? Fmt(r.observed, 17) : "NULL";
  return "(" + Lit(s.layer) + ", " + Lit(s.table) + ", " + Lit(s.month.ToString()) + ", " +
         std::to_string(i) + ", " + Lit(r.name) + ", " + Lit(r.kind) + ", " + Lit(r.column) + ", " +
         Lit(r.severity) + ", " + Lit(std::string(OutcomeName(r.outcome))) + ", " +
         (r.outcome == Outcome::kFail ? "false" : "true") + ", " + observed + ", " +
         Lit(r.observed_text) + ", " + Lit(r.threshold) + ", " + Lit(r.rationale) + ", " +
         Lit(r.details) + ", " + std::to_string(s.rows) + ", " + std::to_string(c.run_id) + ", " +
         Lit(c.evaluated_at) + ")";
}

// Markdown table cells: no pipes or line breaks.
std::string Cell(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') {
      out += "\\|";
    } else {
      out += (ch == '\n' ? ' ' : ch);
    }
  }
  return out;
}

std::string Mark(const ExpectationResult& r) {
  if (r.outcome == Outcome::kPass) return "pass";
  if (r.outcome == Outcome::kSkip) return "skip";
  return r.severity == "error" ? "**FAIL**" : "warn";
}

}  // namespace

Status WriteResults(db::Connection& con, const datamart::Datamart& mart, Month month,
                    const std::vector<SuiteResult>& suites, const RunContext& context) {
  std::string cols, casts, rows, replaced;
  for (const auto& [name, type] : kSchema) {
    cols += std::string(cols.empty() ? "" : ", ") + name;
    casts +=
        std::string(casts.empty() ? "" : ", ") + "CAST(" + name + " AS " + type + ") AS " + name;
  }
  for (const SuiteResult& s : suites) {
    replaced += (replaced.empty() ? "" : ", ") + Lit(s.layer + "/" + s.table);
    for (size_t i = 0; i < s.results.size(); ++i) {
      rows += (rows.empty() ? "" : ", ") + Row(s, i, context);
    }
  }
  std::string sql;
  if (!rows.empty()) sql = "SELECT " + casts + " FROM (VALUES " + rows + ") AS t(" + cols + ")";
  const Date partition = month.first_day();
  const fs::path existing = mart.PartitionFile(datamart::Layer::kGold, kResultsTable, partition);
  std::error_code ec;
  if (fs::exists(existing, ec)) {
    // Keep the rows of suites not evaluated now: the partition holds every suite of the month.
    const std::string keep = "SELECT " + cols + " FROM read_parquet(" + Lit(existing.string()) +
                             ") WHERE (layer || '/' || table_name) NOT IN (" +
                             (replaced.empty() ? "''" : replaced) + ")";
    sql = sql.empty() ? keep : sql + " UNION ALL " + keep;
  }
  if (sql.empty()) return OkStatus();
  auto written =
      mart.WritePartition(con, datamart::Layer::kGold, kResultsTable, partition,
                          "SELECT * FROM (" + sql + ") ORDER BY layer, table_name, ordinal");
  return written.status();
}

std::string ReportMarkdown(const SuiteResult& s, const RunContext& c) {
  std::string md = "# Data quality: " + s.layer + "/" + s.table + " " + s.month.ToString() + "\n\n";
  md += "- Partition: `" + s.partition_file.string() + "`" +
        (s.partition_found ? " (" + std::to_string(s.rows) + " rows)" : " (missing)") + "\n";
  md += "- Evaluated: " + (c.evaluated_at.empty() ? std::string("-") : c.evaluated_at) +
        (c.run_id > 0 ? ", run " + std::to_string(c.run_id) : std::string()) + ", in " +
        Fmt(s.seconds, 3) + " s\n";
  int error_fails = 0, warn_fails = 0;
  for (const auto& r : s.results) {
    if (r.outcome != Outcome::kFail) continue;
    (r.severity == "error" ? error_fails : warn_fails) += 1;
  }
  md += "- Result: " + std::string(error_fails > 0 ? "**FAILED**" : "passed") + " — " +
        std::to_string(s.Count(Outcome::kPass)) + " passed, " + std::to_string(error_fails) +
        " failed (error), " + std::to_string(warn_fails) + " failed (warn), " +
        std::to_string(s.Count(Outcome::kSkip)) + " skipped\n\n";
  md += "| result | expectation | kind | column | severity | observed | threshold |\n";
  md += "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& r : s.results) {
    md += "| " + Mark(r) + " | " + Cell(r.name) + " | " + r.kind + " | " + Cell(r.column) + " | " +
          r.severity + " | " + Cell(r.observed_text) + " | " + Cell(r.threshold) + " |\n";
  }
  md += "\n## Rationale and details\n";
  for (const auto& r : s.results) {
    md += "\n### " + r.name + " (" + std::string(OutcomeName(r.outcome)) + ")\n\n" + r.rationale +
          "\n";
    if (!r.details.empty()) md += "\nDetails: " + r.details + "\n";
  }
  return md;
}

fs::path ReportPath(const Workspace& workspace, const SuiteResult& r) {
  const std::string prefix = r.layer == "silver" ? "" : r.layer + ".";
  return workspace.quality_reports() / (prefix + r.table + "_" + r.month.ToString() + ".md");
}

StatusOr<fs::path> WriteReport(const Workspace& workspace, const SuiteResult& result,
                               const RunContext& context) {
  const fs::path path = ReportPath(workspace, result);
  RETURN_IF_ERROR(WriteFileAtomic(path, ReportMarkdown(result, context)));
  return path;
}

}  // namespace riskpipe::quality
