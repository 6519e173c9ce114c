#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "db/expression_check.h"
#include "quality/internal.h"
#include "quality/quality.h"

namespace riskpipe::quality {
namespace {

using config::Expectation;
using config::ExpectationKind;
using config::ExpectationSuite;
using internal::AsDouble;
using internal::Fmt;
using internal::ValueSql;
namespace fs = std::filesystem;

// Per-connection view names over the partition being evaluated.
constexpr char kCurrentView[] = "riskpipe_quality_current";

ExpectationResult Start(const Expectation& e) {
  ExpectationResult r;
  r.name = e.name;
  r.kind = std::string(config::ExpectationKindName(e.kind));
  r.column = e.column;
  r.severity = std::string(config::SeverityName(e.severity));
  r.rationale = e.rationale;
  return r;
}

std::string Bounds(const std::optional<double>& lo, const std::optional<double>& hi) {
  if (lo && hi) return "in [" + Fmt(*lo) + ", " + Fmt(*hi) + "]";
  return lo ? ">= " + Fmt(*lo) : "<= " + Fmt(*hi);
}

std::string InList(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + db::QuoteLiteral(v);
  return out;
}

// The aggregates of the one-scan kinds (row_count, null_rate overall, range, allowed_values),
// appended to a single SELECT so the partition is read once for all of them.
struct Batch {
  std::vector<std::string> exprs = {"count(*)"};
  // First aggregate index per expectation (or -1 for kinds evaluated separately).
  std::vector<int> first;
  int Add(std::initializer_list<std::string> aggregates) {
    const int at = static_cast<int>(exprs.size());
    for (const auto& a : aggregates) exprs.push_back(a);
    return at;
  }
};

int AddToBatch(Batch& b, const Expectation& e) {
  const std::string v = ValueSql(e);
  switch (e.kind) {
    case ExpectationKind::kNullRate:
      if (!e.by.empty()) return -1;
      return b.Add({"count(*) FILTER (WHERE " + v + " IS NULL)"});
    case ExpectationKind::kRange: {
      std::string out;
      if (e.min) out += v + " < " + Fmt(*e.min, 17);
      if (e.max) out += std::string(out.empty() ? "" : " OR ") + v + " > " + Fmt(*e.max, 17);
      return b.Add({"count(" + v + ")", "count(*) FILTER (WHERE " + out + ")",
                    "min(" + v + ")::DOUBLE", "max(" + v + ")::DOUBLE"});
    }
    case ExpectationKind::kAllowedValues:
      return b.Add({"count(" + v + ")", "count(*) FILTER (WHERE CAST(" + v +
                                            " AS VARCHAR) NOT IN (" + InList(e.values) + "))"});
    default:
      return -1;
  }
}

// Fills a one-scan result from the batch row.
void FromBatch(const Expectation& e, const std::vector<db::Value>& row, int at, int64_t rows,
               ExpectationResult& r) {
  const auto cell = [&](int i) { return AsDouble(row[static_cast<size_t>(at + i)]); };
  if (e.kind == ExpectationKind::kNullRate) {
    const double nulls = cell(0);
    r.observed = nulls / static_cast<double>(rows);
    r.observed_text = Fmt(r.observed) + " (" + Fmt(nulls) + " of " + Fmt(rows) + " rows null)";
    r.threshold = "<= " + Fmt(*e.max);
    r.outcome = r.observed <= *e.max ? Outcome::kPass : Outcome::kFail;
    return;
  }
  const double nonnull = cell(0), bad = cell(1);
  r.observed = nonnull > 0 ? 1.0 - bad / nonnull : 1.0;
  r.observed_text = Fmt(r.observed) + " compliant (" + Fmt(bad) + " of " + Fmt(nonnull) +
                    " non-null values outside)";
  if (e.kind == ExpectationKind::kRange) {
    r.threshold = "values " + Bounds(e.min, e.max) + " for >= " + Fmt(e.mostly) + " of rows";
    if (nonnull > 0) r.details = "min " + Fmt(cell(2), 6) + ", max " + Fmt(cell(3), 6);
  } else {
    r.threshold = "values in {" +
                  [&] {
                    std::string s;
                    for (const auto& v : e.values) s += (s.empty() ? "" : ", ") + v;
                    return s;
                  }() +
                  "} for >= " + Fmt(e.mostly) + " of rows";
  }
  r.outcome = r.observed >= e.mostly ? Outcome::kPass : Outcome::kFail;
}

StatusOr<ExpectationResult> CheckSegments(db::Connection& con, const Expectation& e,
                                          ExpectationResult r) {
  const std::string sql = "SELECT coalesce(CAST(" + db::QuoteIdent(e.by) +
                          " AS VARCHAR), '(null)') AS seg, count(*), count(*) FILTER (WHERE " +
                          ValueSql(e) + " IS NULL) FROM " + kCurrentView + " GROUP BY 1 ORDER BY 1";
  ASSIGN_OR_RETURN(db::Table t, con.Query(sql));
  struct Seg {
    std::string name;
    double rows, nulls;
  };
  std::vector<Seg> segs;
  int judged = 0;
  for (const auto& row : t.rows) {
    const Seg s{db::ValueToString(row[0]), AsDouble(row[1]), AsDouble(row[2])};
    if (s.rows < static_cast<double>(e.min_segment_rows)) continue;
    ++judged;
    segs.push_back(s);
  }
  std::sort(segs.begin(), segs.end(),
            [](const Seg& a, const Seg& b) { return a.nulls / a.rows > b.nulls / b.rows; });
  r.threshold = "<= " + Fmt(*e.max) + " in every " + e.by + " segment";
  if (segs.empty()) {
    r.outcome = Outcome::kSkip;
    r.observed_text = "no segment with >= " + std::to_string(e.min_segment_rows) + " rows";
    return r;
  }
  const Seg& worst = segs.front();
  r.observed = worst.nulls / worst.rows;
  r.observed_text = Fmt(r.observed) + " in " + e.by + "=" + worst.name + " (" + Fmt(worst.nulls) +
                    " of " + Fmt(worst.rows) + " rows null)";
  r.outcome = r.observed <= *e.max ? Outcome::kPass : Outcome::kFail;
  int failing = 0;
  for (const Seg& s : segs) failing += s.nulls / s.rows > *e.max ? 1 : 0;
  r.details = std::to_string(failing) + " of " + std::to_string(judged) +
              " segments above the threshold; worst:";
  for (size_t i = 0; i < std::min<size_t>(3, segs.size()); ++i) {
    r.details += " " + segs[i].name + " " + Fmt(segs[i].nulls / segs[i].rows);
  }
  return r;
}

StatusOr<ExpectationResult> CheckUnique(db::Connection& con, const Expectation& e,
                                        ExpectationResult r) {
  std::string cols;
  for (const auto& c : e.columns) cols += (cols.empty() ? "" : ", ") + db::QuoteIdent(c);
  ASSIGN_OR_RETURN(db::Table t, con.Query("SELECT count(*), coalesce(sum(n - 1), 0)::BIGINT "
                                          "FROM (SELECT count(*) AS n FROM " +
                                          std::string(kCurrentView) + " GROUP BY " + cols +
                                          " HAVING count(*) > 1)"));
  const double keys = AsDouble(t.rows.at(0)[0]), extra = AsDouble(t.rows.at(0)[1]);
  r.column = [&] {
    std::string s;
    for (const auto& c : e.columns) s += (s.empty() ? "" : ", ") + c;
    return s;
  }();
  r.observed = extra;
  r.observed_text = Fmt(extra) + " duplicate rows over " + Fmt(keys) + " repeated keys";
  r.threshold = "0 duplicate rows";
  r.outcome = extra == 0 ? Outcome::kPass : Outcome::kFail;
  return r;
}

// Column names and DuckDB types of the partition.
StatusOr<std::vector<std::pair<std::string, std::string>>> Describe(db::Connection& con,
                                                                    const std::string& sql) {
  ASSIGN_OR_RETURN(db::Table t, con.Query("DESCRIBE " + sql));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : t.rows)
    out.emplace_back(db::ValueToString(row[0]), db::ValueToString(row[1]));
  return out;
}

// Checks that every column an expectation names exists.
Status CheckColumns(const ExpectationSuite& suite, const Expectation& e,
                    const std::set<std::string>& columns) {
  std::vector<std::string> named = e.columns;
  if (!e.column.empty() && e.expression.empty()) named.push_back(e.column);
  if (!e.by.empty()) named.push_back(e.by);
  for (const std::string& c : named) {
    if (columns.count(c) == 0) {
      return internal::ExpectationError(
          suite, e, "column \"" + c + "\" is not in " + suite.layer + "/" + suite.table);
    }
  }
  return OkStatus();
}

// The reference window's partitions as a read_parquet table expression; "" when none exist.
std::string ReferenceSql(const datamart::Datamart& mart, datamart::Layer layer,
                         const ExpectationSuite& suite, const Expectation& e) {
  std::string files;
  for (Date d : mart.ListPartitions(layer, suite.table)) {
    const Month m = Month::Of(d);
    if (m < e.reference_from || e.reference_to < m) continue;
    files += (files.empty() ? "" : ", ") +
             db::QuoteLiteral(mart.PartitionFile(layer, suite.table, d).string());
  }
  return files.empty() ? "" : "read_parquet([" + files + "], union_by_name = true)";
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kSkip:
      return "skip";
  }
  return "?";
}

