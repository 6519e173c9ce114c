#pragma once
// The governance policy (config::GovernanceDef) applied to one model-month's statistics: which
// checks breach their warn/act thresholds, the alert for each (severity, evidence, recommended
// action) and the retrain rule. Pure; thread-safe. docs/monitoring.md lists the checks.

#include <optional>
#include <string>
#include <vector>

#include "config/governance.h"
#include "core/date.h"
#include "metastore/metastore.h"
#include "monitoring/month_stats.h"
#include "monitoring/reference.h"

namespace riskpipe::monitoring {

// The performance of one scoring month that matured in the monitored month.
struct MaturedMonth {
  Month scoring_month;
  std::vector<PerformanceRow> rows;
};

// The data-quality results of the monitored month (gold/data_quality).
struct DqResult {
  int64_t failures = 0;  // failed expectations, any severity
  int64_t errors = 0;    // of which severity error: broken data (the quality gate stops them)
  // The failed expectations: layer, table, expectation, severity, observed, threshold.
  std::vector<std::vector<std::string>> failed;
};

struct PolicyInput {
  Month month;  // the monitored month
  std::string model_id, model_name;
  const Reference* reference = nullptr;
  std::vector<StabilityRow> stability;
  std::vector<MaturedMonth> matured;  // newly matured scoring months
  std::optional<DqResult> dq;         // data-quality results of the month, when known
  // Consecutive months before `month` with a score_psi alert (warn or act) for this model, and
  // the first of them (months without predictions, e.g. stopped by the quality gate, are
  // skipped, not counted).
  int prior_psi_warn_months = 0;
  std::optional<Month> prior_psi_since;
};

// Alerts raised, each with a stable alert_id (hash of month, model, check, feature); the last
// one is the `retrain` alert when the retrain rule fires. Its evidence names `drift_since`, the
// first month of the drift behind it (the start of the score PSI alert run, the scoring month
// of a performance alert), or null for a scheduled refresh in a quiet month: a retrain answers
// a drift only once its calibration window lies after that month (RetrainRecommended).
std::vector<metastore::AlertRow> EvaluatePolicy(const config::GovernanceDef& policy,
                                                const PolicyInput& input);

// sha256(month | model_id | check | feature), first 16 hex digits.
std::string AlertId(Month month, const std::string& model_id, const std::string& check,
                    const std::string& feature);

}  // namespace riskpipe::monitoring
