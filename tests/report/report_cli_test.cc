// End-to-end tests of `riskpipe report`: the files it writes, what they say, and that both
// pages draw every chart without errors in headless Chromium (screenshots are kept in
// <build>/test-output/report/). Chromium is required: CI installs it with scripts/setup.sh.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <regex>

#include "report/report_fixture.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadAll;
using testing::RunRiskpipe;
using testing::TempDir;

std::string ChromiumPath() {
  const char* env = std::getenv("RISKPIPE_CHROMIUM");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
}

struct Browser {
  int exit_code = -1;
  std::string stdout_text;
  std::string log;  // stderr, with --enable-logging: console messages appear as ":CONSOLE"
};

// Runs headless Chromium on `url` with `args`; a fresh profile per call.
Browser RunChromium(const fs::path& scratch, const std::string& args, const fs::path& page) {
  Browser b;
  const fs::path log = scratch / "chromium.log";
  const std::string cmd = "'" + ChromiumPath() + "' --headless --no-sandbox --disable-gpu " +
                          "--no-first-run --hide-scrollbars --enable-logging=stderr --v=0 " +
                          "--user-data-dir='" + (scratch / "profile").string() + "' " + args +
                          " 'file://" + page.string() + "' 2>'" + log.string() + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return b;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) b.stdout_text.append(buf, n);
  const int status = ::pclose(p);
  b.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  b.log = ReadAll(log);
  return b;
}

struct ChartState {
  std::string name;
  std::string rendered;  // data-rendered: "1", "nodata" or "" (never finished)
  int svg_paths = 0;     // <path> elements drawn inside it
};

// Every chart container of a dumped DOM, in page order.
std::vector<ChartState> Charts(const std::string& dom) {
  std::vector<ChartState> out;
  const std::string key = "data-chart=\"";
  size_t pos = dom.find(key);
  while (pos != std::string::npos) {
    ChartState c;
    const size_t name_end = dom.find('"', pos + key.size());
    c.name = dom.substr(pos + key.size(), name_end - pos - key.size());
    const size_t tag_end = dom.find('>', pos);
    const std::string tag = dom.substr(pos, tag_end - pos);
    std::smatch m;
    if (std::regex_search(tag, m, std::regex("data-rendered=\"([a-z0-9]*)\""))) c.rendered = m[1];
    const size_t next = dom.find(key, tag_end);
    const std::string inner =
        dom.substr(tag_end, next == std::string::npos ? std::string::npos : next - tag_end);
    for (size_t p = inner.find("<path"); p != std::string::npos; p = inner.find("<path", p + 1)) {
      ++c.svg_paths;
    }
    out.push_back(c);
    pos = next;
  }
  return out;
}

std::string ErrorCount(const std::string& dom) {
  std::smatch m;
  if (std::regex_search(dom, m, std::regex("id=\"rp-errors\"[^>]*data-count=\"([0-9]+)\""))) {
    return m[1];
  }
  return "missing";
}

int PdfPages(const fs::path& pdf) {
  if (::access("/usr/bin/pdfinfo", X_OK) == 0) {
    FILE* p = ::popen(("pdfinfo '" + pdf.string() + "' 2>/dev/null").c_str(), "r");
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    ::pclose(p);
    std::smatch m;
    if (std::regex_search(text, m, std::regex("Pages:\\s+([0-9]+)"))) return std::stoi(m[1]);
    return -1;
  }
  // Without poppler: count page objects ("/Type /Page" not followed by "s").
  const std::string bytes = ReadAll(pdf);
  const std::regex page_object("/Type\\s*/Page[^s]");
  int pages = 0;
  for (auto it = std::sregex_iterator(bytes.begin(), bytes.end(), page_object);
       it != std::sregex_iterator(); ++it) {
    ++pages;
  }
  return pages;
}

fs::path ShotsDir() {
  const fs::path dir = RISKPIPE_TEST_OUTPUT_DIR;
  fs::create_directories(dir);
  return dir;
}

class ReportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(ChromiumPath().c_str(), X_OK), 0)
        << ChromiumPath() << " not found: the report tests need headless Chromium "
        << "(install it with scripts/setup.sh, or set RISKPIPE_CHROMIUM)";
    config_ = dir_.Write("riskpipe.yaml", testing::FixtureProject());
    workspace_ = dir_.path() / "ws";
  }

  testing::CliResult Report(const std::string& flags = "") {
    return RunRiskpipe("--config '" + config_.string() + "' report " + flags);
  }

  // Loads `page` in Chromium, checks every chart and the error hook, returns the DOM.
  std::string CheckPage(const fs::path& page, bool expect_all_drawn) {
    Browser b = RunChromium(dir_.path(), "--virtual-time-budget=10000 --dump-dom", page);
    EXPECT_EQ(b.exit_code, 0) << b.log;
    EXPECT_THAT(b.stdout_text, HasSubstr("data-charts-done=")) << page;
    EXPECT_EQ(ErrorCount(b.stdout_text), "0") << page;
    EXPECT_THAT(b.log, Not(HasSubstr(":CONSOLE"))) << page << ": console output";
    const auto charts = Charts(b.stdout_text);
    EXPECT_FALSE(charts.empty()) << page;
    for (const auto& c : charts) {
      if (expect_all_drawn) {
        EXPECT_EQ(c.rendered, "1") << page << ": chart " << c.name;
        EXPECT_GT(c.svg_paths, 3) << page << ": chart " << c.name << " drew nothing";
      } else {
        EXPECT_THAT(c.rendered, ::testing::AnyOf("1", "nodata")) << page << ": chart " << c.name;
      }
    }
    return b.stdout_text;
  }

  void Screenshot(const fs::path& page, const fs::path& png, const std::string& size) {
    Browser b = RunChromium(dir_.path(),
                            "--virtual-time-budget=10000 --window-size=" + size +
                                " --screenshot='" + png.string() + "'",
                            page);
    EXPECT_EQ(b.exit_code, 0) << b.log;
    ASSERT_TRUE(fs::exists(png)) << b.log;
    EXPECT_GT(fs::file_size(png), 20000u) << png << " looks blank";
  }

  TempDir dir_;
  fs::path config_;
  fs::path workspace_;
};

