// The validation gate on real trained packages: a well-behaved model passes every check, each
// planted problem fails its own check, and the verdict is stored in the package and the
// registry history, where promotion reads it.

#include "core/json.h"
#include "validation/validation.h"

#include <gtest/gtest.h>

#include "datamart/datamart.h"
#include "testing/temp_dir.h"
#include "training/trainer.h"
#include "validation_data.h"

namespace riskpipe::validation {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using riskpipe::testing::ReadAll;
using riskpipe::testing::TempDir;
using test::kLogistic;
using test::kStump;
using test::LoansSpec;
using test::ProjectYaml;

// Every check the gate runs, in report order.
const char* const kChecks[] = {"oot_auc_floor",        "oot_ks_floor",
                               "logistic_baseline",    "production_benchmark",
                               "monthly_stability",    "segment_performance",
                               "protected_not_inputs", "protected_invariance",
                               "directional_expectations", "perturbation_robustness",
                               "missing_values",       "calibration",
                               "fairness_four_fifths"};

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok());
    database_.emplace(std::move(*database));
    auto con = database_->Connect();
    ASSERT_TRUE(con.ok());
    con_.emplace(std::move(*con));
  }

  config::Project Project(const std::string& yaml) {
    auto p = config::ParseProject(yaml, dir_.path() / "riskpipe.yaml");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : config::Project{};
  }

  registry::Registry& Registry() {
    if (!registry_) {
      registry::Options options;
      options.warn = [](const std::string&) {};
      auto r = registry::Registry::Open(dir_.path() / "ws", options);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      registry_.emplace(std::move(*r));
    }
    return *registry_;
  }

  // Trains `project`'s model on loans.csv and registers it; returns the model id.
  std::string TrainAndRegister(const config::Project& project) {
    auto staging = Registry().NewStagingDir(project.model->name);
    EXPECT_TRUE(staging.ok());
    training::TrainOptions options;
    options.cutoff = Date::FromCivil(2024, 6, 1);
    options.checkpoint_root = dir_.path() / "ws" / "checkpoints";
    auto outcome = training::Train(project, *con_, options, *staging);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    if (!outcome.ok()) return "";
    auto record = Registry().Register(*staging, project.model->name, {});
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? record->id : "";
  }

  ValidationReport Validate(const config::Project& project, const std::string& ref) {
    auto report = ValidateModel(project, *con_, Registry(), ref);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : ValidationReport{};
  }

  // Writes the data, trains with `train_yaml`, validates with `validate_yaml` (the same
  // project unless given).
  ValidationReport TrainThenValidate(const LoansSpec& spec, const std::string& train_yaml,
                                     const std::string& validate_yaml = "") {
    dir_.Write("loans.csv", test::LoansCsv(spec));
    const std::string id = TrainAndRegister(Project(train_yaml));
    return Validate(Project(validate_yaml.empty() ? train_yaml : validate_yaml), id);
  }

  static const CheckResult& Check(const ValidationReport& r, const std::string& name) {
    for (const auto& c : r.checks) {
      if (c.name == name) return c;
    }
    ADD_FAILURE() << "no check " << name;
    static const CheckResult none;
    return none;
  }

  TempDir dir_;
  std::optional<db::Database> database_;
  std::optional<db::Connection> con_;
  std::optional<registry::Registry> registry_;
};

constexpr char kProtected[] = "  protected_attributes: [gender]\n  monotone: {delays: 1}\n";

