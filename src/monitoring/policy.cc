// The governance policy applied to a model-month (monitoring/policy.h).

#include "monitoring/policy.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/hash.h"

namespace riskpipe::monitoring {
namespace {

using nlohmann::json;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

json Safe(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

class Builder {
 public:
  Builder(const config::GovernanceDef& policy, const PolicyInput& in) : policy_(policy), in_(in) {}

  // Raises `check` when `value` reaches t.warn (or t.act). `evidence` is extended with the
  // thresholds; `message` gets the value and threshold appended.
  void Check(const std::string& check, const std::string& metric, const std::string& feature,
             double value, const config::Threshold& t, const std::string& message, json evidence) {
    if (std::isnan(value) || value < t.warn) return;
    const bool act = value >= t.act;
    const bool retrain =
        act && std::count(policy_.retrain.on.begin(), policy_.retrain.on.end(), check);
    Add(check, act ? "act" : "warn", metric, feature, value, act ? t.act : t.warn,
        retrain ? "retrain" : (act || check != "csi" ? "investigate" : "watch"),
        message + " " + Num(value) + " >= " + (act ? "act " : "warn ") + Num(act ? t.act : t.warn),
        std::move(evidence), {{"warn", t.warn}, {"act", t.act}});
  }

  void Add(const std::string& check, const std::string& severity, const std::string& metric,
           const std::string& feature, double value, double threshold, const std::string& action,
           const std::string& message, json evidence, json thresholds) {
    metastore::AlertRow a;
    a.alert_id = AlertId(in_.month, in_.model_id, check, feature);
    a.month = in_.month.ToString();
    a.model_id = in_.model_id;
    a.model_name = in_.model_name;
    a.check_name = check;
    a.severity = severity;
    a.metric = metric;
    a.feature = feature;
    if (!std::isnan(value)) a.value = value;
    if (!std::isnan(threshold)) a.threshold = threshold;
    a.action = action;
    a.message = in_.model_id + " " + in_.month.ToString() + ": " + message;
    evidence["thresholds"] = std::move(thresholds);
    a.evidence_json = evidence.dump();
    alerts_.push_back(std::move(a));
  }

  std::vector<metastore::AlertRow>& alerts() { return alerts_; }

 private:
  const config::GovernanceDef& policy_;
  const PolicyInput& in_;
  std::vector<metastore::AlertRow> alerts_;
};

const StabilityRow* Find(const std::vector<StabilityRow>& rows, const std::string& metric) {
  for (const auto& r : rows) {
    if (r.metric == metric && r.feature.empty() && r.bucket.empty()) return &r;
  }
  return nullptr;
}

const PerformanceRow* FindPerf(const std::vector<PerformanceRow>& rows, const std::string& metric) {
  for (const auto& r : rows) {
    if (r.metric == metric && r.bucket.empty()) return &r;
  }
  return nullptr;
}

}  // namespace

std::string AlertId(Month month, const std::string& model_id, const std::string& check,
                    const std::string& feature) {
  return Sha256Hex(month.ToString() + "|" + model_id + "|" + check + "|" + feature).substr(0, 16);
}

std::vector<metastore::AlertRow> EvaluatePolicy(const config::GovernanceDef& p,
                                                const PolicyInput& in) {
  Builder b(p, in);
  const auto& st = in.stability;
  auto ev = [](const StabilityRow& r) {
    return json{{"value", Safe(r.value)},
                {"reference", r.reference ? json(*r.reference) : json(nullptr)},
                {"rows", r.rows}};
  };
  if (const auto* r = Find(st, "score_psi")) {
    b.Check("score_psi", "score_psi", "", r->value, p.score_psi, "score PSI", ev(*r));
  }
  if (const auto* r = Find(st, "score_js")) {
    b.Check("score_js", "score_js", "", r->value, p.score_js, "score Jensen-Shannon", ev(*r));
  }
  const auto* ks = Find(st, "score_ks");
  const auto* ks_p = Find(st, "score_ks_pvalue");
  if (ks && ks_p && ks_p->value < p.ks_pvalue && ks->value >= p.ks_statistic) {
    b.Add("score_ks", "warn", "score_ks", "", ks->value, p.ks_statistic, "investigate",
          "score KS " + Num(ks->value) + " (p " + Num(ks_p->value) + ")",
          {{"statistic", ks->value}, {"p_value", ks_p->value}, {"rows", ks->rows}},
          {{"p_value", p.ks_pvalue}, {"statistic", p.ks_statistic}});
  }
  if (const auto* r = Find(st, "approval_rate"); r && r->reference) {
    b.Check("approval_rate", "approval_rate", "", std::fabs(r->value - *r->reference),
            p.approval_rate,
            "approval rate " + Num(r->value) + " vs development " + Num(*r->reference) + ": shift",
            ev(*r));
  }
  for (const auto& r : st) {
    if (r.metric == "csi") {
      b.Check("csi", "csi", r.feature, r.value, p.csi, "CSI of " + r.feature, ev(r));
    } else if (r.metric == "null_rate" && r.reference) {
      b.Check("null_rate", "null_rate", r.feature, std::fabs(r.value - *r.reference), p.null_rate,
              "null rate of " + r.feature + " " + Num(r.value) + " vs development " +
                  Num(*r.reference) + ": change",
              ev(r));
    }
  }
  const double dev_auc = in.reference ? in.reference->auc : std::nan("");
  for (const MaturedMonth& m : in.matured) {
    const auto* auc = FindPerf(m.rows, "auc");
    const auto* dr = FindPerf(m.rows, "default_rate");
    const auto* mp = FindPerf(m.rows, "mean_pd");
    const std::string sm = m.scoring_month.ToString();
    if (auc && auc->value && !std::isnan(dev_auc)) {
      b.Check("auc_drop", "auc", "", dev_auc - *auc->value, p.auc_drop,
              "AUC of scoring month " + sm + " " + Num(*auc->value) + " vs development " +
                  Num(dev_auc) + ": drop",
              {{"scoring_month", sm},
               {"auc", *auc->value},
               {"development_auc", dev_auc},
               {"labelled", auc->labelled}});
    }
    if (dr && mp && dr->value && mp->value) {
      b.Check("calibration_gap", "default_rate", "", std::fabs(*dr->value - *mp->value),
              p.calibration_gap,
              "scoring month " + sm + " observed default rate " + Num(*dr->value) + " vs mean PD " +
                  Num(*mp->value) + ": gap",
              {{"scoring_month", sm},
               {"default_rate", *dr->value},
               {"mean_pd", *mp->value},
               {"labelled", dr->labelled}});
    }
  }
  if (in.dq_failures) {
    b.Check("dq_failures", "dq_failures", "", static_cast<double>(*in.dq_failures), p.dq_failures,
            "failed data-quality expectations:", {{"failures", *in.dq_failures}});
  }
  // The retrain rule.
  std::vector<std::string> reasons;
  json ids = json::array();
  bool psi_alert = false;
  for (const auto& a : b.alerts()) {
    if (a.action == "retrain") {
      reasons.push_back(a.message);
      ids.push_back(a.alert_id);
    }
    psi_alert |= a.check_name == "score_psi";
  }
  const int streak = psi_alert ? in.prior_psi_warn_months + 1 : 0;
  const int need = p.retrain.consecutive_warn_months;
  if (need > 0 && streak >= need) {
    reasons.push_back("score PSI at or above warn for " + std::to_string(streak) +
                      " consecutive months");
  }
  const bool scheduled =
      p.retrain.max_age_months > 0 && in.reference && in.reference->oot_end &&
      in.month.index() - in.reference->oot_end->index() >= p.retrain.max_age_months;
  if (scheduled) {
    reasons.push_back("scheduled refresh: data more than " +
                      std::to_string(p.retrain.max_age_months) +
                      " months newer than the model's out-of-time window");
  }
  if (!reasons.empty()) {
    std::string message = "retrain recommended: ";
    for (size_t i = 0; i < reasons.size(); ++i) message += (i ? "; " : "") + reasons[i];
    b.Add("retrain", "act", "", "", std::nan(""), std::nan(""), "retrain", message,
          {{"reasons", reasons}, {"alert_ids", ids}, {"psi_warn_streak", streak}},
          {{"consecutive_warn_months", need}, {"max_age_months", p.retrain.max_age_months}});
  }
  return std::move(b.alerts());
}

}  // namespace riskpipe::monitoring
