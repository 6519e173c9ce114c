#pragma once
// The `governance:` section of riskpipe.yaml: the monitoring policy (docs/governance.md and
// docs/monitoring.md): warn/act thresholds per check, the retrain trigger rules, the unseen
// segment and the champion/challenger decision rule. Every field has a documented default, so
// a project without the section is monitored with the customary credit-scoring levels.
//
//   governance:
//     score_psi: {warn: 0.10, act: 0.25}
//     null_rate: {warn: 0.05, act: 0.20}
//     retrain: {on: [score_psi, auc_drop, calibration_gap], consecutive_warn_months: 3}

#include <cstdint>
#include <string>
#include <vector>

namespace riskpipe::config {

// A two-level threshold: a value at or beyond `warn` raises a warn alert, at or beyond `act` an
// act alert. For "lower is worse" checks (KS p-value) the comparison is reversed.
struct Threshold {
  double warn = 0;
  double act = 0;
};

struct RetrainRule {
  // Checks whose act-level alert recommends retraining (check names as in docs/monitoring.md).
  std::vector<std::string> on = {"score_psi", "auc_drop", "calibration_gap"};
  // This many consecutive monitored months with a warn (or act) score_psi alert also
  // recommend retraining (a slow drift never crosses the act level); 0 = off.
  int consecutive_warn_months = 3;
  // A production model older than this (months between its OOT end and the monitored month)
  // is due for its scheduled refresh; 0 = no schedule.
  int max_age_months = 12;
  // RetrainRecommended looks back this many months (the monitored month included).
  int lookback_months = 3;
};

struct GovernanceDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file

  // Stability (no labels needed). PSI 0.10 / 0.25: the customary "watch" and "act" levels.
  Threshold score_psi{0.10, 0.25};
  Threshold csi{0.10, 0.25};  // PSI of one feature against development
  // Jensen–Shannon divergence of the score bins, in bits. For small shifts JS ≈ PSI / (8 ln 2),
  // so 0.02 / 0.05 sit a little above PSI 0.10 / 0.25.
  Threshold score_js{0.02, 0.05};
  // Two-sample KS test of the score: p-value below `ks_pvalue` AND statistic at least
  // `ks_statistic` raises a warn (with a million rows every tiny shift is "significant", so
  // the effect size is required too).
  double ks_pvalue = 0.01;
  double ks_statistic = 0.10;
  // Absolute change of a feature's null share against development (0.05 = 5 points).
  Threshold null_rate{0.05, 0.20};
  // Absolute change of the approval rate against development.
  Threshold approval_rate{0.05, 0.10};

  // Performance (matured labels). Development AUC minus the month's AUC.
  Threshold auc_drop{0.03, 0.05};
  // |observed default rate - mean predicted PD|, in PD points.
  Threshold calibration_gap{0.02, 0.05};
  // Failed data-quality expectations of the month (gold/data_quality): count of failures.
  Threshold dq_failures{1, 5};

  RetrainRule retrain;

  // Unseen-segment drift test: the months after the model's out-of-time window (never used
  // in training). `unseen_months` = 0 takes every later month present.
  int unseen_months = 0;

  // Champion/challenger: the challenger wins when the lower bound of the confidence interval
  // of AUC(challenger) - AUC(champion) exceeds `min_auc_gain` and its loss rate among approved
  // applications is at most the champion's plus `max_loss_increase`.
  double compare_confidence = 0.95;
  double min_auc_gain = 0.0;
  double max_loss_increase = 0.0;
  double lgd = 1.0;  // loss given default applied to an approved default (exposure 1 unit)
};

}  // namespace riskpipe::config
