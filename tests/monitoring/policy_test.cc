// Tests of the governance policy (monitoring/policy.h) and of the `governance:` section's
// parsing: thresholds and their defaults, severities and actions, the retrain rule.

#include "core/json.h"
#include "monitoring/policy.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace riskpipe::monitoring {
namespace {

PolicyInput Input(double psi, double null_now = 0, double null_ref = 0) {
  PolicyInput in;
  in.month = *Month::Parse("2024-07");
  in.model_id = "m/1";
  in.model_name = "m";
  in.stability.push_back({"score_psi", "", "", psi, std::nullopt, 100});
  in.stability.push_back({"null_rate", "fe_7", "", null_now, null_ref, 100});
  return in;
}

const metastore::AlertRow* Find(const std::vector<metastore::AlertRow>& a,
                                const std::string& check) {
  for (const auto& x : a) {
    if (x.check_name == check) return &x;
  }
  return nullptr;
}

TEST(Policy, PsiBelowWarnRaisesNothing) {
  EXPECT_TRUE(EvaluatePolicy(config::GovernanceDef{}, Input(0.0999)).empty());
}

TEST(Policy, PsiAtWarnIsAWarnToInvestigate) {
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, Input(0.10));
  const auto* a = Find(alerts, "score_psi");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "warn");
  EXPECT_EQ(a->action, "investigate");
  EXPECT_DOUBLE_EQ(*a->threshold, 0.10);
  EXPECT_EQ(Find(alerts, "retrain"), nullptr);
  EXPECT_EQ(a->alert_id, AlertId(*Month::Parse("2024-07"), "m/1", "score_psi", ""));
}

TEST(Policy, PsiAtActRecommendsRetraining) {
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, Input(0.25));
  ASSERT_NE(Find(alerts, "score_psi"), nullptr);
  EXPECT_EQ(Find(alerts, "score_psi")->severity, "act");
  EXPECT_EQ(Find(alerts, "score_psi")->action, "retrain");
  ASSERT_NE(Find(alerts, "retrain"), nullptr);
  EXPECT_EQ(Find(alerts, "retrain")->action, "retrain");
}

TEST(Policy, NullRateJumpIsAnActAlertToInvestigateNotRetrain) {
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, Input(0.0, 1.0, 0.01));
  const auto* a = Find(alerts, "null_rate");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "act");
  EXPECT_EQ(a->action, "investigate");
  EXPECT_EQ(a->feature, "fe_7");
  EXPECT_EQ(Find(alerts, "retrain"), nullptr);
}

TEST(Policy, ConsecutiveWarnMonthsRecommendRetraining) {
  config::GovernanceDef p;
  p.retrain.consecutive_warn_months = 3;
  PolicyInput in = Input(0.12);
  in.prior_psi_warn_months = 1;
  EXPECT_EQ(Find(EvaluatePolicy(p, in), "retrain"), nullptr);
  in.prior_psi_warn_months = 2;
  EXPECT_NE(Find(EvaluatePolicy(p, in), "retrain"), nullptr);
}

TEST(Policy, AucDropOfANewlyMaturedMonthUsesTheDevelopmentAuc) {
  Reference ref;
  ref.auc = 0.80;
  PolicyInput in = Input(0.0);
  in.reference = &ref;
  MaturedMonth m;
  m.scoring_month = *Month::Parse("2024-01");
  m.rows.push_back({"matured", "auc", "", 0.76, 0.79, 100, 100});
  in.matured.push_back(m);
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, in);
  const auto* a = Find(alerts, "auc_drop");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "warn");  // 0.04: above warn 0.03, below act 0.05
  EXPECT_NEAR(*a->value, 0.04, 1e-12);
}

TEST(Policy, CalibrationGapAtActRecommendsRetraining) {
  PolicyInput in = Input(0.0);
  MaturedMonth m;
  m.scoring_month = *Month::Parse("2024-01");
  m.rows.push_back({"matured", "default_rate", "", 0.36, 0.25, 100, 100});
  m.rows.push_back({"matured", "mean_pd", "", 0.25, 0.25, 100, 100});
  in.matured.push_back(m);
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, in);
  ASSERT_NE(Find(alerts, "calibration_gap"), nullptr);
  EXPECT_EQ(Find(alerts, "calibration_gap")->severity, "act");
  EXPECT_NE(Find(alerts, "retrain"), nullptr);
}

std::string DriftSince(const std::vector<metastore::AlertRow>& alerts) {
  const auto* r = Find(alerts, "retrain");
  if (r == nullptr) return "no retrain alert";
  const auto e = nlohmann::json::parse(r->evidence_json);
  return e.at("drift_since").is_null() ? "null" : e.at("drift_since").get<std::string>();
}

TEST(Policy, RetrainEvidenceNamesTheFirstMonthOfThePsiRun) {
  PolicyInput in = Input(0.12);
  in.prior_psi_warn_months = 2;
  in.prior_psi_since = *Month::Parse("2024-05");
  EXPECT_EQ(DriftSince(EvaluatePolicy(config::GovernanceDef{}, in)), "2024-05");
  // An act PSI with no run before it: the drift began this month.
  EXPECT_EQ(DriftSince(EvaluatePolicy(config::GovernanceDef{}, Input(0.30))), "2024-07");
}

