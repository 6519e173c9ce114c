// Writing the monitoring gold tables (monitoring/tables.h): rows are appended to a temporary
// DuckDB table, then published as the partition's Parquet file.

#include "monitoring/tables.h"

#include <cmath>
#include <functional>

#include "monitoring/monitoring.h"

namespace riskpipe::monitoring::internal {
namespace {

using db::Type;

struct Column {
  const char* name;
  Type type;
};

// Creates `tmp` with `columns` plus a leading row number, fills it with `fill` (called once per
// row index), publishes SELECT <columns> ORDER BY the row number, drops the table.
StatusOr<int64_t> Publish(
    db::Connection& con, const datamart::Datamart& mart, const std::string& table, Month month,
    const std::vector<Column>& columns, size_t rows,
    const std::function<void(db::ChunkBuilder&, size_t chunk_row, size_t row)>& fill) {
  const std::string tmp = "_riskpipe_monitoring_" + table;
  std::string create = "CREATE OR REPLACE TEMP TABLE " + tmp + " (_seq BIGINT";
  std::string select;
  std::vector<Type> types = {Type::kBigint};
  for (const Column& c : columns) {
    create += ", " + db::QuoteIdent(c.name) + " " + std::string(db::TypeSql(c.type));
    select += (select.empty() ? "" : ", ") + db::QuoteIdent(c.name);
    types.push_back(c.type);
  }
  RETURN_IF_ERROR(con.Execute(create + ")"));
  {
    ASSIGN_OR_RETURN(db::Appender app, db::Appender::Open(con, tmp));
    db::ChunkBuilder chunk(types);
    for (size_t i = 0; i < rows; ++i) {
      const size_t r = chunk.AddRow();
      chunk.SetInt64(0, r, static_cast<int64_t>(i));
      fill(chunk, r, i);
      if (chunk.full()) RETURN_IF_ERROR(app.Append(chunk));
    }
    if (chunk.size() > 0) RETURN_IF_ERROR(app.Append(chunk));
    RETURN_IF_ERROR(app.Close());
  }
  StatusOr<int64_t> written =
      mart.WritePartition(con, datamart::Layer::kGold, table, month.first_day(),
                          "SELECT " + select + " FROM " + tmp + " ORDER BY _seq");
  (void)con.Execute("DROP TABLE IF EXISTS " + tmp);
  return written;
}

void SetText(db::ChunkBuilder& c, size_t col, size_t r, const std::string& v) {
  if (v.empty())
    c.SetNull(col, r);
  else
    c.SetString(col, r, v);
}

void SetNumber(db::ChunkBuilder& c, size_t col, size_t r, std::optional<double> v) {
  if (!v || std::isnan(*v))
    c.SetNull(col, r);
  else
    c.SetDouble(col, r, *v);
}

void SetModel(db::ChunkBuilder& c, size_t r, const ModelKey& m) {
  c.SetString(1, r, m.model_id);
  c.SetString(2, r, m.model_name);
  c.SetInt32(3, r, static_cast<int32_t>(m.model_version));
}

}  // namespace

StatusOr<int64_t> WriteStability(db::Connection& con, const datamart::Datamart& mart, Month month,
                                 const std::vector<Keyed<StabilityRow>>& rows) {
  const std::vector<Column> cols = {{"model_id", Type::kVarchar},
                                    {"model_name", Type::kVarchar},
                                    {"model_version", Type::kInteger},
                                    {"metric", Type::kVarchar},
                                    {"feature", Type::kVarchar},
                                    {"bucket", Type::kVarchar},
                                    {"value", Type::kDouble},
                                    {"reference", Type::kDouble},
                                    {"rows", Type::kBigint}};
  return Publish(con, mart, kStabilityTable, month, cols, rows.size(),
                 [&](db::ChunkBuilder& c, size_t r, size_t i) {
                   const auto& [m, s] = rows[i];
                   SetModel(c, r, m);
                   c.SetString(4, r, s.metric);
                   SetText(c, 5, r, s.feature);
                   SetText(c, 6, r, s.bucket);
                   SetNumber(c, 7, r, s.value);
                   SetNumber(c, 8, r, s.reference);
                   c.SetInt64(9, r, s.rows);
                 });
}

StatusOr<int64_t> WritePerformance(db::Connection& con, const datamart::Datamart& mart, Month month,
                                   const std::vector<Keyed<PerformanceRow>>& rows) {
  const std::vector<Column> cols = {
      {"model_id", Type::kVarchar},      {"model_name", Type::kVarchar},
      {"model_version", Type::kInteger}, {"status", Type::kVarchar},
      {"metric", Type::kVarchar},        {"bucket", Type::kVarchar},
      {"value", Type::kDouble},          {"estimated", Type::kDouble},
      {"rows", Type::kBigint},           {"labelled", Type::kBigint}};
  return Publish(con, mart, kPerformanceTable, month, cols, rows.size(),
                 [&](db::ChunkBuilder& c, size_t r, size_t i) {
                   const auto& [m, p] = rows[i];
                   SetModel(c, r, m);
                   c.SetString(4, r, p.status);
                   c.SetString(5, r, p.metric);
                   SetText(c, 6, r, p.bucket);
                   SetNumber(c, 7, r, p.value);
                   SetNumber(c, 8, r, p.estimated);
                   c.SetInt64(9, r, p.rows);
                   c.SetInt64(10, r, p.labelled);
                 });
}

StatusOr<int64_t> WriteAlerts(db::Connection& con, const datamart::Datamart& mart, Month month,
                              const std::vector<metastore::AlertRow>& alerts) {
  const std::vector<Column> cols = {{"alert_id", Type::kVarchar},     {"model_id", Type::kVarchar},
                                    {"check_name", Type::kVarchar},   {"severity", Type::kVarchar},
                                    {"metric", Type::kVarchar},       {"feature", Type::kVarchar},
                                    {"value", Type::kDouble},         {"threshold", Type::kDouble},
                                    {"action", Type::kVarchar},       {"message", Type::kVarchar},
                                    {"evidence_json", Type::kVarchar}};
  return Publish(con, mart, kAlertsTable, month, cols, alerts.size(),
                 [&](db::ChunkBuilder& c, size_t r, size_t i) {
                   const metastore::AlertRow& a = alerts[i];
                   c.SetString(1, r, a.alert_id);
                   c.SetString(2, r, a.model_id);
                   c.SetString(3, r, a.check_name);
                   c.SetString(4, r, a.severity);
                   SetText(c, 5, r, a.metric);
                   SetText(c, 6, r, a.feature);
                   SetNumber(c, 7, r, a.value);
                   SetNumber(c, 8, r, a.threshold);
                   c.SetString(9, r, a.action);
                   c.SetString(10, r, a.message);
                   c.SetString(11, r, a.evidence_json);
                 });
}

}  // namespace riskpipe::monitoring::internal
