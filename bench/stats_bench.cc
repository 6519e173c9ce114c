// Speed of the credit-scoring metrics and calibrators (src/stats/metrics.h, calibration.h) on
// RISKPIPE_BENCH_ROWS rows (default 1,000,000): PDs of a model with AUC about 0.75 on a 10%
// default rate, as doubles (all distinct) or rounded to float as XGBoost returns them (many
// ties). BM_StdSort is the reference: std::sort of the same doubles, the cost every metric
// would pay with a comparison sort. Run:
//   build-bench/bench/stats_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <random>
#include <vector>

#include "stats/calibration.h"
#include "stats/metrics.h"

namespace {

using namespace riskpipe::stats;

int64_t RowsWanted() {
  const char* env = std::getenv("RISKPIPE_BENCH_ROWS");
  return env != nullptr ? std::atoll(env) : 1'000'000;
}

struct Data {
  std::vector<double> probs;       // distinct doubles
  std::vector<double> probs_f32;   // the same rounded to float
  std::vector<double> logits;      // raw margins, for Platt
  std::vector<double> challenger;  // a second, correlated model
  std::vector<uint8_t> labels;
};

const Data& Sample() {
  static const Data data = [] {
    const size_t n = static_cast<size_t>(RowsWanted());
    std::mt19937_64 rng(12345);
    const auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
    const auto normal = [&] {
      const double u = 1.0 - uniform(), v = uniform();
      return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v);
    };
    Data d;
    d.probs.resize(n);
    d.probs_f32.resize(n);
    d.logits.resize(n);
    d.challenger.resize(n);
    d.labels.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const double risk = -2.6 + 1.2 * normal();  // latent log-odds: ~10% defaults
      d.labels[i] = uniform() < 1 / (1 + std::exp(-risk)) ? 1 : 0;
      d.logits[i] = risk + 0.5 * normal();  // the model sees the risk with noise
      d.probs[i] = 1 / (1 + std::exp(-d.logits[i]));
      d.probs_f32[i] = static_cast<float>(d.probs[i]);
      d.challenger[i] = d.logits[i] + 0.7 * normal();
    }
    return d;
  }();
  return data;
}

void SetRows(benchmark::State& state) {
  state.counters["rows"] = static_cast<double>(Sample().labels.size());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(Sample().labels.size()));
}

void BM_StdSort(benchmark::State& state) {
  const Data& d = Sample();
  std::vector<double> copy;
  for (auto _ : state) {
    copy = d.probs;
    std::sort(copy.begin(), copy.end());
    benchmark::DoNotOptimize(copy.data());
  }
  SetRows(state);
}

void BM_Auc(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) benchmark::DoNotOptimize(Auc(d.probs, d.labels));
  state.counters["auc"] = Auc(d.probs, d.labels);
  SetRows(state);
}

void BM_AucFloatTies(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) benchmark::DoNotOptimize(Auc(d.probs_f32, d.labels));
  SetRows(state);
}

void BM_KsStatistic(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) benchmark::DoNotOptimize(KsStatistic(d.probs, d.labels));
  state.counters["ks"] = KsStatistic(d.probs, d.labels);
  SetRows(state);
}

void BM_Evaluate(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) benchmark::DoNotOptimize(Evaluate(d.probs, d.labels));
  SetRows(state);
}

void BM_AucConfidence(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) benchmark::DoNotOptimize(AucConfidence(d.probs, d.labels));
  state.counters["se"] = AucConfidence(d.probs, d.labels).se;
  SetRows(state);
}

void BM_AucDifference(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) {
    benchmark::DoNotOptimize(AucDifference(d.probs, d.challenger, d.labels));
  }
  SetRows(state);
}

void BM_CalibrationTable(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) benchmark::DoNotOptimize(CalibrationTable(d.probs, d.labels));
  SetRows(state);
}

void BM_ThresholdForApprovalRate(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) benchmark::DoNotOptimize(ThresholdForApprovalRate(d.probs, 0.8));
  SetRows(state);
}

void BM_FitIsotonic(benchmark::State& state) {
  const Data& d = Sample();
  size_t blocks = 0;
  for (auto _ : state) {
    auto fit = FitIsotonic(d.probs, d.labels);
    if (!fit.ok()) {
      state.SkipWithError(fit.status().ToString().c_str());
      return;
    }
    blocks = fit->x.size();
  }
  state.counters["blocks"] = static_cast<double>(blocks);
  SetRows(state);
}

void BM_FitPlatt(benchmark::State& state) {
  const Data& d = Sample();
  for (auto _ : state) {
    auto fit = FitPlatt(d.logits, d.labels);
    if (!fit.ok()) {
      state.SkipWithError(fit.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(fit->a);
  }
  SetRows(state);
}

}  // namespace

BENCHMARK(BM_StdSort)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Auc)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AucFloatTies)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KsStatistic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Evaluate)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AucConfidence)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AucDifference)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationTable)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ThresholdForApprovalRate)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FitIsotonic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FitPlatt)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
