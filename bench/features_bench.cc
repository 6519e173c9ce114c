// Feature-store speed (issue 3, Performance), on synthetic data ingested into silver:
//   BM_MaterializeOnline    every customer's latest features into the online snapshot, on the
//                           lending-datamart scenario with RISKPIPE_BENCH_CUSTOMERS customers
//                           (default 1,000,000: 1M entities x 46 features). Target <= 3 s.
//                           /0 writes features.bin (the default format), /1 features.csv.
//   BM_LoadOnlineSnapshot   the server's DuckDB-free load of that snapshot (issue 7 startup);
//                           /0 from features.bin, /1 from features.csv.
//   BM_KueskiFeatureStore   the five Kueski features for every loan, BuildFeatureStore end to
//                           end from silver, RISKPIPE_BENCH_KUESKI_USERS users (default 40,000:
//                           about 850k loans). Target <= 0.5 s.
//   BM_KueskiMaterialize    the Kueski online snapshot of the same users.
//   BM_TrainingSet          ExportTrainingSet of every lending application (1M (entity, date)
//                           rows x 46 features, labels joined) to Parquet. Target <= 5 s and
//                           peak memory < 2 GiB.
// In-run baselines (<name>_DuckDbBaseline): DuckDB alone running the equivalent query on the
// same silver data straight into one zstd Parquet file (the product's codec), with the SQL
// compiled before the clock starts: no feature validation, point-in-time audit, partitioning
// or snapshot format.
//   BM_MaterializeOnline_DuckDbBaseline, BM_KueskiMaterialize_DuckDbBaseline
//                           each entity's latest features as one plain query
//                           (bench/plain_online_sql.h; unordered).
//   BM_KueskiFeatureStore_DuckDbBaseline
//                           the SQL the product compiles for the feature store
//                           (features::SpineFeatureSql over every month; unordered).
//   BM_TrainingSet_DuckDbBaseline
//                           the SQL the product compiles for the training set
//                           (features::TrainingSetSql, with its ORDER BY).
// Peak RSS is measured per benchmark: the kernel's high-water mark is reset (clear_refs) before
// the timed work and read with getrusage after it. DuckDB runs with 2 threads, as on CI.
// Generated workspaces are kept under $TMPDIR/riskpipe-features-bench and reused by later runs
// (RISKPIPE_BENCH_FRESH=1 regenerates). Run:
//   build/bench/features_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "config/config.h"
#include "core/files.h"
#include "db/database.h"
#include "features/feature_query.h"
#include "features/feature_store.h"
#include "features/label_store.h"
#include "features/materialize.h"
#include "features/training_set.h"
#include "ingest/ingest.h"
#include "plain_online_sql.h"
#include "synth/synth.h"

namespace {

using namespace riskpipe;
namespace fs = std::filesystem;

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* env = std::getenv(name);
  return env != nullptr ? std::atoll(env) : fallback;
}

fs::path SourceDir() {
  if (const char* env = std::getenv("RISKPIPE_SOURCE_DIR")) return env;
  return fs::path(__FILE__).parent_path().parent_path();
}

// Resets the peak-RSS high-water mark so getrusage reports this benchmark's own peak.
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }
double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// A fresh DuckDB with 2 threads (the CI machine's cores).
struct Duck {
  static db::Options TwoThreads() {
    db::Options options;
    options.threads = 2;
    return options;
  }
  Duck() : db(db::Database::Open(":memory:", TwoThreads()).value()), con(db.Connect().value()) {}
  db::Database db;
  db::Connection con;
};

struct Workspace {
  config::Project project;
  Status status;
  double setup_seconds = 0;
};

