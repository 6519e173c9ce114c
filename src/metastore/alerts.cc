// Monitoring alerts in the metastore (schema version 3): the `alerts` table. docs/monitoring.md
// describes the checks that raise them; src/monitoring writes and reads them through these
// methods.

#include <set>

#include "metastore/guard.h"
#include "metastore/metastore.h"
#include "metastore/sqlite.h"

namespace riskpipe::metastore {
namespace {

constexpr std::string_view kAlertColumns =
    "alert_id, month, model_id, model_name, check_name, severity, metric, feature, value, "
    "threshold, action, message, evidence_json, raised_at, updated_at, COALESCE(resolved_at, ''), "
    "COALESCE(acknowledged_by, ''), COALESCE(acknowledged_at, ''), note";

AlertRow ReadAlert(const Statement& s) {
  AlertRow a;
  a.alert_id = s.ColumnText(0);
  a.month = s.ColumnText(1);
  a.model_id = s.ColumnText(2);
  a.model_name = s.ColumnText(3);
  a.check_name = s.ColumnText(4);
  a.severity = s.ColumnText(5);
  a.metric = s.ColumnText(6);
  a.feature = s.ColumnText(7);
  if (!s.ColumnIsNull(8)) a.value = s.ColumnDouble(8);
  if (!s.ColumnIsNull(9)) a.threshold = s.ColumnDouble(9);
  a.action = s.ColumnText(10);
  a.message = s.ColumnText(11);
  a.evidence_json = s.ColumnText(12);
  a.raised_at = s.ColumnText(13);
  a.updated_at = s.ColumnText(14);
  a.resolved_at = s.ColumnText(15);
  a.acknowledged_by = s.ColumnText(16);
  a.acknowledged_at = s.ColumnText(17);
  a.note = s.ColumnText(18);
  return a;
}

Status CheckAlert(const AlertRow& a, std::string_view month, const std::set<std::string>& models) {
  const std::string what = "alert " + a.alert_id + ": ";
  if (a.alert_id.empty()) return InvalidArgumentError("alert without an id");
  if (a.month != month)
    return InvalidArgumentError(what + "month " + a.month + " is not " + std::string(month));
  if (!models.count(a.model_id))
    return InvalidArgumentError(what + "model " + a.model_id + " not listed");
  static const std::set<std::string> severities = {"info", "warn", "act"};
  static const std::set<std::string> actions = {"watch", "investigate", "retrain", "rollback"};
  if (!severities.count(a.severity))
    return InvalidArgumentError(what + "bad severity " + a.severity);
  if (!actions.count(a.action)) return InvalidArgumentError(what + "bad action " + a.action);
  return OkStatus();
}

// Binds an optional double as a value or NULL.
Status BindOptional(Statement& s, int i, const std::optional<double>& v) {
  return v ? s.BindDouble(i, *v) : s.BindNull(i);
}

}  // namespace

Status Metastore::ReplaceMonthAlerts(std::string_view month,
                                     const std::vector<std::string>& model_ids,
                                     const std::vector<AlertRow>& alerts) {
  return Guard(db_.get(), [&]() -> Status {
    const std::set<std::string> models(model_ids.begin(), model_ids.end());
    for (const AlertRow& a : alerts) RETURN_IF_ERROR(CheckAlert(a, month, models));
    const std::string at = FormatUtcTimestamp(Now());
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    for (const std::string& model : models) {
      ASSIGN_OR_RETURN(Statement resolve,
                       PrepareBound(*db_,
                                    "UPDATE alerts SET resolved_at = ?3, updated_at = ?3 "
                                    "WHERE month = ?1 AND model_id = ?2 AND resolved_at IS NULL",
                                    month, std::string_view(model), std::string_view(at)));
      RETURN_IF_ERROR(resolve.Run());
    }
    for (const AlertRow& a : alerts) {
      // One statement per alert: the wrapper has no reset, and alerts are a few per month.
      ASSIGN_OR_RETURN(
          Statement upsert,
          db_->Prepare("INSERT INTO alerts (alert_id, month, model_id, model_name, check_name, "
                       "severity, metric, feature, value, threshold, action, message, "
                       "evidence_json, raised_at, updated_at) VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14) "
                       "ON CONFLICT (alert_id) DO UPDATE SET severity = excluded.severity, "
                       "metric = excluded.metric, value = excluded.value, "
                       "threshold = excluded.threshold, action = excluded.action, "
                       "message = excluded.message, evidence_json = excluded.evidence_json, "
                       "updated_at = excluded.updated_at, resolved_at = NULL"));
      RETURN_IF_ERROR(upsert.BindText(1, a.alert_id));
      RETURN_IF_ERROR(upsert.BindText(2, a.month));
      RETURN_IF_ERROR(upsert.BindText(3, a.model_id));
      RETURN_IF_ERROR(upsert.BindText(4, a.model_name));
      RETURN_IF_ERROR(upsert.BindText(5, a.check_name));
      RETURN_IF_ERROR(upsert.BindText(6, a.severity));
      RETURN_IF_ERROR(upsert.BindText(7, a.metric));
      RETURN_IF_ERROR(upsert.BindText(8, a.feature));
      RETURN_IF_ERROR(BindOptional(upsert, 9, a.value));
      RETURN_IF_ERROR(BindOptional(upsert, 10, a.threshold));
      RETURN_IF_ERROR(upsert.BindText(11, a.action));
      RETURN_IF_ERROR(upsert.BindText(12, a.message));
      RETURN_IF_ERROR(upsert.BindText(13, a.evidence_json.empty() ? "{}" : a.evidence_json));
      RETURN_IF_ERROR(upsert.BindText(14, at));
      RETURN_IF_ERROR(upsert.Run().WithPrefix("alert " + a.alert_id));
    }
    return txn.Commit();
  });
}

StatusOr<std::vector<AlertRow>> Metastore::ListAlerts(const AlertFilter& f) {
  return Guard(db_.get(), [&]() -> StatusOr<std::vector<AlertRow>> {
    if (f.limit <= 0) return InvalidArgumentError("metastore: alert limit must be positive");
    ASSIGN_OR_RETURN(
        Statement q,
        PrepareBound(*db_,
                     "SELECT " + std::string(kAlertColumns) +
                         " FROM alerts WHERE (?1 = '' OR month >= ?1) AND (?2 = '' OR month <= ?2)"
                         " AND (?3 = '' OR model_id = ?3) AND (?4 = '' OR model_name = ?4)"
                         " AND (?5 = '' OR severity = ?5) AND (?6 = '' OR check_name = ?6)"
                         " AND (?7 = 1 OR resolved_at IS NULL)"
                         " ORDER BY month, model_id, check_name, feature LIMIT ?8",
                     std::string_view(f.from_month), std::string_view(f.to_month),
                     std::string_view(f.model_id), std::string_view(f.model_name),
                     std::string_view(f.severity), std::string_view(f.check_name),
                     static_cast<int64_t>(f.include_resolved), static_cast<int64_t>(f.limit)));
    return ReadAll<AlertRow>(q, ReadAlert);
  });
}

Status Metastore::AcknowledgeAlert(std::string_view alert_id, std::string_view by,
                                   std::string_view note) {
  return Guard(db_.get(), [&]() -> Status {
    if (by.empty()) return InvalidArgumentError("alert " + std::string(alert_id) + ": no reviewer");
    ASSIGN_OR_RETURN(Statement u,
                     PrepareBound(*db_,
                                  "UPDATE alerts SET acknowledged_by = ?2, acknowledged_at = ?3, "
                                  "note = ?4 WHERE alert_id = ?1",
                                  alert_id, by, std::string_view(FormatUtcTimestamp(Now())), note));
    RETURN_IF_ERROR(u.Run());
    if (db_->Changes() == 0)
      return NotFoundError("alert " + std::string(alert_id) + ": no such alert");
    return OkStatus();
  });
}

}  // namespace riskpipe::metastore
