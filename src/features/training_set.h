#pragma once
// Training sets by historical retrieval (what Feast calls get_historical_features): for a set
// of (entity, decision date) events, the feature vector as of each date, joined with the
// event's label when that label was knowable on the cutoff date. Results stream from DuckDB
// (COPY ... TO), so memory stays bounded by DuckDB's memory limit, not by the row count.

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"
#include "db/database.h"

namespace riskpipe::features {

struct TrainingSetRequest {
  // Events: a SQL relation with columns (<entity>, decision_date) and optionally the spine key
  // (its label is then joined). Unset: every spine event (each loan application) whose
  // decision date is in [from, to], taken from the spine source directly.
  std::optional<std::string> events_sql;
  std::optional<Month> from, to;
  // Labels are joined only when label_available_date <= cutoff (and never after it). Events
  // decided after the cutoff are excluded: they did not exist yet.
  Date cutoff;
  // Keep events whose label is not yet available (label NULL): for scoring sets.
  bool keep_unlabelled = false;
};

// The SQL of the training set: the feature columns of FeatureSql plus `label`,
// `label_available_date` (NULL when not available by the cutoff). Requires a `label:` section
// unless keep_unlabelled is set and no label store exists.
StatusOr<std::string> TrainingSetSql(const config::Project& project, db::Connection& con,
                                     const TrainingSetRequest& request);

struct TrainingSetSummary {
  int64_t rows = 0;
  int64_t labelled = 0;
  int64_t positives = 0;
};

// Writes the training set to `out` (Parquet, or CSV when the name ends in .csv) under a
// temporary name, renamed into place when complete.
StatusOr<TrainingSetSummary> ExportTrainingSet(const config::Project& project, db::Connection& con,
                                               const TrainingSetRequest& request,
                                               const std::filesystem::path& out);

}  // namespace riskpipe::features
