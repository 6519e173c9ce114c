#pragma once
// Compiles the project's feature views (config/features.h) into one DuckDB query that returns
// the feature vector of every decision event of a "spine" relation, point in time correct:
//   spine view      expressions over the event's own spine row;
//   latest view     an ASOF join: the entity's latest source row with event time <= decision date;
//   aggregate view  aggregates over the entity's source rows with event time in
//                   [D - window_days, D] (or strictly before D).
// No source row dated after the decision date can reach a feature: the join conditions say so,
// and every view also returns the latest event time it used (_asof_<view>) so AuditSql() can
// prove it on the output. Pure functions of the config; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"
#include "db/database.h"

namespace riskpipe::features {

// SQL condition keeping a silver table's dated rows: the undated partition (rows whose date
// could not be read) never feeds a feature.
std::string DatedRowsCondition();

// The silver columns of `source` that the expressions name (matched case-insensitively, as
// DuckDB does; the declared spelling is returned), sorted: what a view over it must read.
std::vector<std::string> ColumnsUsed(const config::Project& project, const std::string& source,
                                     const std::vector<config::Feature>& features);
// The spine key, the entity and the spine-source columns the spine views name.
std::vector<std::string> SpineColumnsUsed(const config::Project& project);

// True when the source's declared keys (unique in silver: ingest quarantines duplicates) are
// all among the view's entity and event-time columns, so no two rows share both: a row is then
// found by (entity, event time) with a hash join, and a latest view needs no tie-breaking.
bool UniqueByEntityAndTime(const config::Project& project, const config::FeatureView& v);

// The name of the decision-date column in every feature relation.
inline constexpr char kDecisionDate[] = "decision_date";

// The output columns of FeatureSql, in order: the spine key, the entity, decision_date, every
// feature in view order, then one _asof_<view> column per latest/aggregate view.
struct FeatureSchema {
  std::string key;
  std::string entity;
  std::vector<std::string> features;
  std::vector<std::string> audit_columns;  // _asof_<view>
};
FeatureSchema SchemaOf(const config::FeatureSet& set);

// Rejects what the parser cannot see: a feature named like the key, entity or decision_date;
// a latest/aggregate view whose event time is the partition month (snapshot_date) of a source
// whose rows carry a later date of their own (the month's first day precedes them: that view
// would see rows dated after the decision date). FailedPrecondition when the project has no
// features section. Errors name the view.
Status CheckFeatureSet(const config::Project& project);

// Spine rows (every source column plus decision_date) for decision dates in [from, to]
// (inclusive; either may be unset). NotFound when the spine's silver table is missing.
StatusOr<std::string> SpineSql(const config::Project& project, const datamart::Datamart& mart,
                               const Date* from, const Date* to);

// Spine rows for arbitrary events: `events_sql` has columns (<entity>, decision_date); each gets
// the entity's latest spine row dated on or before its decision date (its application terms),
// its own entity and decision_date, and its own key when `events_have_key` (the events have a
// column named like the spine key; otherwise the spine row's key). Events with no spine row
// yet keep nulls in the spine columns.
StatusOr<std::string> EventSpineSql(const config::Project& project, const datamart::Datamart& mart,
                                    std::string_view events_sql, bool events_have_key = false);

// The feature query over `spine_sql` (a relation with the spine source's columns plus
// decision_date), with columns as SchemaOf() lists them, one row per spine row.
// `own_spine_rows` says the relation holds the spine source's own rows with decision_date =
// the spine date column (as SpineSql returns, up to `last_day`): aggregate views over the
// spine's own source keyed like the spine (the Kueski history features) are then computed with
// window functions over the source instead of a self-join: same results, far less work.
StatusOr<std::string> FeatureSql(const config::Project& project, const datamart::Datamart& mart,
                                 std::string_view spine_sql, bool own_spine_rows = false,
                                 const Date* last_day = nullptr);

// The feature query for the spine's own events with decision dates in [from, to] (either may
// be unset): the rows of FeatureSql over SpineSql(from, to). When every latest/aggregate view
// is a window over the spine's own source (the Kueski history features), it is a single pass
// of window functions over that source, with no self-join and no materialized base.
StatusOr<std::string> SpineFeatureSql(const config::Project& project,
                                      const datamart::Datamart& mart, const Date* from,
                                      const Date* to);

// SpineFeatureSql's one-pass window form in parts, for evaluating its frames outside SQL
// (features/spine_windows.h): when every latest/aggregate view is a window over the spine's
// own source, `sql` is exactly SpineFeatureSql's query and `rows_sql` its inner relation.
struct SpineWindowPlan {
  std::string sql;
  // Every dated source row up to `to`, with the columns (in this order): the spine key, the
  // entity (unless it is the key), each aggregate argument, decision_date, each spine feature
  // (_f0, _f1, ...: NULL on rows outside the spine filter), and _keep (a spine row dated in
  // [from, to]: the rows the query returns).
  std::string rows_sql;
  int decision_date = 0, keep = 0;  // column indices in rows_sql
  struct Aggregate {
    std::string function;  // count, sum, avg, min or max (lower case)
    int argument = -1;     // rows_sql column, or -1 for *
  };
  struct Window {
    int window_days = 0;  // 0: unbounded
    bool strict = false;  // up to the day before the decision date
    std::vector<Aggregate> features;
  };
  std::vector<Window> windows;  // every latest/aggregate view, in view order
  // Each column of `sql`'s result, in order: a rows_sql column (the key, the entity,
  // decision_date, a spine feature), or a window's feature, or (feature -1) the latest date in
  // its frame (_asof_<view>).
  struct Column {
    int input = -1;
    int window = -1, feature = -1;
  };
  std::vector<Column> columns;
};
// The plan, or nullopt when SpineFeatureSql takes the general join path.
StatusOr<std::optional<SpineWindowPlan>> SpineWindowPlanOf(const config::Project& project,
                                                           const datamart::Datamart& mart,
                                                           const Date* from, const Date* to);

// A query counting, per view, output rows whose _asof_<view> is after their decision date (or
// equal for a strict view). Every count must be 0.
std::string AuditSql(const config::FeatureSet& set, std::string_view feature_relation);

// Compiles every expression with DuckDB on `con` (prepared over the real silver schemas with
// LIMIT 0), so an expression that does not parse, names a missing column or mixes aggregates
// wrongly fails before any data is read, with the view and feature named. Runs CheckFeatureSet
// first.
Status ValidateFeatures(const config::Project& project, const datamart::Datamart& mart,
                        db::Connection& con);

}  // namespace riskpipe::features
