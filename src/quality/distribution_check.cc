// The distribution expectation: the current month against a reference window of the same
// table. Numeric values: PSI over equal-frequency bins cut at the reference's quantiles, and
// the exact two-sample KS statistic (computed in DuckDB over the distinct values, so ties are
// exact and no sample is copied out). Categorical values: chi-square test of homogeneity and
// PSI over the categories. Formulas: stats/distribution.h and docs/quality.md.

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "quality/internal.h"
#include "stats/distribution.h"

namespace riskpipe::quality::internal {
namespace {

using config::Expectation;

// More categories than this is not a categorical column but an identifier or free text.
constexpr size_t kMaxCategories = 1000;
// Up to this many distinct values, a numeric check copies the histogram over distinct
// values out of DuckDB and computes quantiles, bins and KS exactly in C++ (about 0.02 s for
// 1M rows); above it, the work stays in DuckDB (sorting costs about 0.5 s per 1M rows).
constexpr size_t kMaxDistinct = 100'000;
// Temporary table holding both samples of a numeric distribution check (v, src).
constexpr char kSampleTable[] = "riskpipe_quality_sample";

bool IsNumericType(const std::string& t) {
  for (const char* n : {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                        "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE"}) {
    if (t == n) return true;
  }
  return t.rfind("DECIMAL", 0) == 0;
}

// Both samples in one relation with a flag: src 0 = current, 1 = reference; nulls dropped.
std::string Union(const Expectation& e, const std::string& current, const std::string& reference,
                  const std::string& cast) {
  const std::string v = ValueSql(e);
  return "(SELECT CAST(" + v + " AS " + cast + ") AS v, 0 AS src FROM " + current + " WHERE " + v +
         " IS NOT NULL UNION ALL SELECT CAST(" + v + " AS " + cast + "), 1 FROM " + reference +
         " WHERE " + v + " IS NOT NULL)";
}

// Occurrences of each distinct value in the current (a) and reference (b) samples.
std::string HistogramSql(const std::string& both) {
  return "SELECT v, count(*) FILTER (WHERE src = 0)::DOUBLE AS a, count(*) FILTER (WHERE src = "
         "1)::DOUBLE AS b FROM " +
         both + " GROUP BY v";
}

struct Verdict {
  bool pass = true;
  std::string threshold, observed;
  void Check(bool ok, const std::string& what, const std::string& text) {
    pass = pass && ok;
    threshold += (threshold.empty() ? "" : " and ") + what;
    observed += (observed.empty() ? "" : ", ") + text;
  }
};

// Bin counts of both samples over edges cut at the reference's quantiles, and the KS
// statistic: what the numeric verdict needs.
struct NumericStats {
  std::vector<double> cur, ref;
  double ks_d = 0;
  int64_t n = 0, m = 0;
};

// From the histogram over distinct values, in C++: exact and cheap while the values are few.
NumericStats FromHistogram(const db::Table& hist, int bins) {
  std::vector<double> values, a, b;
  for (const auto& row : hist.rows) {
    values.push_back(AsDouble(row[0]));
    a.push_back(AsDouble(row[1]));
    b.push_back(AsDouble(row[2]));
  }
  const std::vector<double> edges = stats::QuantileEdgesFromCounts(values, b, bins);
  NumericStats out;
  out.cur.assign(edges.size() + 1, 0.0);
  out.ref.assign(edges.size() + 1, 0.0);
  for (size_t i = 0; i < values.size(); ++i) {
    const auto bin = static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), values[i]) -
                                         edges.begin());
    out.cur[bin] += a[i];
    out.ref[bin] += b[i];
  }
  const stats::KsResult ks = stats::KsFromCounts(a, b);
  out.ks_d = ks.statistic;
  out.n = ks.n;
  out.m = ks.m;
  return out;
}

