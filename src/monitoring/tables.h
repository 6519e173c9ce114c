#pragma once
// Internal: writing the monitoring gold tables (column layouts in docs/monitoring.md). Each
// call replaces one partition atomically (datamart::Datamart::WritePartition), rows in the
// order given, so the same rows give the same table.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "metastore/metastore.h"
#include "monitoring/month_stats.h"

namespace riskpipe::monitoring::internal {

struct ModelKey {
  std::string model_id, model_name;
  int64_t model_version = 0;
};

template <typename Row>
struct Keyed {
  ModelKey model;
  Row row;
};

// SQL of the month's feature rows and the name of their key column: the gold/feature_store
// partition, or the model.dataset file's rows of that month; nullopt when there are none.
std::optional<std::pair<std::string, std::string>> FeatureRowsSql(const config::Project& project,
                                                                  const datamart::Datamart& mart,
                                                                  Month month);

StatusOr<int64_t> WriteStability(db::Connection& con, const datamart::Datamart& mart, Month month,
                                 const std::vector<Keyed<StabilityRow>>& rows);
StatusOr<int64_t> WritePerformance(db::Connection& con, const datamart::Datamart& mart, Month month,
                                   const std::vector<Keyed<PerformanceRow>>& rows);
StatusOr<int64_t> WriteAlerts(db::Connection& con, const datamart::Datamart& mart, Month month,
                              const std::vector<metastore::AlertRow>& alerts);

}  // namespace riskpipe::monitoring::internal
