// Champion/challenger analysis and the unseen-segment drift test (monitoring/compare.h).

#include "monitoring/compare.h"
#include "features/dataset.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "datamart/datamart.h"
#include "features/label_store.h"
#include "model/package.h"
#include "monitoring/monitoring.h"
#include "monitoring/reference.h"
#include "monitoring/tables.h"
#include "registry/registry.h"
#include "stats/metrics.h"

namespace riskpipe::monitoring {
namespace {

namespace fs = std::filesystem;
using datamart::Layer;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

ModelSide Side(const std::string& id, const std::vector<double>& pd, double threshold,
               const std::vector<double>& label, double lgd) {
  ModelSide s;
  s.model_id = id;
  const size_t n = pd.size();
  double approved = 0, approved_labelled = 0, approved_bad = 0, labelled = 0, el = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool ok = pd[i] < threshold;
    const bool known = !std::isnan(label[i]);
    approved += ok;
    labelled += known;
    if (ok) el += pd[i];
    if (ok && known) {
      approved_labelled += 1;
      approved_bad += label[i] == 1;
    }
  }
  s.approval_rate = n ? approved / n : std::nan("");
  s.bad_rate_approved = approved_labelled > 0 ? approved_bad / approved_labelled : std::nan("");
  s.loss_rate = labelled > 0 ? lgd * approved_bad / labelled : std::nan("");
  s.expected_loss = n ? lgd * el / n : std::nan("");
  return s;
}

}  // namespace

StatusOr<CompareResult> CompareModels(const config::Project& project, db::Connection& con,
                                      const std::string& champion_id,
                                      const std::string& challenger_id,
                                      const CompareOptions& options) {
  if (champion_id == challenger_id) {
    return InvalidArgumentError("compare: champion and challenger are both " + champion_id);
  }
  const config::GovernanceDef& gov = project.governance;
  const datamart::Datamart mart(project.workspace.datamart());
  StatusOr<std::string> predictions = mart.ReadSql(Layer::kGold, kPredictionsTable);
  if (!predictions.ok()) {
    return FailedPreconditionError("compare: gold/predictions is empty: run `riskpipe predict`");
  }
  std::string where = "TRUE";
  if (options.from)
    where += " AND snapshot_date >= DATE '" + options.from->first_day().ToString() + "'";
  if (options.to)
    where += " AND snapshot_date <= DATE '" + options.to->first_day().ToString() + "'";
  std::string label_join = "";
  std::string label_col = "NULL::INTEGER";
  if (project.label) {
    StatusOr<std::string> l = features::LabelsAvailableBySql(
        mart, project.label->name, options.labels_as_of.value_or(Date::FromCivil(9999, 12, 31)));
    if (l.ok()) {
      label_join = " LEFT JOIN " + *l + " l ON CAST(l." + db::QuoteIdent(project.label->loan_key) +
                   " AS VARCHAR) = a.event_id";
      label_col = "l.label";
    } else if (l.status().code() != StatusCode::kNotFound) {
      return l.status();
    }
  }
  const std::string sql =
      "WITH p AS (SELECT event_id, model_id, pd::DOUBLE AS pd, threshold::DOUBLE AS threshold "
      "FROM " +
      *predictions + " WHERE " + where +
      ") SELECT a.pd AS pd_a, a.threshold AS t_a, b.pd AS pd_b, b.threshold AS t_b, " + label_col +
      " AS label FROM p a JOIN p b ON a.event_id = b.event_id AND b.model_id = " +
      db::QuoteLiteral(challenger_id) + label_join +
      " WHERE a.model_id = " + db::QuoteLiteral(champion_id) + " ORDER BY a.event_id";
  ASSIGN_OR_RETURN(db::ColumnarTable t, con.QueryColumns(sql));
  if (t.rows == 0) {
    return FailedPreconditionError(
        "compare: " + champion_id + " and " + challenger_id +
        " were not scored on any common application in gold/predictions");
  }
  const auto& pd_a = t.columns[0].numbers;
  const auto& pd_b = t.columns[2].numbers;
  const auto& label = t.columns[4].numbers;
  CompareResult r;
  r.rows = static_cast<int64_t>(t.rows);
  r.confidence = gov.compare_confidence;
  r.champion = Side(champion_id, pd_a, t.columns[1].numbers[0], label, gov.lgd);
  r.challenger = Side(challenger_id, pd_b, t.columns[3].numbers[0], label, gov.lgd);
  std::vector<double> a, b;
  std::vector<uint8_t> y;
  for (size_t i = 0; i < t.rows; ++i) {
    // Rows either model referred (no PD) cannot be ranked; they count as not approved above.
    if (std::isnan(label[i]) || std::isnan(pd_a[i]) || std::isnan(pd_b[i])) continue;
    a.push_back(pd_a[i]);
    b.push_back(pd_b[i]);
    y.push_back(label[i] == 1);
  }
  r.labelled = static_cast<int64_t>(y.size());
  r.champion.auc = stats::Auc(a, y);
  r.challenger.auc = stats::Auc(b, y);
  const stats::AucDiff d = stats::AucDifference(b, a, y, gov.compare_confidence);
  r.auc_diff = d.diff;
  r.auc_diff_se = d.se;
  r.auc_diff_lower = d.lower;
  r.auc_diff_upper = d.upper;
  r.p_value = d.p_value;
  const int level = static_cast<int>(std::lround(gov.compare_confidence * 100));
  r.rule = "promote the challenger when the lower bound of the " + std::to_string(level) +
           "% DeLong interval of AUC(challenger) - AUC(champion) exceeds " + Num(gov.min_auc_gain) +
           " and its loss rate among approved applications is at most the champion's + " +
           Num(gov.max_loss_increase) +
           "; keep the champion when the upper bound does not exceed " + Num(gov.min_auc_gain) +
           " or the loss rate is higher; otherwise inconclusive (collect more "
           "matured labels)";
  const bool loss_ok = !(r.challenger.loss_rate > r.champion.loss_rate + gov.max_loss_increase);
  if (std::isnan(d.lower)) {
    r.decision = "inconclusive";
  } else if (d.lower > gov.min_auc_gain && loss_ok) {
    r.decision = "promote challenger";
  } else if (d.upper <= gov.min_auc_gain || !loss_ok) {
    r.decision = "keep champion";
  } else {
    r.decision = "inconclusive";
  }
  return r;
}

