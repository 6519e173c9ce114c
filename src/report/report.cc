#include "report/report.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/atomic_writer.h"
#include "core/files.h"
#include "report/data.h"
#include "report/pages.h"

namespace riskpipe::report {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string UtcText(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InternalError("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteAtomically(const fs::path& target, std::string_view bytes) {
  ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Open(target));
  writer.Append(bytes);
  return writer.Commit().WithPrefix(target.string());
}

}  // namespace

StatusOr<fs::path> ChartsLibraryPath() {
  fs::path path = RISKPIPE_ECHARTS_JS;
  if (const char* env = std::getenv("RISKPIPE_ECHARTS_JS"); env != nullptr && *env != '\0') {
    path = env;
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return FailedPreconditionError("charting library " + path.string() +
                                   " not found: run scripts/fetch_charts.sh (or make setup), or "
                                   "set RISKPIPE_ECHARTS_JS to an echarts.min.js");
  }
  return path;
}

StatusOr<Outputs> WriteReports(const config::Project& project, const Options& options) {
  Outputs out;
  fs::path lib_path = options.charts_js;
  if (lib_path.empty()) {
    ASSIGN_OR_RETURN(lib_path, ChartsLibraryPath());
  }
  ASSIGN_OR_RETURN(const std::string library, ReadFile(lib_path));
  fs::path chromium;
  if (options.pdf) {  // Fail before any work when the PDF cannot be made.
    if (options.chromium.empty()) {
      ASSIGN_OR_RETURN(chromium, FindChromium());
    } else {
      chromium = options.chromium;
    }
  }
  const fs::path dir = options.out_dir.empty() ? project.workspace.reports() : options.out_dir;
  // What a killed report left (the PDF's temporary, its log and browser profile): reports
  // take no workspace lock, so only files whose owner process is gone are removed.
  RemoveStaleTempFiles(dir, /*recursive=*/false);

  auto t0 = Clock::now();
  ASSIGN_OR_RETURN(internal::ReportData data,
                   internal::LoadReportData(project, options.threads, UtcText(options.clock())));
  out.data_seconds = Since(t0);
  out.notes = data.notes;

  t0 = Clock::now();
  out.dashboard = dir / "dashboard.html";
  out.report_html = dir / "report.html";
  RETURN_IF_ERROR(WriteAtomically(out.dashboard,
                                  internal::DashboardHtml(data, library, &out.dashboard_charts)));
  RETURN_IF_ERROR(WriteAtomically(
      out.report_html, internal::BusinessHtml(data, project, library, &out.report_charts)));
  out.html_seconds = Since(t0);

  if (options.pdf) {
    t0 = Clock::now();
    out.report_pdf = dir / "report.pdf";
    RETURN_IF_ERROR(RenderPdf(chromium, out.report_html, out.report_pdf));
    out.pdf_seconds = Since(t0);
  }
  return out;
}

}  // namespace riskpipe::report