// The same in DuckDB, for values with too many distinct levels to copy out.
StatusOr<NumericStats> InDuckDb(db::Connection& con, const std::string& both, int bins) {
  // One quantile_cont over the list of fractions sorts once (separate calls sort each time:
  // measured 1.07 s against 0.19 s on 1M rows).
  std::string q;
  for (int i = 1; i < bins; ++i)
    q += (q.empty() ? "" : ", ") + Fmt(static_cast<double>(i) / bins, 17);
  ASSIGN_OR_RETURN(db::Table qt, con.Query("SELECT unnest(quantile_cont(v, [" + q + "])) FROM " +
                                           both + " WHERE src = 1"));
  std::vector<double> edges;
  for (const auto& row : qt.rows) {
    const double x = AsDouble(row.at(0));
    if (!std::isnan(x) && (edges.empty() || x > edges.back())) edges.push_back(x);
  }
  std::string counts;
  for (size_t i = 0; i <= edges.size(); ++i) {
    std::string cond = "true";
    if (i > 0) cond = "v > " + Fmt(edges[i - 1], 17);
    if (i < edges.size()) cond += " AND v <= " + Fmt(edges[i], 17);
    counts += ", count(*) FILTER (WHERE " + cond + ")";
  }
  ASSIGN_OR_RETURN(db::Table ct,
                   con.Query("SELECT src" + counts + " FROM " + both + " GROUP BY src"));
  NumericStats out;
  out.cur.assign(edges.size() + 1, 0.0);
  out.ref.assign(edges.size() + 1, 0.0);
  for (const auto& row : ct.rows) {
    auto& target = AsDouble(row[0]) == 0 ? out.cur : out.ref;
    for (size_t i = 0; i < target.size(); ++i) target[i] = AsDouble(row[i + 1]);
  }
  // Exact KS: ECDFs of both samples evaluated at every distinct value.
  ASSIGN_OR_RETURN(db::Table kt,
                   con.Query("SELECT max(abs(ca / na - cb / nb)), max(na)::BIGINT, "
                             "max(nb)::BIGINT FROM (SELECT sum(a) OVER (ORDER BY v) AS ca, "
                             "sum(b) OVER (ORDER BY v) AS cb, sum(a) OVER () AS na, "
                             "sum(b) OVER () AS nb FROM (" +
                             HistogramSql(both) + "))"));
  out.ks_d = AsDouble(kt.rows.at(0)[0]);
  out.n = static_cast<int64_t>(AsDouble(kt.rows.at(0)[1]));
  out.m = static_cast<int64_t>(AsDouble(kt.rows.at(0)[2]));
  return out;
}

StatusOr<ExpectationResult> Numeric(db::Connection& con, const Expectation& e,
                                    const std::string& current, const std::string& reference,
                                    ExpectationResult r) {
  const std::string both = Union(e, current, reference, "DOUBLE");
  ASSIGN_OR_RETURN(db::Table hist, con.Query(HistogramSql(both) + " ORDER BY v LIMIT " +
                                             std::to_string(kMaxDistinct + 1)));
  NumericStats st;
  if (hist.rows.size() <= kMaxDistinct) {
    st = FromHistogram(hist, e.bins);
  } else {
    // Both samples are read from Parquet once into a two-column temporary table; the
    // quantile, bin and KS queries then scan memory instead of decoding the files again.
    RETURN_IF_ERROR(con.Execute("CREATE OR REPLACE TEMP TABLE " + std::string(kSampleTable) +
                                " AS SELECT * FROM " + both));
    auto computed = InDuckDb(con, kSampleTable, e.bins);
    (void)con.Execute("DROP TABLE IF EXISTS " + std::string(kSampleTable));
    if (!computed.ok()) return computed.status();
    st = std::move(computed).value();
  }
  const double psi = stats::Psi(st.ref, st.cur);
  const double js = stats::JensenShannon(st.ref, st.cur);
  Verdict verdict;
  if (e.psi_max) {
    verdict.Check(psi <= *e.psi_max, "PSI <= " + Fmt(*e.psi_max), "PSI " + Fmt(psi));
    r.observed = psi;
  }
  r.details = std::to_string(st.cur.size()) + " bins; JS divergence " + Fmt(js) + " bits";
  if (e.ks_pvalue_min) {
    const double p = stats::KsPValue(st.ks_d, st.n, st.m);
    verdict.Check(p >= *e.ks_pvalue_min, "KS p >= " + Fmt(*e.ks_pvalue_min),
                  "KS p " + Fmt(p, 3) + " (D " + Fmt(st.ks_d) + ")");
    if (!e.psi_max) r.observed = p;
    r.details += "; KS D " + Fmt(st.ks_d) + " over " + std::to_string(st.n) + " vs " +
                 std::to_string(st.m) + " values";
  }
  r.threshold = verdict.threshold;
  r.observed_text = verdict.observed;
  r.outcome = verdict.pass ? Outcome::kPass : Outcome::kFail;
  return r;
}

