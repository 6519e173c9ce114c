#include "features/training_set.h"

#include <system_error>

#include "core/files.h"
#include "features/feature_query.h"
#include "features/label_store.h"

namespace riskpipe::features {

using db::QuoteIdent;
using db::QuoteLiteral;

StatusOr<std::string> TrainingSetSql(const config::Project& project, db::Connection& con,
                                     const TrainingSetRequest& request) {
  const datamart::Datamart mart(project.workspace.datamart());
  RETURN_IF_ERROR(ValidateFeatures(project, mart, con));
  const config::Spine& spine = project.features.spine;
  const Date cutoff = request.cutoff;
  Date to_day = cutoff;
  if (request.to) to_day = std::min(to_day, request.to->Next().first_day().AddDays(-1));
  std::optional<Date> from_day;
  if (request.from) from_day = request.from->first_day();

  std::string spine_sql;
  if (request.events_sql) {
    std::string events = "SELECT * FROM (" + *request.events_sql + ") WHERE " + kDecisionDate +
                         " <= DATE '" + to_day.ToString() + "'";
    if (from_day) events += " AND " + std::string(kDecisionDate) + " >= DATE '" + from_day->ToString() + "'";
    ASSIGN_OR_RETURN(db::Table shape, con.Query("SELECT * FROM (" + events + ") LIMIT 0"));
    for (const char* required : {spine.entity.c_str(), kDecisionDate}) {
      if (shape.ColumnIndex(required) < 0) {
        return InvalidArgumentError(std::string("events: missing column \"") + required +
                                    "\" (events need " + spine.entity + " and " + kDecisionDate + ")");
      }
    }
    ASSIGN_OR_RETURN(spine_sql, EventSpineSql(project, mart, events,
                                              shape.ColumnIndex(spine.key) >= 0));
  } else {
    ASSIGN_OR_RETURN(spine_sql,
                     SpineSql(project, mart, from_day ? &*from_day : nullptr, &to_day));
  }
  ASSIGN_OR_RETURN(std::string features, FeatureSql(project, mart, spine_sql));

  std::string labels;
  if (project.label) {
    auto available = LabelsAvailableBySql(mart, project.label->name, cutoff);
    if (available.ok()) {
      labels = *available;
    } else if (available.status().code() != StatusCode::kNotFound || !request.keep_unlabelled) {
      return available.status().WithPrefix("labels (run `riskpipe features build` first)");
    }
  } else if (!request.keep_unlabelled) {
    return FailedPreconditionError(project.config_path.string() +
                                   ": no `label:` section, so there is nothing to train on");
  }
  if (labels.empty()) {
    return "SELECT *, NULL::INTEGER AS label, NULL::DATE AS label_available_date FROM (" +
           features + ") ORDER BY " + kDecisionDate + ", " + QuoteIdent(spine.key);
  }
  const std::string key = QuoteIdent(spine.key);
  const std::string sql = "SELECT f.*, l.label, l.label_available_date FROM (" + features +
                          ") f LEFT JOIN " + labels + " l ON f." + key + " = l." +
                          QuoteIdent(project.label->loan_key);
  const std::string order = " ORDER BY " + std::string(kDecisionDate) + ", " + key;
  if (request.keep_unlabelled) return "SELECT * FROM (" + sql + ")" + order;
  return "SELECT * FROM (" + sql + ") WHERE label IS NOT NULL" + order;
}

StatusOr<TrainingSetSummary> ExportTrainingSet(const config::Project& project, db::Connection& con,
                                               const TrainingSetRequest& request,
                                               const std::filesystem::path& out) {
  ASSIGN_OR_RETURN(std::string sql, TrainingSetSql(project, con, request));
  RETURN_IF_ERROR(MakeDirs(out.parent_path()));
  const std::filesystem::path tmp = TempPathFor(out);
  const bool csv = out.extension() == ".csv";
  Status s = con.Execute("COPY (" + sql + ") TO " + QuoteLiteral(tmp.string()) +
                         (csv ? " (FORMAT csv, HEADER)" : " (FORMAT parquet, COMPRESSION zstd)"));
  if (!s.ok()) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return s;
  }
  // A CSV without rows reads back with every column as text: the cast keeps the sum typed.
  const std::string reader = csv ? "read_csv_auto(" : "read_parquet(";
  auto counts = con.Query("SELECT count(*), count(label), coalesce(sum(TRY_CAST(label AS BIGINT)), 0) FROM " +
                          reader + QuoteLiteral(tmp.string()) + ")");
  if (!counts.ok()) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return counts.status();
  }
  RETURN_IF_ERROR(RenameReplace(tmp, out));
  TrainingSetSummary summary;
  summary.rows = std::get<int64_t>(counts->rows[0][0]);
  summary.labelled = std::get<int64_t>(counts->rows[0][1]);
  const auto& pos = counts->rows[0][2];
  summary.positives = std::holds_alternative<int64_t>(pos) ? std::get<int64_t>(pos)
                      : std::holds_alternative<double>(pos) ? static_cast<int64_t>(std::get<double>(pos))
                                                            : 0;
  return summary;
}

}  // namespace riskpipe::features
