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

struct PolicyInput {
  Month month;  // the monitored month
  std::string model_id, model_name;
  const Reference* reference = nullptr;
  std::vector<StabilityRow> stability;
  std::vector<MaturedMonth> matured;   // newly matured scoring months
  std::optional<int64_t> dq_failures;  // failed expectations of the month, when known
  // Consecutive months before `month` with a score_psi alert (warn or act) for this model.
  int prior_psi_warn_months = 0;
};

// Alerts raised, each with a stable alert_id (hash of month, model, check, feature); the last
// one is the `retrain` alert when the retrain rule fires.
std::vector<metastore::AlertRow> EvaluatePolicy(const config::GovernanceDef& policy,
                                                const PolicyInput& input);

// sha256(month | model_id | check | feature), first 16 hex digits.
std::string AlertId(Month month, const std::string& model_id, const std::string& check,
                    const std::string& feature);

}  // namespace riskpipe::monitoring
