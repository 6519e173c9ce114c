// The engineers' dashboard (reports/dashboard.html).

#include <set>

#include "report/html_util.h"
#include "report/pages.h"

namespace riskpipe::report::internal {
namespace {

using nlohmann::json;

constexpr char kCss[] = R"CSS(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1a202c; background: #f7fafc; }
header { background: #1a365d; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 22px; } header p { margin: 4px 0 0; opacity: .85; }
main { padding: 12px 24px 40px; }
section { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; margin: 14px 0; padding: 12px 16px; }
h2 { font-size: 18px; margin: 4px 0 8px; color: #1a365d; }
h3 { font-size: 15px; margin: 10px 0 4px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; }
.chart { width: 100%; min-height: 120px; }
.chart.nodata { display: flex; align-items: center; justify-content: center; color: #718096; background: #f7fafc; border: 1px dashed #cbd5e0; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; }
.kpi { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.kpi b { display: block; font-size: 20px; } .kpi span { color: #4a5568; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #edf2f7; position: sticky; top: 0; }
.scroll { max-height: 420px; overflow: auto; }
.notes { background: #fffbea; border-color: #f6e05e; }
.empty { color: #718096; } .small { color: #718096; font-size: 12px; }
.sev-act { color: #c53030; font-weight: 600; } .sev-warn { color: #b7791f; font-weight: 600; }
)CSS";

std::string Kpi(const std::string& value, std::string_view label) {
  return "<div class=\"kpi\"><b>" + value + "</b><span>" + Escape(label) + "</span></div>";
}

size_t DistinctFeatures(const json& dataset) {
  std::set<std::string> f;
  const int col = 1;  // feature is the second column of csi, null_rate and importance
  for (const auto& r : dataset.value("rows", json::array())) {
    if (r.size() > col && r[col].is_string()) f.insert(r[col].get<std::string>());
  }
  return f.size();
}

int HeatmapHeight(const json& dataset) {
  // 18 px per feature row plus axes and legend; at least a readable 180 px.
  return std::max<int>(180, static_cast<int>(DistinctFeatures(dataset)) * 18 + 90);
}

std::string ModelLine(const json& facts) {
  const json& m = facts.value("model", json());
  if (!m.is_object()) return "no model registered";
  return Escape(m.value("id", "")) + " (" + Escape(m.value("stage", "")) + ", " +
         Escape(m.value("family", "")) + ")";
}

}  // namespace

std::string DashboardHtml(const ReportData& d, std::string_view charts_library, int* charts) {
  const json& f = d.facts;
  const json& ds = d.datasets;
  std::string b;
  b += "<header><h1>riskpipe monitoring dashboard: " + Escape(d.project) + "</h1><p>workspace " +
       Escape(d.workspace) + " &middot; generated " + Escape(d.generated_at) + " &middot; model " +
       ModelLine(f) + " &middot; months " + Text(f, "first_month") + " to " +
       Text(f, "last_month") + "</p></header><main>\n";
  if (!d.notes.empty()) {
    b += "<section class=\"notes\"><h2>Notes</h2><ul>";
    for (const auto& n : d.notes) b += "<li>" + Escape(n) + "</li>";
    b += "</ul></section>\n";
  }
  b += "<div class=\"kpis\">" + Kpi(Text(f, "last_month"), "latest month") +
       Kpi(Text(f, "psi_latest"), "score PSI, latest month") +
       Kpi(Text(f, "auc_latest"),
           "AUC, latest matured month (" + Text(f, "auc_latest_month") + ")") +
       Kpi(Text(f, "auc_estimated_latest"), "estimated AUC, latest immature month") +
       Kpi(Text(f, "alerts_act", "0") + " / " + Text(f, "alerts_warn", "0"), "alerts act / warn") +
       Kpi(Text(f, "predictions_total", "0"), "predictions scored") +
       Kpi(Text(f, "months_matured", "0") + " / " + Text(f, "months_immature", "0"),
           "months matured / immature") +
       "</div>\n";

  int n = 0;
  auto chart = [&](std::string_view title, std::string_view name, int h, std::string_view empty) {
    ++n;
    return "<div><h3>" + Escape(title) + "</h3>" + Chart(name, h, empty) + "</div>";
  };
  const std::string no_perf = "No performance rows yet (gold/monitoring_performance).";
  b += "<section><h2>Performance: realised (solid) vs estimated (dashed)</h2><p class=\"small\">"
       "Realised once labels mature; estimated from the calibrated PDs for every month.</p>"
       "<div class=\"grid\">" +
       chart("AUC", "auc", 280, no_perf) + chart("Gini", "gini", 280, no_perf) +
       chart("KS", "ks", 280, no_perf) +
       chart("Default rate vs mean PD", "default_rate", 280, no_perf) +
       chart(
           "Calibration gap: observed default rate - mean PD (estimate: the model's latest "
           "known calibration carried forward)",
           "calibration_gap", 280, no_perf) +
       chart("Calibration by PD decile (latest matured month)", "calibration", 280,
             "No matured month and no development calibration yet.") +
       "</div></section>\n";
  const std::string no_stab = "No stability rows yet (gold/monitoring_stability).";
  b += "<section><h2>Stability (no labels needed)</h2><div class=\"grid\">" +
       chart("Score PSI vs development, with warn/act thresholds (" +
                 Text(f, "psi_thresholds_from") + ")",
             "psi", 280, no_stab) +
       chart("Approval rate and mean PD", "approval", 280, no_stab) +
       chart("Score band mix (champion)", "bands", 280, "No predictions yet (gold/predictions).") +
       "</div>" + chart("CSI by feature and month", "csi", HeatmapHeight(ds["csi"]), no_stab) +
       chart("Null rate by feature and month", "null_rate", HeatmapHeight(ds["null_rate"]),
             no_stab) +
       chart("Feature importance (mean |attribution|) by month", "importance",
             HeatmapHeight(ds["importance"]), "No importance rows yet.") +
       "</section>\n";
  b += "<section><h2>Alerts</h2>" +
       chart("Alerts per month by severity", "alerts", 240, "No alerts raised.") +
       "<div class=\"scroll\">" + DatasetTable(ds["alerts"], 300, "No alerts raised.") +
       "</div></section>\n";
  b += "<section><h2>Champion vs challenger</h2>" +
       chart("Approval rate and mean PD by role", "roles", 280,
             "No challenger scored in gold/predictions.") +
       "</section>\n";
  b += "<section><h2>Data quality</h2>" +
       chart("Expectation results per month", "dq", 240, "No data-quality results yet.") +
       "<h3>Failed expectations</h3><div class=\"scroll\">" +
       DatasetTable(ds["dq_failures"], 200, "No failed expectation.") + "</div></section>\n";
  b += "<section><h2>Model lineage</h2><h3>Registered versions</h3>" +
       ObjectsTable(d.models,
                    {{"id", "model"},
                     {"stage", "stage"},
                     {"family", "family"},
                     {"registered_at", "registered"},
                     {"created_by", "by"},
                     {"run_id", "run"}},
                    100, "No model registered.") +
       "<h3>History (newest first)</h3><div class=\"scroll\">" +
       ObjectsTable(d.events,
                    {{"at", "at"},
                     {"model_id", "model"},
                     {"event", "event"},
                     {"from", "from"},
                     {"to", "to"},
                     {"actor", "by"},
                     {"reason", "reason"}},
                    60, "No registry events.") +
       "</div></section>\n";
  b += "<section><h2>Run log (latest runs)</h2><div class=\"scroll\">" +
       ObjectsTable(d.runs,
                    {{"run_id", "run"},
                     {"command", "command"},
                     {"status", "status"},
                     {"started_at", "started"},
                     {"finished_at", "finished"},
                     {"steps", "steps"},
                     {"failed_steps", "failed"},
                     {"rows_out", "rows out"},
                     {"rows_quarantined", "quarantined"},
                     {"error", "error"}},
                    40, "No runs recorded.") +
       "</div></section>\n</main>";
  *charts = n;
  const json data = {{"datasets", ds}, {"facts", f}};
  return Page("riskpipe dashboard: " + d.project, kCss, b, data, charts_library);
}

}  // namespace riskpipe::report::internal
