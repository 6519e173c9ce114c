// The stage machine: approval, the validation gate, promotion, rollback, archive, the
// append-only history and the "who was in production when" query.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/json.h"
#include "metastore/test_util.h"
#include "registry/registry.h"
#include "registry_test_util.h"
#include "testing/status_matchers.h"

namespace riskpipe::registry {
namespace {

using namespace std::chrono_literals;
using riskpipe::testing::StatusIs;
using test::MustRegister;
using test::PackageFiles;
using test::RegistryTest;
using test::WriteBytes;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST_F(RegistryTest, PromoteWithoutApprovalIsRefused) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  StatusOr<ModelRecord> promoted = registry().Promote(m.id, "bob");
  EXPECT_EQ(promoted.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(promoted.status().message().find("no recorded approval"), std::string::npos);
  EXPECT_EQ(StageOf(m.id), Stage::kCandidate);
}

TEST_F(RegistryTest, ApprovalNeedsWhoAndWhy) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  EXPECT_EQ(registry().Approve(m.id, "", "fine").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry().Approve(m.id, "alice", "  ").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry().Promote(m.id, "").status().code(), StatusCode::kInvalidArgument);
  StatusOr<ModelRecord> approved = registry().Approve(m.id, "alice", "OOT AUC 0.87 within policy");
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->stage, Stage::kApproved);
  // Approving twice is a stage error, not a second approval.
  EXPECT_EQ(registry().Approve(m.id, "carol", "again").status().code(),
            StatusCode::kFailedPrecondition);
  StatusOr<std::vector<Event>> history = registry().History("", m.id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].event, "approved");
  EXPECT_EQ((*history)[1].actor, "alice");
  EXPECT_EQ((*history)[1].reason, "OOT AUC 0.87 within policy");
  EXPECT_EQ((*history)[1].from_stage, "candidate");
  EXPECT_EQ((*history)[1].to_stage, "approved");
  EXPECT_EQ(nlohmann::json::parse((*history)[1].details_json)["manifest_sha256"]
                .get<std::string>()
                .size(),
            64u);
}

TEST_F(RegistryTest, ApprovingATamperedPackageIsDataLoss) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  WriteBytes(m.path / "preprocess.json", "{}");
  EXPECT_EQ(registry().Approve(m.id, "alice", "ok").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(StageOf(m.id), Stage::kCandidate);
}

TEST_F(RegistryTest, FailingValidationBlocksPromotionUnlessOverridden) {
  const ModelRecord m = Approved("lending_pd");
  ASSERT_TRUE(registry().AddFile(m.id, "validation.json", R"({"passed":false,"checks":[]})").ok());
  StatusOr<ModelRecord> refused = registry().Promote(m.id, "bob");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("validation gate did not pass"), std::string::npos);
  EXPECT_EQ(StageOf(m.id), Stage::kApproved);

  StatusOr<ModelRecord> forced = registry().Promote(m.id, "bob", "PSI alert is a known artefact");
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ(forced->stage, Stage::kProduction);
  const Event promoted = registry().History("", m.id)->back();
  EXPECT_EQ(promoted.event, "promoted");
  EXPECT_EQ(promoted.reason, "PSI alert is a known artefact");
  const auto details = nlohmann::json::parse(promoted.details_json);
  EXPECT_EQ(details["validation"], "failed");
  EXPECT_EQ(details["override_reason"], "PSI alert is a known artefact");
  EXPECT_EQ(details["approved_by"], "alice");
}

TEST_F(RegistryTest, PromotionWithoutValidationIsRefusedUnlessOverridden) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  ASSERT_TRUE(registry().Approve(m.id, "alice", "looks good").ok());
  StatusOr<ModelRecord> refused = registry().Promote(m.id, "bob");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("riskpipe validate " + m.id), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(StageOf(m.id), Stage::kApproved);
  StatusOr<ModelRecord> forced = registry().Promote(m.id, "bob", "gate not yet deployed");
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  const auto details = nlohmann::json::parse(registry().History("", m.id)->back().details_json);
  EXPECT_EQ(details["validation"], "absent");
  EXPECT_EQ(details["override_reason"], "gate not yet deployed");
}

TEST_F(RegistryTest, ValidationIsRecordedAsAnEvent) {
  const ModelRecord m = MustRegister(registry(), "lending_pd");
  ASSERT_TRUE(
      registry()
          .RecordValidation(m.id, false, "2 of 13 checks failed", R"({"failed_checks":["a"]})")
          .ok());
  const Event e = registry().History("", m.id)->back();
  EXPECT_EQ(e.event, "validated");
  EXPECT_EQ(e.actor, "riskpipe validate");
  EXPECT_EQ(e.reason, "2 of 13 checks failed");
  EXPECT_EQ(nlohmann::json::parse(e.details_json)["passed"], false);
  EXPECT_EQ(StageOf(m.id), Stage::kCandidate);
  EXPECT_EQ(registry().RecordValidation(m.id, true, "ok", "[1]").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry().RecordValidation("lending_pd/9", true, "ok", "{}").code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryTest, PassingValidationPromotesWithoutOverride) {
  const ModelRecord m = Approved("lending_pd");
  ASSERT_TRUE(registry().AddFile(m.id, "validation.json", R"({"passed":true})").ok());
  StatusOr<ModelRecord> promoted = registry().Promote(m.id, "bob");
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(registry().History("", m.id)->back().details_json)["validation"],
            "passed");
}