TEST_F(ValidationTest, AWellBehavedModelPassesEveryCheckAndIsStored) {
  const std::string yaml = ProjectYaml(kLogistic, kProtected);
  const ValidationReport r = TrainThenValidate(LoansSpec{}, yaml);
  for (const auto& c : r.checks) EXPECT_TRUE(c.passed) << c.name << ": " << c.rationale;
  EXPECT_TRUE(r.passed);
  ASSERT_EQ(r.checks.size(), std::size(kChecks));
  for (size_t i = 0; i < r.checks.size(); ++i) EXPECT_EQ(r.checks[i].name, kChecks[i]);
  EXPECT_EQ(Check(r, "production_benchmark").status, "not applicable");
  EXPECT_GT(Check(r, "oot_auc_floor").value.get<double>(), 0.7);
  // Three OOT months of 500 rows each are reported.
  EXPECT_EQ(Check(r, "monthly_stability").details.size(), 3u);
  // Automatic segments: job levels, income quartiles and the protected attribute.
  const std::string segments = Check(r, "segment_performance").details.dump();
  for (const char* s : {"\"job\"", "\"income\"", "\"gender\""}) {
    EXPECT_NE(segments.find(s), std::string::npos) << s << " " << segments;
  }
  // Fairness reports both gender groups with their sizes.
  const json& fair = Check(r, "fairness_four_fifths").details;
  ASSERT_EQ(fair.size(), 1u);
  EXPECT_EQ(fair[0]["groups"].size(), 2u);
  EXPECT_GT(fair[0]["groups"][0]["rows"].get<int>(), 600);

  // Stored in the package (MANIFEST still verifies) and in the history.
  auto dir = Registry().VerifiedPath(r.model_id);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  const json stored = json::parse(ReadAll(*dir / "validation.json"));
  EXPECT_EQ(stored["passed"], true);
  EXPECT_EQ(stored["model_id"], r.model_id);
  EXPECT_TRUE(stored["data"]["same_rows_as_training"].get<bool>());
  ASSERT_EQ(stored["checks"].size(), std::size(kChecks));
  for (const auto& c : stored["checks"]) {
    for (const char* key : {"name", "value", "threshold", "passed", "rationale", "details"}) {
      EXPECT_TRUE(c.contains(key)) << c["name"] << " lacks " << key;
    }
  }
  const auto history = Registry().History("", r.model_id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->back().event, "validated");
  EXPECT_EQ(history->back().reason, "all 13 checks passed");
}

TEST_F(ValidationTest, NoProtectedAttributesIsReportedNotApplicable) {
  const ValidationReport r = TrainThenValidate(LoansSpec{}, ProjectYaml(kLogistic));
  for (const char* name : {"protected_not_inputs", "protected_invariance", "fairness_four_fifths"}) {
    EXPECT_EQ(Check(r, name).status, "not applicable") << name;
    EXPECT_TRUE(Check(r, name).passed) << name;
  }
}

TEST_F(ValidationTest, AProtectedAttributeAsInputFailsInvariance) {
  LoansSpec spec;
  spec.gender_effect = 1.0;
  // Trained without declaring gender protected, so gender is an input; validated with it.
  const ValidationReport r =
      TrainThenValidate(spec, ProjectYaml(kLogistic), ProjectYaml(kLogistic, kProtected));
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(Check(r, "protected_not_inputs").passed);
  EXPECT_EQ(Check(r, "protected_not_inputs").value, 1);
  EXPECT_FALSE(Check(r, "protected_invariance").passed);
  EXPECT_GT(Check(r, "protected_invariance").value.get<double>(), 0.05);
}

TEST_F(ValidationTest, AllowedProtectedInputStillFailsInvarianceWhenItMovesPds) {
  LoansSpec spec;
  spec.gender_effect = 1.0;
  const ValidationReport r = TrainThenValidate(
      spec, ProjectYaml(kLogistic),
      ProjectYaml(kLogistic, kProtected, "validation:\n  allow_protected_inputs: true\n"));
  EXPECT_TRUE(Check(r, "protected_not_inputs").passed);
  EXPECT_FALSE(Check(r, "protected_invariance").passed);
}

TEST_F(ValidationTest, ABrokenDirectionFails) {
  LoansSpec spec;
  spec.delays_coef = -0.35;  // the data says more delays, fewer defaults
  const ValidationReport r = TrainThenValidate(
      spec, ProjectYaml(kLogistic),
      ProjectYaml(kLogistic, "", "validation:\n  directions: {delays: 1}\n"));
  const CheckResult& c = Check(r, "directional_expectations");
  EXPECT_FALSE(c.passed);
  // A linear model is wrong on every row whose bumped value stays inside the training range;
  // the few rows already at the training maximum stay put (inputs are clipped to it).
  EXPECT_GT(c.value.get<double>(), 0.99);
  EXPECT_EQ(c.details[0]["feature"], "delays");
}

