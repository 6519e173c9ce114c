#include "report/queries.h"

namespace riskpipe::report::internal {

// Every dataset names months "YYYY-MM".
#define RP_MONTH "strftime(snapshot_date, '%Y-%m') AS month"

const std::vector<SourceTable>& SourceTables() {
  static const std::vector<SourceTable> tables = {
      {"stab", "monitoring_stability",
       "SELECT snapshot_date, model_id, metric, feature, bucket::VARCHAR AS bucket, "
       "value::DOUBLE AS value, reference::DOUBLE AS reference, rows::BIGINT AS rows",
       "",
       "snapshot_date DATE, model_id VARCHAR, metric VARCHAR, feature VARCHAR, bucket VARCHAR, "
       "value DOUBLE, reference DOUBLE, rows BIGINT"},
      {"perf", "monitoring_performance",
       "SELECT snapshot_date, model_id, status, metric, bucket::VARCHAR AS bucket, value::DOUBLE "
       "AS value, estimated::DOUBLE AS estimated, rows::BIGINT AS rows, labelled::BIGINT AS "
       "labelled",
       "",
       "snapshot_date DATE, model_id VARCHAR, status VARCHAR, metric VARCHAR, bucket VARCHAR, "
       "value DOUBLE, estimated DOUBLE, rows BIGINT, labelled BIGINT"},
      {"alerts", "monitoring_alerts",
       "SELECT snapshot_date, alert_id, model_id, check_name, severity, metric, feature, "
       "value::DOUBLE AS value, threshold::DOUBLE AS threshold, action, message",
       "",
       "snapshot_date DATE, alert_id VARCHAR, model_id VARCHAR, check_name VARCHAR, severity "
       "VARCHAR, metric VARCHAR, feature VARCHAR, value DOUBLE, threshold DOUBLE, action VARCHAR, "
       "message VARCHAR"},
      // Predictions are the only large table: aggregated while read (one pass, full data).
      {"pred", "predictions",
       "SELECT snapshot_date, model_id, role, score_band, count(*)::BIGINT AS n, "
       "sum(pd)::DOUBLE AS sum_pd, count(*) FILTER (WHERE decision = 'approve')::BIGINT AS "
       "approved",
       "GROUP BY ALL",
       "snapshot_date DATE, model_id VARCHAR, role VARCHAR, score_band VARCHAR, n BIGINT, "
       "sum_pd DOUBLE, approved BIGINT"},
      {"dq", "data_quality",
       "SELECT snapshot_date, layer, table_name, expectation, severity, outcome, column_name, "
       "TRY_CAST(observed AS DOUBLE) AS observed, TRY_CAST(threshold AS DOUBLE) AS threshold",
       "",
       "snapshot_date DATE, layer VARCHAR, table_name VARCHAR, expectation VARCHAR, severity "
       "VARCHAR, outcome VARCHAR, column_name VARCHAR, observed DOUBLE, threshold DOUBLE"},
  };
  return tables;
}

const std::vector<std::string_view>& SetupStatements() {
  // The model of a month: the champion of gold/predictions, else the model with the most
  // monitored rows (stability before performance), ties broken by id.
  static const std::vector<std::string_view> statements = {
      "CREATE OR REPLACE TEMP TABLE primary_model AS "
      "SELECT snapshot_date, first(model_id ORDER BY pri, w DESC, model_id) AS model_id FROM ("
      " SELECT snapshot_date, model_id, 0 AS pri, sum(n)::BIGINT AS w FROM pred"
      "  WHERE role = 'champion' GROUP BY ALL"
      " UNION ALL SELECT snapshot_date, model_id, 1, max(rows) FROM stab GROUP BY ALL"
      " UNION ALL SELECT snapshot_date, model_id, 2, max(rows) FROM perf GROUP BY ALL"
      ") GROUP BY snapshot_date",
  };
  return statements;
}

const std::vector<NamedQuery>& Datasets() {
  static const std::vector<NamedQuery> datasets = {
      {"months",
       "SELECT DISTINCT " RP_MONTH " FROM (SELECT snapshot_date FROM stab UNION SELECT "
       "snapshot_date FROM perf UNION SELECT snapshot_date FROM pred UNION SELECT snapshot_date "
       "FROM alerts) ORDER BY month"},
      {"score", "SELECT " RP_MONTH ", model_id, metric, value, reference, rows FROM stab "
                "WHERE feature IS NULL AND bucket IS NULL ORDER BY month, model_id, metric"},
      {"csi",
       "SELECT " RP_MONTH ", feature, value FROM stab JOIN primary_model USING (snapshot_date, "
       "model_id) WHERE metric = 'csi' AND feature IS NOT NULL AND bucket IS NULL "
       "ORDER BY feature, month"},
      {"null_rate",
       "SELECT " RP_MONTH ", feature, value, reference FROM stab JOIN primary_model USING "
       "(snapshot_date, model_id) WHERE metric = 'null_rate' AND feature IS NOT NULL AND bucket "
       "IS NULL ORDER BY feature, month"},
      {"importance",
       "SELECT " RP_MONTH ", feature, value, reference FROM stab JOIN primary_model USING "
       "(snapshot_date, model_id) WHERE metric = 'importance' AND feature IS NOT NULL AND "
       "bucket IS NULL ORDER BY feature, month"},
      {"perf",
       "SELECT " RP_MONTH ", model_id, status, metric, value, estimated, rows, labelled FROM "
       "perf WHERE bucket IS NULL ORDER BY month, model_id, metric"},
      {"calibration",
       "WITH j AS (SELECT * FROM perf JOIN primary_model USING (snapshot_date, model_id) WHERE "
       "metric IN ('calib_observed', 'calib_predicted') AND status = 'matured'), "
       "last AS (SELECT max(snapshot_date) AS d FROM j) "
       "SELECT * FROM (SELECT " RP_MONTH ", model_id, bucket, "
       "max(coalesce(value, estimated)) FILTER (WHERE metric = 'calib_observed') AS observed, "
       "max(coalesce(value, estimated)) FILTER (WHERE metric = 'calib_predicted') AS predicted, "
       "max(rows) AS rows FROM j, last WHERE snapshot_date = last.d GROUP BY ALL) "
       "ORDER BY TRY_CAST(bucket AS INTEGER), bucket"},
      {"alerts",
       "SELECT " RP_MONTH ", severity, check_name, metric, feature, value, threshold, action, "
       "message, model_id, alert_id FROM alerts ORDER BY snapshot_date DESC, CASE severity WHEN "
       "'act' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, check_name, feature"},
      {"alert_counts",
       "SELECT " RP_MONTH ", severity, count(*)::BIGINT AS n FROM alerts GROUP BY ALL "
       "ORDER BY ALL"},
      {"bands",
       "SELECT " RP_MONTH ", score_band, sum(n)::BIGINT AS n FROM pred WHERE role = 'champion' "
       "GROUP BY ALL ORDER BY ALL"},
      {"roles",
       "SELECT " RP_MONTH ", model_id, role, sum(n)::BIGINT AS n, (sum(sum_pd) / sum(n))::DOUBLE "
       "AS mean_pd, (sum(approved) / sum(n))::DOUBLE AS approval_rate FROM pred GROUP BY ALL "
       "ORDER BY ALL"},
      {"dq_summary",
       "SELECT " RP_MONTH ", CASE WHEN outcome = 'fail' THEN 'fail (' || severity || ')' ELSE "
       "outcome END AS result, count(*)::BIGINT AS n FROM dq GROUP BY ALL ORDER BY ALL"},
      {"dq_failures",
       "SELECT " RP_MONTH ", layer, table_name, expectation, severity, column_name, observed, "
       "threshold FROM dq WHERE outcome = 'fail' ORDER BY snapshot_date DESC, severity, "
       "table_name, expectation LIMIT 200"},
  };
  return datasets;
}

const std::vector<NamedQuery>& Facts() {
  static const std::vector<NamedQuery> facts = {
      {"psi_thresholds",
       "SELECT min(threshold) FILTER (WHERE severity = 'warn') AS psi_warn, min(threshold) "
       "FILTER (WHERE severity = 'act') AS psi_act, CASE WHEN count(*) > 0 THEN "
       "'gold/monitoring_alerts' END AS psi_thresholds_from FROM alerts WHERE metric = "
       "'score_psi' AND threshold IS NOT NULL AND severity IN ('warn', 'act')"},
      {"alert_totals",
       "SELECT count(*)::BIGINT AS alerts_total, count(*) FILTER (WHERE severity = "
       "'act')::BIGINT AS alerts_act, count(*) FILTER (WHERE severity = 'warn')::BIGINT AS "
       "alerts_warn, count(*) FILTER (WHERE action = 'retrain')::BIGINT AS alerts_retrain, "
       "count(DISTINCT snapshot_date)::BIGINT AS alert_months FROM alerts"},
      {"retrain_months",
       "SELECT string_agg(m, ', ' ORDER BY m) AS retrain_months FROM (SELECT DISTINCT "
       "strftime(snapshot_date, '%Y-%m') AS m FROM alerts WHERE action = 'retrain')"},
      {"act_months",
       "SELECT string_agg(m, ', ' ORDER BY m) AS act_months FROM (SELECT DISTINCT "
       "strftime(snapshot_date, '%Y-%m') AS m FROM alerts WHERE severity = 'act')"},
      {"span",
       "SELECT count(*)::BIGINT AS months_monitored, strftime(min(snapshot_date), '%Y-%m') AS "
       "first_month, strftime(max(snapshot_date), '%Y-%m') AS last_month FROM primary_model"},
      {"model_changes",
       "SELECT string_agg(month || ': ' || model_id, ', ' ORDER BY month) AS model_changes FROM "
       "(SELECT " RP_MONTH ", model_id, lag(model_id) OVER (ORDER BY snapshot_date) AS prev "
       "FROM primary_model) WHERE prev IS DISTINCT FROM model_id"},
      {"psi_peak",
       "SELECT strftime(snapshot_date, '%Y-%m') AS psi_peak_month, value AS psi_peak FROM stab "
       "JOIN "
       "primary_model USING (snapshot_date, model_id) WHERE metric = 'score_psi' AND feature IS "
       "NULL AND value IS NOT NULL ORDER BY value DESC LIMIT 1"},
      {"psi_latest",
       "SELECT strftime(snapshot_date, '%Y-%m') AS psi_latest_month, value AS psi_latest FROM stab "
       "JOIN "
       "primary_model USING (snapshot_date, model_id) WHERE metric = 'score_psi' AND feature IS "
       "NULL ORDER BY snapshot_date DESC LIMIT 1"},
      {"auc_latest",
       "SELECT strftime(snapshot_date, '%Y-%m') AS auc_latest_month, value AS auc_latest, model_id "
       "AS "
       "auc_latest_model FROM perf JOIN primary_model USING (snapshot_date, model_id) WHERE "
       "metric = 'auc' AND status = 'matured' AND bucket IS NULL AND value IS NOT NULL "
       "ORDER BY snapshot_date DESC LIMIT 1"},
      {"auc_min",
       "SELECT strftime(snapshot_date, '%Y-%m') AS auc_min_month, value AS auc_min FROM perf JOIN "
       "primary_model USING (snapshot_date, model_id) WHERE metric = 'auc' AND status = "
       "'matured' AND bucket IS NULL AND value IS NOT NULL ORDER BY value LIMIT 1"},
      {"auc_estimated_latest",
       "SELECT strftime(snapshot_date, '%Y-%m') AS auc_estimated_latest_month, estimated AS "
       "auc_estimated_latest FROM perf JOIN primary_model USING (snapshot_date, model_id) "
       "WHERE metric = 'auc' AND status = 'immature' AND bucket IS NULL ORDER BY snapshot_date "
       "DESC LIMIT 1"},
      // The model in use in the latest month, since when, and its worst score PSI since then.
      {"current_model",
       "WITH cur AS (SELECT model_id FROM primary_model ORDER BY snapshot_date DESC LIMIT 1), "
       "since AS (SELECT min(snapshot_date) AS d FROM primary_model WHERE model_id = (SELECT "
       "model_id FROM cur)) SELECT (SELECT model_id FROM cur) AS current_model, strftime((SELECT "
       "d FROM since), '%Y-%m') AS current_since, max(value) AS current_psi_max FROM stab WHERE "
       "model_id = (SELECT model_id FROM cur) AND metric = 'score_psi' AND feature IS NULL AND "
       "snapshot_date >= (SELECT d FROM since)"},
      // The largest realised calibration gap (observed default rate - mean PD), and the latest
      // estimate of the model in use.
      {"calibration_worst",
       "SELECT strftime(snapshot_date, '%Y-%m') AS calib_worst_month, model_id AS "
       "calib_worst_model, value AS calib_worst FROM perf WHERE metric = 'calibration_gap' AND "
       "status = 'matured' AND bucket IS NULL AND value IS NOT NULL ORDER BY abs(value) DESC, "
       "snapshot_date LIMIT 1"},
      {"calibration_current",
       "SELECT strftime(snapshot_date, '%Y-%m') AS calib_current_month, estimated AS "
       "calib_current FROM perf JOIN primary_model USING (snapshot_date, model_id) WHERE metric = "
       "'calibration_gap' AND bucket IS NULL AND estimated IS NOT NULL ORDER BY snapshot_date "
       "DESC LIMIT 1"},
      {"dq_error_months",
       "SELECT string_agg(m, ', ' ORDER BY m) AS dq_error_months FROM (SELECT DISTINCT "
       "strftime(snapshot_date, '%Y-%m') AS m FROM dq WHERE outcome = 'fail' AND severity = "
       "'error')"},
      {"maturity",
       "SELECT count(DISTINCT snapshot_date) FILTER (WHERE status = 'matured')::BIGINT AS "
       "months_matured, count(DISTINCT snapshot_date) FILTER (WHERE status = "
       "'immature')::BIGINT AS months_immature FROM perf"},
      {"latest_score",
       "SELECT max(value) FILTER (WHERE metric = 'approval_rate') AS approval_latest, max(value) "
       "FILTER (WHERE metric = 'mean_pd') AS mean_pd_latest FROM stab JOIN primary_model USING "
       "(snapshot_date, model_id) WHERE feature IS NULL AND snapshot_date = (SELECT "
       "max(snapshot_date) FROM primary_model)"},
      {"predictions",
       "SELECT sum(n)::BIGINT AS predictions_total, count(DISTINCT snapshot_date)::BIGINT AS "
       "prediction_months, count(DISTINCT model_id) FILTER (WHERE role = 'challenger')::BIGINT "
       "AS challengers FROM pred"},
      {"data_quality",
       "SELECT count(*)::BIGINT AS dq_checks, count(*) FILTER (WHERE outcome = 'fail')::BIGINT "
       "AS dq_failed, count(*) FILTER (WHERE outcome = 'fail' AND severity = 'error')::BIGINT "
       "AS dq_errors, count(DISTINCT snapshot_date)::BIGINT AS dq_months FROM dq"},
  };
  return facts;
}

#undef RP_MONTH

}  // namespace riskpipe::report::internal
