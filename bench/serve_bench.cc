// Reason codes for serving (issue 7: POST /v1/predict with reason codes >= 5k req/s): per-row
// cost of exact TreeSHAP through XGBoost's own contributions call versus the flattened-tree
// TreeSHAP of src/serving/tree_shap.h, and of one-row margins both ways. The model is trained
// here on planted data: 200 trees of depth 6 over 20 features (dependency-notes.md's "about
// 1 ms per row" case) and the Kueski-sized 300 trees of depth 3 over 5 features. Run:
//   build-bench/bench/serve_bench

#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "serving/tree_shap.h"
#include "xgb/xgb.h"

namespace {

using namespace riskpipe;

struct Fixture {
  size_t cols = 0;
  std::vector<float> x;  // test rows
  std::unique_ptr<xgb::Booster> booster;
  std::unique_ptr<serving::TreeExplainer> explainer;
};

Fixture& Get(int depth, int rounds, size_t cols) {
  static std::map<std::tuple<int, int, size_t>, Fixture> cache;
  Fixture& f = cache[{depth, rounds, cols}];
  if (f.booster) return f;
  const size_t rows = 20000;
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * cols), y(rows);
  for (size_t i = 0; i < rows; ++i) {
    float z = 0;
    for (size_t j = 0; j < cols; ++j) z += (j % 2 ? 0.3f : -0.2f) * (x[i * cols + j] = normal(rng));
    y[i] = z + normal(rng) > 0 ? 1.0f : 0.0f;
  }
  auto m = xgb::DMatrix::FromDense(x, rows, cols);
  (void)m->SetLabels(y);
  const xgb::DMatrix* cache_list[] = {&*m};
  auto b = xgb::Booster::Create(cache_list);
  (void)b->SetParam("objective", "binary:logistic");
  (void)b->SetParam("tree_method", "hist");
  (void)b->SetParam("max_depth", std::to_string(depth));
  (void)b->SetParam("nthread", "1");
  for (int i = 0; i < rounds; ++i) (void)b->UpdateOneIter(i, *m);
  f.cols = cols;
  f.x.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(1000 * cols));
  f.booster = std::make_unique<xgb::Booster>(std::move(*b));
  auto explainer = serving::TreeExplainer::FromXgboostJson(*f.booster->SaveModel("json"), cols);
  f.explainer = std::move(*explainer);
  return f;
}

void Args(benchmark::internal::Benchmark* b) { b->Args({6, 200, 20})->Args({3, 300, 5}); }

void BM_XgboostContributions(benchmark::State& state) {
  Fixture& f = Get(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                   static_cast<size_t>(state.range(2)));
  size_t i = 0;
  for (auto _ : state) {
    auto c =
        f.booster->Contributions(std::span(f.x).subspan((i++ % 1000) * f.cols, f.cols), 1, f.cols);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_XgboostContributions)->Apply(Args)->Unit(benchmark::kMicrosecond);

void BM_FlatTreeShap(benchmark::State& state) {
  Fixture& f = Get(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                   static_cast<size_t>(state.range(2)));
  std::vector<double> phi(f.cols);
  size_t i = 0;
  for (auto _ : state) {
    std::fill(phi.begin(), phi.end(), 0.0);
    f.explainer->Contributions(std::span(f.x).subspan((i++ % 1000) * f.cols, f.cols), phi);
    benchmark::DoNotOptimize(phi.data());
  }
}
BENCHMARK(BM_FlatTreeShap)->Apply(Args)->Unit(benchmark::kMicrosecond);

void BM_XgboostMarginOneRow(benchmark::State& state) {
  Fixture& f = Get(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                   static_cast<size_t>(state.range(2)));
  size_t i = 0;
  for (auto _ : state) {
    auto m =
        f.booster->PredictMargin(std::span(f.x).subspan((i++ % 1000) * f.cols, f.cols), 1, f.cols);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_XgboostMarginOneRow)->Apply(Args)->Unit(benchmark::kMicrosecond);

void BM_FlatMarginOneRow(benchmark::State& state) {
  Fixture& f = Get(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                   static_cast<size_t>(state.range(2)));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        f.explainer->Margin(std::span(f.x).subspan((i++ % 1000) * f.cols, f.cols)));
  }
}
BENCHMARK(BM_FlatMarginOneRow)->Apply(Args)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