StatusOr<datamart::Layer> ParseLayer(std::string_view name) {
  for (auto l : {datamart::Layer::kBronze, datamart::Layer::kSilver, datamart::Layer::kQuarantine,
                 datamart::Layer::kGold}) {
    if (datamart::LayerName(l) == name) return l;
  }
  return InvalidArgumentError("unknown layer \"" + std::string(name) + "\"");
}

Status CheckSuite(const ExpectationSuite& suite, const std::set<std::string>* columns) {
  db::ExpressionRules rules;
  if (columns != nullptr) {
    rules.columns = *columns;
  } else {
    rules.any_column = true;
  }
  for (const Expectation& e : suite.expectations) {
    if (e.expression.empty()) continue;
    if (Status s = db::CheckExpression(e.expression, rules); !s.ok()) {
      return internal::ExpectationError(suite, e, "expression: " + s.message());
    }
  }
  return OkStatus();
}

Status CheckSuites(const config::Project& project) {
  ASSIGN_OR_RETURN(std::vector<ExpectationSuite> suites,
                   config::LoadExpectationSuites(project.expectations_dir));
  for (const ExpectationSuite& suite : suites) {
    const config::Source* source = project.FindSource(suite.table);
    if (suite.layer == "silver" && source != nullptr) {
      const std::set<std::string> columns = config::SilverColumns(*source);
      RETURN_IF_ERROR(CheckSuite(suite, &columns));
    } else {
      RETURN_IF_ERROR(CheckSuite(suite));
    }
  }
  return OkStatus();
}

