#pragma once
// Internal to materialize (features/materialize.h): the SQL that computes an online snapshot's
// parts for one decision date. Every event of a snapshot has the same decision date, so each
// view is one pass over its source instead of the training path's per-event joins
// (features/feature_query.h); the results match FeatureSql over EventSpineSql for the events
// (entity, as_of) (a test holds them equal). Pure functions of the config; thread-safe.

#include <cstddef>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"
#include "features/internal/plain_aggregates.h"

namespace riskpipe::features::internal {

struct OnlineSql {
  // Every spine row dated on or before as_of with a non-null entity: _e (the entity), _sd (the
  // row's date), _sk (its key), then the spine views' features evaluated with
  // decision_date = as_of. Each entity's latest row (the greatest (_sd, _sk)) is its row.
  std::string spine;
  struct View {
    size_t view = 0;  // index into the feature set's views
    // Candidate rows: _e (not null), _t (an event time), then the view's features. An entity's
    // row is its candidate with the greatest _t. A latest view gives every source row dated
    // on or before as_of, its features NULL when older than max_age_days; an aggregate view
    // one row per entity (DuckDB's GROUP BY over its window, _t the latest date in it).
    std::string rows;
    // One row: the features of an entity without candidates, as the training path's unmatched
    // rows give them (the expressions over a NULL row, or aggregates over no rows).
    std::string unmatched;
    // An aggregate view whose every feature is one call (PlainCallOf): the calls, and `args`,
    // every row of its window with _e, _t and each call's argument (_a0, _a1, ...; none for
    // count(*)), for ReduceAggregates. Empty otherwise.
    std::vector<PlainCall> calls;
    std::string args;
  };
  std::vector<View> views;  // the latest and aggregate views, in view order
};

// FailedPrecondition when the project's feature set cannot be compiled (CheckFeatureSet);
// NotFound when a silver table is missing.
StatusOr<OnlineSql> OnlineSqlOf(const config::Project& project, const datamart::Datamart& mart,
                                Date as_of);

}  // namespace riskpipe::features::internal
