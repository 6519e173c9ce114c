#pragma once
// The online snapshot's rows as one plain DuckDB query, for features_bench's in-run baselines:
// every entity with a spine event on or before as_of, with each feature view evaluated for
// decision date as_of, written the way a DuckDB user would (a narrow max per entity joined
// back for the latest rows, a GROUP BY per aggregate view, LEFT JOINs by entity). Same
// columns and values as features::Materialize (entity, then every feature in view order),
// without its validation, audit columns, entity order or snapshot format. Pure; thread-safe.

#include <string>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "features/feature_query.h"

namespace riskpipe::bench {

// Each entity's latest spine row on or before as_of (greatest (date, key), as Materialize),
// with decision_date = as_of: _e and the spine views' features.
inline StatusOr<std::string> PlainLatestSpineSql(const config::Project& project,
                                                 const datamart::Datamart& mart, Date as_of,
                                                 const std::string& features) {
  using db::QuoteIdent;
  const config::Spine& spine = project.features.spine;
  const std::string entity = QuoteIdent(spine.entity);
  const std::string key = QuoteIdent(spine.key);
  const std::string dd = features::kDecisionDate;
  ASSIGN_OR_RETURN(std::string rows, features::SpineSql(project, mart, nullptr, &as_of));
  const std::string latest = "SELECT " + entity + " AS _le, max({'d': " + dd + ", 'k': " + key +
                             "}) AS _lm FROM (" + rows + ") WHERE " + entity +
                             " IS NOT NULL GROUP BY " + entity;
  return "SELECT " + entity + " AS _e" + features + " FROM (SELECT s.* REPLACE (DATE '" +
         as_of.ToString() + "' AS " + dd + ") FROM (" + rows + ") s JOIN (" + latest + ") l ON s." +
         entity + " = l._le AND s." + dd + " = l._lm.d AND s." + key +
         " IS NOT DISTINCT FROM l._lm.k)";
}

// See the file comment. NotFound when a silver table is missing.
inline StatusOr<std::string> PlainOnlineSql(const config::Project& project,
                                            const datamart::Datamart& mart, Date as_of) {
  using db::QuoteIdent;
  const config::FeatureSet& set = project.features;
  const std::string as = "DATE '" + as_of.ToString() + "'";
  const std::string dd = features::kDecisionDate;
  std::string spine_features, with, joins;
  std::string select = "sp._e AS ";
  select += QuoteIdent(set.spine.entity);
  for (size_t i = 0; i < set.views.size(); ++i) {
    const config::FeatureView& v = set.views[i];
    if (v.kind == config::ViewKind::kSpine) {
      for (const auto& f : v.features) {
        spine_features += ", (" + f.expr + ") AS " + QuoteIdent(f.name);
        select += ", sp." + QuoteIdent(f.name);
      }
      continue;
    }
    ASSIGN_OR_RETURN(std::string read, mart.ReadSql(datamart::Layer::kSilver, v.source));
    const std::string n = std::string("v").append(std::to_string(i));
    const std::string t = QuoteIdent(v.event_time);
    with += ", " + n + "_src AS (SELECT *, " + QuoteIdent(v.entity) + " AS _e, " + t + " AS _t, " +
            as + " AS " + dd + " FROM " + read + " WHERE " + features::DatedRowsCondition() +
            " AND " + t + " <= " + as + ")";
    // Features of an entity with no row: the expressions over one all-NULL row (latest) or over
    // no rows (aggregate: count(*) gives 0), as Materialize gives them.
    std::string exprs;
    if (v.kind == config::ViewKind::kLatest) {
      const std::string keep =
          v.max_age_days > 0 ? "_t >= DATE '" + as_of.AddDays(-v.max_age_days).ToString() + "'"
                             : "TRUE";
      for (const auto& f : v.features) {
        exprs += ", CASE WHEN " + keep + " THEN (" + f.expr + ") END AS " + QuoteIdent(f.name);
      }
      const std::string distinct =
          features::UniqueByEntityAndTime(project, v) ? "" : "DISTINCT ON (s._e) ";
      with += ", " + n + " AS (SELECT " + distinct + "s._e" + exprs + " FROM " + n +
              "_src s JOIN (SELECT _e, max(_t) AS _mt FROM " + n + "_src GROUP BY _e) m ON s._e " +
              "= m._e AND s._t = m._mt), " + n + "_none AS (SELECT " + exprs.substr(2) +
              " FROM (SELECT s.* REPLACE (" + as + " AS " + dd + ") FROM (SELECT 1) o LEFT JOIN " +
              n + "_src s ON FALSE))";
    } else {
      for (const auto& f : v.features) exprs += ", (" + f.expr + ") AS " + QuoteIdent(f.name);
      std::string where = v.strict ? "_t < " + as : "TRUE";
      if (v.window_days > 0) {
        where += " AND _t >= DATE '" + as_of.AddDays(-v.window_days).ToString() + "'";
      }
      with += ", " + n + " AS (SELECT _e" + exprs + " FROM " + n + "_src WHERE " + where +
              " GROUP BY _e), " + n + "_none AS (SELECT " + exprs.substr(2) + " FROM " + n +
              "_src WHERE FALSE)";
    }
    joins += " LEFT JOIN " + n + " ON " + n + "._e = sp._e CROSS JOIN " + n + "_none";
    for (const auto& f : v.features) {
      const std::string name = QuoteIdent(f.name);
      select += ", CASE WHEN " + n + "._e IS NULL THEN " + n + "_none." + name + " ELSE " + n +
                "." + name + " END AS " + name;
    }
  }
  ASSIGN_OR_RETURN(std::string sp, PlainLatestSpineSql(project, mart, as_of, spine_features));
  return "WITH sp AS (" + sp + ")" + with + " SELECT " + select + " FROM sp" + joins;
}

}  // namespace riskpipe::bench