// The example project's config over a workspace under $TMPDIR, synthesized and ingested once
// (and the label store built), then reused.
Workspace& Prepare(synth::Scenario scenario, int64_t customers) {
  static std::map<std::pair<int, int64_t>, Workspace> cache;
  auto [it, inserted] = cache.try_emplace({static_cast<int>(scenario), customers});
  Workspace& w = it->second;
  if (!inserted) return w;
  const std::string name(synth::ScenarioName(scenario));
  const fs::path root = fs::temp_directory_path() / "riskpipe-features-bench" /
                        (name + "-" + std::to_string(customers));
  auto text = ReadFile(SourceDir() / "examples" / name / "riskpipe.yaml");
  if (!text.ok()) {
    w.status = text.status();
    return w;
  }
  auto project = config::ParseProject(*text, root / "riskpipe.yaml");
  if (!project.ok()) {
    w.status = project.status();
    return w;
  }
  w.project = *project;
  const fs::path ready = root / "READY";
  if (fs::exists(ready) && std::getenv("RISKPIPE_BENCH_FRESH") == nullptr) return w;
  const auto start = std::chrono::steady_clock::now();
  fs::remove_all(root);
  synth::Options options;
  options.scenario = scenario;
  options.customers = customers;
  options.out_dir = w.project.workspace.raw();
  options.show_progress = false;
  if (auto s = synth::Generate(options); !s.ok()) {
    w.status = s.status();
    return w;
  }
  for (const config::Source& source : w.project.sources) {
    ingest::IngestOptions io;
    io.show_progress = false;
    if (auto r = ingest::IngestSource(w.project, source, io); !r.ok()) {
      w.status = r.status();
      return w;
    }
  }
  fs::remove_all(w.project.workspace.raw());  // silver is all the benchmarks read
  Duck duck;
  db::Connection* con = &duck.con;
  if (w.project.label && w.project.label->kind == config::LabelKind::kDpd) {
    if (auto s = features::BuildLoanDpd(w.project, *con, {}); !s.ok()) {
      w.status = s.status();
      return w;
    }
  }
  if (w.project.label) {
    if (auto s = features::BuildLabelStore(w.project, *con, {}); !s.ok()) {
      w.status = s.status();
      return w;
    }
  }
  (void)WriteFileAtomic(ready, "ok\n");
  w.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return w;
}

features::MaterializeOptions KeepOne(
    features::SnapshotFormat format = features::SnapshotFormat::kBinary) {
  features::MaterializeOptions options;
  options.keep = 1;
  options.format = format;
  return options;
}

// The datamart's Parquet settings (datamart.cc); the training set export uses zstd's default
// level instead (training_set.cc).
constexpr char kMartParquet[] = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1";
constexpr char kTrainingSetParquet[] = "FORMAT parquet, COMPRESSION zstd";

// Runs `sql` into one Parquet file (COPY options `parquet`) under the workspace per iteration,
// on a fresh DuckDB, and reports the rows written (read back after the clock stops).
void RunDuckDbBaseline(benchmark::State& state, const Workspace& w,
                       const StatusOr<std::string>& sql, const std::string& name,
                       const char* parquet = kMartParquet) {
  if (!sql.ok()) return state.SkipWithError(sql.status().ToString().c_str());
  const fs::path out = fs::path(w.project.workspace.string()) / "baseline" / (name + ".parquet");
  fs::create_directories(out.parent_path());
  const std::string copy =
      "COPY (" + *sql + ") TO " + db::QuoteLiteral(out.string()) + " (" + parquet + ")";
  for (auto _ : state) {
    state.PauseTiming();
    Duck duck;
    ResetPeakRss();
    state.ResumeTiming();
    if (Status s = duck.con.Execute(copy); !s.ok())
      return state.SkipWithError(s.ToString().c_str());
  }
  state.counters["peak_rss_MB"] = PeakRssMb();
  Duck duck;
  auto rows = duck.con.QueryInt("SELECT count(*) FROM read_parquet(" +
                                db::QuoteLiteral(out.string()) + ")");
  state.counters["rows"] = rows.ok() ? static_cast<double>(*rows) : -1.0;
  state.counters["file_MB"] = static_cast<double>(fs::file_size(out)) / 1e6;
  fs::remove_all(out.parent_path());
}

// The plain online query for the spine's latest decision date (Materialize's default as_of).
StatusOr<std::string> PlainOnlineSqlAtLatest(const config::Project& project) {
  const datamart::Datamart mart(fs::path(project.workspace.string()) / "datamart");
  ASSIGN_OR_RETURN(std::string spine, features::SpineSql(project, mart, nullptr, nullptr));
  Duck duck;
  ASSIGN_OR_RETURN(db::Table t,
                   duck.con.Query("SELECT max(" + std::string(features::kDecisionDate) +
                                  ") FROM (" + spine + ")"));
  const auto* latest = std::get_if<Date>(&t.rows[0][0]);
  if (latest == nullptr) return FailedPreconditionError("no dated spine events");
  return bench::PlainOnlineSql(project, mart, *latest);
}

