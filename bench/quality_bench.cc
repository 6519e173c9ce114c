// Data-quality gate speed: the shipped Kueski suite (examples/kueski/expectations/
// silver.loans.yaml: freshness, row count, uniqueness, two null rates, allowed values, a
// range and two distribution checks against a reference window) over a 1M-row month
// partition, with a 1M-row reference month. Target (issue 3): <= 1 s for all expectations
// of a suite over a 1M-row partition. Rows default to 1M; set RISKPIPE_BENCH_ROWS to change.
// DuckDB uses 2 threads, as on the CI machine. Run:
//   build-bench/bench/quality_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

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

void BM_KueskiSuite1MRows(benchmark::State& state) {
  const int64_t rows = RowsWanted();
  const fs::path root =
      fs::temp_directory_path() / ("riskpipe-quality-bench-" + std::to_string(::getpid()));
  const datamart::Datamart mart(root / "datamart");
  db::Options options;
  options.threads = 2;
  auto database = db::Database::Open(":memory:", options);
  auto con = database->Connect();
  const Month current = Month::Of(2020, 1), reference = Month::Of(2019, 6);
  for (const auto& [m, seed] : {std::pair{current, 1}, std::pair{reference, 2}}) {
    auto w = mart.WritePartition(*con, datamart::Layer::kSilver, "loans", m.first_day(),
                                 LoansSql(rows, m.first_day().ToString(), seed));
    if (!w.ok()) {
      state.SkipWithError(w.status().ToString().c_str());
      return;
    }
  }
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
  std::error_code ec;
  fs::remove_all(root, ec);
}
BENCHMARK(BM_KueskiSuite1MRows)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
