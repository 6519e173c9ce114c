// An approval is bound to the bytes approved: a package whose file and MANIFEST line were
// rewritten together passes the per-file check, but its MANIFEST no longer hashes to the
// value the history recorded, and every road to loading or governing it refuses it naming
// both hashes and the events. Also the replay of the recorded hashes on its own.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/json.h"
#include "registry/manifest.h"
#include "registry/recorded_manifest.h"
#include "registry/registry.h"
#include "registry_test_util.h"
#include "testing/status_matchers.h"

namespace riskpipe::registry {
namespace {

using riskpipe::testing::StatusIs;
using test::ManifestSha;
using test::MustRegister;
using test::PackageFiles;
using test::RegistryTest;
using test::RewriteWithManifest;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string Mismatch(const std::string& id, const std::string& actual, const std::string& recorded,
                     const std::string& events) {
  return "model " + id + ": MANIFEST sha256 " + actual + " does not match " + recorded +
         " recorded at " + events;
}

TEST_F(RegistryTest, RewrittenFileAndManifestLineAreRefusedNamingBothHashes) {
  const ModelRecord m =
      MustRegister(registry(), "lending_pd", PackageFiles({{"model.json", "{\"w\":[1]}"}}));
  const std::string recorded = ManifestSha(m.path);
  RewriteWithManifest(m.path, "model.json", "{\"w\":[9]}");
  // The files agree with the rewritten MANIFEST: only the recorded hash catches it.
  ASSERT_TRUE(VerifyManifest(m.path, m.id).ok());
  StatusOr<fs::path> verified = registry().VerifiedPath(m.id);
  EXPECT_THAT(verified,
              StatusIs(StatusCode::kDataLoss,
                       Mismatch(m.id, ManifestSha(m.path), recorded, "registration (event 1)")));
}

TEST_F(RegistryTest, RewrittenAfterApprovalIsRefusedNamingTheApproval) {
  const ModelRecord m = MustRegister(registry(), "lending_pd",
                                     PackageFiles({{"validation.json", R"({"passed":true})"}}));
  ASSERT_TRUE(registry().Approve(m.id, "alice", "reviewed").ok());
  const std::string approved = ManifestSha(m.path);
  RewriteWithManifest(m.path, "model.json", "{\"w\":[9]}");
  const std::string expected = Mismatch(m.id, ManifestSha(m.path), approved,
                                        "registration (event 1) and approval (event 2)");
  EXPECT_THAT(registry().Verify(m.id), StatusIs(StatusCode::kDataLoss, expected));
  // Promotion checks the same, with or without an override.
  EXPECT_THAT(registry().Promote(m.id, "bob"), StatusIs(StatusCode::kDataLoss, expected));
  EXPECT_THAT(registry().Promote(m.id, "bob", "urgent"), StatusIs(StatusCode::kDataLoss, expected));
  EXPECT_EQ(StageOf(m.id), Stage::kApproved);
  EXPECT_EQ(registry().History("", m.id)->back().event, "approved");
}

TEST_F(RegistryTest, ApprovingARewrittenPackageIsRefused) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  const std::string registered = ManifestSha(m.path);
  RewriteWithManifest(m.path, "preprocess.json", R"({"steps":[{"clip":1}]})");
  EXPECT_THAT(registry().Approve(m.id, "alice", "ok"),
              StatusIs(StatusCode::kDataLoss,
                       Mismatch(m.id, ManifestSha(m.path), registered, "registration (event 1)")));
  EXPECT_EQ(StageOf(m.id), Stage::kCandidate);
}

TEST_F(RegistryTest, RollbackToARewrittenVersionIsRefused) {
  const ModelRecord v1 = InProduction("lending_pd");
  const ModelRecord v2 = InProduction("lending_pd");
  RewriteWithManifest(v1.path, "model.json", "{\"w\":[9]}");
  EXPECT_THAT(registry().Rollback("lending_pd", "carol", "complaints"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("model lending_pd/1: MANIFEST sha256 ")));
  EXPECT_EQ(StageOf(v2.id), Stage::kProduction);
}

TEST_F(RegistryTest, AddFileToARewrittenPackageIsRefused) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  RewriteWithManifest(m.path, "model.json", "{\"w\":[9]}");
  EXPECT_THAT(registry().AddFile(m.id, "validation.json", R"({"passed":true})"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("does not match")));
  EXPECT_FALSE(fs::exists(m.path / "validation.json"));
}

