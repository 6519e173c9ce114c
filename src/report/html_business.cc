// The business report (reports/report.html, printed to report.pdf): ten landscape A4 slides
// that a manager can read without a presenter. Every number comes from the same datasets as
// the dashboard; the sentences are written from them here.

#include <cmath>
#include <cstdio>

#include "report/html_util.h"
#include "report/pages.h"

namespace riskpipe::report::internal {
namespace {

using nlohmann::json;

constexpr char kCss[] = R"CSS(
@page { size: 297mm 210mm; margin: 0; }
html, body { margin: 0; padding: 0; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a202c; background: #cbd5e0; }
.slide { width: 297mm; height: 210mm; box-sizing: border-box; padding: 10mm 14mm 12mm; background: #fff;
  margin: 0 auto 8mm; overflow: hidden; position: relative; page-break-after: always; break-after: page; }
.slide:last-child { page-break-after: auto; break-after: auto; }
@media print { body { background: #fff; } .slide { margin: 0; } }
.slide h1 { font-size: 26px; margin: 0 0 4px; color: #1a365d; }
.slide h2 { font-size: 21px; margin: 0 0 6px; color: #1a365d; border-bottom: 3px solid #2b6cb0; padding-bottom: 3px; }
.slide h3 { font-size: 14px; margin: 8px 0 3px; color: #2a4365; }
.slide h4, .slide h5, .slide h6 { font-size: 12px; margin: 6px 0 2px; color: #2a4365; }
.lead { font-size: 16px; color: #2d3748; margin: 2px 0 8px; }
.foot { position: absolute; bottom: 4mm; left: 14mm; right: 14mm; font-size: 10px; color: #718096; display: flex; justify-content: space-between; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 8mm; }
.chart { width: 100%; }
.chart.nodata { display: flex; align-items: center; justify-content: center; color: #718096; background: #f7fafc; border: 1px dashed #cbd5e0; }
ul { margin: 4px 0; padding-left: 20px; } li { margin: 2px 0; }
table { border-collapse: collapse; width: 100%; font-size: 11px; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: #edf2f7; }
.flow { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 6px 0 10px; }
.flow span { background: #ebf8ff; border: 1px solid #90cdf4; border-radius: 4px; padding: 4px 8px; font-size: 12px; }
.flow i { color: #4a5568; font-style: normal; }
.box { background: #f7fafc; border-left: 4px solid #2b6cb0; padding: 6px 10px; margin: 6px 0; }
.warn { border-left-color: #d69e2e; } .act { border-left-color: #c53030; }
.sop { column-count: 2; column-gap: 8mm; font-size: 11px; } .sop p { margin: 2px 0 4px; }
.small { font-size: 11px; color: #4a5568; } .empty { color: #718096; }
)CSS";

std::string Num(const json& v, int decimals = 3) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v.get<double>());
  return buf;
}

const json& At(const json& j, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return kNull;
    cur = &(*cur)[k];
  }
  return *cur;
}

std::string Slide(int number, std::string_view title, const std::string& body,
                  const ReportData& d) {
  return "<section class=\"slide\" id=\"slide-" + std::to_string(number) + "\"><h2>" +
         Escape(title) + "</h2>" + body + "<div class=\"foot\"><span>" + Escape(d.project) +
         " &middot; credit-default PD model report &middot; generated " + Escape(d.generated_at) +
         "</span><span>" + std::to_string(number) + " / 10</span></div></section>\n";
}

std::string SummarySlide(const ReportData& d, int* n) {
  const json& f = d.facts;
  const json& m = f.value("model", json());
  std::string b =
      "<section class=\"slide\" id=\"slide-1\"><h1>Credit-default risk model: design, "
      "performance and monitoring</h1><p class=\"lead\">Project " +
      Escape(d.project) + ", report generated " + Escape(d.generated_at) +
      ". This report explains how the "
      "probability-of-default (PD) model is built, how good it is, how it is watched "
      "every month and what the governance process decided.</p><h3>Key messages</h3><ul>";
  if (m.is_object()) {
    const json& oot = At(m, {"metadata", "metrics", "oot"}).is_null()
                          ? At(m, {"metadata", "metrics", "test"})
                          : At(m, {"metadata", "metrics", "oot"});
    b += "<li>Model <b>" + Escape(m.value("id", "")) + "</b> (" + Escape(m.value("family", "")) +
         ") is at stage <b>" + Escape(m.value("stage", "")) +
         "</b>; on data it never saw in "
         "training it ranks borrowers with AUC " +
         Num(oot.value("auc", json())) + " (Gini " + Num(oot.value("gini", json())) + ").</li>";
  } else {
    b += "<li><b>No model registered</b> yet: the model sections below are empty until "
         "`riskpipe train` registers one.</li>";
  }
  if (f.contains("months_monitored") && f["months_monitored"].get<int64_t>() > 0) {
    b += "<li>Monitoring covers " + Text(f, "months_monitored") + " months (" +
         Text(f, "first_month") + " to " + Text(f, "last_month") +
         "). The score's population "
         "stability index (PSI) peaked at " +
         Num(f.value("psi_peak", json())) + " in " + Text(f, "psi_peak_month") + " (warn at " +
         Num(f["psi_warn"], 2) + ", act at " + Num(f["psi_act"], 2) + ").</li>";
    if (f.contains("current_since") && f.value("current_since", "") != Text(f, "first_month")) {
      b += "<li>Since <b>" + Escape(f.value("current_model", "")) + "</b> took over in " +
           Text(f, "current_since") + ", the score PSI has stayed at or below " +
           Num(f.value("current_psi_max", json())) + ".</li>";
    }
  } else {
    b += "<li>No monitoring results yet: monitoring starts once batch scoring has run.</li>";
  }
  if (f.contains("auc_latest")) {
    b += "<li>Latest month with mature labels (" + Text(f, "auc_latest_month") + "): AUC " +
         Num(f["auc_latest"]) + "; lowest matured AUC " + Num(f.value("auc_min", json())) + " in " +
         Text(f, "auc_min_month") + ". " + Text(f, "months_immature", "0") +
         " recent months await labels and are shown with estimated values.</li>";
  }
  if (f.contains("calib_worst")) {
    b += "<li>Calibration: defaults ran " +
         std::string(f["calib_worst"].get<double>() >= 0 ? "above" : "below") +
         " the predicted PD by up to " + Num(json(std::fabs(f["calib_worst"].get<double>()))) +
         " (applications of " + Text(f, "calib_worst_month") + ", " +
         Escape(f.value("calib_worst_model", "")) + "; act at " + Num(f["calib_act"], 2) + ")";
    if (f.contains("calib_current")) {
      b += "; estimated gap of the model in use (" + Text(f, "calib_current_month") +
           "): " + Num(f["calib_current"]);
    }
    b += ".</li>";
  }
  b += "<li>" + Text(f, "alerts_act", "0") + " alerts required action and " +
       Text(f, "alerts_warn", "0") + " warnings were raised";
  if (f.contains("retrain_months"))
    b += "; retraining was recommended in " + Text(f, "retrain_months");
  b += ".</li>";
  if (f.contains("model_changes"))
    b += "<li>Model in use by month: " + Text(f, "model_changes") + ".</li>";
  b += "<li>Data quality: " + Text(f, "dq_failed", "0") + " of " + Text(f, "dq_checks", "0") +
       " expectation checks failed (" + Text(f, "dq_errors", "0") + " blocking" +
       (f.contains("dq_error_months") ? ": " + Text(f, "dq_error_months") +
                                            " stopped at the quality gate and raised an "
                                            "act alert"
                                      : std::string()) +
       ").</li></ul>";
  *n += 1;
  b += "<h3>Population stability at a glance: score PSI by month (dashed: warn and act)</h3>" +
       Chart("psi", 290, "No monitoring results yet.");
  if (!d.notes.empty()) {
    b += "<div class=\"box warn small\"><b>Not yet available:</b> ";
    for (size_t i = 0; i < d.notes.size() && i < 6; ++i) b += (i ? "; " : "") + Escape(d.notes[i]);
    b += ".</div>";
  }
  b += "<div class=\"foot\"><span>" + Escape(d.project) + " &middot; workspace " +
       Escape(d.workspace) + "</span><span>1 / 10</span></div></section>\n";
  return b;
}

std::string DesignSlide(const ReportData& d) {
  std::string b =
      "<p class=\"lead\">One program (riskpipe) runs every step, month by month, and records each "
      "run; every dataset is plain Parquet that any analytics tool can read.</p><div "
      "class=\"flow\">"
      "<span>Source files</span><i>&rarr;</i><span>Bronze: as received</span><i>&rarr;</i>"
      "<span>Silver: typed, checked, no personal data</span><i>&rarr;</i><span>Feature and label "
      "stores</span><i>&rarr;</i><span>Training + validation "
      "gate</span><i>&rarr;</i><span>Registry "
      "+ approval</span><i>&rarr;</i><span>Monthly scoring</span><i>&rarr;</i><span>Monitoring + "
      "alerts</span><i>&rarr;</i><span>This report</span></div><div class=\"cols\"><div><h3>Design "
      "choices</h3><ul>"
      "<li><b>Layered datamart</b> (bronze, silver, gold) in open Parquet: every month is a "
      "separate partition, rewritten whole, so re-running a month never duplicates data.</li>"
      "<li><b>Nothing is lost:</b> bad rows go to quarantine with the reason; rows in = rows out "
      "+ quarantined, recorded per run.</li>"
      "<li><b>Data-quality expectations</b> with a written rationale stop a month that fails a "
      "blocking check.</li>"
      "<li><b>Gradient-boosted trees and simpler challengers</b> are compared on the same "
      "splits; the PD is calibrated so that it reads as a probability.</li></ul></div><div><h3>"
      "Controls</h3><ul>"
      "<li><b>Registry:</b> every model version is stored with a tamper check, its data lineage "
      "and metrics; only an approved, validated version can reach production.</li>"
      "<li><b>Monitoring every month:</b> stability without labels, performance once labels "
      "mature, alerts with a recommended action.</li>"
      "<li><b>Reproducible:</b> fixed seeds, versions of every library recorded with the "
      "model, no pickled objects.</li></ul></div></div>";
  return Slide(2, "Pipeline design and choices", b, d);
}

std::string DataSlide(const ReportData& d, const config::Project& p) {
  std::string b =
      "<p class=\"lead\">What the model learns from, and what it predicts.</p><h3>"
      "Sources</h3><table><thead><tr><th>source</th><th>description</th><th>monthly "
      "by</th><th>key</th><th>columns</th></tr></thead><tbody>";
  for (const auto& s : p.sources) {
    std::string keys;
    for (const auto& k : s.keys) keys += (keys.empty() ? "" : ", ") + k;
    b += "<tr><td>" + Escape(s.name) + "</td><td>" + Escape(s.description) + "</td><td>" +
         Escape(s.date_column) + "</td><td>" + Escape(keys) + "</td><td>" +
         std::to_string(s.columns.size()) + "</td></tr>";
  }
  b += "</tbody></table><h3>Label definition (what counts as a default)</h3>";
  if (p.label) {
    const auto& l = *p.label;
    if (l.kind == config::LabelKind::kDpd) {
      b += "<div class=\"box\">A loan is a <b>default</b> (label <code>" + Escape(l.name) +
           "</code>) when it is <b>" + std::to_string(l.dpd) +
           " or more days past due</b> at "
           "or before installment " +
           std::to_string(l.mob) + " (month on book " + std::to_string(l.mob) +
           "). The label is known only " + std::to_string(l.mob) +
           " months after the application date, so the most recent months are always "
           "unlabelled; source table " +
           Escape(l.source) + ".</div>";
    } else {
      b += "<div class=\"box\">A loan is a <b>default</b> (label <code>" + Escape(l.name) +
           "</code>) when the outcome column <code>" + Escape(l.outcome_column) +
           "</code> says so within " + std::to_string(l.outcome_window_days) +
           " days of the application date (source " + Escape(l.source) + ").</div>";
    }
  } else {
    b += "<p class=\"empty\">The project defines no label yet.</p>";
  }
  const json& splits = At(d.facts, {"model", "metadata", "training_data", "splits"});
  if (!splits.is_null()) {
    b += "<h3>Training data of the current model</h3><p class=\"small\">" +
         Escape(splits.is_string() ? splits.get<std::string>() : splits.dump()) + "</p>";
  }
  return Slide(3, "Data and label definition", b, d);
}

std::string LeakageSlide(const ReportData& d) {
  const json& oot = At(d.facts, {"model", "metadata", "training_data", "out_of_time"});
  std::string b =
      "<p class=\"lead\">A model that peeks at the future looks excellent in testing and fails "
      "in use. These controls keep every prediction honest.</p><ul>"
      "<li><b>Point in time:</b> a feature for a decision on date D uses only records dated on "
      "or before D (as-of joins); tests change future data and show the features do not move.</li>"
      "<li><b>Label availability:</b> a label is used for training or monitoring only from the "
      "date it could have been known (application date + the label window).</li>"
      "<li><b>Out-of-time test:</b> the model is chosen on a validation period and judged on a "
      "later period it never saw";
  if (oot.is_boolean())
    b += oot.get<bool>() ? " (used for the current model)"
                         : " (not available for the current model: random split)";
  b += ".</li>"
       "<li><b>One transformation path:</b> the preprocessing saved with the model is the only "
       "code that turns data into model input, in training, batch scoring and the online API.</li>"
       "<li><b>Excluded inputs:</b> identifiers, the label itself and protected attributes never "
       "enter the model; personal data is removed or irreversibly hashed before the silver "
       "layer.</li>"
       "<li><b>Recorded lineage:</b> every training file is fingerprinted (SHA-256) in the "
       "model's metadata, so any result can be traced and reproduced.</li></ul>";
  return Slide(4, "Leakage controls", b, d);
}

std::string ModelSlide(const ReportData& d) {
  const json& m = d.facts.value("model", json());
  if (!m.is_object()) {
    return Slide(5, "Model choice and metrics", "<p class=\"lead\">No model registered yet.</p>",
                 d);
  }
  std::string b =
      "<p class=\"lead\">Candidates compared on the same splits; the chosen one is "
      "marked. AUC and Gini measure ranking (higher is better), KS the separation of "
      "good and bad borrowers, Brier the accuracy of the PD (lower is better).</p>"
      "<h3>Leaderboard</h3><table><thead><tr><th></th><th>candidate</th><th>family"
      "</th><th>valid. AUC</th><th>OOT AUC</th><th>OOT Gini</th><th>OOT KS</th><th>"
      "OOT Brier</th><th>note</th></tr></thead><tbody>";
  for (const auto& c : At(m, {"leaderboard", "candidates"})) {
    b += std::string("<tr><td>") + (c.value("chosen", false) ? "&#9733;" : "") + "</td><td>" +
         Escape(c.value("name", "")) + "</td><td>" + Escape(c.value("family", "")) + "</td><td>" +
         Num(At(c, {"validation", "auc"})) + "</td><td>" + Num(At(c, {"oot", "auc"})) +
         "</td><td>" + Num(At(c, {"oot", "gini"})) + "</td><td>" + Num(At(c, {"oot", "ks"})) +
         "</td><td>" + Num(At(c, {"oot", "brier"}), 4) + "</td><td>" + Escape(c.value("note", "")) +
         "</td></tr>";
  }
  b += "</tbody></table><p class=\"small\">Selection rule: " +
       Escape(At(m, {"leaderboard", "selection_rule"}).is_string()
                  ? At(m, {"leaderboard", "selection_rule"}).get<std::string>()
                  : std::string("-")) +
       "</p><h3>Chosen model " + Escape(m.value("id", "")) +
       " by split</h3><table><thead><tr>"
       "<th>split</th><th>rows</th><th>default rate</th><th>AUC</th><th>Gini</th><th>KS</th>"
       "<th>Brier</th><th>approval at threshold</th></tr></thead><tbody>";
  for (const char* split : {"train", "validation", "oot", "test"}) {
    const json& s = At(m, {"metadata", "metrics", split});
    if (!s.is_object()) continue;
    b += std::string("<tr><td>") + split + "</td><td>" + Cell(s.value("rows", json())) +
         "</td><td>" + Percent(s.value("default_rate", json())) + "</td><td>" +
         Num(s.value("auc", json())) + "</td><td>" + Num(s.value("gini", json())) + "</td><td>" +
         Num(s.value("ks", json())) + "</td><td>" + Num(s.value("brier", json()), 4) + "</td><td>" +
         Percent(At(s, {"at_threshold", "approval_rate"})) + "</td></tr>";
  }
  b += "</tbody></table>";
  return Slide(5, "Model choice and metrics", b, d);
}

std::string ValidationSlide(const ReportData& d) {
  const json& v = At(d.facts, {"model", "validation"});
  std::string b;
  if (!v.is_object()) {
    b = "<p class=\"lead\">No validation gate result is recorded for this model yet "
        "(validation.json is absent from its package). A model cannot be promoted to "
        "production without passing the gate or a recorded, justified override.</p>";
    return Slide(6, "Validation gate results", b, d);
  }
  const json& passed = v.value("passed", json());
  b = "<p class=\"lead\">Before deployment the model must pass every gate check. Overall result: "
      "<b>" +
      std::string(passed.is_boolean() ? (passed.get<bool>() ? "PASSED" : "FAILED") : "-") +
      "</b>.</p><table><thead><tr><th>check</th><th>result</th><th>value</th><th>threshold</th>"
      "<th>rationale</th></tr></thead><tbody>";
  const json& checks = v.contains("checks") ? v["checks"] : json::array();
  for (const auto& c : checks) {
    if (!c.is_object()) continue;
    const json& ok = c.contains("passed") ? c["passed"] : c.value("result", json());
    b += "<tr><td>" + Cell(c.value("name", c.value("check", json()))) + "</td><td>" +
         (ok.is_boolean() ? std::string(ok.get<bool>() ? "pass" : "FAIL") : Cell(ok)) +
         "</td><td>" + Cell(c.value("value", json())) + "</td><td>" +
         Cell(c.value("threshold", json())) + "</td><td>" +
         Cell(c.value("rationale", c.value("message", json()))) + "</td></tr>";
  }
  b += "</tbody></table>";
  return Slide(6, "Validation gate results", b, d);
}

std::string StabilitySlide(const ReportData& d, int* n) {
  const json& f = d.facts;
  *n += 2;
  std::string b =
      "<p class=\"lead\">Does today's population still look like the one the model was built on? "
      "The PSI compares this month's score distribution with the development sample: below " +
      Num(f["psi_warn"], 2) + " is stable, above " + Num(f["psi_act"], 2) + " requires action.";
  if (f.contains("psi_peak")) {
    b += " The peak, " + Num(f["psi_peak"]) + " in " + Text(f, "psi_peak_month") + ", " +
         (f["psi_peak"].get<double>() >= f["psi_act"].get<double>()
              ? "crossed the action threshold."
              : (f["psi_peak"].get<double>() >= f["psi_warn"].get<double>()
                     ? "crossed the warning threshold."
                     : "stayed below the thresholds."));
  }
  b += "</p><h3>Score PSI by month (dashed lines: warn and act thresholds)</h3>" +
       Chart("psi", 300, "No stability results yet.") +
       "<h3>Approval rate (left axis) and mean PD (right axis)</h3>" +
       Chart("approval", 250, "No stability results yet.");
  return Slide(7, "Monitoring: population stability", b, d);
}

std::string PerformanceSlide(const ReportData& d, int* n) {
  const json& f = d.facts;
  *n += 2;
  std::string b =
      "<p class=\"lead\">Defaults are known only months later. Solid lines are realised values "
      "on matured months; dashed lines are estimates for every month: AUC from the calibrated "
      "PDs, the calibration gap from the model's latest known calibration (its newest matured "
      "month, or its out-of-time test for a new model). Dashed horizontal lines: warn and act.";
  if (f.contains("auc_latest")) {
    b += " Latest matured AUC " + Num(f["auc_latest"]) + " (" + Text(f, "auc_latest_month") +
         "), lowest " + Num(f.value("auc_min", json())) + " (" + Text(f, "auc_min_month") + ").";
  }
  b += "</p><div class=\"cols\"><div><h3>AUC by month</h3>" +
       Chart("auc", 470, "No performance results yet.") +
       "</div><div><h3>Calibration gap: observed default rate minus predicted PD</h3>" +
       Chart("calibration_gap", 470, "No performance results yet.") + "</div></div>";
  return Slide(8, "Monitoring: model performance", b, d);
}

std::string AlertsSlide(const ReportData& d, int* n) {
  const json& f = d.facts;
  *n += 1;
  std::string b = "<p class=\"lead\">" + Text(f, "alerts_total", "0") + " alerts in " +
                  Text(f, "alert_months", "0") + " months: " + Text(f, "alerts_act", "0") +
                  " required action, " + Text(f, "alerts_warn", "0") + " were warnings.";
  if (f.contains("retrain_months")) {
    b += " The policy recommended <b>retraining</b> in " + Text(f, "retrain_months") + ".";
  }
  if (f.contains("model_changes")) b += " Model in use: " + Text(f, "model_changes") + ".";
  b += "</p>" + Chart("alerts", 200, "No alerts raised.") +
       "<h3>Most recent alerts requiring action or attention</h3>";
  json top = json::array();
  for (const auto& r : d.datasets["alerts"]["rows"]) {
    if (top.size() >= 9) break;
    if (r.size() > 8 && r[1].is_string() && r[1].get<std::string>() != "info") {
      top.push_back({{"month", r[0]},
                     {"severity", r[1]},
                     {"check", r[2]},
                     {"feature", r[4]},
                     {"value", r[5]},
                     {"threshold", r[6]},
                     {"action", r[7]},
                     {"message", r[8]}});
    }
  }
  b += ObjectsTable(top,
                    {{"month", "month"},
                     {"severity", "severity"},
                     {"check", "check"},
                     {"feature", "feature"},
                     {"value", "value"},
                     {"threshold", "threshold"},
                     {"action", "action"},
                     {"message", "message"}},
                    9, "No warn or act alerts.");
  return Slide(9, "Alerts and actions", b, d);
}

// `text` cut to at most `max` bytes at a space, with an ellipsis when cut.
std::string Clip(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t cut = text.rfind(' ', max);
  if (cut == std::string_view::npos || cut < max / 2) cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return std::string(text.substr(0, cut)) + " \u2026";
}

// docs/governance.md condensed to one slide: every heading, the first paragraph under it and
// its first four list items, each clipped; code blocks, tables and list continuation lines are
// left out (the slide links the full text).
std::string SopSummary(std::string_view md) {
  // About one slide of text in two columns at 11 px.
  constexpr size_t kMaxChars = 3600;
  std::string out, para;
  bool fence = false, para_taken = false, in_list = false;
  int items = 0;
  auto flush = [&] {
    if (!para.empty()) out += Clip(para, 320) + "\n\n";
    if (!para.empty()) para_taken = true;
    para.clear();
    if (in_list) out += "\n";
    in_list = false;
  };
  size_t pos = 0;
  while (pos < md.size() && out.size() < kMaxChars) {
    size_t end = md.find('\n', pos);
    if (end == std::string_view::npos) end = md.size();
    const std::string_view line = md.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("```")) {
      flush();
      fence = !fence;
    } else if (fence || line.starts_with("|")) {
      flush();
    } else if (line.starts_with("#")) {
      flush();
      out += std::string(line) + "\n";
      para_taken = false;
      items = 0;
    } else if (line.find_first_not_of(" \t") == std::string_view::npos) {
      flush();
    } else if (line.starts_with("- ") || line.starts_with("* ")) {
      if (!para.empty()) flush();
      if (items++ < 4) out += Clip(line, 180) + "\n";
      in_list = true;
    } else if (!in_list && !para_taken) {
      para += std::string(line) + " ";
    }
  }
  flush();
  return out;
}

std::string GovernanceSlide(const ReportData& d) {
  std::string b;
  if (!d.governance_md.empty()) {
    b = "<p class=\"small\">Summary of the standard operating procedure; full text: <a "
        "href=\"file://" +
        Escape(d.governance_path) + "\">docs/governance.md</a>.</p><div class=\"sop\">" +
        MarkdownToHtml(SopSummary(d.governance_md)) + "</div>";
  } else {
    b = "<p class=\"lead\">docs/governance.md was not found; the procedure in brief:</p><ul>"
        "<li><b>Monthly review:</b> the model owner reviews this report and every act alert.</li>"
        "<li><b>Refresh:</b> retrain on schedule or when the policy recommends it (PSI above the "
        "act threshold, AUC drop, calibration gap, blocking data-quality failures).</li>"
        "<li><b>Approval:</b> a new version must pass the validation gate and be approved by a "
        "named reviewer before promotion; every decision is recorded in the registry.</li>"
        "<li><b>Rollback:</b> the previous production version can be restored in one command.</li>"
        "<li><b>Deployment:</b> batch scoring, online API, or shadow scoring as challenger.</li>"
        "<li><b>Records:</b> run log, registry history and these reports are kept.</li></ul>";
  }
  return Slide(10, "Governance: standard operating procedure", b, d);
}

}  // namespace

std::string BusinessHtml(const ReportData& d, const config::Project& project,
                         std::string_view charts_library, int* charts) {
  int n = 0;
  std::string b = SummarySlide(d, &n) + DesignSlide(d) + DataSlide(d, project) + LeakageSlide(d) +
                  ModelSlide(d) + ValidationSlide(d) + StabilitySlide(d, &n) +
                  PerformanceSlide(d, &n) + AlertsSlide(d, &n) + GovernanceSlide(d);
  *charts = n;
  const json data = {{"datasets", d.datasets}, {"facts", d.facts}};
  return Page("Credit-default PD model report: " + d.project, kCss, b, data, charts_library);
}

}  // namespace riskpipe::report::internal