TEST_F(ReportCliTest, WritesDashboardReportAndPdfWithEveryChartDrawn) {
  testing::WriteGoldTables(workspace_);
  testing::RegisterModels(workspace_);
  const auto r = Report();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path reports = workspace_ / "reports";
  const fs::path dashboard = reports / "dashboard.html";
  const fs::path report = reports / "report.html";
  const fs::path pdf = reports / "report.pdf";
  ASSERT_TRUE(fs::exists(dashboard) && fs::exists(report) && fs::exists(pdf)) << r.output;
  for (const auto& e : fs::directory_iterator(reports)) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr("tmp"))) << "temporary file left";
  }

  // The pages are self-contained: no external scripts, styles or fonts.
  const std::string dash_html = ReadAll(dashboard);
  EXPECT_THAT(dash_html, Not(HasSubstr("<script src")));
  EXPECT_THAT(dash_html, Not(HasSubstr("<link")));
  EXPECT_THAT(dash_html, Not(HasSubstr("src=\"http")));
  // Alert text is escaped, never markup.
  EXPECT_THAT(dash_html, HasSubstr("feed &lt;outage&gt;: f3 is null in every row &amp; the"));

  const std::string dash_dom = CheckPage(dashboard, /*expect_all_drawn=*/true);
  const std::string report_dom = CheckPage(report, /*expect_all_drawn=*/true);
  EXPECT_EQ(Charts(dash_dom).size(), 15u);
  EXPECT_EQ(Charts(report_dom).size(), 6u);

  // The story is told in the business report's text.
  const std::string report_html = ReadAll(report);
  EXPECT_THAT(report_html, HasSubstr("peaked at 0.310 in 2024-09"));
  EXPECT_THAT(report_html, HasSubstr("retraining was recommended in 2024-09"));
  EXPECT_THAT(report_html, HasSubstr("Model <b>lending_pd/2</b>"));
  EXPECT_THAT(report_html, HasSubstr("Overall result: <b>PASSED</b>"));
  EXPECT_THAT(report_html, HasSubstr("30 or more days past due"));
  // The retrain's recovery and the calibration decay in the key messages.
  EXPECT_THAT(report_html, HasSubstr("Since <b>lending_pd/2</b> took over in 2025-01"));
  EXPECT_THAT(report_html, HasSubstr("defaults ran above the predicted PD by up to 0.030"));

  // Ten slides, one page each.
  EXPECT_EQ(PdfPages(pdf), 10);

  const fs::path shots = ShotsDir();
  Screenshot(dashboard, shots / "dashboard.png", "1400,3200");
  Screenshot(report, shots / "report.png", "1123,1620");
}

TEST_F(ReportCliTest, EmptyWorkspaceSaysNoModelRegisteredInsteadOfFailing) {
  const auto r = Report("--no-pdf");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no model registered"));
  const fs::path reports = workspace_ / "reports";
  EXPECT_FALSE(fs::exists(reports / "report.pdf"));
  EXPECT_THAT(ReadAll(reports / "dashboard.html"), HasSubstr("no model registered"));
  EXPECT_THAT(ReadAll(reports / "report.html"), HasSubstr("No model registered"));
  const std::string dom = CheckPage(reports / "dashboard.html", /*expect_all_drawn=*/false);
  for (const auto& c : Charts(dom)) EXPECT_EQ(c.rendered, "nodata") << c.name;
  CheckPage(reports / "report.html", /*expect_all_drawn=*/false);
}

TEST_F(ReportCliTest, OutFlagWritesElsewhere) {
  testing::WriteGoldTables(workspace_);
  const fs::path out = dir_.path() / "elsewhere";
  const auto r = Report("--no-pdf --out '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out / "dashboard.html"));
  EXPECT_TRUE(fs::exists(out / "report.html"));
  EXPECT_FALSE(fs::exists(workspace_ / "reports" / "dashboard.html"));
}

TEST_F(ReportCliTest, MissingChartsLibraryIsAClearError) {
  ::setenv("RISKPIPE_ECHARTS_JS", "/nonexistent/echarts.js", 1);
  const auto r = Report("--no-pdf");
  ::unsetenv("RISKPIPE_ECHARTS_JS");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("/nonexistent/echarts.js not found: run scripts/fetch_charts.sh"));
  EXPECT_FALSE(fs::exists(workspace_ / "reports" / "dashboard.html"));
}

TEST_F(ReportCliTest, MissingChromiumFailsBeforeWritingAnything) {
  ::setenv("RISKPIPE_CHROMIUM", "/nonexistent/chromium", 1);
  const auto r = Report();
  ::unsetenv("RISKPIPE_CHROMIUM");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("RISKPIPE_CHROMIUM=/nonexistent/chromium"));
  EXPECT_FALSE(fs::exists(workspace_ / "reports" / "dashboard.html"));
}

}  // namespace
}  // namespace riskpipe
