// Tests of the champion/challenger analysis (DeLong interval, decision rule) on predictions
// written here, and of the unseen-segment drift test with a small registered linear model.

#include "monitoring/compare.h"

#include <gtest/gtest.h>

#include <cmath>

#include "datamart/datamart.h"
#include "model/package.h"
#include "monitoring/reference.h"
#include "registry/registry.h"
#include "stats/metrics.h"
#include "testing/temp_dir.h"

namespace riskpipe::monitoring {
namespace {

using datamart::Layer;
using riskpipe::testing::TempDir;

class CompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_.workspace = dir_.path() / "ws";
    config::LabelDef label;
    label.name = "bad";
    label.loan_key = "loan_id";
    label.mob = 1;
    project_.label = label;
    project_.features.spine.key = "loan_id";
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok());
    db_.emplace(std::move(*database));
    auto con = db_->Connect();
    ASSERT_TRUE(con.ok());
    con_.emplace(std::move(*con));
    const datamart::Datamart mart(project_.workspace.datamart());
    // 4000 loans, label 1 for hash-chosen rows; the strong model ranks by the label plus
    // noise, the weak one mostly by noise.
    const std::string base =
        "FROM (SELECT i, 'L' || i::VARCHAR AS id, (hash(i) % 100 < 20)::INTEGER AS y, "
        "(hash(i * 7 + 1) % 1000) / 1000.0 AS n1, (hash(i * 13 + 5) % 1000) / 1000.0 AS n2 "
        "FROM range(4000) t(i))";
    const std::string cols =
        "id AS event_id, 'c' AS entity_id, DATE '2024-01-05' AS decision_date, 'champion' AS "
        "role, 0.0::DOUBLE AS margin, 'A' AS score_band, 'approve' AS decision, "
        "0.3::DOUBLE AS threshold, NULL::VARCHAR AS reason_1, NULL::VARCHAR AS reason_2, "
        "NULL::VARCHAR AS reason_3, 'default' AS reason_table_version";
    ASSERT_TRUE(
        mart.WritePartition(*con_, Layer::kGold, "predictions", Date::FromCivil(2024, 1, 1),
                            "SELECT " + cols +
                                ", 'm/1' AS model_id, 'm' AS model_name, 1 AS model_version, "
                                "(0.1 * y + 0.4 * n1)::DOUBLE AS pd " +
                                base + " UNION ALL SELECT " + cols +
                                ", 'm/2', 'm', 2, (0.3 * y + 0.2 * n2)::DOUBLE " + base)
            .ok());
    ASSERT_TRUE(
        mart.WritePartition(*con_, Layer::kGold, "label_store", Date::FromCivil(2024, 1, 1),
                            "SELECT id AS loan_id, 'c' AS customer_id, DATE '2024-01-05' AS "
                            "application_date, 'bad' AS label_def, y AS label, "
                            "NULL::INTEGER AS dpd_at_mob, DATE '2024-02-05' AS "
                            "label_available_date " +
                                base)
            .ok());
  }

  TempDir dir_;
  config::Project project_;
  std::optional<db::Database> db_;
  std::optional<db::Connection> con_;
};

