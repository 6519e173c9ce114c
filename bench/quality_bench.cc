// Data-quality gate speed, over a 1M-row month partition with a 1M-row reference month:
//   BM_KueskiSuite1MRows  the shipped Kueski suite (examples/kueski/expectations/
//                         silver.loans.yaml: freshness, row count, uniqueness, two null rates,
//                         allowed values, a range and two distribution checks against a
//                         reference window) through quality::EvaluateSuite. Target (issue 3):
//                         <= 1 s for all expectations of a suite over a 1M-row partition.
//   BM_KueskiSuite1MRows_DuckDbBaseline
//                         DuckDB alone computing the same statistics: one query over the month
//                         for the row count, latest date, duplicate keys, null counts, values
//                         outside the allowed set and the range (with min/max), plus the
//                         per-value histograms of the current and reference months that the
//                         two distribution checks start from; no verdicts, PSI, KS or results.
// Rows default to 1M; set RISKPIPE_BENCH_ROWS to change.
// DuckDB uses 2 threads, as on the CI machine. Run:
//   build-bench/bench/quality_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "config/expectations.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "quality/quality.h"

namespace {

using namespace riskpipe;
namespace fs = std::filesystem;

int64_t RowsWanted() {
  const char* env = std::getenv("RISKPIPE_BENCH_ROWS");
  return env != nullptr ? std::atoll(env) : 1'000'000;
}

// Kueski-shaped loans: ~50k users with ~20 loans each, Kaggle-like incomes in steps of
// 2,250, 31% missing occupations, birthdays 20..69 years before the loan.
std::string LoansSql(int64_t rows, const std::string& month_start, uint64_t seed) {
  const std::string n = std::to_string(rows);
  return "SELECT i // 20 + 5008804 AS id, i % 20 + 1000 AS loan_id, "
         "CASE WHEN hash(i // 20, " +
         std::to_string(seed) +
         ") % 3 = 0 THEN 'M' ELSE 'F' END "
         "AS code_gender, (12 + hash(i // 20) % 300) * 2250.0 AS amt_income_total, "
         "CASE WHEN hash(i // 20, 7) % 100 < 31 THEN NULL ELSE 'Laborers' END "
         "AS occupation_type, DATE '" +
         month_start +
         "' - INTERVAL (7489 + hash(i // 20, 3) "
         "% 17663) DAY AS birthday, DATE '" +
         month_start +
         "' + INTERVAL (i % 28) DAY AS "
         "loan_date FROM range(" +
         n + ") t(i)";
}

const Month kCurrent = Month::Of(2020, 1);
const Month kReference = Month::Of(2019, 6);

// The current and reference months written to a datamart under $TMPDIR (removed with the
// fixture), and a 2-thread DuckDB connection.
struct Fixture {
  Fixture()
      : root(fs::temp_directory_path() / ("riskpipe-quality-bench-" + std::to_string(::getpid()))),
        mart(root / "datamart") {
    db::Options options;
    options.threads = 2;
    auto d = db::Database::Open(":memory:", options);
    if (!d.ok()) {
      status = d.status();
      return;
    }
    database.emplace(std::move(*d));
    auto c = database->Connect();
    if (!c.ok()) {
      status = c.status();
      return;
    }
    con.emplace(std::move(*c));
    for (const auto& [m, seed] : {std::pair{kCurrent, 1}, std::pair{kReference, 2}}) {
      auto w = mart.WritePartition(*con, datamart::Layer::kSilver, "loans", m.first_day(),
                                   LoansSql(RowsWanted(), m.first_day().ToString(), seed));
      if (!w.ok()) {
        status = w.status();
        return;
      }
    }
  }
  ~Fixture() {
    con.reset();
    database.reset();
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  std::string Read(Month m) const {
    return "read_parquet(" +
           db::QuoteLiteral(
               mart.PartitionFile(datamart::Layer::kSilver, "loans", m.first_day()).string()) +
           ")";
  }
  fs::path root;
  datamart::Datamart mart;
  std::optional<db::Database> database;
  std::optional<db::Connection> con;
  Status status;
};

void BM_KueskiSuite1MRows(benchmark::State& state) {
  const int64_t rows = RowsWanted();
  Fixture f;
  if (!f.status.ok()) return state.SkipWithError(f.status.ToString().c_str());
  const datamart::Datamart& mart = f.mart;
  db::Connection* con = &*f.con;
  const Month current = kCurrent;
  auto suite = config::LoadExpectationSuite(fs::path(__FILE__).parent_path().parent_path() /
                                            "examples/kueski/expectations/silver.loans.yaml");
  if (!suite.ok()) {
    state.SkipWithError(suite.status().ToString().c_str());
    return;
  }
  int failed = 0;
  for (auto _ : state) {
    auto r = quality::EvaluateSuite(*con, mart, *suite, current);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    failed = r->Count(quality::Outcome::kFail);
    benchmark::DoNotOptimize(r->results.data());
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["expectations"] = static_cast<double>(suite->expectations.size());
  state.counters["failed"] = failed;
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_KueskiSuite1MRows)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

// Both months' values of `value_sql` (nulls dropped) counted per distinct value: the input of
// the suite's PSI and KS.
std::string HistogramSql(const Fixture& f, const std::string& value_sql) {
  const std::string v = "CAST(" + value_sql + " AS DOUBLE)";
  return "SELECT v, count(*) FILTER (WHERE src = 0) AS a, count(*) FILTER (WHERE src = 1) AS b "
         "FROM (SELECT " +
         v + " AS v, 0 AS src FROM " + f.Read(kCurrent) + " WHERE " + v +
         " IS NOT NULL UNION ALL SELECT " + v + ", 1 FROM " + f.Read(kReference) + " WHERE " + v +
         " IS NOT NULL) GROUP BY v";
}

void BM_KueskiSuite1MRows_DuckDbBaseline(benchmark::State& state) {
  const int64_t rows = RowsWanted();
  Fixture f;
  if (!f.status.ok()) return state.SkipWithError(f.status.ToString().c_str());
  // The suite's thresholds (silver.loans.yaml), as plain SQL.
  const std::string aggregates =
      "SELECT count(*), max(loan_date)::DATE, count(*) - count(DISTINCT (id, loan_id)), "
      "count(*) FILTER (WHERE occupation_type IS NULL), "
      "count(*) FILTER (WHERE amt_income_total IS NULL), "
      "count(*) FILTER (WHERE code_gender IS NOT NULL AND code_gender NOT IN ('M', 'F')), "
      "count(*) FILTER (WHERE amt_income_total NOT BETWEEN 20000 AND 2000000), "
      "min(amt_income_total)::DOUBLE, max(amt_income_total)::DOUBLE FROM " +
      f.Read(kCurrent);
  const std::string queries[] = {aggregates, HistogramSql(f, "amt_income_total"),
                                 HistogramSql(f, "date_diff('day', birthday, loan_date) / 365.25")};
  size_t histogram_values = 0;
  for (auto _ : state) {
    histogram_values = 0;
    for (const std::string& sql : queries) {
      auto t = f.con->QueryColumns(sql);
      if (!t.ok()) return state.SkipWithError(t.status().ToString().c_str());
      if (&sql != &queries[0]) histogram_values += t->rows;
      benchmark::DoNotOptimize(t->columns.data());
    }
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["histogram_values"] = static_cast<double>(histogram_values);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_KueskiSuite1MRows_DuckDbBaseline)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
