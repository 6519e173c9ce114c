// Publishing, references and verification of model packages.

#include "core/json.h"
#include "registry/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/hash.h"
#include "testing/process.h"
#include "registry/manifest.h"
#include "registry_test_util.h"

namespace riskpipe::registry {
namespace {

using riskpipe::testing::ReadAll;
using test::MustRegister;
using test::PackageFiles;
using test::RegistryTest;
using test::StagePackage;
using test::WriteBytes;
namespace fs = std::filesystem;

TEST_F(RegistryTest, VersionsIncreasePerName) {
  EXPECT_EQ(MustRegister(registry(), "lending_pd").id, "lending_pd/1");
  EXPECT_EQ(MustRegister(registry(), "lending_pd").id, "lending_pd/2");
  EXPECT_EQ(MustRegister(registry(), "kueski_pd").id, "kueski_pd/1");
  const ModelRecord third = MustRegister(registry(), "lending_pd");
  EXPECT_EQ(third.version, 3);
  EXPECT_EQ(third.stage, Stage::kCandidate);
  EXPECT_EQ(third.path, workspace() / "model_bank" / "lending_pd" / "3");
  EXPECT_TRUE(fs::is_directory(third.path));
}

TEST_F(RegistryTest, RegisterSetsMetadataFieldsAndKeepsTheOthers) {
  RegisterInfo info;
  info.run_id = 17;
  info.created_by = "trainer";
  info.family = "xgboost";
  info.metrics_json = R"({"oot_auc":0.87})";
  const ModelRecord m = MustRegister(registry(), "lending_pd", PackageFiles(), info);
  const auto meta = nlohmann::json::parse(ReadAll(m.path / "metadata.json"));
  EXPECT_EQ(meta["id"], "lending_pd/1");
  EXPECT_EQ(meta["name"], "lending_pd");
  EXPECT_EQ(meta["version"], 1);
  EXPECT_EQ(meta["registered_at"], "2026-11-23T09:41:02.123Z");
  EXPECT_EQ(meta["software"]["git_commit"], "abc123");
  EXPECT_EQ(meta["input_schema"].size(), 2u);
  EXPECT_EQ(meta["format"], "riskpipe.model/1");
  EXPECT_EQ(m.registered_at, "2026-11-23T09:41:02.123Z");
  EXPECT_EQ(m.run_id, 17);
  EXPECT_EQ(m.created_by, "trainer");
  EXPECT_EQ(nlohmann::json::parse(m.metrics_json)["oot_auc"], 0.87);
}

TEST_F(RegistryTest, ManifestListsEveryFileSortedInSha256sumFormat) {
  const ModelRecord m =
      MustRegister(registry(), "lending_pd", PackageFiles({{"reports/leaderboard.csv", "a,b\n"}}));
  const std::string manifest = ReadAll(m.path / "MANIFEST");
  const std::string expected = Sha256Hex(ReadAll(m.path / "metadata.json")) + "  metadata.json\n" +
                               Sha256Hex("{}") + "  model.json\n" + Sha256Hex(R"({"steps":[]})") +
                               "  preprocess.json\n" + Sha256Hex("a,b\n") +
                               "  reports/leaderboard.csv\n";
  EXPECT_EQ(manifest, expected);
  EXPECT_EQ(test::Shell("cd '" + m.path.string() + "' && /usr/bin/sha256sum --quiet -c MANIFEST"),
            0);
  StatusOr<fs::path> verified = registry().VerifiedPath(m.id);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, m.path);
}

TEST_F(RegistryTest, OneChangedByteIsDataLossNamingTheFileAndBothHashes) {
  const ModelRecord m =
      MustRegister(registry(), "lending_pd", PackageFiles({{"model.json", "{1}"}}));
  WriteBytes(m.path / "model.json", "{2}");
  StatusOr<fs::path> verified = registry().VerifiedPath("lending_pd/1");
  ASSERT_EQ(verified.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(verified.status().message(), "lending_pd/1: model.json: sha256 mismatch: expected " +
                                             Sha256Hex("{1}") + " actual " + Sha256Hex("{2}"));
  EXPECT_NE(test::Shell("cd '" + m.path.string() + "' && /usr/bin/sha256sum --status -c MANIFEST"),
            0);
}

TEST_F(RegistryTest, AddedFileIsDataLoss) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  WriteBytes(m.path / "notes.txt", "hello");
  StatusOr<fs::path> verified = registry().VerifiedPath(m.id);
  EXPECT_EQ(verified.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(verified.status().message(), "lending_pd/1: notes.txt: not listed in MANIFEST");
}

TEST_F(RegistryTest, DeletedFileIsDataLoss) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  fs::remove(m.path / "preprocess.json");
  StatusOr<fs::path> verified = registry().VerifiedPath(m.id);
  EXPECT_EQ(verified.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(verified.status().message(),
            "lending_pd/1: preprocess.json: listed in MANIFEST but missing");
}

TEST_F(RegistryTest, RewrittenManifestOfAnotherPackageIsDataLoss) {
  const ModelRecord one = MustRegister(registry(), "lending_pd");
  const ModelRecord two = MustRegister(registry(), "lending_pd");
  // Swapping whole folders keeps each MANIFEST consistent, but metadata.json names the model.
  fs::rename(one.path, workspace() / "tmp");
  fs::rename(two.path, one.path);
  StatusOr<fs::path> verified = registry().VerifiedPath(one.id);
  EXPECT_EQ(verified.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(verified.status().message().find("metadata.json does not name this model"),
            std::string::npos)
      << verified.status().message();
}

TEST_F(RegistryTest, RegisterRefusesIncompletePackagesAndForeignFolders) {
  auto files = PackageFiles();
  files.erase("model.json");
  StatusOr<ModelRecord> no_model =
      registry().Register(StagePackage(registry(), "m", files), "m", {});
  EXPECT_EQ(no_model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_model.status().message().find("model.ubj or model.json missing"), std::string::npos);

  StatusOr<ModelRecord> bad_meta = registry().Register(
      StagePackage(registry(), "m", PackageFiles({{"metadata.json", "[1]"}})), "m", {});
  EXPECT_EQ(bad_meta.status().code(), StatusCode::kInvalidArgument);

  const fs::path foreign = dir_.Write("elsewhere/model.json", "{}").parent_path();
  EXPECT_EQ(registry().Register(foreign, "m", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry().NewStagingDir("../evil").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry().NewStagingDir("latest").status().code(), StatusCode::kInvalidArgument);

  RegisterInfo bad_metrics;
  bad_metrics.metrics_json = "[0.8]";
  EXPECT_EQ(registry().Register(StagePackage(registry(), "m"), "m", bad_metrics).status().code(),
            StatusCode::kInvalidArgument);
  // Nothing was published or catalogued by the failures.
  EXPECT_FALSE(fs::exists(workspace() / "model_bank" / "m" / "1"));
  EXPECT_EQ(registry().Get("m/latest").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MustRegister(registry(), "m").id, "m/1");
}

TEST_F(RegistryTest, ReferencesResolve) {
  EXPECT_EQ(registry().Get("latest").status().code(), StatusCode::kNotFound);
  MustRegister(registry(), "a");
  MustRegister(registry(), "a");
  MustRegister(registry(), "b");
  EXPECT_EQ(registry().Get("latest")->id, "b/1");
  EXPECT_EQ(registry().Get("a/latest")->id, "a/2");
  EXPECT_EQ(registry().Get("a/1")->id, "a/1");
  EXPECT_EQ(registry().Get("a/9").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry().Get("c/latest").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry().Get("a/production").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry().Get("production").status().code(), StatusCode::kNotFound);
  for (const char* bad : {"a", "a/01", "a/x", "/1", "a/1/2", ""}) {
    EXPECT_EQ(registry().Get(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(RegistryTest, AddFileRewritesTheManifestAndRecordsAnEvent) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  const std::string validation = R"({"passed":true})";
  ASSERT_TRUE(registry().AddFile(m.id, "validation.json", validation, "gate").ok());
  EXPECT_EQ(ReadAll(m.path / "validation.json"), validation);
  EXPECT_NE(ReadAll(m.path / "MANIFEST").find(Sha256Hex(validation) + "  validation.json\n"),
            std::string::npos);
  EXPECT_TRUE(registry().VerifiedPath(m.id).ok());
  EXPECT_EQ(test::Shell("cd '" + m.path.string() + "' && /usr/bin/sha256sum --quiet -c MANIFEST"),
            0);
  // Replacing it keeps one entry; no temporary folder is left beside the package.
  ASSERT_TRUE(registry().AddFile(m.id, "validation.json", R"({"passed":false})", "gate").ok());
  StatusOr<std::vector<ManifestEntry>> entries = VerifyManifest(m.path, m.id);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(entries->size(), 4u);
  EXPECT_EQ(std::distance(fs::directory_iterator(m.path.parent_path()), fs::directory_iterator()),
            1);
  StatusOr<std::vector<Event>> history = registry().History("", m.id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[1].event, "file_added");
  EXPECT_EQ((*history)[1].actor, "gate");
  EXPECT_EQ(nlohmann::json::parse((*history)[1].details_json)["file"], "validation.json");
}

TEST_F(RegistryTest, AddFileRefusesCoreFilesAndTamperedPackages) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  for (const char* name : {"MANIFEST", "model.json", "metadata.json", "../x", "a/b", ".hidden"}) {
    EXPECT_EQ(registry().AddFile(m.id, name, "x").code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(registry().AddFile("lending_pd/7", "v.json", "x").code(), StatusCode::kNotFound);
  WriteBytes(m.path / "model.json", "tampered");
  EXPECT_EQ(registry().AddFile(m.id, "v.json", "x").code(), StatusCode::kDataLoss);
  EXPECT_FALSE(fs::exists(m.path / "v.json"));
}

TEST_F(RegistryTest, StaleStagingFoldersAreRemoved) {
  const fs::path old_dir = StagePackage(registry(), "lending_pd");
  const fs::path fresh = StagePackage(registry(), "lending_pd");
  fs::last_write_time(old_dir, fs::file_time_type::clock::now() - std::chrono::hours(25));
  ASSERT_TRUE(registry().NewStagingDir("lending_pd").ok());
  EXPECT_FALSE(fs::exists(old_dir));
  EXPECT_TRUE(fs::exists(fresh));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("stale staging folder"), std::string::npos);
}

// A killed train's staging folder goes at the next train, whatever its age; a live
// process's recent one stays.
TEST_F(RegistryTest, StagingFoldersOfGoneProcessesAreRemoved) {
  const pid_t dead = riskpipe::testing::DeadPid();
  const fs::path staging = StagePackage(registry(), "lending_pd").parent_path();
  const fs::path killed = staging / ("lending-pd-" + std::to_string(dead) + "-123-0");
  fs::create_directories(killed / "checkpoints");
  const fs::path live = staging / ("lending-pd-" + std::to_string(::getppid()) + "-124-0");
  fs::create_directories(live);
  ASSERT_TRUE(registry().NewStagingDir("lending_pd").ok());
  EXPECT_FALSE(fs::exists(killed));
  EXPECT_TRUE(fs::exists(live));
}

TEST(Manifest, ParseRefusesWhatSha256sumWouldNotWrite) {
  const std::string hex(64, 'a');
  EXPECT_TRUE(ParseManifest(hex + "  model.json\n", "p").ok());
  for (const std::string& bad :
       {hex + " model.json\n", std::string(63, 'a') + "  x\n", std::string(64, 'A') + "  x\n",
        hex + "  ../x\n", hex + "  /etc/passwd\n", hex + "  x\n" + hex + "  x\n"}) {
    EXPECT_EQ(ParseManifest(bad, "p").status().code(), StatusCode::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace riskpipe::registry
