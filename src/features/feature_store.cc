#include "features/feature_store.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "features/feature_query.h"
#include "features/spine_windows.h"

namespace riskpipe::features {
namespace {

Status AuditFailure(const std::string& view, int64_t violations) {
  return FailedPreconditionError("point-in-time audit: feature view \"" + view + "\" used " +
                                 std::to_string(violations) +
                                 " source rows dated after their decision date; nothing was "
                                 "published");
}

}  // namespace

StatusOr<FeatureBuildSummary> BuildFeatureStore(const config::Project& project, db::Connection& con,
                                                const FeatureBuildOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const datamart::Datamart mart(project.workspace.datamart());
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
  if (to < from)
    return InvalidArgumentError("--to " + to.ToString() + " is before --from " + from.ToString());
  const Date first_day = from.first_day();
  const Date last_day = to.Next().first_day().AddDays(-1);

  ASSIGN_OR_RETURN(std::optional<SpineWindowPlan> plan,
                   SpineWindowPlanOf(project, mart, &first_day, &last_day));
  // The window plan evaluated in C++ (features/spine_windows.h) when it can reproduce the
  // query's result exactly; otherwise DuckDB runs the query into a table.
  std::optional<SpineWindowRows> computed_rows;
  if (plan && options.engine != FeatureEngine::kSql) {
    ASSIGN_OR_RETURN(std::string read, mart.ReadSql(datamart::Layer::kSilver, spine.source));
    ASSIGN_OR_RETURN(int64_t source_rows, con.QueryInt("SELECT count(*) FROM " + read));
    ASSIGN_OR_RETURN(computed_rows, SpineWindowRows::Compute(*plan, con, source_rows));
  }
  // A table of the database, not a TEMP one, so that a second connection can write months
  // beside the first; the name is unique per build in this process.
  static std::atomic<int> builds{0};
  const std::string table = "_riskpipe_features_" + std::to_string(builds++);
  struct DropTable {
    db::Connection& con;
    const std::string& table;
    bool created = false;
    ~DropTable() {
      if (created) (void)con.Execute("DROP TABLE IF EXISTS " + table);
    }
  } drop{con, table};
  if (computed_rows) {
    // Point-in-time audit before anything becomes visible, on the frames as computed.
    size_t w = 0;
    for (const config::FeatureView& v : project.features.views) {
      if (v.kind == config::ViewKind::kSpine) continue;
      if (const int64_t violations = computed_rows->violations()[w++]; violations != 0) {
        return AuditFailure(v.name, violations);
      }
    }
  } else {
    std::string feature_sql;
    if (plan) {
      feature_sql = plan->sql;
    } else {
      ASSIGN_OR_RETURN(feature_sql, SpineFeatureSql(project, mart, &first_day, &last_day));
    }
    // Stored sorted by (decision date, key): each month's partition is then a contiguous range
    // that the per-month scans below find through the table's zone maps, already in order (a
    // scan keeps the table's order: DuckDB's default preserve_insertion_order), so the writes
    // need no sort of their own.
    const std::string order =
        std::string(kDecisionDate) + ", " + db::QuoteIdent(project.features.spine.key);
    RETURN_IF_ERROR(con.Execute("CREATE OR REPLACE TABLE " + table + " AS " + feature_sql +
                                " ORDER BY " + order));
    drop.created = true;
    // Point-in-time audit before anything becomes visible.
    ASSIGN_OR_RETURN(db::Table audit, con.Query(AuditSql(project.features, table)));
    for (const auto& row : audit.rows) {
      const int64_t violations = std::get<int64_t>(row[1]);
      if (violations != 0) return AuditFailure(std::get<std::string>(row[0]), violations);
    }
  }

  FeatureBuildSummary summary;
  const auto computed = std::chrono::steady_clock::now();
  summary.query_seconds = std::chrono::duration<double>(computed - start).count();
  summary.features = SchemaOf(project.features).features.size();
  summary.frames_in_cpp = computed_rows.has_value();
  // Months are staged on two connections at once (each COPY of a month is one small,
  // mostly single-threaded statement), then published in month order.
  std::vector<Month> months;
  for (Month m = from; m <= to; m = m.Next()) months.push_back(m);
  std::vector<std::optional<datamart::Datamart::Staged>> staged(months.size());
  std::vector<Status> failed(months.size());
  std::atomic<size_t> next{0};
  auto stage = [&](db::Connection& c) {
    for (size_t i = next++; i < months.size(); i = next++) {
      const Month m = months[i];
      std::unique_ptr<db::RowSource> source;
      std::string sql;
      if (computed_rows) {
        source = computed_rows->Rows(m.first_day(), m.Next().first_day());
        sql = "SELECT * FROM " + db::RowSourceSql(source.get());
      } else {
        sql = "SELECT * FROM " + table + " WHERE " + std::string(kDecisionDate) + " >= DATE '" +
              m.first_day().ToString() + "' AND " + kDecisionDate + " < DATE '" +
              m.Next().first_day().ToString() + "'";
      }
      auto s = mart.Stage(c, datamart::Layer::kGold, kFeatureStoreTable, m.first_day(), sql);
      if (s.ok()) {
        staged[i] = *s;
      } else {
        failed[i] = s.status();
        next = months.size();  // the first failure stops both writers
      }
    }
  };
  // A second writer only when there is a second month; without a sibling connection the
  // first writes every month.
  std::optional<db::Connection> sibling;
  if (months.size() > 1) {
    if (auto c = con.Sibling(); c.ok()) sibling.emplace(std::move(*c));
  }
  std::thread second;
  if (sibling) second = std::thread([&] { stage(*sibling); });
  stage(con);
  if (second.joinable()) second.join();
  for (const Status& f : failed) {
    if (f.ok()) continue;
    for (const auto& s : staged) {
      if (s) mart.Discard(*s);
    }
    return f;
  }
  for (size_t i = 0; i < months.size(); ++i) {
    summary.months.push_back({months[i], staged[i]->rows});
    summary.rows += staged[i]->rows;
  }
  for (const auto& s : staged) RETURN_IF_ERROR(mart.Publish(*s));
  const auto done = std::chrono::steady_clock::now();
  summary.seconds = std::chrono::duration<double>(done - start).count();
  summary.write_seconds = std::chrono::duration<double>(done - computed).count();
  return summary;
}

}  // namespace riskpipe::features
