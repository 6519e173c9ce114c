// Speed of the monitoring statistics (src/monitoring/month_stats.h): every stability and
// performance statistic of 24 monitored months x RISKPIPE_BENCH_ROWS predictions (default
// 1,000,000) x 40 features (35 numeric with 5% nulls, 5 text), months spread over two threads
// (issue 6: <= 3 s on 2 cores). Inputs are in memory (reading Parquet and writing the tables
// are DuckDB's part); the monthly mean |attribution| needs the model and is not included.
// Two distinct month datasets alternate, so months do not share one cached copy. Run:
//   build-bench/bench/monitor_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "monitoring/month_stats.h"
#include "monitoring/reference.h"

namespace {

using namespace riskpipe::monitoring;

constexpr int kMonths = 24;
constexpr int kFeatures = 40;
constexpr int kText = 5;

int64_t RowsWanted() {
  const char* env = std::getenv("RISKPIPE_BENCH_ROWS");
  return env != nullptr ? std::atoll(env) : 1'000'000;
}

struct MonthData {
  riskpipe::model::Frame frame;
  std::vector<double> pd;
  std::vector<uint8_t> approved, labels, known;
};

MonthData MakeMonth(size_t n, uint64_t seed, double shift) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  MonthData m;
  m.frame.rows = n;
  for (int f = 0; f < kFeatures; ++f) {
    riskpipe::model::FrameColumn c;
    c.name = "f" + std::to_string(f);
    if (f < kFeatures - kText) {
      c.numbers.resize(n);
      for (auto& v : c.numbers) v = u(rng) < 0.05 ? std::nan("") : z(rng) + shift * (f % 3);
    } else {
      c.text = true;
      c.dictionary = {"a", "b", "c", "d", "e", "f"};
      c.codes.resize(n);
      for (auto& v : c.codes) v = u(rng) < 0.02 ? -1 : static_cast<int32_t>(u(rng) * 6);
    }
    m.frame.columns.push_back(std::move(c));
  }
  m.pd.resize(n);
  m.approved.resize(n);
  m.labels.resize(n);
  m.known.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double x = m.frame.columns[0].numbers[i];
    const double s = -2.0 + 0.8 * (std::isnan(x) ? 0 : x) + 0.5 * z(rng) + shift;
    // Rounded to float, as XGBoost returns them (many ties).
    m.pd[i] = static_cast<float>(1 / (1 + std::exp(-s)));
    m.approved[i] = m.pd[i] < 0.3;
    m.labels[i] = u(rng) < m.pd[i];
    m.known[i] = 1;
  }
  return m;
}

struct Data {
  Reference ref;
  std::vector<MonthData> months;  // two, used alternately
};

const Data& Sample() {
  static const Data data = [] {
    const size_t n = static_cast<size_t>(RowsWanted());
    Data d;
    MonthData dev = MakeMonth(n, 1, 0.0);
    std::vector<std::string> names;
    std::vector<double> importance;
    for (int f = 0; f < kFeatures; ++f) {
      names.push_back("f" + std::to_string(f));
      importance.push_back(1.0 / (f + 1));
    }
    d.ref = BuildReference(dev.frame, names, dev.pd, &dev.labels, importance, 0.3);
    d.months.push_back(MakeMonth(n, 2, 0.05));
    d.months.push_back(MakeMonth(n, 3, 0.3));
    return d;
  }();
  return data;
}

void AllMonths(const Data& d, size_t& rows_out) {
  std::vector<size_t> rows(2, 0);
  auto work = [&](int t) {
    for (int month = t; month < kMonths; month += 2) {
      const MonthData& m = d.months[month % 2];
      MonthColumns cols;
      cols.pd = m.pd;
      cols.approved = m.approved;
      cols.frame = &m.frame;
      rows[t] += ComputeStability(d.ref, cols).size();
      rows[t] += ComputePerformance(m.pd, m.labels, m.known, 0.3, true).size();
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  rows_out = rows[0] + rows[1];
}

void BM_MonitorStatistics24Months(benchmark::State& state) {
  const Data& d = Sample();
  size_t rows = 0;
  for (auto _ : state) {
    AllMonths(d, rows);
    benchmark::DoNotOptimize(rows);
  }
  state.counters["months"] = kMonths;
  state.counters["predictions"] = static_cast<double>(d.months[0].pd.size());
  state.counters["features"] = kFeatures;
  state.counters["table_rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_MonitorStatistics24Months)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// One month on one thread, stability and performance apart, to see where the time goes.
void BM_StabilityOneMonth(benchmark::State& state) {
  const Data& d = Sample();
  const MonthData& m = d.months[1];
  MonthColumns cols;
  cols.pd = m.pd;
  cols.approved = m.approved;
  cols.frame = &m.frame;
  for (auto _ : state) benchmark::DoNotOptimize(ComputeStability(d.ref, cols));
}
BENCHMARK(BM_StabilityOneMonth)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PerformanceOneMonth(benchmark::State& state) {
  const Data& d = Sample();
  const MonthData& m = d.months[1];
  for (auto _ : state) {
    benchmark::DoNotOptimize(ComputePerformance(m.pd, m.labels, m.known, 0.3, true));
  }
}
BENCHMARK(BM_PerformanceOneMonth)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
