// Training speed (issue 4, Performance), on 1,000,000 synthetic rows x 40 features stored as a
// gold Parquet file (RISKPIPE_BENCH_TRAIN_ROWS overrides the row count):
//   BM_BareXgboostFit   XGBoost alone: DMatrix from the in-memory float matrix of the training
//                       rows + 200 rounds, depth 6, eta 0.1, hist, 2 threads.
//   BM_TrainStep        riskpipe's whole train step on the same rows and parameters: read the
//                       Parquet file through DuckDB, fit preprocessing, encode, the same fit,
//                       score and evaluate train/validation/test, calibrate, write the package.
//                       Target: within 1.3x of BM_BareXgboostFit.
//   BM_PackageLoad      registry verification (MANIFEST sha256) + ModelPackage::Load of the
//                       200-tree package. Target <= 50 ms.
// The train step's split is 90% train / 5% validation / 5% test; the bare fit trains on the
// same 90% rows. Run:
//   build-bench/bench/train_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "config/config.h"
#include "core/files.h"
#include "db/database.h"
#include "model/package.h"
#include "registry/registry.h"
#include "training/trainer.h"
#include "xgb/xgb.h"

namespace {

using namespace riskpipe;
namespace fs = std::filesystem;

constexpr int kFeatures = 40;

// CPU seconds of the whole process (every thread): comparable on a shared machine, where
// wall time is not.
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

size_t Rows() {
  const char* env = std::getenv("RISKPIPE_BENCH_TRAIN_ROWS");
  return env != nullptr ? static_cast<size_t>(std::atoll(env)) : 1000000;
}

fs::path Root() {
  const char* tmp = std::getenv("TMPDIR");
  return fs::path(tmp != nullptr ? tmp : "/tmp") / "riskpipe-train-bench";
}

// Writes the gold file once: 40 numeric features (5% missing in some) and a 0/1 label.
const fs::path& GoldFile() {
  static const fs::path file = [] {
    const fs::path f = Root() / "gold" / "training.parquet";
    if (fs::exists(f)) return f;
    fs::create_directories(f.parent_path());
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    std::string cols;
    for (int j = 0; j < kFeatures; ++j) {
      cols += ", CASE WHEN " + std::string(j % 7 == 0 ? "hash(i * 41 + " + std::to_string(j) + ") % 20 = 0" : "false") +
              " THEN NULL ELSE (hash(i * 40 + " + std::to_string(j) +
              ") % 100000) / 100000.0 END AS f" + std::to_string(j);
    }
    const std::string n = std::to_string(Rows());
    const std::string sql =
        "COPY (SELECT *, CASE WHEN (hash(i * 7 + 3) % 100000) / 100000.0 < "
        "1 / (1 + exp(-(-1.5 + 2 * coalesce(f1, 0.5) - 1.5 * f2 + sin(6 * f3) + f4 * f5 * 2))) "
        "THEN 1 ELSE 0 END AS label FROM (SELECT i" + cols + " FROM range(" + n + ") t(i))) TO '" +
        f.string() + "' (FORMAT parquet)";
    if (!con->Execute(sql).ok()) std::abort();
    return f;
  }();
  return file;
}

constexpr char kParams[] = "{rounds: 200, max_depth: 6, eta: 0.1}";

config::Project Project() {
  const std::string yaml = "project: bench\nworkspace: ws\nmodel:\n  name: bench\n"
                           "  dataset: {file: \"" + GoldFile().string() + "\", target: label, id: i}\n"
                           "  splits: {validation_fraction: 0.05, test_fraction: 0.05}\n"
                           "  threads: 2\n"
                           "  candidates:\n    - {family: xgboost, params: " + kParams + "}\n";
  auto p = config::ParseProject(yaml, Root() / "riskpipe.yaml");
  if (!p.ok()) std::abort();
  return *p;
}

void BM_BareXgboostFit(benchmark::State& state) {
  // The training rows as the trainer sees them, in memory before the clock starts.
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  auto table = con->QueryColumns("SELECT * EXCLUDE (i, label), label FROM read_parquet('" +
                                 GoldFile().string() + "')");
  if (!table.ok()) std::abort();
  const size_t n = table->rows * 9 / 10;
  std::vector<float> x(n * kFeatures);
  std::vector<float> y(n);
  for (size_t r = 0; r < n; ++r) {
    for (int j = 0; j < kFeatures; ++j) x[r * kFeatures + j] = static_cast<float>(table->columns[j].numbers[r]);
    y[r] = static_cast<float>(table->columns[kFeatures].numbers[r]);
  }
  const double cpu0 = ProcessCpuSeconds();
  for (auto _ : state) {
    auto m = xgb::DMatrix::FromDense(x, n, kFeatures, 2);
    if (!m.ok() || !m->SetLabels(y).ok()) std::abort();
    const xgb::DMatrix* cache[] = {&*m};
    auto b = xgb::Booster::Create(cache);
    for (auto [k, v] : {std::pair{"objective", "binary:logistic"}, {"tree_method", "hist"},
                        {"max_depth", "6"}, {"eta", "0.1"}, {"nthread", "2"}, {"seed", "42"}}) {
      if (!b->SetParam(k, v).ok()) std::abort();
    }
    for (int i = 0; i < 200; ++i) {
      if (!b->UpdateOneIter(i, *m).ok()) std::abort();
    }
    benchmark::DoNotOptimize(b->BoostedRounds());
  }
  state.counters["rows"] = static_cast<double>(n);
  state.counters["process_cpu_s"] = ProcessCpuSeconds() - cpu0;
}

void BM_TrainStep(benchmark::State& state) {
  const config::Project p = Project();
  const double cpu0 = ProcessCpuSeconds();
  for (auto _ : state) {
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    training::TrainOptions o;
    o.log = [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); };
    o.cutoff = Date::FromCivil(2026, 1, 1);
    o.checkpoint_root = Root() / "ws" / "checkpoints";
    const fs::path out = Root() / "package";
    fs::remove_all(out);
    fs::create_directories(out);
    auto outcome = training::Train(p, *con, o, out);
    if (!outcome.ok()) {
      state.SkipWithError(outcome.status().ToString().c_str());
      return;
    }
    state.counters["test_auc"] = outcome->leaderboard[0].oot.metrics.auc;
  }
  state.counters["process_cpu_s"] = ProcessCpuSeconds() - cpu0;
}

void BM_PackageLoad(benchmark::State& state) {
  const fs::path pkg = Root() / "package";
  if (!fs::exists(pkg / "model.ubj")) {
    state.SkipWithError("run BM_TrainStep first");
    return;
  }
  const fs::path ws = Root() / "registry-ws";
  fs::remove_all(ws);
  auto reg = registry::Registry::Open(ws);
  auto staging = reg->NewStagingDir("bench");
  for (const auto& e : fs::directory_iterator(pkg)) fs::copy(e.path(), *staging / e.path().filename());
  registry::RegisterInfo info;
  if (!reg->Register(*staging, "bench", info).ok()) std::abort();
  for (auto _ : state) {
    auto dir = reg->VerifiedPath("bench/1");
    auto loaded = model::ModelPackage::Load(*dir);
    if (!loaded.ok()) std::abort();
    benchmark::DoNotOptimize(loaded->policy().threshold);
  }
  state.counters["model_bytes"] = static_cast<double>(fs::file_size(pkg / "model.ubj"));
}

BENCHMARK(BM_BareXgboostFit)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_TrainStep)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_PackageLoad)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
