#include "features/internal/online_sql.h"

#include <optional>

#include "db/database.h"
#include "features/feature_query.h"

namespace riskpipe::features::internal {

using db::QuoteIdent;

namespace {

std::string DateLiteral(Date d) { return "DATE '" + d.ToString() + "'"; }

// ", <prefix><expr><suffix> AS <name>" for each feature.
std::string FeatureList(const std::vector<config::Feature>& features,
                        const std::string& prefix = "(", const std::string& suffix = ")") {
  std::string out;
  for (const auto& f : features)
    out += ", " + prefix + f.expr + suffix + " AS " + QuoteIdent(f.name);
  return out;
}

// A view's source rows dated on or before as_of, with its join keys _e (entity) and _t (event
// time), as FeatureSql reads them (undated rows, partition 1900-01-01, never feed a feature),
// the columns its expressions name and decision_date = as_of.
StatusOr<std::string> SourceSql(const config::Project& project, const datamart::Datamart& mart,
                                const config::FeatureView& v, Date as_of) {
  auto read = mart.ReadSql(datamart::Layer::kSilver, v.source);
  if (!read.ok()) {
    return NotFoundError("feature view \"" + v.name + "\": " + read.status().message() +
                         " (run `riskpipe ingest` first)");
  }
  std::string cols;
  for (const std::string& c : ColumnsUsed(project, v.source, v.features)) {
    cols += QuoteIdent(c) + ", ";
  }
  return "SELECT " + cols + QuoteIdent(v.entity) + " AS _e, " + QuoteIdent(v.event_time) +
         " AS _t, " + DateLiteral(as_of) + " AS " + kDecisionDate + " FROM " + *read + " WHERE " +
         DatedRowsCondition() + " AND " + QuoteIdent(v.event_time) + " <= " + DateLiteral(as_of);
}

StatusOr<std::string> SpineRowsSql(const config::Project& project, const datamart::Datamart& mart,
                                   Date as_of) {
  const config::FeatureSet& set = project.features;
  const config::Spine& spine = set.spine;
  ASSIGN_OR_RETURN(std::string rows, SpineSql(project, mart, nullptr, &as_of));
  // Only the columns the spine views use travel on (not the lineage columns and the rest).
  std::string cols;
  for (const std::string& c : SpineColumnsUsed(project)) cols += "s." + QuoteIdent(c) + ", ";
  const std::string spine_rows = "SELECT " + cols + "s." + kDecisionDate + " AS _sd, s." +
                                 QuoteIdent(spine.key) + " AS _sk, " + DateLiteral(as_of) + " AS " +
                                 kDecisionDate + " FROM (" + rows + ") s WHERE s." +
                                 QuoteIdent(spine.entity) + " IS NOT NULL";
  std::string features;
  for (const auto& v : set.views) {
    if (v.kind == config::ViewKind::kSpine) features += FeatureList(v.features);
  }
  return "SELECT " + QuoteIdent(spine.entity) + " AS _e, _sd, _sk" + features + " FROM (" +
         spine_rows + ")";
}

// A latest view: the expressions over every source row, NULL for a row older than
// max_age_days (a row too old is no row). An entity without rows gets the expressions over an
// all-NULL row, as the unmatched side of FeatureSql's ASOF LEFT JOIN does (coalesce(x, 0)
// gives 0).
OnlineSql::View LatestViewSql(const config::FeatureView& v, const std::string& source, Date as_of) {
  std::string keep = "TRUE";
  if (v.max_age_days > 0) keep = "_t >= " + DateLiteral(as_of.AddDays(-v.max_age_days));
  const std::string features = FeatureList(v.features, "CASE WHEN " + keep + " THEN (", ") END");
  OnlineSql::View out;
  out.rows = "SELECT _e, _t" + features + " FROM (" + source + ") WHERE _e IS NOT NULL";
  out.unmatched = "SELECT " + features.substr(2) + " FROM (SELECT s.* EXCLUDE (" + kDecisionDate +
                  "), " + DateLiteral(as_of) + " AS " + kDecisionDate +
                  " FROM (SELECT 1 AS _one) o LEFT JOIN (" + source + ") s ON FALSE)";
  return out;
}

// An aggregate view: its window filtered once (a DATE bound, so only the window's partitions
// are read) and grouped by entity. An entity without rows in the window gets the aggregates
// over no rows (count 0, the rest NULL), as FeatureSql's unmatched rows do.
OnlineSql::View AggregateViewSql(const config::FeatureView& v, const std::string& source,
                                 Date as_of) {
  std::string where = v.strict ? "_t < " + DateLiteral(as_of) : "TRUE";
  if (v.window_days > 0) where += " AND _t >= " + DateLiteral(as_of.AddDays(-v.window_days));
  const std::string features = FeatureList(v.features);
  OnlineSql::View out;
  out.rows = "SELECT _e, max(_t) AS _t" + features + " FROM (" + source + ") WHERE " + where +
             " AND _e IS NOT NULL GROUP BY _e";
  out.unmatched = "SELECT " + features.substr(2) + " FROM (" + source + ") WHERE FALSE";
  std::string args;
  int arg = 0;
  for (const auto& f : v.features) {
    std::optional<PlainCall> call = PlainCallOf(f.expr);
    if (!call) {
      out.calls.clear();
      return out;
    }
    if (!call->argument.empty()) {
      args += ", (" + call->argument + ") AS _a" + std::to_string(arg++);
    }
    out.calls.push_back(std::move(*call));
  }
  out.args =
      "SELECT _e, _t" + args + " FROM (" + source + ") WHERE " + where + " AND _e IS NOT NULL";
  return out;
}

}  // namespace

StatusOr<OnlineSql> OnlineSqlOf(const config::Project& project, const datamart::Datamart& mart,
                                Date as_of) {
  RETURN_IF_ERROR(CheckFeatureSet(project));
  const config::FeatureSet& set = project.features;
  OnlineSql out;
  ASSIGN_OR_RETURN(out.spine, SpineRowsSql(project, mart, as_of));
  for (size_t i = 0; i < set.views.size(); ++i) {
    const config::FeatureView& v = set.views[i];
    if (v.kind == config::ViewKind::kSpine) continue;
    ASSIGN_OR_RETURN(const std::string source, SourceSql(project, mart, v, as_of));
    OnlineSql::View view = v.kind == config::ViewKind::kLatest ? LatestViewSql(v, source, as_of)
                                                               : AggregateViewSql(v, source, as_of);
    view.view = i;
    out.views.push_back(std::move(view));
  }
  return out;
}

}  // namespace riskpipe::features::internal