TEST(Policy, PerformanceRetrainDriftBeganWithTheScoringMonth) {
  PolicyInput in = Input(0.0);
  MaturedMonth m;
  m.scoring_month = *Month::Parse("2024-01");
  m.rows.push_back({"matured", "default_rate", "", 0.46, 0.40, 500, 500});
  m.rows.push_back({"matured", "mean_pd", "", 0.40, 0.40, 500, 500});
  in.matured.push_back(m);
  EXPECT_EQ(DriftSince(EvaluatePolicy(config::GovernanceDef{}, in)), "2024-01");
}

TEST(Policy, ScheduledRefreshInAQuietMonthHasNoDriftStart) {
  Reference ref;
  ref.oot_end = *Month::Parse("2023-06");
  PolicyInput in = Input(0.0);
  in.reference = &ref;
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, in);
  ASSERT_NE(Find(alerts, "retrain"), nullptr);
  EXPECT_EQ(DriftSince(alerts), "null");
}

DqResult Dq(int errors, int warnings) {
  DqResult dq;
  for (int i = 0; i < errors; ++i) {
    dq.failed.push_back({"silver", "clicks", "fe_7_present", "error", "1", "<= 0.01"});
  }
  for (int i = 0; i < warnings; ++i) {
    dq.failed.push_back({"silver", "fin", "income_distribution", "warn", "0.12", "<= 0.05"});
  }
  dq.errors = errors;
  dq.failures = errors + warnings;
  return dq;
}

TEST(Policy, AnErrorSeverityQualityFailureIsAnActAlertForTheDataEngineer) {
  PolicyInput in = Input(0.0);
  in.dq = Dq(1, 0);
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, in);
  const auto* a = Find(alerts, "dq_failures");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->severity, "act");  // one failure, below the count threshold 5, but broken data
  EXPECT_EQ(a->action, "investigate");
  EXPECT_NE(a->message.find("silver/clicks fe_7_present"), std::string::npos) << a->message;
  const auto e = nlohmann::json::parse(a->evidence_json);
  EXPECT_EQ(e.at("errors"), 1);
  EXPECT_EQ(e.at("failed").at(0).at("expectation"), "fe_7_present");
  EXPECT_EQ(Find(alerts, "retrain"), nullptr);  // broken data is not a reason to retrain
}

TEST(Policy, WarnSeverityQualityFailuresFollowTheCountThresholds) {
  PolicyInput in = Input(0.0);
  in.dq = Dq(0, 2);
  // The alerts are kept in a variable: Find points into them.
  const auto alerts = EvaluatePolicy(config::GovernanceDef{}, in);
  const auto* warn = Find(alerts, "dq_failures");
  ASSERT_NE(warn, nullptr);
  EXPECT_EQ(warn->severity, "warn");
  in.dq = Dq(0, 5);
  const auto more = EvaluatePolicy(config::GovernanceDef{}, in);
  ASSERT_NE(Find(more, "dq_failures"), nullptr);
  EXPECT_EQ(Find(more, "dq_failures")->severity, "act");
  in.dq = Dq(0, 0);
  EXPECT_EQ(Find(EvaluatePolicy(config::GovernanceDef{}, in), "dq_failures"), nullptr);
}

constexpr char kProject[] = R"(project: p
workspace: ws
sources:
  - name: t
    file: raw/t.csv
    date_column: d
    columns:
      - {name: id, type: string}
      - {name: d, type: date}
)";

TEST(GovernanceConfig, AbsentSectionGivesDocumentedDefaults) {
  auto p = config::ParseProject(kProject, "/tmp/proj/riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->governance.present);
  EXPECT_DOUBLE_EQ(p->governance.score_psi.warn, 0.10);
  EXPECT_DOUBLE_EQ(p->governance.score_psi.act, 0.25);
  EXPECT_EQ(p->governance.retrain.consecutive_warn_months, 3);
}

TEST(GovernanceConfig, ThresholdsAndRetrainRulesAreRead) {
  auto p = config::ParseProject(std::string(kProject) +
                                    "governance:\n  score_psi: {warn: 0.2, act: 0.4}\n"
                                    "  retrain: {on: [auc_drop], consecutive_warn_months: 0}\n"
                                    "  unseen_months: 6\n",
                                "/tmp/proj/riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->governance.present);
  EXPECT_DOUBLE_EQ(p->governance.score_psi.warn, 0.2);
  EXPECT_DOUBLE_EQ(p->governance.score_psi.act, 0.4);
  EXPECT_DOUBLE_EQ(p->governance.csi.warn, 0.10);
  EXPECT_EQ(p->governance.retrain.on, std::vector<std::string>{"auc_drop"});
  EXPECT_EQ(p->governance.unseen_months, 6);
}

TEST(GovernanceConfig, UnknownKeyIsAnErrorNamingKeyAndLine) {
  auto p = config::ParseProject(
      std::string(kProject) + "governance:\n  score_psi: {warn: 0.2, akt: 0.4}\n",
      "/tmp/proj/riskpipe.yaml");
  ASSERT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("akt"), std::string::npos) << p.status().ToString();
  EXPECT_NE(p.status().message().find(":11"), std::string::npos) << p.status().ToString();
}

TEST(GovernanceConfig, ActBelowWarnIsRefused) {
  auto p =
      config::ParseProject(std::string(kProject) + "governance:\n  csi: {warn: 0.3, act: 0.2}\n",
                           "/tmp/proj/riskpipe.yaml");
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
}

TEST(GovernanceConfig, UnknownRetrainCheckIsRefused) {
  auto p = config::ParseProject(std::string(kProject) + "governance:\n  retrain: {on: [psi]}\n",
                                "/tmp/proj/riskpipe.yaml");
  ASSERT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("psi"), std::string::npos);
}

}  // namespace
}  // namespace riskpipe::monitoring