TEST_F(CompareTest, BetterChallengerIsPromotedWithADeLongInterval) {
  auto r = CompareModels(project_, *con_, "m/1", "m/2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 4000);
  EXPECT_EQ(r->labelled, 4000);
  EXPECT_GT(r->challenger.auc, r->champion.auc);
  EXPECT_NEAR(r->auc_diff, r->challenger.auc - r->champion.auc, 1e-12);
  EXPECT_GT(r->auc_diff_lower, 0);
  EXPECT_LT(r->auc_diff_lower, r->auc_diff);
  EXPECT_GT(r->auc_diff_upper, r->auc_diff);
  EXPECT_EQ(r->decision, "promote challenger");
  EXPECT_NE(r->rule.find("95%"), std::string::npos);
}

TEST_F(CompareTest, WorseChallengerKeepsTheChampion) {
  auto r = CompareModels(project_, *con_, "m/2", "m/1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->auc_diff_upper, 0);
  EXPECT_EQ(r->decision, "keep champion");
}

TEST_F(CompareTest, LabelsNotYetKnownAreNotUsed) {
  CompareOptions o;
  o.labels_as_of = Date::FromCivil(2024, 2, 4);  // a day before every label
  auto r = CompareModels(project_, *con_, "m/1", "m/2", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->labelled, 0);
  EXPECT_EQ(r->decision, "inconclusive");
}

TEST_F(CompareTest, SameIdIsInvalidAndUnknownIdHasNoRows) {
  EXPECT_EQ(CompareModels(project_, *con_, "m/1", "m/1").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompareModels(project_, *con_, "m/1", "m/9").status().code(),
            StatusCode::kFailedPrecondition);
}

// A registered logistic model on one feature x, and its reference with OOT ending 2024-01.
class UnseenTest : public CompareTest {
 protected:
  void SetUp() override {
    CompareTest::SetUp();
    model::Frame frame;
    frame.rows = 200;
    model::FrameColumn x;
    x.name = "x";
    for (int i = 0; i < 200; ++i) x.numbers.push_back(i % 100);
    frame.columns.push_back(x);
    std::vector<uint32_t> rows(200);
    for (uint32_t i = 0; i < 200; ++i) rows[i] = i;
    auto pre = model::Preprocessor::Fit(frame, {"x"}, rows, 20);
    ASSERT_TRUE(pre.ok()) << pre.status().ToString();
    model::LogisticFit fit;
    fit.beta = {1.0};
    fit.intercept = -1.0;
    model::DecisionPolicy policy;
    policy.threshold = 0.5;
    model::ModelPackage package(
        *pre, std::make_unique<model::LinearEstimator>(std::vector<std::string>{"x"}, fit),
        model::Calibrator(), policy);
    auto reg = registry::Registry::Open(project_.workspace);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    auto staging = reg->NewStagingDir("u");
    ASSERT_TRUE(staging.ok());
    ASSERT_TRUE(package.Save(*staging).ok());
    ASSERT_TRUE(model::WritePackageFile(*staging, "metadata.json", "{}").ok());
    registry::RegisterInfo info;
    info.family = "logistic";
    auto record = reg->Register(*staging, "u", info);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    auto scores = package.Score(frame);
    ASSERT_TRUE(scores.ok());
    Reference ref = BuildReference(frame, {"x"}, scores->pd, nullptr, {1.0}, 0.5);
    ref.model_id = "u/1";
    ref.model_name = "u";
    ref.model_version = 1;
    ref.oot_end = *Month::Parse("2024-01");
    ASSERT_TRUE(SaveReference(ref, ReferenceDir(project_, "u/1")).ok());
  }

  void WriteFeatures(const std::string& month, const std::string& x_expr) {
    const datamart::Datamart mart(project_.workspace.datamart());
    ASSERT_TRUE(mart.WritePartition(*con_, Layer::kGold, "feature_store",
                                    Month::Parse(month)->first_day(),
                                    "SELECT '" + month +
                                        "-' || i::VARCHAR AS loan_id, 'c' AS customer_id, "
                                        "DATE '" +
                                        month + "-03' AS decision_date, (" + x_expr +
                                        ")::DOUBLE AS x FROM range(200) t(i)")
                    .ok());
  }
};

TEST_F(UnseenTest, SegmentLikeDevelopmentPasses) {
  WriteFeatures("2024-01", "i % 100");  // inside the OOT window: not part of the segment
  WriteFeatures("2024-02", "(i * 37) % 100");
  auto r = UnseenSegmentCheck(project_, *con_, "u/1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->segment, "decision months 2024-02..2024-02");
  EXPECT_EQ(r->rows, 200);
  EXPECT_NEAR(r->score_psi, 0, 1e-9);
  EXPECT_TRUE(r->passed);
  EXPECT_NE(r->why.find("out-of-time"), std::string::npos);
}

TEST_F(UnseenTest, ShiftedSegmentFailsNamingTheFeature) {
  WriteFeatures("2024-02", "(i % 100) + 60");
  WriteFeatures("2024-03", "(i % 100) + 80");
  auto r = UnseenSegmentCheck(project_, *con_, "u/1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 400);
  EXPECT_FALSE(r->passed);
  EXPECT_EQ(r->drifted, std::vector<std::string>{"x"});
  EXPECT_GT(r->score_psi, 0.25);
}

TEST_F(UnseenTest, EmptySegmentIsFailedPrecondition) {
  WriteFeatures("2024-01", "i % 100");
  EXPECT_EQ(UnseenSegmentCheck(project_, *con_, "u/1").status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace riskpipe::monitoring
