// Batch scoring speed (issue 5, Performance): inference::PredictMonth on 1,000,000 applications
// of one month x 40 numeric features (RISKPIPE_BENCH_PREDICT_ROWS overrides the row count),
// with a 200-tree depth-6 XGBoost package trained once on 100,000 rows of the same shape and
// registered in a bench workspace:
//   BM_Predict/0   reason codes off: read the month (DuckDB), score, write gold/predictions.
//                  Target >= 500k rows/s on 2 cores.
//   BM_Predict/1   reason codes on (XGBoost's exact TreeSHAP per row), the rate stated; run it
//                  with RISKPIPE_BENCH_PREDICT_ROWS=20000 (about 1.5 ms a row at 200 trees).
//   BM_Predict_XgboostBaseline/0
//                  XGBoost alone scoring the same rows with the same model: the month's 40
//                  features already in memory as a dense float matrix (read before the clock
//                  starts), XGBoosterPredictFromDense on 2 threads after a one-row warm-up.
//                  No read, preprocessing, calibration or write.
// Phase seconds (read, score, reasons, write) are counters. Run:
//   build-bench/bench/predict_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <vector>

#include "config/config.h"
#include "core/files.h"
#include "db/database.h"
#include "inference/inference.h"
#include "registry/registry.h"
#include "training/trainer.h"
#include "xgb/xgb.h"

