#include "core/json.h"
#include "report/report_fixture.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/date.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "registry/registry.h"

namespace riskpipe::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string D(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

std::string Str(const std::string& s) { return s.empty() ? "NULL" : db::QuoteLiteral(s); }

int VersionOf(int month) { return month < kRetrainMonth ? 1 : 2; }

std::string ModelCols(int version) {
  return "'lending_pd/" + std::to_string(version) + "', 'lending_pd', " + std::to_string(version);
}

std::string StabilitySql(int i) {
  const int v = VersionOf(i);
  const double psi = i == kShockMonth ? 0.31 : i == kShockMonth + 1 ? 0.18 : 0.02 + 0.001 * i;
  std::string rows;
  auto row = [&](const std::string& metric, const std::string& feature, const std::string& bucket,
                 double value, double reference) {
    rows += std::string(rows.empty() ? "" : ", ") + "(" + ModelCols(v) + ", " + Str(metric) + ", " +
            Str(feature) + ", " + Str(bucket) + ", " + D(value) + ", " + D(reference) + ", 1000)";
  };
  row("score_psi", "", "", psi, 0);
  row("score_js", "", "", psi / 4, 0);
  row("score_ks", "", "", psi / 2, 0);
  row("approval_rate", "", "", i == kShockMonth ? 0.61 : 0.70, 0.70);
  row("mean_pd", "", "", i == kShockMonth ? 0.11 : 0.08, 0.08);
  for (int f = 1; f <= 6; ++f) {
    const std::string name = "f" + std::to_string(f);
    row("csi", name, "", (i == kShockMonth && f <= 2) ? 0.40 : 0.01 * f, 0);
    row("null_rate", name, "", (i == kOutageMonth && f == 3) ? 1.0 : 0.01, 0.01);
    row("importance", name, "", 0.05 * f + 0.001 * i, 0.05 * f);
  }
  return "SELECT model_id, model_name, model_version::INTEGER AS model_version, metric, "
         "feature::VARCHAR AS feature, bucket::VARCHAR AS bucket, value, reference, "
         "rows::BIGINT AS rows FROM (VALUES " +
         rows +
         ") t(model_id, model_name, model_version, metric, feature, bucket, value, reference, "
         "rows)";
}

std::string PerformanceSql(int i) {
  const int v = VersionOf(i);
  const bool matured = i < kMaturedMonths;
  const double auc = (i >= kShockMonth && i < kRetrainMonth) ? 0.71 : 0.78;
  std::string rows;
  auto row = [&](const std::string& metric, const std::string& bucket, double value,
                 double estimated) {
    rows += std::string(rows.empty() ? "" : ", ") + "(" + ModelCols(v) + ", " +
            Str(matured ? "matured" : "immature") + ", " + Str(metric) + ", " + Str(bucket) + ", " +
            (matured ? D(value) : "NULL") + ", " + D(estimated) + ", 1000, " +
            (matured ? "1000" : "0") + ")";
  };
  row("auc", "", auc, 0.77);
  row("gini", "", 2 * auc - 1, 0.54);
  row("ks", "", auc - 0.38, 0.39);
  row("brier", "", 0.07, 0.071);
  row("default_rate", "", i >= kShockMonth && i < kRetrainMonth ? 0.11 : 0.08, 0.08);
  row("mean_pd", "", 0.08, 0.08);
  // Observed default rate - mean PD; estimated from the latest known calibration: the shock's
  // gap carried forward until the retrain, the new version's small out-of-time gap after it.
  const bool shocked = i >= kShockMonth && i < kRetrainMonth;
  row("calibration_gap", "", shocked ? 0.03 : 0.0,
      i > kShockMonth && i < kRetrainMonth ? 0.03 : -0.004);
  for (int b = 1; b <= 10; ++b) {
    row("calib_observed", std::to_string(b), 0.01 * b, 0.01 * b);
    row("calib_predicted", std::to_string(b), 0.01 * b + 0.002, 0.01 * b + 0.002);
  }
  return "SELECT * FROM (VALUES " + rows +
         ") t(model_id, model_name, model_version, status, metric, bucket, value, estimated, rows, "
         "labelled)";
}

std::string AlertsSql(int i, const std::string& month) {
  std::string rows;
  auto row = [&](const std::string& check, const std::string& severity, const std::string& metric,
                 const std::string& feature, double value, double threshold,
                 const std::string& action, const std::string& message) {
    rows += std::string(rows.empty() ? "" : ", ") + "(" + Str(month + check + feature) + ", " +
            Str("lending_pd/" + std::to_string(VersionOf(i))) + ", " + Str(check) + ", " +
            Str(severity) + ", " + Str(metric) + ", " + Str(feature) + ", " + D(value) + ", " +
            D(threshold) + ", " + Str(action) + ", " + Str(message) + ", '{}')";
  };
  if (i == kOutageMonth) {
    row("null_rate_drift", "act", "null_rate", "f3", 1.0, 0.05, "investigate",
        "feed <outage>: f3 is null in every row & the source file was empty");
  }
  if (i == kShockMonth) {
    row("score_psi", "act", "score_psi", "", 0.31, 0.25, "retrain", "score PSI 0.31 >= 0.25");
    row("csi", "warn", "csi", "f1", 0.40, 0.25, "investigate", "CSI of f1 0.40");
  }
  if (i == kShockMonth + 1) {
    row("score_psi", "warn", "score_psi", "", 0.18, 0.10, "watch", "score PSI 0.18 >= 0.10");
  }
  if (rows.empty()) return "";
  return "SELECT * FROM (VALUES " + rows +
         ") t(alert_id, model_id, check_name, severity, metric, feature, value, threshold, action, "
         "message, evidence_json)";
}

std::string PredictionsSql(int i, const std::string& month) {
  auto part = [&](int version, const std::string& role) {
    return "SELECT 'e' || r AS event_id, 'c' || r AS entity_id, DATE " + Str(month) +
           " AS decision_date, 'lending_pd/" + std::to_string(version) +
           "' AS model_id, 'lending_pd' AS model_name, " + std::to_string(version) +
           " AS model_version, '" + role +
           "' AS role, 0.0 AS margin, (r % 100) / 250.0 AS pd, "
           "['A','B','C','D','E'][1 + (r % 100) // 20] AS score_band, CASE WHEN (r % 100) / 250.0 "
           ">= 0.3 THEN 'decline' ELSE 'approve' END AS decision, 0.3 AS threshold, "
           "NULL::VARCHAR AS reason_1, NULL::VARCHAR AS reason_2, NULL::VARCHAR AS reason_3, "
           "'v1' AS reason_table_version FROM range(200) t(r)";
  };
  std::string sql = part(VersionOf(i), "champion");
  if (i >= kFixtureMonths - 3) sql += " UNION ALL " + part(1, "challenger");
  return sql;
}

std::string QualitySql(int i) {
  const bool outage = i == kOutageMonth;
  return std::string(
             "SELECT * FROM (VALUES ('silver', 'financials', 'f3_present', 'null_rate', 'f3', "
             "'error', ") +
         (outage ? "'fail', false, 1.0" : "'pass', true, 0.0") +
         ", 0.01), ('silver', 'financials', 'rows_delivered', 'row_count', NULL, 'warn', 'pass', "
         "true, 1000.0, 100.0)) t(layer, table_name, expectation, kind, column_name, severity, "
         "outcome, passed, observed, threshold)";
}

void Write(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

std::string FixtureProject() {
  return R"(project: report_demo
workspace: ws
sources:
  - name: lms_loan_daily
    description: Loan management system, one row per loan and installment
    file: raw/lms.csv
    keys: [loan_id, installment_num]
    date_column: snapshot_date
    columns:
      - {name: loan_id, type: string, required: true}
      - {name: Customer_ID, type: string, required: true}
      - {name: loan_start_date, type: date, required: true}
      - {name: installment_num, type: int}
      - {name: due_amt, type: float}
      - {name: overdue_amt, type: float}
      - {name: snapshot_date, type: date, required: true}
label:
  name: 30dpd_6mob
  kind: dpd
  source: lms_loan_daily
  entity: Customer_ID
  loan_key: loan_id
  application_date: loan_start_date
  mob: 6
  dpd: 30
)";
}

void WriteGoldTables(const fs::path& workspace) {
  auto database = db::Database::Open(":memory:");
  ASSERT_TRUE(database.ok()) << database.status().ToString();
  auto con = database->Connect();
  ASSERT_TRUE(con.ok()) << con.status().ToString();
  const datamart::Datamart mart(Workspace(workspace).datamart());
  const Month first = Month::Of(2024, 1);
  for (int i = 0; i < kFixtureMonths; ++i) {
    const Date day = first.Next(i).first_day();
    const std::string month = day.ToString();
    const std::pair<const char*, std::string> tables[] = {
        {"monitoring_stability", StabilitySql(i)},
        {"monitoring_performance", PerformanceSql(i)},
        {"monitoring_alerts", AlertsSql(i, month)},
        {"predictions", PredictionsSql(i, month)},
        {"data_quality", QualitySql(i)}};
    for (const auto& [table, sql] : tables) {
      if (sql.empty()) continue;
      auto rows = mart.WritePartition(*con, datamart::Layer::kGold, table, day, sql);
      ASSERT_TRUE(rows.ok()) << table << " " << month << ": " << rows.status().ToString();
    }
  }
}

void RegisterModels(const fs::path& workspace) {
  registry::Options options;
  options.warn = [](const std::string&) {};
  auto reg = registry::Registry::Open(workspace, options);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  json calib = json::array();
  for (int b = 1; b <= 10; ++b) {
    calib.push_back({{"decile", b}, {"mean_pd", 0.01 * b}, {"observed_rate", 0.01 * b + 0.001}});
  }
  auto split = [&](double auc, bool table) {
    json s = {{"rows", 5000},
              {"default_rate", 0.08},
              {"auc", auc},
              {"gini", 2 * auc - 1},
              {"ks", auc - 0.38},
              {"brier", 0.07},
              {"at_threshold", {{"approval_rate", 0.7}}}};
    if (table) s["calibration_by_decile"] = calib;
    return s;
  };
  for (int version = 1; version <= 2; ++version) {
    auto staging = reg->NewStagingDir("lending_pd");
    ASSERT_TRUE(staging.ok()) << staging.status().ToString();
    const json meta = {{"format", "riskpipe.model/1"},
                       {"family", "xgboost"},
                       {"candidate", "xgb"},
                       {"metrics",
                        {{"train", split(0.84, false)},
                         {"validation", split(0.80, false)},
                         {"oot", split(0.79, true)}}},
                       {"training_data",
                        {{"splits",
                          "train 2023-01..2023-12, validation "
                          "2024-01..2024-03, oot 2024-04..2024-06"},
                         {"out_of_time", true},
                         {"lineage", json::array()}}}};
    const json board = {{"selection_rule", "highest validation AUC with OOT drop <= 0.05"},
                        {"candidates",
                         {{{"name", "xgb"},
                           {"family", "xgboost"},
                           {"chosen", true},
                           {"note", ""},
                           {"validation", split(0.80, false)},
                           {"oot", split(0.79, false)}},
                          {{"name", "logit"},
                           {"family", "logistic"},
                           {"chosen", false},
                           {"note", ""},
                           {"validation", split(0.75, false)},
                           {"oot", split(0.74, false)}}}}};
    Write(*staging / "metadata.json", meta.dump(1));
    Write(*staging / "leaderboard.json", board.dump(1));
    Write(*staging / "preprocess.json", "{}");
    Write(*staging / "model.json", "{}");
    registry::RegisterInfo info;
    info.family = "xgboost";
    auto rec = reg->Register(*staging, "lending_pd", info);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    const json validation = {{"passed", true},
                             {"checks",
                              {{{"name", "oot_auc_floor"},
                                {"value", 0.79},
                                {"threshold", 0.70},
                                {"passed", true},
                                {"rationale", "policy floor"}}}}};
    ASSERT_TRUE(reg->AddFile(rec->id, "validation.json", validation.dump(1)).ok());
    ASSERT_TRUE(reg->Approve(rec->id, "alice", "reviewed").ok());
    auto promoted = reg->Promote(rec->id, "bob");
    ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  }
}

}  // namespace riskpipe::testing
