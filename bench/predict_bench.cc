// Batch scoring speed (issue 5, Performance): inference::PredictMonth on 1,000,000 applications
// of one month x 40 numeric features (RISKPIPE_BENCH_PREDICT_ROWS overrides the row count),
// with a 200-tree depth-6 XGBoost package trained once on 100,000 rows of the same shape and
// registered in a bench workspace:
//   BM_Predict/0   reason codes off: read the month (DuckDB), score, write gold/predictions.
//                  Target >= 500k rows/s on 2 cores.
//   BM_Predict/1   reason codes on (XGBoost's exact TreeSHAP per row), the rate stated; run it
//                  with RISKPIPE_BENCH_PREDICT_ROWS=20000 (about 1.5 ms a row at 200 trees).
// Phase seconds (read, score, reasons, write) are counters. Run:
//   build-bench/bench/predict_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "config/config.h"
#include "db/database.h"
#include "inference/inference.h"
#include "registry/registry.h"
#include "training/trainer.h"

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
    o.checkpoint_root = p.workspace / "checkpoints";
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

}  // namespace

BENCHMARK_MAIN();
