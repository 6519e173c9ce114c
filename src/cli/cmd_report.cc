// riskpipe report: the monitoring dashboard and the business report (docs/report.md).

#include <cstdio>

#include "cli/commands.h"
#include "report/report.h"

namespace riskpipe::cli {

void RegisterReport(CLI::App& app, ReportFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write reports/dashboard.html (engineers: performance realised vs estimated, PSI with "
      "thresholds, CSI and null-rate heat maps, approval rate and mean PD, calibration, alerts, "
      "champion vs challenger, data quality, model lineage, run log) and reports/report.html + "
      "report.pdf (business readers: at most 10 slides on design, data and label, leakage "
      "controls, model choice, validation, monitoring and the governance SOP). Pages are "
      "self-contained (charts inlined) and open offline; the PDF is printed by headless "
      "Chromium");
  cmd->add_option("--out", flags.out, "Folder for the three files (default <workspace>/reports)");
  cmd->add_flag("--no-pdf", flags.no_pdf, "Write the two HTML files only (no Chromium needed)");
}

int RunReport(const GlobalFlags& global, const ReportFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  report::Options options;
  options.out_dir = flags.out;
  options.pdf = !flags.no_pdf;
  auto out = report::WriteReports(*project, options);
  if (!out.ok()) return ReportFailure(out.status());
  if (!global.quiet) {
    for (const auto& note : out->notes) std::fprintf(stderr, "riskpipe: note: %s\n", note.c_str());
    std::printf("dashboard  %s (%d charts)\n", out->dashboard.c_str(), out->dashboard_charts);
    std::printf("report     %s (%d charts)\n", out->report_html.c_str(), out->report_charts);
    if (!out->report_pdf.empty()) std::printf("pdf        %s\n", out->report_pdf.c_str());
    std::printf("timings: data %.2f s, html %.2f s, pdf %.2f s\n", out->data_seconds,
                out->html_seconds, out->pdf_seconds);
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