StatusOr<SuiteResult> EvaluateSuite(db::Connection& con, const datamart::Datamart& mart,
                                    const ExpectationSuite& suite, Month month) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(const datamart::Layer layer, ParseLayer(suite.layer));
  SuiteResult out;
  out.layer = suite.layer;
  out.table = suite.table;
  out.month = month;
  out.partition_file = mart.PartitionFile(layer, suite.table, month.first_day());
  std::error_code ec;
  out.partition_found = fs::exists(out.partition_file, ec);
  const std::string where = suite.layer + "/" + suite.table + " " + month.ToString();

  Batch batch;
  std::vector<std::pair<std::string, std::string>> schema;
  if (out.partition_found) {
    RETURN_IF_ERROR(con.Execute("CREATE OR REPLACE TEMP VIEW " + std::string(kCurrentView) +
                                " AS SELECT * FROM read_parquet(" +
                                db::QuoteLiteral(out.partition_file.string()) + ")")
                        .WithPrefix(where));
    ASSIGN_OR_RETURN(schema, Describe(con, kCurrentView));
    std::set<std::string> columns;
    for (const auto& [name, type] : schema) columns.insert(name);
    RETURN_IF_ERROR(CheckSuite(suite, &columns));
    for (const Expectation& e : suite.expectations) {
      RETURN_IF_ERROR(CheckColumns(suite, e, columns));
      batch.first.push_back(AddToBatch(batch, e));
    }
    std::string sql = "SELECT ";
    for (size_t i = 0; i < batch.exprs.size(); ++i) sql += (i ? ", " : "") + batch.exprs[i];
    auto row = con.Query(sql + " FROM " + kCurrentView);
    if (!row.ok()) return row.status().WithPrefix(where + " (" + suite.file.string() + ")");
    out.rows = static_cast<int64_t>(AsDouble(row->rows.at(0)[0]));
    for (size_t i = 0; i < suite.expectations.size(); ++i) {
      if (batch.first[i] < 0) continue;
      ExpectationResult r = Start(suite.expectations[i]);
      if (out.rows == 0) {
        r.outcome = Outcome::kSkip;
        r.observed_text = "no rows";
      } else {
        FromBatch(suite.expectations[i], row->rows.at(0), batch.first[i], out.rows, r);
      }
      out.results.push_back(std::move(r));
    }
  }

  // The kinds that need their own query, then results back in suite order.
  std::vector<ExpectationResult> ordered;
  size_t next_batched = 0;
  for (size_t i = 0; i < suite.expectations.size(); ++i) {
    const Expectation& e = suite.expectations[i];
    if (out.partition_found && batch.first[i] >= 0) {
      ordered.push_back(std::move(out.results[next_batched++]));
      continue;
    }
    ExpectationResult r = Start(e);
    if (e.kind == ExpectationKind::kFreshness) {
      r.observed = static_cast<double>(out.rows);
      r.threshold = "partition exists with >= 1 row";
      r.observed_text = out.partition_found ? Fmt(out.rows) + " rows" : "partition missing";
      r.outcome = out.rows > 0 ? Outcome::kPass : Outcome::kFail;
      if (!out.partition_found) r.details = "expected " + out.partition_file.string();
    } else if (!out.partition_found || out.rows == 0) {
      r.outcome = Outcome::kSkip;
      r.observed_text = out.partition_found ? "no rows" : "partition missing";
    } else if (e.kind == ExpectationKind::kRowCount) {
      r.observed = static_cast<double>(out.rows);
      r.observed_text = Fmt(out.rows) + " rows";
      r.threshold = "rows " + Bounds(e.min, e.max);
      const bool ok = (!e.min || r.observed >= *e.min) && (!e.max || r.observed <= *e.max);
      r.outcome = ok ? Outcome::kPass : Outcome::kFail;
    } else if (e.kind == ExpectationKind::kNullRate) {
      ASSIGN_OR_RETURN(r, CheckSegments(con, e, std::move(r)));
    } else if (e.kind == ExpectationKind::kUnique) {
      ASSIGN_OR_RETURN(r, CheckUnique(con, e, std::move(r)));
    } else if (e.kind == ExpectationKind::kDistribution) {
      const std::string ref = ReferenceSql(mart, layer, suite, e);
      if (ref.empty()) {
        r.outcome = Outcome::kFail;
        r.observed_text = "no reference data";
        r.details = "no partition of " + suite.layer + "/" + suite.table + " in " +
                    e.reference_from.ToString() + ".." + e.reference_to.ToString();
      } else {
        auto type = Describe(con, "SELECT " + ValueSql(e) + " AS v FROM " + kCurrentView);
        if (!type.ok()) return internal::ExpectationError(suite, e, type.status().message());
        ASSIGN_OR_RETURN(
            r, internal::CheckDistribution(con, suite, e, kCurrentView, ref, type->at(0).second));
      }
    }
    ordered.push_back(std::move(r));
  }
  out.results = std::move(ordered);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

int SuiteResult::Count(Outcome outcome) const {
  return static_cast<int>(std::count_if(results.begin(), results.end(),
                                        [&](const auto& r) { return r.outcome == outcome; }));
}

bool SuiteResult::failed() const {
  return std::any_of(results.begin(), results.end(),
                     [](const auto& r) { return r.error_failed(); });
}

std::string SuiteResult::FailureMessage() const {
  std::string out = layer + "/" + table + " " + month.ToString() + ": ";
  bool first = true;
  for (const auto& r : results) {
    if (!r.error_failed()) continue;
    out += std::string(first ? "" : "; ") + "expectation " + r.name + " failed: observed " +
           r.observed_text + ", threshold " + r.threshold;
    first = false;
  }
  return out;
}

}  // namespace riskpipe::quality
