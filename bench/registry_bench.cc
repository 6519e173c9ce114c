// Model registry speed (issue 4, Performance: package load <= 50 ms, of which this is the
// verification half), on a package with a 1 MB model file (the size of a 200-tree UBJSON model,
// dependency-notes.md) plus small JSON files:
//   BM_VerifiedPath          resolve "lending_pd/production" in the catalog and check every
//                            file against the MANIFEST, with the registry already open.
//   BM_OpenAndVerifiedPath   the same from nothing: open the registry (metastore connection,
//                            schema check) first, as a freshly started server does.
//   BM_Register              stage and register one such package (hashing, fsyncs, rename,
//                            catalog transaction).
// The workspace lives under $TMPDIR and is removed afterwards. Run:
//   build/bench/registry_bench

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "registry/registry.h"

namespace {

using namespace riskpipe;
using registry::Registry;
namespace fs = std::filesystem;

// A 200-tree depth-6 XGBoost model saved as UBJSON is about 1 MB (dependency-notes.md).
constexpr size_t kModelBytes = 1 << 20;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

void Write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void StageInto(const fs::path& dir, uint32_t seed) {
  Write(dir / "model.ubj", RandomBytes(kModelBytes, seed));
  Write(dir / "preprocess.json", std::string(20000, ' ') + "{}");
  Write(dir / "metadata.json", R"({"format":"riskpipe.model/1","family":"xgboost"})");
  Write(dir / "leaderboard.json", "{}");
}

class Workspace {
 public:
  Workspace()
      : root_(fs::temp_directory_path() /
              ("riskpipe-registry-bench-" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
  }
  ~Workspace() { fs::remove_all(root_); }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

Registry MustOpen(const fs::path& root) {
  StatusOr<Registry> r = Registry::Open(root);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

// Registers, approves and promotes one package so "lending_pd/production" resolves.
void Publish(Registry& reg) {
  StatusOr<fs::path> dir = reg.NewStagingDir("lending_pd");
  StageInto(*dir, 1);
  StatusOr<registry::ModelRecord> m = reg.Register(*dir, "lending_pd", {});
  if (!m.ok() || !reg.Approve(m->id, "bench", "bench").ok() || !reg.Promote(m->id, "bench", "bench: no validation gate").ok()) {
    std::fprintf(stderr, "cannot publish the bench package\n");
    std::abort();
  }
}

void BM_VerifiedPath(benchmark::State& state) {
  Workspace ws;
  Registry reg = MustOpen(ws.root());
  Publish(reg);
  for (auto _ : state) {
    StatusOr<fs::path> path = reg.VerifiedPath("lending_pd/production");
    if (!path.ok()) state.SkipWithError(path.status().ToString().c_str());
    benchmark::DoNotOptimize(path);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kModelBytes);
}
BENCHMARK(BM_VerifiedPath)->Unit(benchmark::kMillisecond);

void BM_OpenAndVerifiedPath(benchmark::State& state) {
  Workspace ws;
  {
    Registry reg = MustOpen(ws.root());
    Publish(reg);
  }
  for (auto _ : state) {
    Registry reg = MustOpen(ws.root());
    StatusOr<fs::path> path = reg.VerifiedPath("lending_pd/production");
    if (!path.ok()) state.SkipWithError(path.status().ToString().c_str());
    benchmark::DoNotOptimize(path);
  }
}
BENCHMARK(BM_OpenAndVerifiedPath)->Unit(benchmark::kMillisecond);

void BM_Register(benchmark::State& state) {
  Workspace ws;
  Registry reg = MustOpen(ws.root());
  uint32_t seed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    StatusOr<fs::path> dir = reg.NewStagingDir("lending_pd");
    StageInto(*dir, ++seed);
    state.ResumeTiming();
    StatusOr<registry::ModelRecord> m = reg.Register(*dir, "lending_pd", {});
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
  }
}
BENCHMARK(BM_Register)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