namespace {

using namespace riskpipe;
namespace fs = std::filesystem;

constexpr int kFeatures = 40;

size_t Rows() {
  const char* env = std::getenv("RISKPIPE_BENCH_PREDICT_ROWS");
  return env != nullptr ? static_cast<size_t>(std::atoll(env)) : 1000000;
}

fs::path Root() {
  const char* tmp = std::getenv("TMPDIR");
  return fs::path(tmp != nullptr ? tmp : "/tmp") / "riskpipe-predict-bench";
}

// A Parquet file of `rows` applications dated in 2024-01 (ids, date, 40 features, label).
fs::path DataFile(const std::string& name, size_t rows) {
  const fs::path f = Root() / (name + ".parquet");
  if (fs::exists(f)) return f;
  fs::create_directories(f.parent_path());
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  std::string cols;
  for (int j = 0; j < kFeatures; ++j) {
    cols +=
        ", (hash(i * 40 + " + std::to_string(j) + ") % 100000) / 100000.0 AS f" + std::to_string(j);
  }
  const std::string sql =
      "COPY (SELECT *, CASE WHEN (hash(i * 7 + 3) % 100000) / 100000.0 < "
      "1 / (1 + exp(-(-1.5 + 2 * f1 - 1.5 * f2 + sin(6 * f3) + f4 * f5 * 2))) THEN 1 ELSE 0 END "
      "AS label FROM (SELECT i, 'A' || i AS app_id, DATE '2024-01-01' + CAST(i % 28 AS INTEGER) AS "
      "app_date" +
      cols + " FROM range(" + std::to_string(rows) + ") t(i))) TO '" + f.string() +
      "' (FORMAT parquet)";
  if (Status st = con->Execute(sql); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    std::abort();
  }
  return f;
}

config::Project ProjectOn(const fs::path& file) {
  const std::string yaml =
      "project: bench\nworkspace: ws\nmodel:\n  name: bench\n"
      "  dataset: {file: \"" +
      file.string() +
      "\", target: label, id: app_id, date: app_date}\n"
      "  splits: {validation_fraction: 0.1, test_fraction: 0.1}\n"
      "  threads: 2\n"
      "  exclude: [app_date, i]\n"
      "  candidates:\n    - {family: xgboost, params: {rounds: 200, max_depth: 6, eta: 0.1}}\n";
  auto p = config::ParseProject(yaml, Root() / "riskpipe.yaml");
  if (!p.ok()) {
    std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
    std::abort();
  }
  return *p;
}

// Trains and registers the package once; returns its id.
const std::string& ModelId() {
  static const std::string id = [] {
    const config::Project p = ProjectOn(DataFile("train", 100000));
    auto reg = registry::Registry::Open(p.workspace);
    if (!reg.ok()) {
      std::fprintf(stderr, "%s\n", reg.status().ToString().c_str());
      std::abort();
    }
    if (auto existing = reg->Get("bench/latest"); existing.ok()) return existing->id;
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    training::TrainOptions o;
    o.cutoff = Date::FromCivil(2026, 1, 1);
    o.checkpoint_root = p.workspace.checkpoints();
    auto staging = reg->NewStagingDir("bench");
    auto outcome = training::Train(p, *con, o, *staging);
    if (!outcome.ok()) {
      std::fprintf(stderr, "%s\n", outcome.status().ToString().c_str());
      std::abort();
    }
    auto record = reg->Register(*staging, "bench", registry::RegisterInfo());
    if (!record.ok()) {
      std::fprintf(stderr, "%s\n", record.status().ToString().c_str());
      std::abort();
    }
    return record->id;
  }();
  return id;
}

void BM_Predict(benchmark::State& state) {
  const std::string model = ModelId();
  const config::Project p = ProjectOn(DataFile("month_" + std::to_string(Rows()), Rows()));
  auto reg = registry::Registry::Open(p.workspace);
  inference::PredictSummary last;
  for (auto _ : state) {
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    inference::PredictOptions o;
    o.month = Month::Of(2024, 1);
    o.model_ref = model;
    o.reasons = state.range(0) != 0;
    auto s = inference::PredictMonth(p, *con, *reg, o);
    if (!s.ok()) {
      state.SkipWithError(s.status().ToString().c_str());
      return;
    }
    last = *s;
  }
  state.counters["rows"] = static_cast<double>(last.rows);
  state.counters["rows_per_s"] = last.rows / last.seconds;
  state.counters["read_s"] = last.read_seconds;
  state.counters["score_s"] = last.score_seconds;
  state.counters["reasons_s"] = last.reason_seconds;
  state.counters["write_s"] = last.write_seconds;
}
BENCHMARK(BM_Predict)->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Argument 0 (reason codes off) only: the comparison for BM_Predict/0.
void BM_Predict_XgboostBaseline(benchmark::State& state) {
  const std::string model = ModelId();
  const fs::path month = DataFile("month_" + std::to_string(Rows()), Rows());
  const config::Project p = ProjectOn(month);
  auto reg = registry::Registry::Open(p.workspace);
  if (!reg.ok()) return state.SkipWithError(reg.status().ToString().c_str());
  auto dir = reg->VerifiedPath(model);
  if (!dir.ok()) return state.SkipWithError(dir.status().ToString().c_str());
  auto bytes = ReadFile(*dir / "model.ubj");
  if (!bytes.ok()) return state.SkipWithError(bytes.status().ToString().c_str());
  auto booster = xgb::Booster::Load(*bytes);
  if (!booster.ok()) return state.SkipWithError(booster.status().ToString().c_str());
  if (Status s = booster->SetParam("nthread", "2"); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  auto features = booster->NumFeatures();
  if (!features.ok() || *features != kFeatures) {
    return state.SkipWithError("the bench model does not take the 40 raw features");
  }
  // The month's features, row-major, before the clock starts.
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  std::string cols;
  for (int j = 0; j < kFeatures; ++j) cols += (j ? ", f" : "f") + std::to_string(j);
  auto table = con->QueryColumns("SELECT " + cols + " FROM read_parquet(" +
                                 db::QuoteLiteral(month.string()) + ")");
  if (!table.ok()) return state.SkipWithError(table.status().ToString().c_str());
  const size_t n = table->rows;
  std::vector<float> x(n * kFeatures);
  for (size_t r = 0; r < n; ++r) {
    for (int j = 0; j < kFeatures; ++j) {
      x[r * kFeatures + j] = static_cast<float>(table->columns[j].numbers[r]);
    }
  }
  // One row first, so the clock sees steady-state prediction (the booster configures itself
  // on its first call).
  if (auto warm = booster->PredictMargin(std::span(x).first(kFeatures), 1, kFeatures); !warm.ok()) {
    return state.SkipWithError(warm.status().ToString().c_str());
  }
  for (auto _ : state) {
    auto margins = booster->PredictMargin(x, n, kFeatures);
    if (!margins.ok()) return state.SkipWithError(margins.status().ToString().c_str());
    benchmark::DoNotOptimize(margins->data());
  }
  state.counters["rows"] = static_cast<double>(n);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Predict_XgboostBaseline)
    ->Arg(0)
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