TEST_F(ValidationTest, TheModelsOwnMonotoneMapIsTheDefaultDirection) {
  const ValidationReport r = TrainThenValidate(LoansSpec{}, ProjectYaml(kLogistic, kProtected));
  const CheckResult& c = Check(r, "directional_expectations");
  EXPECT_TRUE(c.passed);
  ASSERT_EQ(c.details.size(), 1u);
  EXPECT_EQ(c.details[0]["feature"], "delays");
  EXPECT_EQ(c.details[0]["violations"], 0);
}

TEST_F(ValidationTest, AModelMuchWorseThanTheLogisticBaselineFails) {
  const ValidationReport r = TrainThenValidate(LoansSpec{}, ProjectYaml(kStump));
  const CheckResult& c = Check(r, "logistic_baseline");
  EXPECT_FALSE(c.passed);
  EXPECT_GT(c.value.get<double>(), 0.05);
  EXPECT_GT(c.details["baseline_auc"].get<double>(), c.details["model_auc"].get<double>());
}

TEST_F(ValidationTest, AChallengerWorseThanProductionFails) {
  dir_.Write("loans.csv", test::LoansCsv(LoansSpec{}));
  const std::string good = TrainAndRegister(Project(ProjectYaml(kLogistic)));
  ASSERT_TRUE(Registry().Approve(good, "alice", "ok").ok());
  ASSERT_TRUE(Registry().Promote(good, "bob", "test setup").ok());
  const std::string weak = TrainAndRegister(Project(ProjectYaml(kStump)));
  const ValidationReport r = Validate(Project(ProjectYaml(kStump)), weak);
  const CheckResult& c = Check(r, "production_benchmark");
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.details["production_id"], good);
  // The production version itself is not compared with itself.
  const ValidationReport self = Validate(Project(ProjectYaml(kLogistic)), good);
  EXPECT_EQ(Check(self, "production_benchmark").status, "not applicable");
}

TEST_F(ValidationTest, AWeakSegmentFailsAndATinyOneIsSkipped) {
  LoansSpec spec;
  spec.random_west = true;
  const ValidationReport r = TrainThenValidate(
      spec, ProjectYaml(kLogistic),
      ProjectYaml(kLogistic, "", "validation:\n  segments:\n    - {column: region}\n"));
  const CheckResult& c = Check(r, "segment_performance");
  EXPECT_FALSE(c.passed);
  std::map<std::string, std::string> status;
  for (const auto& d : c.details) {
    if (d["column"] == "region") status[d["segment"]] = d["status"];
  }
  EXPECT_EQ(status["west"], "failed");
  EXPECT_EQ(status["north"], "passed");
  EXPECT_EQ(status["east"].rfind("skipped", 0), 0u) << status["east"];
}

TEST_F(ValidationTest, AnUnknownSegmentColumnIsAConfigError) {
  dir_.Write("loans.csv", test::LoansCsv(LoansSpec{}));
  const std::string id = TrainAndRegister(Project(ProjectYaml(kLogistic)));
  auto r = ValidateModel(
      Project(ProjectYaml(kLogistic, "", "validation:\n  segments: [{column: planet}]\n")), *con_,
      Registry(), id);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("planet"), std::string::npos);
}

TEST_F(ValidationTest, AMonthOfNoiseFailsStability) {
  LoansSpec spec;
  spec.random_last_month = true;
  // The noisy month drags the OOT AUC down: let training choose the model anyway.
  const ValidationReport r =
      TrainThenValidate(spec, ProjectYaml(kLogistic, "  selection: {max_oot_drop: 0.5}\n"));
  const CheckResult& c = Check(r, "monthly_stability");
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.details[2]["month"], "2023-12");
  EXPECT_EQ(c.details[2]["status"], "failed");
  EXPECT_EQ(c.details[0]["status"], "passed");
}

TEST_F(ValidationTest, UnequalApprovalRatesFailTheFourFifthsRule) {
  LoansSpec spec;
  spec.poorer_group_f = true;
  const ValidationReport r = TrainThenValidate(spec, ProjectYaml(kLogistic, kProtected));
  EXPECT_TRUE(Check(r, "protected_invariance").passed);  // gender is not an input...
  const CheckResult& c = Check(r, "fairness_four_fifths");
  EXPECT_FALSE(c.passed);  // ...but income carries it into the decisions
  EXPECT_LT(c.value.get<double>(), 0.8);
}