// Argument 0: features.bin (the default); 1: features.csv.
void BM_MaterializeOnline(benchmark::State& state) {
  const auto format =
      state.range(0) == 0 ? features::SnapshotFormat::kBinary : features::SnapshotFormat::kCsv;
  const int64_t customers = EnvInt("RISKPIPE_BENCH_CUSTOMERS", 1'000'000);
  Workspace& w = Prepare(synth::Scenario::kLendingDatamart, customers);
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  features::MaterializeSummary summary;
  for (auto _ : state) {
    state.PauseTiming();
    Duck duck;
    ResetPeakRss();
    state.ResumeTiming();
    auto s = features::Materialize(w.project, duck.con, KeepOne(format));
    if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
    summary = *s;
  }
  state.counters["entities"] = static_cast<double>(summary.rows);
  state.counters["features"] = static_cast<double>(summary.features);
  state.counters["file_MB"] =
      static_cast<double>(fs::file_size(summary.dir / (format == features::SnapshotFormat::kBinary
                                                           ? features::kSnapshotBin
                                                           : features::kSnapshotCsv))) /
      1e6;
  state.counters["peak_rss_MB"] = PeakRssMb();
  state.counters["setup_s"] = w.setup_seconds;
}
BENCHMARK(BM_MaterializeOnline)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_MaterializeOnline_DuckDbBaseline(benchmark::State& state) {
  Workspace& w =
      Prepare(synth::Scenario::kLendingDatamart, EnvInt("RISKPIPE_BENCH_CUSTOMERS", 1'000'000));
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  RunDuckDbBaseline(state, w, PlainOnlineSqlAtLatest(w.project), "online");
}
BENCHMARK(BM_MaterializeOnline_DuckDbBaseline)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Argument 0: features.bin (the default); 1: features.csv.
void BM_LoadOnlineSnapshot(benchmark::State& state) {
  const auto format =
      state.range(0) == 0 ? features::SnapshotFormat::kBinary : features::SnapshotFormat::kCsv;
  const int64_t customers = EnvInt("RISKPIPE_BENCH_CUSTOMERS", 1'000'000);
  Workspace& w = Prepare(synth::Scenario::kLendingDatamart, customers);
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  const fs::path online = w.project.workspace.online();
  // Publish a snapshot of this argument's format first (untimed): whichever ran last, the
  // materialize benchmark may have left the other format CURRENT.
  {
    Duck duck;
    if (auto s = features::Materialize(w.project, duck.con, KeepOne(format)); !s.ok()) {
      return state.SkipWithError(s.status().ToString().c_str());
    }
  }
  size_t rows = 0;
  double lookup_ns = 0;
  for (auto _ : state) {
    ResetPeakRss();
    auto snap = features::LoadOnlineSnapshot(online);
    if (!snap.ok()) return state.SkipWithError(snap.status().ToString().c_str());
    rows = snap->rows();
    state.PauseTiming();
    // Point lookups of every entity with every feature read, as /v1/features does.
    const auto start = std::chrono::steady_clock::now();
    double sink = 0;
    for (size_t r = 0; r < rows; ++r) {
      const auto row = snap->Find(snap->Entity(r));
      for (size_t f = 0; f < snap->features().size(); ++f) {
        if (auto v = snap->Number(*row, f)) sink += *v;
      }
    }
    benchmark::DoNotOptimize(sink);
    lookup_ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
        static_cast<double>(std::max<size_t>(rows, 1));
    state.ResumeTiming();
  }
  state.counters["entities"] = static_cast<double>(rows);
  state.counters["lookup_ns"] = lookup_ns;
  state.counters["peak_rss_MB"] = PeakRssMb();
}
BENCHMARK(BM_LoadOnlineSnapshot)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_KueskiFeatureStore(benchmark::State& state) {
  const int64_t users = EnvInt("RISKPIPE_BENCH_KUESKI_USERS", 40'000);
  Workspace& w = Prepare(synth::Scenario::kKueski, users);
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  features::FeatureBuildSummary summary;
  for (auto _ : state) {
    state.PauseTiming();
    Duck duck;
    ResetPeakRss();
    state.ResumeTiming();
    auto s = features::BuildFeatureStore(w.project, duck.con, {});
    if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
    summary = *s;
  }
  state.counters["loans"] = static_cast<double>(summary.rows);
  state.counters["months"] = static_cast<double>(summary.months.size());
  // The last iteration's split: validation, query and audit vs. writing the partitions.
  state.counters["query_s"] = summary.query_seconds;
  state.counters["write_s"] = summary.write_seconds;
  state.counters["peak_rss_MB"] = PeakRssMb();
  state.counters["setup_s"] = w.setup_seconds;
}
BENCHMARK(BM_KueskiFeatureStore)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_KueskiFeatureStore_DuckDbBaseline(benchmark::State& state) {
  Workspace& w = Prepare(synth::Scenario::kKueski, EnvInt("RISKPIPE_BENCH_KUESKI_USERS", 40'000));
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  const datamart::Datamart mart(fs::path(w.project.workspace.string()) / "datamart");
  RunDuckDbBaseline(state, w, features::SpineFeatureSql(w.project, mart, nullptr, nullptr),
                    "feature_store");
}
BENCHMARK(BM_KueskiFeatureStore_DuckDbBaseline)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_KueskiMaterialize(benchmark::State& state) {
  const int64_t users = EnvInt("RISKPIPE_BENCH_KUESKI_USERS", 40'000);
  Workspace& w = Prepare(synth::Scenario::kKueski, users);
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Duck duck;
    state.ResumeTiming();
    auto s = features::Materialize(w.project, duck.con, KeepOne());
    if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
    rows = s->rows;
  }
  state.counters["entities"] = static_cast<double>(rows);
}
BENCHMARK(BM_KueskiMaterialize)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_KueskiMaterialize_DuckDbBaseline(benchmark::State& state) {
  Workspace& w = Prepare(synth::Scenario::kKueski, EnvInt("RISKPIPE_BENCH_KUESKI_USERS", 40'000));
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  RunDuckDbBaseline(state, w, PlainOnlineSqlAtLatest(w.project), "online");
}
BENCHMARK(BM_KueskiMaterialize_DuckDbBaseline)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Every lending application, labelled or not.
features::TrainingSetRequest EveryApplication() {
  features::TrainingSetRequest request;
  request.cutoff = Date::FromCivil(2100, 1, 1);
  request.keep_unlabelled = true;
  return request;
}

void BM_TrainingSet(benchmark::State& state) {
  const int64_t customers = EnvInt("RISKPIPE_BENCH_CUSTOMERS", 1'000'000);
  Workspace& w = Prepare(synth::Scenario::kLendingDatamart, customers);
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  const fs::path out = w.project.workspace.root() / "training_set.parquet";
  features::TrainingSetSummary summary;
  for (auto _ : state) {
    state.PauseTiming();
    Duck duck;
    ResetPeakRss();
    state.ResumeTiming();
    auto s = features::ExportTrainingSet(w.project, duck.con, EveryApplication(), out);
    if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
    summary = *s;
  }
  state.counters["rows"] = static_cast<double>(summary.rows);
  state.counters["labelled"] = static_cast<double>(summary.labelled);
  state.counters["peak_rss_MB"] = PeakRssMb();
}
BENCHMARK(BM_TrainingSet)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_TrainingSet_DuckDbBaseline(benchmark::State& state) {
  Workspace& w =
      Prepare(synth::Scenario::kLendingDatamart, EnvInt("RISKPIPE_BENCH_CUSTOMERS", 1'000'000));
  if (!w.status.ok()) return state.SkipWithError(w.status.ToString().c_str());
  // Compiled (and the features validated) on a DuckDB of its own, before the clock starts.
  Duck duck;
  RunDuckDbBaseline(state, w, features::TrainingSetSql(w.project, duck.con, EveryApplication()),
                    "training_set", kTrainingSetParquet);
}
BENCHMARK(BM_TrainingSet_DuckDbBaseline)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
