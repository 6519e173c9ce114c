#pragma once
// Helpers shared by the registry tests: a workspace in a temporary folder with a manual clock,
// fake packages (small real files; the registry never looks inside the model), and status
// matchers. Not thread-safe; tests are single-threaded (some fork).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/hash.h"
#include "metastore/test_util.h"
#include "registry/registry.h"
#include "testing/temp_dir.h"

namespace riskpipe::registry::test {

namespace fs = std::filesystem;
using metastore::test::ManualClock;

// The files of a minimal package; `extra` adds or overrides files (relative path -> bytes).
inline std::map<std::string, std::string> PackageFiles(
    const std::map<std::string, std::string>& extra = {}) {
  std::map<std::string, std::string> files = {
      {"model.json", "{}"},
      {"preprocess.json", R"({"steps":[]})"},
      // The shape training writes (src/training/trainer.cc), cut down.
      {"metadata.json",
       R"({"format":"riskpipe.model/1","family":"xgboost","created_at":"2026-11-23T09:00:00Z",)"
       R"("input_schema":[{"name":"income"},{"name":"age"}],)"
       R"("training_data":{"lineage":{"source":"feature and label stores","inputs":[)"
       R"({"table":"feature_store","partitions":[{"partition":"2024-01-01"}]},)"
       R"({"table":"label_store","partitions":[{"partition":"2024-01-01"}]}]}},)"
       R"("software":{"git_commit":"abc123"}})"}};
  for (const auto& [path, bytes] : extra) files[path] = bytes;
  return files;
}

inline void WriteBytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Rewrites `file` of the package folder `dir` with `bytes` and its MANIFEST line to match, as
// anyone with write access to model_bank could: the per-file MANIFEST check then passes, and
// only the MANIFEST hash the metastore recorded tells the package apart.
inline void RewriteWithManifest(const fs::path& dir, const std::string& file,
                                const std::string& bytes) {
  WriteBytes(dir / file, bytes);
  std::ifstream in(dir / "MANIFEST", std::ios::binary);
  std::string manifest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = manifest.find("  " + file + "\n");
  ASSERT_NE(at, std::string::npos) << file << " is not in " << (dir / "MANIFEST");
  ASSERT_GE(at, 64u);
  manifest.replace(at - 64, 64, Sha256Hex(bytes));
  WriteBytes(dir / "MANIFEST", manifest);
}

// The sha256 of the MANIFEST file of the package folder `dir`.
inline std::string ManifestSha(const fs::path& dir) {
  std::ifstream in(dir / "MANIFEST", std::ios::binary);
  return Sha256Hex(
      std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

// Writes `files` into a new staging folder of `registry` and returns the folder.
inline fs::path StagePackage(Registry& registry, const std::string& name,
                             const std::map<std::string, std::string>& files = PackageFiles()) {
  StatusOr<fs::path> dir = registry.NewStagingDir(name);
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  if (!dir.ok()) return {};
  for (const auto& [path, bytes] : files) WriteBytes(*dir / path, bytes);
  return *dir;
}

// Stages and registers a package; fails the test (and returns an empty record) on error.
inline ModelRecord MustRegister(Registry& registry, const std::string& name,
                                const std::map<std::string, std::string>& files = PackageFiles(),
                                const RegisterInfo& info = {}) {
  StatusOr<ModelRecord> r = registry.Register(StagePackage(registry, name, files), name, info);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ModelRecord{};
}

// A registry over a fresh temporary workspace with a manual clock; warnings are collected.
class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    registry_.reset();
    Options options;
    options.clock = clock_.options().clock;
    options.warn = [this](const std::string& w) { warnings_.push_back(w); };
    StatusOr<Registry> r = Registry::Open(workspace(), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::make_unique<Registry>(std::move(r).value());
  }

  fs::path workspace() const { return dir_.path() / "ws"; }
  Registry& registry() { return *registry_; }

  // Registered with a passing validation.json (promotion requires one) and approved.
  ModelRecord Approved(const std::string& name) {
    ModelRecord m =
        MustRegister(registry(), name, PackageFiles({{"validation.json", R"({"passed":true})"}}));
    EXPECT_TRUE(registry().Approve(m.id, "alice", "looks good").ok());
    return m;
  }
  ModelRecord InProduction(const std::string& name) {
    ModelRecord m = Approved(name);
    StatusOr<ModelRecord> p = registry().Promote(m.id, "bob");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : m;
  }
  Stage StageOf(const std::string& id) {
    StatusOr<ModelRecord> m = registry().Get(id);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? m->stage : Stage::kCandidate;
  }

  riskpipe::testing::TempDir dir_;
  ManualClock clock_;
  std::vector<std::string> warnings_;
  std::unique_ptr<Registry> registry_;
};

// Runs a shell command; its exit status (-1 when it did not exit normally).
inline int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace riskpipe::registry::test