StatusOr<UnseenResult> UnseenSegmentCheck(const config::Project& project, db::Connection& con,
                                          const std::string& model_id, std::optional<Month> from,
                                          std::optional<Month> to) {
  ASSIGN_OR_RETURN(registry::Registry reg, registry::Registry::Open(project.workspace));
  ASSIGN_OR_RETURN(Reference ref, LoadOrBuildReference(project, reg, con, model_id));
  const datamart::Datamart mart(project.workspace.datamart());
  UnseenResult out;
  out.model_id = ref.model_id;
  if (!from) {
    if (!ref.oot_end) {
      return FailedPreconditionError(model_id +
                                     " has no out-of-time window (random splits): "
                                     "give the unseen segment's months (--from/--to)");
    }
    from = ref.oot_end->Next();
    out.why = "decided after the model's out-of-time window (" + ref.oot_end->ToString() +
              "): newer than any row the model was trained, calibrated or tested on";
  } else {
    out.why = "months chosen by the caller";
  }
  if (!to) {
    const std::vector<Date> parts = mart.ListPartitions(Layer::kGold, "feature_store");
    to = parts.empty() ? *from : Month::Of(parts.back());
    if (project.governance.unseen_months > 0) {
      to = std::min(*to, from->Next(project.governance.unseen_months - 1));
    }
  }
  std::string sql;
  std::string key;
  for (Month m = *from; m <= *to; m = m.Next()) {
    const auto rows = internal::FeatureRowsSql(project, mart, m);
    if (!rows) continue;
    sql += (sql.empty() ? "" : " UNION ALL BY NAME ") + ("(" + rows->first + ")");
    key = rows->second;
  }
  out.segment = "decision months " + from->ToString() + ".." + to->ToString();
  if (sql.empty()) {
    return FailedPreconditionError(model_id + ": the unseen segment (" + out.segment +
                                   ") has no feature rows");
  }
  ASSIGN_OR_RETURN(db::ColumnarTable table,
                   con.QueryColumns("SELECT * FROM (" + sql + ") ORDER BY " + db::QuoteIdent(key)));
  model::Frame frame = features::ToFrame(std::move(table));
  if (frame.rows == 0) {
    return FailedPreconditionError(model_id + ": the unseen segment (" + out.segment +
                                   ") is empty");
  }
  ASSIGN_OR_RETURN(fs::path dir, reg.VerifiedPath(model_id));
  ASSIGN_OR_RETURN(model::ModelPackage package, model::ModelPackage::Load(dir));
  ASSIGN_OR_RETURN(model::Scores scores, package.Score(frame));
  MonthColumns cols;
  cols.pd = scores.pd;
  cols.frame = &frame;
  out.rows = static_cast<int64_t>(frame.rows);
  out.rows_by_metric = ComputeStability(ref, cols);
  for (const auto& r : out.rows_by_metric) {
    if (r.metric == "score_psi") out.score_psi = r.value;
    if (r.metric == "score_ks_pvalue") out.score_ks_pvalue = r.value;
    if (r.metric == "csi" && r.value >= project.governance.csi.act)
      out.drifted.push_back(r.feature);
  }
  out.passed = out.score_psi < project.governance.score_psi.act && out.drifted.empty();
  return out;
}

}  // namespace riskpipe::monitoring