StatusOr<ExpectationResult> Categorical(db::Connection& con, const Expectation& e,
                                        const std::string& current, const std::string& reference,
                                        ExpectationResult r) {
  const std::string sql =
      "SELECT v, count(*) FILTER (WHERE src = 0), count(*) FILTER (WHERE "
      "src = 1) FROM " +
      Union(e, current, reference, "VARCHAR") + " GROUP BY v ORDER BY v";
  ASSIGN_OR_RETURN(db::Table t, con.Query(sql));
  if (t.rows.size() > kMaxCategories) {
    return InvalidArgumentError(std::to_string(t.rows.size()) +
                                " distinct values are too many for a categorical distribution "
                                "(at most " +
                                std::to_string(kMaxCategories) + ")");
  }
  std::vector<double> cur, ref;
  for (const auto& row : t.rows) {
    cur.push_back(AsDouble(row[1]));
    ref.push_back(AsDouble(row[2]));
  }
  const stats::ChiSquareResult chi = stats::ChiSquareHomogeneity(ref, cur);
  const double psi = stats::Psi(ref, cur);
  const double js = stats::JensenShannon(ref, cur);
  Verdict verdict;
  if (e.psi_max) {
    verdict.Check(psi <= *e.psi_max, "PSI <= " + Fmt(*e.psi_max), "PSI " + Fmt(psi));
    r.observed = psi;
  }
  if (e.chi2_pvalue_min) {
    verdict.Check(chi.p_value >= *e.chi2_pvalue_min, "chi2 p >= " + Fmt(*e.chi2_pvalue_min),
                  "chi2 p " + Fmt(chi.p_value, 3));
    if (!e.psi_max) r.observed = chi.p_value;
  }
  r.details = std::to_string(t.rows.size()) + " categories; chi2 " + Fmt(chi.statistic) + " on " +
              Fmt(chi.df) + " df; JS divergence " + Fmt(js) + " bits";
  r.threshold = verdict.threshold;
  r.observed_text = verdict.observed;
  r.outcome = verdict.pass ? Outcome::kPass : Outcome::kFail;
  return r;
}

}  // namespace

std::string Fmt(double v, int digits) {
  if (std::isnan(v)) return "NaN";
  if (std::fabs(v) < 1e15 && v == std::floor(v)) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return buf;
}

std::string ValueSql(const Expectation& e) {
  return e.expression.empty() ? db::QuoteIdent(e.column) : "(" + e.expression + ")";
}

double AsDouble(const db::Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  return std::nan("");
}

Status ExpectationError(const config::ExpectationSuite& suite, const Expectation& e,
                        const std::string& problem) {
  return InvalidArgumentError(suite.file.string() + ":" + std::to_string(e.line) +
                              ": expectation " + e.name + ": " + problem);
}

StatusOr<ExpectationResult> CheckDistribution(db::Connection& con,
                                              const config::ExpectationSuite& suite,
                                              const Expectation& e, const std::string& current_sql,
                                              const std::string& reference_sql,
                                              const std::string& value_type) {
  ExpectationResult r;
  r.name = e.name;
  r.kind = "distribution";
  r.column = e.column;
  r.severity = std::string(config::SeverityName(e.severity));
  r.rationale = e.rationale;
  const bool numeric = IsNumericType(value_type) && !e.chi2_pvalue_min;
  if (!numeric && e.ks_pvalue_min) {
    return ExpectationError(suite, e,
                            "the KS test needs a numeric value, but it is " + value_type +
                                " (use chi2_pvalue_min, or an expression that yields a number)");
  }
  auto result = numeric ? Numeric(con, e, current_sql, reference_sql, std::move(r))
                        : Categorical(con, e, current_sql, reference_sql, std::move(r));
  if (!result.ok()) return ExpectationError(suite, e, result.status().message());
  return result;
}

}  // namespace riskpipe::quality::internal
