// `riskpipe report` without the PDF (issue 6: <= 5 s) on a demo-sized workspace: 24 months x
// 1M predictions, monitoring rows for 40 features, generated once per process with DuckDB into
// $RISKPIPE_BENCH_DIR (default /tmp/riskpipe-report-bench; reused when already there).

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "config/config.h"
#include "core/date.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "report/report.h"

namespace {

namespace fs = std::filesystem;
using namespace riskpipe;

constexpr int kMonths = 24;

// User + system CPU seconds of the whole process (all DuckDB threads): comparable on a
// loaded machine, where wall time is not.
double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

constexpr int kRowsPerMonth = 1000000;
constexpr int kFeatures = 40;

fs::path BenchDir() {
  const char* env = std::getenv("RISKPIPE_BENCH_DIR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path("/tmp/riskpipe-report-bench");
}

std::string StabilitySql(int i) {
  // Score metrics, then csi / null_rate / importance per feature, then decile means per
  // feature and bucket: about 600 rows a month, as monitoring writes them.
  const std::string psi = i == 8 ? "0.31" : "0.02";
  return "SELECT 'lending_pd/1' AS model_id, 'lending_pd' AS model_name, 1 AS model_version, "
         "metric, feature, bucket, value, reference, 1000000::BIGINT AS rows FROM ("
         "SELECT * FROM (VALUES ('score_psi', NULL::VARCHAR, NULL::VARCHAR, " +
         psi +
         ", NULL::DOUBLE), "
         "('score_js', NULL, NULL, 0.01, NULL), ('score_ks', NULL, NULL, 0.03, NULL), "
         "('approval_rate', NULL, NULL, 0.7, 0.7), ('mean_pd', NULL, NULL, 0.08, 0.08)) "
         "t(metric, feature, bucket, value, reference) "
         "UNION ALL SELECT m, 'f' || f, NULL, random() * 0.2, 0.01 FROM range(" +
         std::to_string(kFeatures) +
         ") a(f), (VALUES ('csi'), ('null_rate'), ('importance')) b(m) "
         "UNION ALL SELECT 'decile_mean', 'f' || f, (d + 1)::VARCHAR, random(), random() FROM "
         "range(" +
         std::to_string(kFeatures) + ") a(f), range(10) c(d))";
}

std::string PerformanceSql(int i) {
  const bool matured = i < 18;
  const std::string status = matured ? "'matured'" : "'immature'";
  const std::string value = matured ? "0.78" : "NULL::DOUBLE";
  return "SELECT 'lending_pd/1' AS model_id, 'lending_pd' AS model_name, 1 AS model_version, " +
         status + " AS status, metric, bucket, " + value +
         " AS value, 0.77 AS estimated, "
         "1000000::BIGINT AS rows, 1000000::BIGINT AS labelled FROM (SELECT unnest(['auc', "
         "'gini', 'ks', 'brier', 'default_rate', 'mean_pd', 'precision', 'recall']) AS metric, "
         "NULL::VARCHAR AS bucket UNION ALL SELECT m, (d + 1)::VARCHAR FROM range(10) t(d), "
         "(VALUES ('calib_observed'), ('calib_predicted')) v(m))";
}

std::string PredictionsSql(const std::string& month) {
  return "SELECT 'e' || r AS event_id, 'c' || r AS entity_id, DATE '" + month +
         "' AS decision_date, 'lending_pd/1' AS model_id, 'lending_pd' AS model_name, 1 AS "
         "model_version, 'champion' AS role, 0.0 AS margin, random() * 0.4 AS pd, "
         "['A','B','C','D','E'][1 + (r % 5)] AS score_band, CASE WHEN r % 10 < 3 THEN 'decline' "
         "ELSE 'approve' END AS decision, 0.3 AS threshold, 'f1' AS reason_1, 'f2' AS reason_2, "
         "'f3' AS reason_3, 'v1' AS reason_table_version FROM range(" +
         std::to_string(kRowsPerMonth) + ") t(r)";
}

std::string AlertsSql(const std::string& month) {
  return "SELECT '" + month +
         "' || f AS alert_id, 'lending_pd/1' AS model_id, 'csi' AS "
         "check_name, 'warn' AS severity, 'csi' AS metric, 'f' || f AS feature, 0.12 AS value, "
         "0.10 AS threshold, 'investigate' AS action, 'CSI above 0.10' AS message, '{}' AS "
         "evidence_json FROM range(3) t(f)";
}

// Builds the workspace once; returns its project.
config::Project& Workspace() {
  static config::Project project = [] {
    const fs::path root = BenchDir();
    const std::string yaml = "project: report_bench\nworkspace: " + (root / "ws").string() +
                             "\nsources:\n  - name: s\n    file: raw/s.csv\n    keys: [id]\n"
                             "    date_column: d\n    columns:\n      - {name: id, type: string}\n"
                             "      - {name: d, type: date}\n";
    auto p = config::ParseProject(yaml, root / "riskpipe.yaml");
    if (!p.ok()) {
      std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
      std::abort();
    }
    const datamart::Datamart mart(p->workspace.datamart());
    if (mart.ListPartitions(datamart::Layer::kGold, "predictions").size() != kMonths) {
      std::fprintf(stderr, "report_bench: generating %d months x %d predictions in %s\n", kMonths,
                   kRowsPerMonth, p->workspace.root().c_str());
      auto database = db::Database::Open(":memory:");
      auto con = database->Connect();
      for (int i = 0; i < kMonths; ++i) {
        const Date day = Month::Of(2024, 1).Next(i).first_day();
        const std::string month = day.ToString();
        for (const auto& [table, sql] :
             {std::pair<std::string, std::string>{"monitoring_stability", StabilitySql(i)},
              {"monitoring_performance", PerformanceSql(i)},
              {"monitoring_alerts", AlertsSql(month)},
              {"predictions", PredictionsSql(month)}}) {
          auto rows = mart.WritePartition(*con, datamart::Layer::kGold, table, day, sql);
          if (!rows.ok()) {
            std::fprintf(stderr, "%s: %s\n", table.c_str(), rows.status().ToString().c_str());
            std::abort();
          }
        }
      }
    }
    return *std::move(p);
  }();
  return project;
}

void BM_ReportWithoutPdf(benchmark::State& state) {
  const config::Project& project = Workspace();
  report::Options options;
  options.pdf = false;
  double data = 0, html = 0;
  const double cpu0 = ProcessCpuSeconds();
  for (auto _ : state) {
    auto out = report::WriteReports(project, options);
    if (!out.ok()) {
      state.SkipWithError(out.status().ToString().c_str());
      return;
    }
    data += out->data_seconds;
    html += out->html_seconds;
  }
  state.counters["process_cpu_s"] =
      benchmark::Counter(ProcessCpuSeconds() - cpu0, benchmark::Counter::kAvgIterations);
  state.counters["data_s"] = benchmark::Counter(data, benchmark::Counter::kAvgIterations);
  state.counters["html_s"] = benchmark::Counter(html, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_ReportWithoutPdf)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