TEST_F(ValidationTest, ThresholdsComeFromConfig) {
  const ValidationReport r = TrainThenValidate(
      LoansSpec{}, ProjectYaml(kLogistic),
      ProjectYaml(kLogistic, "",
                  "validation:\n  min_auc: 0.99\n  max_noise_pd_change_p99: 0\n"
                  "  calibration_abs_tolerance: 0\n  calibration_rel_tolerance: 0\n"));
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(Check(r, "oot_auc_floor").passed);
  EXPECT_DOUBLE_EQ(Check(r, "oot_auc_floor").threshold.get<double>(), 0.99);
  EXPECT_FALSE(Check(r, "perturbation_robustness").passed);
  EXPECT_TRUE(Check(r, "oot_ks_floor").passed);
  EXPECT_TRUE(Check(r, "missing_values").passed);
  const auto history = Registry().History("", r.model_id);
  EXPECT_EQ(history->back().event, "validated");
  EXPECT_NE(history->back().reason.find("checks failed"), std::string::npos);
}

TEST_F(ValidationTest, PromotionNeedsAPassingValidationOrARecordedOverride) {
  dir_.Write("loans.csv", test::LoansCsv(LoansSpec{}));
  const config::Project strict =
      Project(ProjectYaml(kLogistic, "", "validation:\n  min_auc: 0.99\n"));
  const std::string id = TrainAndRegister(strict);
  ASSERT_TRUE(Registry().Approve(id, "alice", "leaderboard reviewed").ok());
  auto unvalidated = Registry().Promote(id, "bob");
  EXPECT_EQ(unvalidated.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unvalidated.status().message().find("riskpipe validate " + id), std::string::npos)
      << unvalidated.status().message();
  EXPECT_FALSE(Validate(strict, id).passed);
  EXPECT_EQ(Registry().Promote(id, "bob").status().code(), StatusCode::kFailedPrecondition);
  auto forced = Registry().Promote(id, "bob", "AUC floor is set for a different product");
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  const json details = json::parse(Registry().History("", id)->back().details_json);
  EXPECT_EQ(details["validation"], "failed");
  EXPECT_EQ(details["override_reason"], "AUC floor is set for a different product");
}

// Features no application of the month and the month before carries: what the pipeline
// leaves out of a training and the production benchmark scores both models without.
TEST_F(ValidationTest, FeaturesAbsentFromTwoMonthsOfApplicationsAreFound) {
  config::Project project;
  project.name = "p";
  project.workspace = dir_.path() / "ws";
  config::FeatureView view;
  view.name = "v";
  for (const char* f : {"kept", "gone", "outage"}) view.features.push_back({f, f, "", 0});
  project.features.views.push_back(view);
  const datamart::Datamart mart(project.workspace.datamart());
  auto write = [&](const char* month, const char* outage) {
    ASSERT_TRUE(mart.WritePartition(*con_, datamart::Layer::kGold, "feature_store",
                                    *ParseIsoDate(month),
                                    std::string("SELECT i AS loan_id, i * 1.0 AS kept, "
                                                "NULL::DOUBLE AS gone, ") +
                                        outage + " AS outage FROM range(10) t(i)")
                    .ok());
  };
  const Month jul = *Month::Parse("2024-07");
  write("2024-07-01", "NULL::DOUBLE");
  // One month is not enough: an outage must not drop a feature for a year.
  auto one = FeaturesAbsentFromApplications(project, *con_, jul);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_TRUE(one->empty());
  write("2024-05-01", "i * 1.0");  // 2024-06 is missing: the newest partition before counts
  auto two = FeaturesAbsentFromApplications(project, *con_, jul);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(*two, std::vector<std::string>{"gone"});
  // Months after `month` do not count (a replay must not use the future).
  auto earlier = FeaturesAbsentFromApplications(project, *con_, *Month::Parse("2024-06"));
  ASSERT_TRUE(earlier.ok());
  EXPECT_TRUE(earlier->empty());
}

}  // namespace
}  // namespace riskpipe::validation
