// The governance policy applied to a model-month (monitoring/policy.h).

#include "monitoring/policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "core/hash.h"
#include "core/json.h"

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
  if (in.dq && in.dq->failures > 0) {
    json failed = json::array();
    std::string names;
    for (const auto& f : in.dq->failed) {
      failed.push_back({{"layer", f[0]},
                        {"table", f[1]},
                        {"expectation", f[2]},
                        {"severity", f[3]},
                        {"observed", f[4]},
                        {"threshold", f[5]}});
      names += (names.empty() ? "" : ", ") + f[0] + "/" + f[1] + " " + f[2];
    }
    json evidence = {{"failures", in.dq->failures}, {"errors", in.dq->errors}, {"failed", failed}};
    const double n = static_cast<double>(in.dq->failures);
    if (in.dq->errors > 0) {
      // An error-severity expectation failed: the data itself is broken (the quality gate
      // stops such a month), whatever the count: act, for the data engineer.
      b.Add("dq_failures", "act", "dq_failures", "", n, p.dq_failures.act, "investigate",
            std::to_string(in.dq->failures) + " data-quality expectation(s) failed, " +
                std::to_string(in.dq->errors) + " of error severity (" + names +
                "): fix or re-deliver the feed and re-run the month",
            std::move(evidence),
            {{"warn", p.dq_failures.warn}, {"act", p.dq_failures.act}, {"any_error", "act"}});
    } else {
      b.Check("dq_failures", "dq_failures", "", n, p.dq_failures,
              "failed data-quality expectations (" + names + "):", std::move(evidence));
    }
  }
  // The retrain rule, and since when the population has drifted (the earliest month any
  // drift behind it began).
  std::vector<std::string> reasons;
  json ids = json::array();
  bool psi_alert = false;
  std::optional<Month> drift_since;
  auto drifted_from = [&drift_since](Month m) {
    if (!drift_since || m < *drift_since) drift_since = m;
  };
  for (const auto& a : b.alerts()) {
    psi_alert |= a.check_name == "score_psi";
    if (a.action != "retrain") continue;
    // Without the "<model> <month>: " prefix the retrain alert's own message repeats.
    const std::string prefix = in.model_id + " " + in.month.ToString() + ": ";
    reasons.push_back(a.message.rfind(prefix, 0) == 0 ? a.message.substr(prefix.size())
                                                      : a.message);
    ids.push_back(a.alert_id);
    const json e = json::parse(a.evidence_json, nullptr, false);
    StatusOr<Month> scoring = InvalidArgumentError("not a performance alert");
    if (e.is_object()) scoring = Month::Parse(e.value("scoring_month", ""));
    drifted_from(scoring.ok() ? *scoring : in.month);
  }
  const int streak = psi_alert ? in.prior_psi_warn_months + 1 : 0;
  if (psi_alert) {
    drifted_from(in.prior_psi_warn_months > 0 && in.prior_psi_since ? *in.prior_psi_since
                                                                    : in.month);
  }
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
          {{"reasons", reasons},
           {"alert_ids", ids},
           {"psi_warn_streak", streak},
           {"drift_since", drift_since ? json(drift_since->ToString()) : json(nullptr)}},
          {{"consecutive_warn_months", need}, {"max_age_months", p.retrain.max_age_months}});
  }
  return std::move(b.alerts());
}

}  // namespace riskpipe::monitoring
