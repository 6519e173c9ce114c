#pragma once
// Monthly model monitoring (docs/monitoring.md): for a monitored month T, stability of every
// model scored in gold/predictions of T against its development reference, performance of every
// scoring month whose labels matured by the end of T (immature months as estimates), the
// governance policy evaluated into alerts (metastore + gold/monitoring_alerts) and the retrain
// recommendation the pipeline runner reads. Every table write is an atomic partition replace,
// so re-running a month gives identical tables. One call at a time per workspace.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "db/database.h"

namespace riskpipe::monitoring {

// gold tables written here (columns in /work docs/monitoring.md and gold-schemas).
inline constexpr char kPredictionsTable[] = "predictions";
inline constexpr char kStabilityTable[] = "monitoring_stability";
inline constexpr char kPerformanceTable[] = "monitoring_performance";
inline constexpr char kAlertsTable[] = "monitoring_alerts";

struct MonitorSummary {
  Month month;
  std::vector<std::string> models;        // model ids monitored (stability)
  int64_t rows = 0;                       // prediction rows of the month, all models
  std::vector<Month> performance_months;  // scoring months whose performance was (re)written
  int alerts_warn = 0, alerts_act = 0, alerts_info = 0;
  bool retrain_recommended = false;
  double seconds = 0;
};

struct MonitorOptions {
  // Compute mean |attribution| per feature this month (scores the month's feature rows with
  // the model; the slowest statistic). Off leaves `importance` rows out.
  bool importance = true;
  // Receives progress lines; may be null.
  std::function<void(const std::string&)> log;
};

// Monitors `month`. FailedPrecondition when gold/predictions has no partition for it; NotFound
// when a model id in it is unknown to the registry; errors of the stores otherwise.
StatusOr<MonitorSummary> MonitorMonth(const config::Project& project, db::Connection& con,
                                      Month month, const MonitorOptions& options = {});

// The data-quality alerts of a month that the quality gate stopped (so it has no predictions to
// monitor): the policy's dq_failures check on gold/data_quality of `month` (an error-severity
// failure is an act alert for the data engineer), raised for `model_id`, the production model
// whose decisions the month would have fed ("" when there is none yet). Replaces the month's
// alerts of that model in the metastore and gold/monitoring_alerts partition `month`. Returns
// the number of alerts; errors of the stores.
StatusOr<int> RaiseQualityAlerts(const config::Project& project, db::Connection& con, Month month,
                                 const std::string& model_id);

// The runner's retraining trigger for `model_name`.
struct RetrainTrigger {
  std::string model_name;
  std::string model_id;              // the version whose alerts recommend it
  Month month;                       // the latest month with a retrain alert
  std::vector<std::string> reasons;  // alert messages, the newest month's first
  std::vector<std::string> alert_ids;
  // The earliest month the drift behind these alerts began (their evidence's drift_since);
  // nullopt when they are scheduled refreshes in quiet months. A retrain whose calibration
  // window starts before it would fit the population the alerts are about to leave behind.
  std::optional<Month> drift_since;
};

// A trigger when an unresolved `retrain` alert exists for `model_name` in the lookback window
// (governance.retrain.lookback_months ending at `as_of`) about its newest registered version
// (alerts about versions older than the newest one are already answered by it); nullopt
// otherwise. Errors of the metastore.
StatusOr<std::optional<RetrainTrigger>> RetrainRecommended(const config::Project& project,
                                                           std::string_view model_name,
                                                           Month as_of);

// The label lag of the project's label definition in whole months (dpd: mob; outcome:
// ceil(days / 30)); 0 without a label section.
int LabelLagMonths(const config::Project& project);

}  // namespace riskpipe::monitoring
