#include "features/feature_store.h"

#include <chrono>

#include "features/feature_query.h"

namespace riskpipe::features {

StatusOr<FeatureBuildSummary> BuildFeatureStore(const config::Project& project,
                                                db::Connection& con,
                                                const FeatureBuildOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const datamart::Datamart mart(project.workspace / "datamart");
  RETURN_IF_ERROR(ValidateFeatures(project, mart, con));
  const config::Spine& spine = project.features.spine;

  // The months to build: the requested range, with open ends taken from the spine's dates.
  ASSIGN_OR_RETURN(std::string all_spine, SpineSql(project, mart, nullptr, nullptr));
  ASSIGN_OR_RETURN(db::Table bounds,
                   con.Query("SELECT min(" + std::string(kDecisionDate) + "), max(" +
                             kDecisionDate + ") FROM (" + all_spine + ")"));
  const auto* lo = std::get_if<Date>(&bounds.rows[0][0]);
  const auto* hi = std::get_if<Date>(&bounds.rows[0][1]);
  if ((lo == nullptr || hi == nullptr) && (!options.from || !options.to)) {
    return FailedPreconditionError("feature spine " + spine.source +
                                   " has no dated events; nothing to build");
  }
  const Month from = options.from ? *options.from : Month::Of(*lo);
  const Month to = options.to ? *options.to : Month::Of(*hi);
  if (to < from) return InvalidArgumentError("--to " + to.ToString() + " is before --from " + from.ToString());
  const Date first_day = from.first_day();
  const Date last_day = to.Next().first_day().AddDays(-1);

  ASSIGN_OR_RETURN(std::string feature_sql, SpineFeatureSql(project, mart, &first_day, &last_day));
  // Stored sorted by (decision date, key): each month's partition is then a contiguous range
  // that the per-month scans below find through the table's zone maps, already in order (a
  // scan keeps the table's order: DuckDB's default preserve_insertion_order), so the writes
  // need no sort of their own.
  const std::string order = std::string(kDecisionDate) + ", " +
                            db::QuoteIdent(project.features.spine.key);
  RETURN_IF_ERROR(con.Execute("CREATE OR REPLACE TEMP TABLE _features AS " + feature_sql +
                              " ORDER BY " + order));
  // Point-in-time audit before anything becomes visible.
  ASSIGN_OR_RETURN(db::Table audit, con.Query(AuditSql(project.features, "_features")));
  for (const auto& row : audit.rows) {
    const int64_t violations = std::get<int64_t>(row[1]);
    if (violations != 0) {
      return FailedPreconditionError("point-in-time audit: feature view \"" +
                                     std::get<std::string>(row[0]) + "\" used " +
                                     std::to_string(violations) +
                                     " source rows dated after their decision date; nothing "
                                     "was published");
    }
  }

  FeatureBuildSummary summary;
  const auto computed = std::chrono::steady_clock::now();
  summary.query_seconds = std::chrono::duration<double>(computed - start).count();
  summary.features = SchemaOf(project.features).features.size();
  std::vector<datamart::Datamart::Staged> staged;
  Status failure;
  for (Month m = from; m <= to; m = m.Next()) {
    const std::string sql = "SELECT * FROM _features WHERE " + std::string(kDecisionDate) +
                            " >= DATE '" + m.first_day().ToString() + "' AND " + kDecisionDate +
                            " < DATE '" + m.Next().first_day().ToString() +
                            "'";
    auto s = mart.Stage(con, datamart::Layer::kGold, kFeatureStoreTable, m.first_day(), sql);
    if (!s.ok()) {
      failure = s.status();
      break;
    }
    summary.months.push_back({m, s->rows});
    summary.rows += s->rows;
    staged.push_back(*s);
  }
  (void)con.Execute("DROP TABLE IF EXISTS _features");
  if (!failure.ok()) {
    for (const auto& s : staged) mart.Discard(s);
    return failure;
  }
  for (const auto& s : staged) RETURN_IF_ERROR(mart.Publish(s));
  const auto done = std::chrono::steady_clock::now();
  summary.seconds = std::chrono::duration<double>(done - start).count();
  summary.write_seconds = std::chrono::duration<double>(done - computed).count();
  return summary;
}

}  // namespace riskpipe::features
