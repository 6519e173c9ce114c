// The registry across processes: concurrent registrations of one name, and processes that die
// between publishing a package and committing its catalog row. Every test forks its children
// before the parent opens the workspace (see metastore/test_util.h ForkChild).

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "metastore/test_util.h"
#include "registry/manifest.h"
#include "registry/registry.h"
#include "registry_test_util.h"

namespace riskpipe::registry {
namespace {

using metastore::test::ChildFail;
using metastore::test::ForkChild;
using metastore::test::WaitChild;
using riskpipe::testing::TempDir;
using test::PackageFiles;
using test::StagePackage;
namespace fs = std::filesystem;

// Exit code of a child that "crashed" at a crash point.
constexpr int kCrashed = 42;

StatusOr<Registry> OpenIn(const fs::path& workspace, Options options = {}) {
  options.warn = [](const std::string&) {};
  return Registry::Open(workspace, std::move(options));
}

// Registers `count` packages of `name`, each with distinct bytes; exit code 0 when all worked.
int RegisterMany(const fs::path& workspace, const std::string& name, int count, int child) {
  StatusOr<Registry> registry = OpenIn(workspace);
  if (!registry.ok()) return ChildFail("open", registry.status());
  for (int i = 0; i < count; ++i) {
    const std::string tag = std::to_string(child) + "-" + std::to_string(i);
    const fs::path staging =
        StagePackage(*registry, name, PackageFiles({{"model.json", "{\"tag\":\"" + tag + "\"}"}}));
    StatusOr<ModelRecord> r = registry->Register(staging, name, {});
    if (!r.ok()) return ChildFail("register " + tag, r.status());
  }
  return 0;
}

TEST(RegistryProcess, ConcurrentRegistrationsGetDistinctVersions) {
  TempDir dir;
  const fs::path ws = dir.path() / "ws";
  constexpr int kChildren = 4, kEach = 5;
  std::vector<pid_t> children;
  for (int c = 0; c < kChildren; ++c) {
    children.push_back(ForkChild([&] { return RegisterMany(ws, "lending_pd", kEach, c); }));
    ASSERT_GT(children.back(), 0);
  }
  for (pid_t pid : children) EXPECT_EQ(WaitChild(pid), 0);

  StatusOr<Registry> registry = OpenIn(ws);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  StatusOr<std::vector<ModelRecord>> all = registry->List("lending_pd");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(kChildren * kEach));
  std::set<int64_t> versions;
  std::set<std::string> models;
  for (const ModelRecord& m : *all) {
    versions.insert(m.version);
    EXPECT_TRUE(registry->VerifiedPath(m.id).ok()) << m.id;
    models.insert(testing::ReadAll(m.path / "model.json"));
  }
  EXPECT_EQ(versions.size(), static_cast<size_t>(kChildren * kEach));
  EXPECT_EQ(*versions.begin(), 1);
  EXPECT_EQ(*versions.rbegin(), kChildren * kEach);
  EXPECT_EQ(models.size(), static_cast<size_t>(kChildren * kEach));  // No package lost.
}

TEST(RegistryProcess, CrashBetweenRenameAndCommitDoesNotBreakTheNextRegistration) {
  TempDir dir;
  const fs::path ws = dir.path() / "ws";
  const pid_t child = ForkChild([&] {
    Options options;
    int registered = 0;
    options.crash_point = [&](std::string_view point) {
      if (point == "renamed" && registered == 1) ::_exit(kCrashed);
    };
    StatusOr<Registry> registry = OpenIn(ws, options);
    if (!registry.ok()) return ChildFail("open", registry.status());
    for (const char* model : {"{\"v\":1}", "{\"v\":2}"}) {
      StatusOr<ModelRecord> r = registry->Register(
          StagePackage(*registry, "lending_pd", PackageFiles({{"model.json", model}})),
          "lending_pd", {});
      if (!r.ok()) return ChildFail("register", r.status());
      ++registered;
    }
    return 0;
  });
  ASSERT_GT(child, 0);
  ASSERT_EQ(WaitChild(child), kCrashed);
  const fs::path orphan = ws / "model_bank" / "lending_pd" / "2";
  ASSERT_TRUE(fs::is_directory(orphan));  // Published on disk, never committed.

  std::vector<std::string> warnings;
  Options options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  StatusOr<Registry> registry = Registry::Open(ws, options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_EQ(registry->Get("lending_pd/latest")->id, "lending_pd/1");
  EXPECT_EQ(registry->Get("lending_pd/2").status().code(), StatusCode::kNotFound);

  const fs::path staging =
      StagePackage(*registry, "lending_pd", PackageFiles({{"model.json", "{\"v\":3}"}}));
  StatusOr<ModelRecord> next = registry->Register(staging, "lending_pd", {});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->id, "lending_pd/2");
  EXPECT_EQ(testing::ReadAll(next->path / "model.json"), "{\"v\":3}");
  EXPECT_TRUE(registry->VerifiedPath("lending_pd/2").ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("has no catalog row"), std::string::npos) << warnings[0];
  // The orphan is kept for inspection, whole.
  const fs::path orphaned = ws / "model_bank" / ".orphaned";
  ASSERT_EQ(std::distance(fs::directory_iterator(orphaned), fs::directory_iterator()), 1);
  const fs::path kept = fs::directory_iterator(orphaned)->path();
  EXPECT_EQ(testing::ReadAll(kept / "model.json"), "{\"v\":2}");
  EXPECT_TRUE(VerifyManifest(kept, "orphan").ok());
}

TEST(RegistryProcess, CrashInsideAddFileLeavesAVerifiablePackage) {
  TempDir dir;
  const fs::path ws = dir.path() / "ws";
  const pid_t child = ForkChild([&] {
    Options options;
    options.crash_point = [](std::string_view point) {
      if (point == "swapped") ::_exit(kCrashed);
    };
    StatusOr<Registry> registry = OpenIn(ws, options);
    if (!registry.ok()) return ChildFail("open", registry.status());
    StatusOr<ModelRecord> r =
        registry->Register(StagePackage(*registry, "lending_pd"), "lending_pd", {});
    if (!r.ok()) return ChildFail("register", r.status());
    return ChildFail("add file", registry->AddFile(r->id, "validation.json", "{\"passed\":true}"));
  });
  ASSERT_GT(child, 0);
  ASSERT_EQ(WaitChild(child), kCrashed);

  // The dead AddFile swapped in a package whose MANIFEST the history never recorded, and kept
  // the recorded one beside it: the next load puts the recorded package back, with a warning.
  std::vector<std::string> warnings;
  Options options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  StatusOr<Registry> registry = Registry::Open(ws, options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  StatusOr<VerifiedPackage> verified = registry->Verify("lending_pd/1");
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->recorded_at, "registration (event 1)");
  EXPECT_FALSE(fs::exists(verified->model.path / "validation.json"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("put back the recorded package"), std::string::npos) << warnings[0];
  // The next AddFile clears what the dead one left beside the package and succeeds.
  ASSERT_TRUE(registry->AddFile("lending_pd/1", "validation.json", "{\"passed\":false}").ok());
  EXPECT_TRUE(registry->VerifiedPath("lending_pd/1").ok());
  const fs::path name_dir = ws / "model_bank" / "lending_pd";
  EXPECT_EQ(std::distance(fs::directory_iterator(name_dir), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace riskpipe::registry