TEST_F(RegistryTest, ValidationWithoutBooleanPassedCountsAsFailed) {
  const ModelRecord m = Approved("lending_pd");
  ASSERT_TRUE(registry().AddFile(m.id, "validation.json", R"({"passed":"yes"})").ok());
  EXPECT_EQ(registry().Promote(m.id, "bob").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, OneProductionVersionPerName) {
  const ModelRecord v1 = InProduction("lending_pd");
  const ModelRecord other = InProduction("kueski_pd");
  const ModelRecord v2 = Approved("lending_pd");
  StatusOr<ModelRecord> promoted = registry().Promote(v2.id, "bob");
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  EXPECT_EQ(StageOf(v2.id), Stage::kProduction);
  EXPECT_EQ(StageOf(v1.id), Stage::kApproved);  // Demoted, ready for a rollback.
  EXPECT_EQ(StageOf(other.id), Stage::kProduction);
  EXPECT_EQ(registry().List("lending_pd", Stage::kProduction)->size(), 1u);
  EXPECT_EQ(registry().Get("lending_pd/production")->id, v2.id);
  EXPECT_EQ(registry().Get("production").status().code(), StatusCode::kInvalidArgument);
  const Event demoted = registry().History("", v1.id)->back();
  EXPECT_EQ(demoted.event, "demoted");
  EXPECT_EQ(demoted.from_stage, "production");
  EXPECT_EQ(demoted.to_stage, "approved");
  EXPECT_EQ(registry().Promote(v2.id, "bob").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, TheCatalogItselfRefusesASecondProductionRow) {
  InProduction("lending_pd");
  const ModelRecord v2 = Approved("lending_pd");
  metastore::Database raw = metastore::test::RawOpen(workspace() / "metastore.sqlite");
  EXPECT_THAT(
      raw.Execute("UPDATE models SET stage = 'production' WHERE model_id = '" + v2.id + "'"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("UNIQUE constraint failed: models.name")));
  EXPECT_EQ(StageOf(v2.id), Stage::kApproved);
}

TEST_F(RegistryTest, RollbackReturnsThePreviousProductionVersion) {
  const ModelRecord v1 = InProduction("lending_pd");
  const ModelRecord v2 = InProduction("lending_pd");
  const ModelRecord v3 = InProduction("lending_pd");
  StatusOr<ModelRecord> back = registry().Rollback("lending_pd", "carol", "v3 PSI alert");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, v2.id);
  EXPECT_EQ(StageOf(v2.id), Stage::kProduction);
  EXPECT_EQ(StageOf(v3.id), Stage::kApproved);
  // A second rollback keeps going back rather than toggling to v3.
  StatusOr<ModelRecord> again =
      registry().Rollback("lending_pd", "carol", "v2 also affected", /*reject_current=*/true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, v1.id);
  EXPECT_EQ(StageOf(v2.id), Stage::kRejected);
  EXPECT_EQ(registry().Rollback("lending_pd", "carol", "nothing left").status().code(),
            StatusCode::kFailedPrecondition);
  const std::vector<Event> history = *registry().History("", v2.id);
  EXPECT_EQ(history[history.size() - 2].event, "restored");
  EXPECT_EQ(history.back().event, "rolled_back");
  EXPECT_EQ(history.back().to_stage, "rejected");
}

TEST_F(RegistryTest, RollbackSkipsVersionsArchivedSince) {
  const ModelRecord v1 = InProduction("lending_pd");
  const ModelRecord v2 = InProduction("lending_pd");
  InProduction("lending_pd");
  ASSERT_TRUE(registry().Archive(v2.id, "dan", "superseded").ok());
  StatusOr<ModelRecord> back = registry().Rollback("lending_pd", "carol", "bad");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, v1.id);
  EXPECT_EQ(registry().Rollback("lending_pd", "", "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, StageRulesForRejectAndArchive) {
  const ModelRecord candidate = MustRegister(registry(), "lending_pd");
  const ModelRecord prod = InProduction("lending_pd");
  EXPECT_EQ(registry().Reject(prod.id, "x", "y").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(registry().Reject(candidate.id, "alice", "leaky feature").ok());
  EXPECT_EQ(registry().Approve(candidate.id, "alice", "oops").status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(registry().Archive(prod.id, "dan", "product retired").ok());
  EXPECT_EQ(registry().Get("lending_pd/production").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry().Archive(prod.id, "dan", "again").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, ProductionAtAnswersWhoApprovedWhatWhen) {
  const ModelRecord v1 = Approved("lending_pd");  // approved at t0
  clock_.Advance(24h);                            // t0 + 1d: v1 promoted
  ASSERT_TRUE(registry().Promote(v1.id, "bob").ok());
  clock_.Advance(24h);  // t0 + 2d: v2 registered, approved by carol
  const ModelRecord v2 = MustRegister(registry(), "lending_pd",
                                      PackageFiles({{"validation.json", R"({"passed":true})"}}));
  ASSERT_TRUE(registry().Approve(v2.id, "carol", "better KS").ok());
  clock_.Advance(24h);  // t0 + 3d: v2 promoted
  ASSERT_TRUE(registry().Promote(v2.id, "bob").ok());
  clock_.Advance(24h);  // t0 + 4d: rolled back to v1
  ASSERT_TRUE(registry().Rollback("lending_pd", "dan", "drift").ok());

  const auto t0 = metastore::test::ExampleInstant();
  const auto at = [&](auto when) { return registry().ProductionAt("lending_pd", when); };
  EXPECT_FALSE(at(t0 + 12h)->has_value());
  const auto day1 = at(t0 + 36h);
  ASSERT_TRUE(day1.ok() && day1->has_value());
  EXPECT_EQ((*day1)->model.id, v1.id);
  EXPECT_EQ((*day1)->entered.actor, "bob");
  ASSERT_TRUE((*day1)->approval.has_value());
  EXPECT_EQ((*day1)->approval->actor, "alice");
  EXPECT_EQ((*day1)->approval->reason, "looks good");
  EXPECT_EQ((*day1)->approval->at, "2026-11-23T09:41:02.123Z");
  const auto day3 = at(t0 + 72h);  // The very millisecond of the promotion counts.
  EXPECT_EQ((*day3)->model.id, v2.id);
  EXPECT_EQ((*day3)->approval->actor, "carol");
  const auto day4 = at(t0 + 100h);
  EXPECT_EQ((*day4)->model.id, v1.id);
  EXPECT_EQ((*day4)->entered.event, "restored");
  EXPECT_EQ((*day4)->approval->actor, "alice");
  // A bare date means the end of that UTC day.
  StatusOr<std::chrono::system_clock::time_point> date = ParseTimestamp("2026-11-24");
  ASSERT_TRUE(date.ok());
  EXPECT_EQ((*at(*date))->model.id, v1.id);
  EXPECT_FALSE(at(t0 - 1h)->has_value());
}

TEST_F(RegistryTest, EventsCannotBeUpdatedOrDeleted) {
  const ModelRecord m = Approved("lending_pd");
  metastore::Database raw = metastore::test::RawOpen(workspace() / "metastore.sqlite");
  const auto refused = [](const std::string& words) {
    return StatusIs(StatusCode::kInvalidArgument, HasSubstr(words));
  };
  EXPECT_THAT(raw.Execute("UPDATE model_events SET actor = 'mallory'"),
              refused("model_events is append-only: events are never updated"));
  EXPECT_THAT(raw.Execute("DELETE FROM model_events"),
              refused("model_events is append-only: events are never deleted"));
  EXPECT_THAT(raw.Execute("DELETE FROM models"), refused("models: catalog rows are never deleted"));
  EXPECT_THAT(raw.Execute("UPDATE models SET version = 9"),
              refused("models: only stage and metrics_json may change"));
  EXPECT_EQ(metastore::test::QueryText(raw,
                                       "SELECT actor FROM model_events WHERE event = "
                                       "'approved'"),
            "alice");
  EXPECT_EQ(metastore::test::QueryInt(raw, "SELECT count(*) FROM model_events"), 2);
}

TEST(Stage, NamesRoundTrip) {
  for (Stage s : {Stage::kCandidate, Stage::kApproved, Stage::kProduction, Stage::kArchived,
                  Stage::kRejected}) {
    EXPECT_EQ(*ParseStage(StageName(s)), s);
  }
  EXPECT_EQ(ParseStage("staging").status().code(), StatusCode::kInvalidArgument);
}

TEST(Stage, ParseTimestampAcceptsDatesAndUtcInstants) {
  const auto fmt = [](std::string_view text) {
    StatusOr<std::chrono::system_clock::time_point> t = ParseTimestamp(text);
    return t.ok() ? metastore::FormatUtcTimestamp(*t) : t.status().ToString();
  };
  EXPECT_EQ(fmt("2026-11-23"), "2026-11-23T23:59:59.999Z");
  EXPECT_EQ(fmt("2026-11-23T09:41:02Z"), "2026-11-23T09:41:02.000Z");
  EXPECT_EQ(fmt("2026-11-23T09:41:02.5Z"), "2026-11-23T09:41:02.500Z");
  EXPECT_EQ(fmt("2026-11-23T09:41:02.123Z"), "2026-11-23T09:41:02.123Z");
  for (const char* bad : {"2026-11-31", "2026-11-23T25:00:00Z", "2026-11-23T09:41:02", "yesterday",
                          "2026-11-23T09:41:02.1234Z", "2999-01-01"}) {
    EXPECT_EQ(ParseTimestamp(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace riskpipe::registry
