#pragma once
// `riskpipe report`: the engineers' dashboard (reports/dashboard.html) and the business report
// (reports/report.html and its PDF) built from the gold monitoring tables, gold/predictions,
// gold/data_quality, the model registry and the run log. Each page is one self-contained HTML
// file with the charting library (Apache ECharts) and its data inlined, so it opens offline.
// docs/report.md describes every chart and where its numbers come from. Not thread-safe: one
// WriteReports call at a time per workspace.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"

namespace riskpipe::report {

struct Options {
  // Folder the three files go to; empty means <workspace>/reports.
  std::filesystem::path out_dir;
  // Render report.pdf with headless Chromium; false writes the two HTML files only.
  bool pdf = true;
  // The ECharts build to inline; empty means ChartsLibraryPath().
  std::filesystem::path charts_js;
  // The Chromium binary; empty means FindChromium().
  std::filesystem::path chromium;
  // DuckDB worker threads for the queries; 0 keeps DuckDB's default (all cores).
  int threads = 0;
  // The "generated at" time printed on the pages. Tests inject a fixed clock.
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
};

struct Outputs {
  std::filesystem::path dashboard;    // <out>/dashboard.html
  std::filesystem::path report_html;  // <out>/report.html
  std::filesystem::path report_pdf;   // <out>/report.pdf; empty when Options::pdf is false
  int dashboard_charts = 0;           // chart containers on each page
  int report_charts = 0;
  double data_seconds = 0;  // queries and registry reads
  double html_seconds = 0;  // building and writing both HTML files
  double pdf_seconds = 0;   // the Chromium render (0 when skipped)
  // Facts worth telling the user, e.g. "no model registered", "gold/predictions is empty".
  std::vector<std::string> notes;
};

// Writes dashboard.html and report.html (each atomically: temporary file, then rename) and,
// when options.pdf, report.pdf (Chromium prints to a temporary file that is renamed into
// place). Missing tables, an empty registry or an empty run log are not errors: the pages
// say what is missing. FailedPrecondition when the charting library or (for the PDF)
// Chromium cannot be found, naming the path and the fix; Internal for query or I/O failures
// and a failed render (with Chromium's exit status). The HTML files are kept when only the
// PDF fails.
StatusOr<Outputs> WriteReports(const config::Project& project, const Options& options = {});

// The ECharts file to inline: $RISKPIPE_ECHARTS_JS when set, else the path compiled in from
// CMake (third_party/echarts/echarts.min.js, fetched by scripts/fetch_charts.sh).
// FailedPrecondition naming the path and scripts/fetch_charts.sh when it does not exist.
StatusOr<std::filesystem::path> ChartsLibraryPath();

// The headless browser: $RISKPIPE_CHROMIUM when set, else /usr/bin/chromium, else chromium or
// chromium-browser on PATH. FailedPrecondition ("install chromium: scripts/setup.sh") when
// none exists.
StatusOr<std::filesystem::path> FindChromium();

// Prints `html` to `pdf` with `chromium --headless --no-sandbox --disable-gpu
// --no-pdf-header-footer --print-to-pdf`, via a temporary file renamed into place. Internal
// with the exit status and the last lines of Chromium's output when it fails or writes
// nothing.
Status RenderPdf(const std::filesystem::path& chromium, const std::filesystem::path& html,
                 const std::filesystem::path& pdf);

}  // namespace riskpipe::report
