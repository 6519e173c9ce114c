// MonitorMonth and RetrainRecommended (monitoring/monitoring.h).

#include "monitoring/monitoring.h"
#include "core/json.h"
#include "features/dataset.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "datamart/datamart.h"
#include "features/label_store.h"
#include "metastore/metastore.h"
#include "model/package.h"
#include "monitoring/month_stats.h"
#include "monitoring/policy.h"
#include "monitoring/reference.h"
#include "monitoring/tables.h"
#include "registry/registry.h"

namespace riskpipe::monitoring {
namespace {

namespace fs = std::filesystem;
using datamart::Layer;
using internal::Keyed;
using internal::ModelKey;

std::string Lit(const fs::path& p) { return db::QuoteLiteral(p.string()); }

Date LastDay(Month m) { return m.Next().first_day().AddDays(-1); }

// Whether every label of scoring month `s` is knowable by the end of monitored month `t`.
bool Matured(const config::Project& project, Month s, Month t) {
  if (!project.label) return false;
  const config::LabelDef& l = *project.label;
  if (l.kind == config::LabelKind::kDpd) return s.Next(l.mob) <= t;
  return LastDay(s).AddDays(l.outcome_window_days) <= LastDay(t);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> internal::FeatureRowsSql(
    const config::Project& project, const datamart::Datamart& mart, Month month) {
  if (project.model && project.model->dataset && !project.model->dataset->date.empty()) {
    const config::DatasetDef& d = *project.model->dataset;
    if (d.id.empty()) return std::nullopt;
    const bool parquet = d.file.extension() == ".parquet";
    const std::string date = db::QuoteIdent(d.date);
    return std::make_pair(
        "SELECT * FROM " + std::string(parquet ? "read_parquet(" : "read_csv_auto(") + Lit(d.file) +
            ") WHERE " + date + " >= DATE '" + month.first_day().ToString() + "' AND " + date +
            " < DATE '" + month.Next().first_day().ToString() + "'",
        d.id);
  }
  const fs::path file = mart.PartitionFile(Layer::kGold, "feature_store", month.first_day());
  if (project.features.spine.key.empty() || !fs::exists(file)) return std::nullopt;
  return std::make_pair("SELECT * FROM read_parquet(" + Lit(file) + ")",
                        project.features.spine.key);
}

namespace {

struct ModelInMonth {
  ModelKey key;
  Reference ref;
};

StatusOr<std::vector<ModelKey>> ModelsOf(db::Connection& con, const fs::path& predictions) {
  ASSIGN_OR_RETURN(db::Table t, con.Query("SELECT DISTINCT model_id, model_name, model_version "
                                          "FROM read_parquet(" +
                                          Lit(predictions) + ") ORDER BY model_id"));
  std::vector<ModelKey> out;
  for (const auto& row : t.rows) {
    ModelKey k;
    k.model_id = std::get<std::string>(row[0]);
    k.model_name = std::get<std::string>(row[1]);
    k.model_version = std::get<int64_t>(row[2]);
    out.push_back(std::move(k));
  }
  return out;
}

// Mean |attribution| per reference feature over the month's rows.
StatusOr<std::vector<double>> MonthImportance(registry::Registry& reg, const std::string& model_id,
                                              const model::Frame& frame, const Reference& ref) {
  ASSIGN_OR_RETURN(fs::path dir, reg.VerifiedPath(model_id));
  ASSIGN_OR_RETURN(model::ModelPackage package, model::ModelPackage::Load(dir));
  const auto& features = package.preprocessor().features();
  std::vector<double> sum(features.size(), 0.0);
  std::vector<uint32_t> block;
  constexpr size_t kBlock = 65536;
  for (size_t start = 0; start < frame.rows; start += kBlock) {
    const size_t end = std::min(frame.rows, start + kBlock);
    block.resize(end - start);
    for (size_t i = start; i < end; ++i) block[i - start] = static_cast<uint32_t>(i);
    ASSIGN_OR_RETURN(std::vector<double> c,
                     package.estimator().Contributions(frame, block, package.preprocessor()));
    if (c.size() != block.size() * features.size())
      return InternalError(model_id + ": contributions shape");
    for (size_t i = 0; i < block.size(); ++i) {
      for (size_t k = 0; k < features.size(); ++k) sum[k] += std::fabs(c[i * features.size() + k]);
    }
  }
  std::vector<double> out(ref.features.size(), std::nan(""));
  for (size_t r = 0; r < ref.features.size(); ++r) {
    for (size_t k = 0; k < features.size(); ++k) {
      if (features[k].name == ref.features[r].name && frame.rows > 0) out[r] = sum[k] / frame.rows;
    }
  }
  return out;
}

// Stability rows of one model in `month`.
StatusOr<std::vector<StabilityRow>> Stability(const config::Project& project,
                                              registry::Registry& reg, db::Connection& con,
                                              const datamart::Datamart& mart, Month month,
                                              const fs::path& predictions, const ModelInMonth& m,
                                              const MonitorOptions& options, int64_t& rows) {
  std::string select =
      "SELECT p.pd::DOUBLE AS pd, CASE WHEN p.decision = 'approve' THEN 1 ELSE 0 END AS _approved, "
      "CASE WHEN p.decision = 'refer' THEN 1 ELSE 0 END AS _referred";
  std::string join;
  const auto features = internal::FeatureRowsSql(project, mart, month);
  if (features) {
    // Only the reference's features that the source actually has.
    ASSIGN_OR_RETURN(db::Table shape, con.Query("SELECT * FROM (" + features->first + ") LIMIT 0"));
    for (const auto& f : m.ref.features) {
      if (shape.ColumnIndex(f.name) >= 0) select += ", f." + db::QuoteIdent(f.name);
    }
    join = " LEFT JOIN (" + features->first + ") f ON CAST(f." + db::QuoteIdent(features->second) +
           " AS VARCHAR) = p.event_id";
  }
  const std::string sql = select + " FROM read_parquet(" + Lit(predictions) + ") p" + join +
                          " WHERE p.model_id = " + db::QuoteLiteral(m.key.model_id) +
                          " ORDER BY p.event_id";
  ASSIGN_OR_RETURN(db::ColumnarTable table, con.QueryColumns(sql));
  model::Frame frame = features::ToFrame(std::move(table));
  rows += static_cast<int64_t>(frame.rows);
  std::vector<double> pd = std::move(frame.columns[0].numbers);
  std::vector<uint8_t> approved;
  approved.reserve(frame.rows);
  for (double v : frame.columns[1].numbers) approved.push_back(v == 1);
  std::vector<uint8_t> referred;
  referred.reserve(frame.rows);
  for (double v : frame.columns[2].numbers) referred.push_back(v == 1);
  MonthColumns month_cols;
  month_cols.pd = pd;
  month_cols.approved = approved;
  month_cols.referred = referred;
  month_cols.frame = &frame;
  if (options.importance && features && frame.rows > 0) {
    StatusOr<std::vector<double>> imp = MonthImportance(reg, m.key.model_id, frame, m.ref);
    if (imp.ok()) {
      month_cols.importance = std::move(*imp);
    } else if (options.log) {
      options.log("importance of " + m.key.model_id + " skipped: " + imp.status().ToString());
    }
  }
  return ComputeStability(m.ref, month_cols);
}

// Performance rows of every model scored in scoring month `s`, as of monitored month `t`.
StatusOr<std::vector<Keyed<PerformanceRow>>> Performance(const config::Project& project,
                                                         db::Connection& con,
                                                         const datamart::Datamart& mart, Month s,
                                                         Month t) {
  const fs::path predictions = mart.PartitionFile(Layer::kGold, kPredictionsTable, s.first_day());
  const bool matured = Matured(project, s, t);
  std::string labels_sql;
  if (project.label) {
    StatusOr<std::string> l = features::LabelsAvailableBySql(mart, project.label->name, LastDay(t));
    if (l.ok())
      labels_sql = *l;
    else if (l.status().code() != StatusCode::kNotFound)
      return l.status();
  }
  std::string sql =
      "SELECT p.model_id, p.model_name, p.model_version, p.pd::DOUBLE AS pd, p.threshold::DOUBLE "
      "AS threshold";
  if (labels_sql.empty()) {
    sql += ", NULL::INTEGER AS label FROM read_parquet(" + Lit(predictions) + ") p";
  } else {
    // Labels of the loans decided in s, knowable by the end of t (LabelsAvailableBySql).
    sql += ", l.label FROM read_parquet(" + Lit(predictions) + ") p LEFT JOIN " + labels_sql +
           " l ON CAST(l." + db::QuoteIdent(project.label->loan_key) + " AS VARCHAR) = p.event_id";
  }
  ASSIGN_OR_RETURN(db::ColumnarTable table,
                   con.QueryColumns(sql + " ORDER BY p.model_id, p.event_id"));
  std::vector<Keyed<PerformanceRow>> out;
  const auto& id = table.columns[0];
  for (size_t start = 0; start < table.rows;) {
    size_t end = start;
    while (end < table.rows && id.codes[end] == id.codes[start]) ++end;
    ModelKey key{id.dictionary[id.codes[start]],
                 table.columns[1].dictionary[table.columns[1].codes[start]],
                 static_cast<int64_t>(table.columns[2].numbers[start])};
    std::vector<double> pd(table.columns[3].numbers.begin() + start,
                           table.columns[3].numbers.begin() + end);
    std::vector<uint8_t> y, known;
    for (size_t i = start; i < end; ++i) {
      const double v = table.columns[5].numbers[i];
      y.push_back(v == 1);
      known.push_back(!std::isnan(v));
    }
    for (auto& row : ComputePerformance(pd, y, known, table.columns[4].numbers[start], matured)) {
      out.push_back({key, std::move(row)});
    }
    start = end;
  }
  return out;
}

StatusOr<std::optional<DqResult>> DqFailures(db::Connection& con, const datamart::Datamart& mart,
                                             Month month) {
  const fs::path file = mart.PartitionFile(Layer::kGold, "data_quality", month.first_day());
  if (!fs::exists(file)) return std::optional<DqResult>();
  ASSIGN_OR_RETURN(
      db::Table t,
      con.Query("SELECT layer, table_name, expectation, severity, "
                "coalesce(observed_text, CAST(observed AS VARCHAR), ''), "
                "coalesce(threshold, '') FROM read_parquet(" +
                Lit(file) + ") WHERE outcome = 'fail' ORDER BY layer, table_name, ordinal"));
  DqResult dq;
  for (const auto& row : t.rows) {
    std::vector<std::string> f;
    for (const auto& v : row) {
      f.push_back(std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "");
    }
    ++dq.failures;
    dq.errors += f[3] == "error";
    dq.failed.push_back(std::move(f));
  }
  return std::optional<DqResult>(std::move(dq));
}

// The run of consecutive months before `month` with an unresolved score_psi alert for
// `model_id`: its length and first month. A month without predictions (stopped by the quality
// gate, say) neither counts nor breaks the run: nothing was monitored then.
struct PsiRun {
  int months = 0;
  std::optional<Month> since;
};
StatusOr<PsiRun> PriorPsiStreak(metastore::Metastore& store, const datamart::Datamart& mart,
                                const std::string& model_id, Month month, int horizon) {
  PsiRun run;
  if (horizon <= 0) return run;
  // Skipped months widen the window: look back twice the horizon.
  metastore::AlertFilter f;
  f.model_id = model_id;
  f.check_name = "score_psi";
  f.from_month = month.Next(-2 * horizon).ToString();
  f.to_month = month.Next(-1).ToString();
  ASSIGN_OR_RETURN(std::vector<metastore::AlertRow> rows, store.ListAlerts(f));
  std::set<std::string> months;
  for (const auto& a : rows) months.insert(a.month);
  for (Month m = month.Next(-1); m >= month.Next(-2 * horizon); m = m.Next(-1)) {
    if (months.count(m.ToString())) {
      ++run.months;
      run.since = m;
    } else if (fs::exists(mart.PartitionFile(Layer::kGold, kPredictionsTable, m.first_day()))) {
      break;
    }
  }
  return run;
}

// Realised calibration per model and matured scoring month: observed default rate and mean PD
// of its labelled rows.
using CalibrationEvidence = std::map<std::string, std::map<int, std::pair<double, double>>>;

// The evidence already in gold/monitoring_performance (months matured before this run).
StatusOr<CalibrationEvidence> MaturedCalibration(db::Connection& con,
                                                 const datamart::Datamart& mart, Month month) {
  CalibrationEvidence out;
  std::string files;
  for (const Date d : mart.ListPartitions(Layer::kGold, kPerformanceTable)) {
    if (Month::Of(d) > month) continue;
    files +=
        (files.empty() ? "" : ", ") + Lit(mart.PartitionFile(Layer::kGold, kPerformanceTable, d));
  }
  if (files.empty()) return out;
  ASSIGN_OR_RETURN(
      db::Table t,
      con.Query("SELECT model_id, CAST(snapshot_date AS VARCHAR), "
                "max(CASE WHEN metric = 'default_rate' THEN value END), "
                "max(CASE WHEN metric = 'mean_pd' THEN value END) FROM read_parquet([" +
                files +
                "], hive_partitioning = true) WHERE status = 'matured' AND bucket IS NULL AND "
                "metric IN ('default_rate', 'mean_pd') GROUP BY ALL"));
  for (const auto& row : t.rows) {
    if (!std::holds_alternative<double>(row[2]) || !std::holds_alternative<double>(row[3]))
      continue;
    ASSIGN_OR_RETURN(Month m, Month::Parse(std::get<std::string>(row[1]).substr(0, 7)));
    out[std::get<std::string>(row[0])][m.index()] = {std::get<double>(row[2]),
                                                     std::get<double>(row[3])};
  }
  return out;
}

// Appends a calibration_gap row after each model's mean_pd row of scoring month `s`: realised =
// observed default rate - mean PD of the labelled rows (matured months); estimated = what the
// model's latest calibration evidence predicts for the month's PDs, mean PD x (observed / mean
// PD of its newest scoring month before `s` that has matured, else of its out-of-time rows) -
// mean PD. The plain estimates assume the PDs are calibrated; this one carries the last known
// miscalibration forward, so a shock seen in matured months shows in the immature ones, and a
// model recalibrated on the shocked population shows its own (out-of-time) calibration.
// Records the month's realised values as evidence for later months.
Status AddCalibrationGap(const config::Project& project, registry::Registry& reg,
                         db::Connection& con, Month s, bool matured, CalibrationEvidence& evidence,
                         std::map<std::string, Reference>& references,
                         std::vector<Keyed<PerformanceRow>>& perf) {
  std::vector<Keyed<PerformanceRow>> out;
  out.reserve(perf.size() + 4);
  for (size_t i = 0; i < perf.size(); ++i) {
    out.push_back(perf[i]);
    if (perf[i].row.metric != "mean_pd" || !perf[i].row.bucket.empty()) continue;
    const std::string& id = perf[i].model.model_id;
    const PerformanceRow* dr = nullptr;
    for (const auto& k : perf) {
      if (k.model.model_id == id && k.row.metric == "default_rate" && k.row.bucket.empty())
        dr = &k.row;
    }
    const PerformanceRow& mp = perf[i].row;
    PerformanceRow gap = mp;
    gap.metric = "calibration_gap";
    gap.value.reset();
    gap.estimated.reset();
    if (matured && dr && dr->value && mp.value) {
      gap.value = *dr->value - *mp.value;
      evidence[id][s.index()] = {*dr->value, *mp.value};
    }
    double ratio = std::nan("");
    const auto& mine = evidence[id];
    if (auto it = mine.lower_bound(s.index()); it != mine.begin()) {
      --it;
      if (it->second.second > 0) ratio = it->second.first / it->second.second;
    } else {
      if (!references.count(id)) {
        ASSIGN_OR_RETURN(references[id], LoadOrBuildReference(project, reg, con, id));
      }
      const Reference& ref = references[id];
      if (ref.oot_mean_pd > 0) ratio = ref.oot_default_rate / ref.oot_mean_pd;
    }
    if (!std::isnan(ratio) && mp.estimated) {
      gap.estimated = std::min(1.0, *mp.estimated * ratio) - *mp.estimated;
    }
    out.push_back({perf[i].model, std::move(gap)});
  }
  perf = std::move(out);
  return OkStatus();
}

}  // namespace

int LabelLagMonths(const config::Project& project) {
  if (!project.label) return 0;
  if (project.label->kind == config::LabelKind::kDpd) return project.label->mob;
  return (project.label->outcome_window_days + 29) / 30;
}

StatusOr<MonitorSummary> MonitorMonth(const config::Project& project, db::Connection& con,
                                      Month month, const MonitorOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const datamart::Datamart mart(project.workspace.datamart());
  const fs::path predictions =
      mart.PartitionFile(Layer::kGold, kPredictionsTable, month.first_day());
  if (!fs::exists(predictions)) {
    return FailedPreconditionError("gold/predictions has no partition for " + month.ToString() +
                                   " (" + predictions.string() + "): run `riskpipe predict` first");
  }
  MonitorSummary summary;
  summary.month = month;
  // One registry (and through it one metastore) for the whole month: references, packages and
  // alerts all read and write through it.
  ASSIGN_OR_RETURN(registry::Registry reg, registry::Registry::Open(project.workspace));
  ASSIGN_OR_RETURN(std::vector<ModelKey> keys, ModelsOf(con, predictions));
  std::vector<ModelInMonth> models;
  for (const ModelKey& k : keys) {
    ASSIGN_OR_RETURN(Reference ref, LoadOrBuildReference(project, reg, con, k.model_id));
    models.push_back({k, std::move(ref)});
    summary.models.push_back(k.model_id);
  }
  // 1. Stability of the month.
  std::vector<Keyed<StabilityRow>> stability;
  std::map<std::string, std::vector<StabilityRow>> by_model;
  for (const ModelInMonth& m : models) {
    if (options.log) options.log("stability " + m.key.model_id + " " + month.ToString());
    ASSIGN_OR_RETURN(
        std::vector<StabilityRow> rows,
        Stability(project, reg, con, mart, month, predictions, m, options, summary.rows));
    for (const auto& r : rows) stability.push_back({m.key, r});
    by_model[m.key.model_id] = std::move(rows);
  }
  RETURN_IF_ERROR(internal::WriteStability(con, mart, month, stability).status());
  // 2. Performance of the scoring months still moving (immature or maturing now) and of
  // earlier ones never written, oldest first so that each month's calibration estimate can use
  // the months before it that matured.
  const Month oldest_moving = month.Next(-(LabelLagMonths(project) + 1));
  std::map<std::string, std::vector<MaturedMonth>> matured_now;
  ASSIGN_OR_RETURN(CalibrationEvidence evidence, MaturedCalibration(con, mart, month));
  std::map<std::string, Reference> references;
  for (const ModelInMonth& m : models) references[m.key.model_id] = m.ref;
  std::vector<Date> scoring = mart.ListPartitions(Layer::kGold, kPredictionsTable);
  std::sort(scoring.begin(), scoring.end());
  for (const Date d : scoring) {
    const Month s = Month::Of(d);
    if (s > month) continue;
    const bool written = fs::exists(mart.PartitionFile(Layer::kGold, kPerformanceTable, d));
    if (s < oldest_moving && written) continue;
    if (options.log) options.log("performance of scoring month " + s.ToString());
    ASSIGN_OR_RETURN(std::vector<Keyed<PerformanceRow>> perf,
                     Performance(project, con, mart, s, month));
    RETURN_IF_ERROR(AddCalibrationGap(project, reg, con, s, Matured(project, s, month), evidence,
                                      references, perf));
    RETURN_IF_ERROR(internal::WritePerformance(con, mart, s, perf).status());
    summary.performance_months.push_back(s);
    if (Matured(project, s, month) && !Matured(project, s, month.Next(-1))) {
      std::map<std::string, MaturedMonth> per_model;
      for (auto& [key, row] : perf) {
        per_model[key.model_id].scoring_month = s;
        per_model[key.model_id].rows.push_back(row);
      }
      for (auto& [id, mm] : per_model) matured_now[id].push_back(std::move(mm));
    }
  }
  // 3. The governance policy -> alerts.
  metastore::Metastore& store = reg.metastore();
  ASSIGN_OR_RETURN(std::optional<DqResult> dq, DqFailures(con, mart, month));
  std::vector<metastore::AlertRow> alerts;
  for (const ModelInMonth& m : models) {
    PolicyInput in;
    in.month = month;
    in.model_id = m.key.model_id;
    in.model_name = m.key.model_name;
    in.reference = &m.ref;
    in.stability = by_model[m.key.model_id];
    in.matured = matured_now[m.key.model_id];
    in.dq = dq;
    // The run's length matters up to the consecutive-months rule; its start up to a year back.
    ASSIGN_OR_RETURN(
        PsiRun run,
        PriorPsiStreak(store, mart, m.key.model_id, month,
                       std::max(12, project.governance.retrain.consecutive_warn_months)));
    in.prior_psi_warn_months = run.months;
    in.prior_psi_since = run.since;
    for (auto& a : EvaluatePolicy(project.governance, in)) {
      if (a.severity == "act")
        ++summary.alerts_act;
      else if (a.severity == "warn")
        ++summary.alerts_warn;
      else
        ++summary.alerts_info;
      summary.retrain_recommended |= a.check_name == "retrain";
      alerts.push_back(std::move(a));
    }
  }
  RETURN_IF_ERROR(store.ReplaceMonthAlerts(month.ToString(), summary.models, alerts));
  RETURN_IF_ERROR(internal::WriteAlerts(con, mart, month, alerts).status());
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

StatusOr<int> RaiseQualityAlerts(const config::Project& project, db::Connection& con, Month month,
                                 const std::string& model_id) {
  const datamart::Datamart mart(project.workspace.datamart());
  ASSIGN_OR_RETURN(std::optional<DqResult> dq, DqFailures(con, mart, month));
  PolicyInput in;
  in.month = month;
  in.model_id = model_id;
  const size_t slash = model_id.rfind('/');
  in.model_name = slash == std::string::npos ? (project.model ? project.model->name : project.name)
                                             : model_id.substr(0, slash);
  in.dq = dq;
  std::vector<metastore::AlertRow> alerts = EvaluatePolicy(project.governance, in);
  ASSIGN_OR_RETURN(metastore::Metastore store,
                   metastore::Metastore::Open(project.workspace.metastore()));
  RETURN_IF_ERROR(store.ReplaceMonthAlerts(month.ToString(), {model_id}, alerts));
  RETURN_IF_ERROR(internal::WriteAlerts(con, mart, month, alerts).status());
  return static_cast<int>(alerts.size());
}

StatusOr<std::optional<RetrainTrigger>> RetrainRecommended(const config::Project& project,
                                                           std::string_view model_name,
                                                           Month as_of) {
  ASSIGN_OR_RETURN(metastore::Metastore store,
                   metastore::Metastore::Open(project.workspace.metastore()));
  metastore::ModelFilter mf;
  mf.name = std::string(model_name);
  ASSIGN_OR_RETURN(std::vector<metastore::ModelRow> versions, store.ListModels(mf));
  int64_t newest = 0;
  for (const auto& v : versions) newest = std::max(newest, v.version);
  metastore::AlertFilter f;
  f.model_name = std::string(model_name);
  f.check_name = "retrain";
  f.from_month = as_of.Next(1 - std::max(1, project.governance.retrain.lookback_months)).ToString();
  f.to_month = as_of.ToString();
  ASSIGN_OR_RETURN(std::vector<metastore::AlertRow> rows, store.ListAlerts(f));
  std::optional<RetrainTrigger> trigger;
  for (const auto& a : rows) {
    const size_t slash = a.model_id.rfind('/');
    const int64_t version =
        slash == std::string::npos ? 0 : std::atoll(a.model_id.c_str() + slash + 1);
    if (newest > 0 && version < newest) continue;  // a newer version already answers it
    ASSIGN_OR_RETURN(Month m, Month::Parse(a.month));
    if (!trigger) trigger = RetrainTrigger{std::string(model_name), a.model_id, m, {}, {}, {}};
    // Newest first: the latest alert states the current reasons.
    const bool newest_so_far = m >= trigger->month;
    if (newest_so_far) {
      trigger->month = m;
      trigger->model_id = a.model_id;
    }
    trigger->reasons.insert(newest_so_far ? trigger->reasons.begin() : trigger->reasons.end(),
                            a.message);
    trigger->alert_ids.insert(newest_so_far ? trigger->alert_ids.begin() : trigger->alert_ids.end(),
                              a.alert_id);
    const auto evidence = nlohmann::json::parse(a.evidence_json, nullptr, false);
    if (evidence.is_object() && evidence.value("drift_since", nlohmann::json()).is_string()) {
      if (auto since = Month::Parse(evidence["drift_since"].get<std::string>()); since.ok()) {
        if (!trigger->drift_since || *since < *trigger->drift_since) trigger->drift_since = *since;
      }
    }
  }
  return trigger;
}

}  // namespace riskpipe::monitoring