TEST_F(RegistryTest, VerifyNamesTheEventsThatRecordedTheBytes) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  ASSERT_TRUE(registry().Approve(m.id, "alice", "reviewed").ok());
  StatusOr<VerifiedPackage> approved = registry().Verify(m.id);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->manifest_sha256, ManifestSha(m.path));
  EXPECT_EQ(approved->recorded_at, "registration (event 1) and approval (event 2)");
  EXPECT_EQ(approved->approval_event_id, 2);
  // The gate adds validation.json after the approval: the history records the new MANIFEST
  // with the old one it replaced, so the chain from the approved bytes stays whole.
  ASSERT_TRUE(registry().AddFile(m.id, "validation.json", R"({"passed":true})", "gate").ok());
  StatusOr<VerifiedPackage> validated = registry().Verify(m.id);
  ASSERT_TRUE(validated.ok()) << validated.status().ToString();
  EXPECT_EQ(validated->manifest_sha256, ManifestSha(m.path));
  EXPECT_EQ(validated->recorded_at, "addition of validation.json (event 3)");
  EXPECT_EQ(validated->approval_event_id, 0);
  ASSERT_TRUE(registry().Promote(m.id, "bob").ok());
  const Event promoted = registry().History("", m.id)->back();
  EXPECT_EQ(nlohmann::json::parse(promoted.details_json)["manifest_sha256"], ManifestSha(m.path));
  EXPECT_EQ(registry().Verify(m.id)->recorded_at,
            "addition of validation.json (event 3) and promotion (event 4)");
}

Event At(int64_t id, std::string_view event, const nlohmann::json& details) {
  Event e;
  e.event_id = id;
  e.model_id = "lending_pd/1";
  e.name = "lending_pd";
  e.event = std::string(event);
  e.actor = "test";
  e.details_json = details.dump();
  return e;
}

const std::string kA(64, 'a'), kB(64, 'b'), kC(64, 'c');

TEST(ReplayManifest, FollowsAddedFilesFromTheRegisteredHash) {
  const std::vector<Event> events = {
      At(1, kEventRegistered, {{"manifest_sha256", kA}}),
      At(2, kEventApproved, {{"manifest_sha256", kA}}),
      At(3, kEventFileAdded,
         {{"file", "validation.json"}, {"previous_manifest_sha256", kA}, {"manifest_sha256", kB}}),
      At(4, kEventValidated, {{"passed", true}}), At(5, kEventPromoted, {{"manifest_sha256", kB}})};
  StatusOr<RecordedManifest> r = ReplayManifest(events, "lending_pd/1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sha256, kB);
  EXPECT_EQ(r->recorded_at, "addition of validation.json (event 3) and promotion (event 5)");
  EXPECT_EQ(ReplayManifest(events, "lending_pd/2").status().code(), StatusCode::kDataLoss);
}

TEST(ReplayManifest, AnApprovalOfOtherBytesThanRegisteredIsDataLoss) {
  // What an earlier riskpipe recorded when a package was rewritten before its approval.
  const std::vector<Event> events = {At(1, kEventRegistered, {{"manifest_sha256", kA}}),
                                     At(2, kEventApproved, {{"manifest_sha256", kC}})};
  EXPECT_THAT(ReplayManifest(events, "lending_pd/1"),
              StatusIs(StatusCode::kDataLoss,
                       "model lending_pd/1: history is inconsistent: approval (event 2) recorded "
                       "MANIFEST sha256 " +
                           kC + ", but " + kA + " was recorded at registration (event 1)"));
}

TEST(ReplayManifest, AFileAddedToUnrecordedBytesIsDataLoss) {
  const std::vector<Event> events = {
      At(1, kEventRegistered, {{"manifest_sha256", kA}}),
      At(2, kEventFileAdded,
         {{"file", "notes.txt"}, {"previous_manifest_sha256", kC}, {"manifest_sha256", kB}})};
  EXPECT_THAT(ReplayManifest(events, "lending_pd/1"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("addition of notes.txt (event 2) changed "
                                                        "MANIFEST sha256 " +
                                                        kC)));
}

TEST(ReplayManifest, ARegistrationWithoutAHashIsDataLoss) {
  EXPECT_THAT(ReplayManifest({At(1, kEventRegistered, nlohmann::json::object())}, "lending_pd/1"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("records no MANIFEST sha256")));
}

}  // namespace
}  // namespace riskpipe::registry
