#pragma once
// The offline feature store: gold/feature_store, one partition per decision month, one row per
// decision event of the spine (for example each loan application) with every feature as of its
// decision date (features/feature_query.h). Building checks the point-in-time audit before
// anything is published: a violation fails the build and publishes nothing.

#include <optional>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"
#include "db/database.h"

namespace riskpipe::features {

inline constexpr char kFeatureStoreTable[] = "feature_store";

// How the one-pass window plan (SpineWindowPlan) is evaluated: kAuto in C++ when it can
// reproduce DuckDB's result exactly (features/spine_windows.h), else by DuckDB; kSql always by
// DuckDB (the tests compare the two).
enum class FeatureEngine { kAuto, kSql };

struct FeatureBuildOptions {
  // Decision months to build (inclusive); unset ends take the spine's first / last month.
  std::optional<Month> from, to;
  FeatureEngine engine = FeatureEngine::kAuto;
};

struct FeatureMonth {
  Month month;
  int64_t rows = 0;
};

struct FeatureBuildSummary {
  std::vector<FeatureMonth> months;
  int64_t rows = 0;
  size_t features = 0;
  double seconds = 0;        // end to end
  double query_seconds = 0;  // computing the features (validation and audit included)
  double write_seconds = 0;  // writing and publishing the partitions
  // The window plan's frames were computed in C++ (FeatureEngine::kAuto), not by DuckDB.
  bool frames_in_cpp = false;
};

// Builds and publishes the feature store partitions of the requested months (each replaced
// atomically; months without events get an empty partition). Validates the feature views with
// DuckDB first. FailedPrecondition without a features section or when the point-in-time audit
// finds a violation (naming the view); NotFound when a source table is missing.
StatusOr<FeatureBuildSummary> BuildFeatureStore(const config::Project& project,
                                                db::Connection& con,
                                                const FeatureBuildOptions& options);

}  // namespace riskpipe::features
