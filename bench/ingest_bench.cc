// Ingest throughput on lms_loan_daily-shaped data:
//   BM_IngestLms                  riskpipe's ingest, end to end: parse and clean, key check,
//                                 quarantine, bronze + silver + quarantine written as Parquet
//                                 month partitions. Target (issue 2): >= 1M rows/s on 2 cores,
//                                 peak RSS < 2 GiB.
//   BM_IngestLms_DuckDbBaseline   DuckDB alone on the same CSV: read_csv with the same column
//                                 types into one zstd Parquet file (the datamart's codec); no
//                                 cleaning, key check, quarantine, bronze copy or partitioning.
// Rows default to 10M; set RISKPIPE_BENCH_ROWS to change. The generated CSV is kept under
// $TMPDIR/riskpipe-ingest-bench-v1-<rows>/ and reused by later runs (it is deterministic);
// the datamart is removed after each run. Besides wall time the benchmark reports the
// process's CPU seconds (user + system), which stay comparable when the machine is shared.
// Run:
//   build-bench/bench/ingest_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>

#include "config/config.h"
#include "core/atomic_writer.h"
#include "core/date.h"
#include "db/database.h"
#include "ingest/ingest.h"

namespace {

using namespace riskpipe;

constexpr char kConfig[] = R"(
project: bench
workspace: ws
sources:
  - name: lms_loan_daily
    file: raw/lms_loan_daily.csv
    keys: [loan_id, snapshot_date]
    date_column: snapshot_date
    columns:
      - {name: loan_id, type: string, required: true}
      - {name: Customer_ID, type: string, required: true}
      - {name: loan_start_date, type: date, required: true}
      - {name: tenure, type: int, min: 1, max: 120, on_invalid: quarantine}
      - {name: installment_num, type: int, required: true, min: 0, max: 120, on_invalid: quarantine}
      - {name: loan_amt, type: float, min: 0, on_invalid: quarantine}
      - {name: due_amt, type: float, min: 0, on_invalid: quarantine}
      - {name: paid_amt, type: float, min: 0, on_invalid: quarantine}
      - {name: overdue_amt, type: float, min: 0, on_invalid: quarantine}
      - {name: balance, type: float, min: 0, on_invalid: quarantine}
      - {name: snapshot_date, type: date, required: true, formats: [iso, dmy]}
)";

int64_t RowsWanted() {
  const char* env = std::getenv("RISKPIPE_BENCH_ROWS");
  return env != nullptr ? std::atoll(env) : 10'000'000;
}

void Append(std::string& b, int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  b.append(buf, p);
}

// Writes loans of 11 monthly rows each (installments 0..10) across 25 cohorts, with one
// in ten thousand rows dirty (negative paid_amt) so the quarantine path is exercised.
void WriteLms(const std::filesystem::path& path, int64_t rows) {
  auto w = AtomicFileWriter::Open(path);
  w->Append(
      "loan_id,Customer_ID,loan_start_date,tenure,installment_num,loan_amt,due_amt,"
      "paid_amt,overdue_amt,balance,snapshot_date\n");
  const Date base = Date::FromCivil(2023, 1, 1);
  int64_t written = 0;
  for (int64_t loan = 0; written < rows; ++loan) {
    const Date start = base.AddMonths(static_cast<int>(loan % 25));
    char cid[32];
    const int n =
        std::snprintf(cid, sizeof(cid), "CUS_0x%llx", static_cast<long long>(loan + 1000));
    const std::string s = start.ToString();
    std::string us = s;
    for (char& c : us) c = c == '-' ? '_' : c;
    int64_t paid_total = 0;
    for (int k = 0; k <= 10 && written < rows; ++k, ++written) {
      std::string& b = w->buffer();
      const int64_t due = k == 0 ? 0 : 1000;
      const int64_t paid = (loan % 4 == 0 && k >= 3) ? 0 : due;
      paid_total += paid;
      b.append(cid, n).append("_").append(us).append(",").append(cid, n).append(",");
      b.append(s).append(",10,");
      Append(b, k);
      b.append(",10000.0,");
      Append(b, due);
      b.append(".0,");
      if (written % 10000 == 9999) b.append("-");
      Append(b, paid);
      b.append(".0,");
      Append(b, k * 1000 - paid_total);
      b.append(".0,");
      Append(b, 10000 - paid_total);
      b.append(".0,").append(start.AddMonths(k).ToString()).append("\n");
      w->MaybeFlush();
    }
  }
  (void)w->Commit();
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

double DirMegabytes(const std::filesystem::path& dir) {
  uintmax_t bytes = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
  }
  return static_cast<double>(bytes) / 1e6;
}

void BM_IngestLms(benchmark::State& state) {
  const int64_t rows = RowsWanted();
  // "v1": bump when WriteLms changes so a stale cached CSV is not reused.
  const auto root =
      std::filesystem::temp_directory_path() / ("riskpipe-ingest-bench-v1-" + std::to_string(rows));
  auto project = config::ParseProject(kConfig, root / "riskpipe.yaml");
  if (!project.ok()) {
    state.SkipWithError(project.status().ToString().c_str());
    return;
  }
  std::filesystem::remove_all(project->workspace.datamart());
  std::filesystem::remove_all(project->workspace.tmp());
  if (!std::filesystem::exists(project->sources[0].file)) WriteLms(project->sources[0].file, rows);
  const double mb = static_cast<double>(std::filesystem::file_size(project->sources[0].file)) / 1e6;
  int64_t silver = 0, quarantined = 0;
  double split = 0, publish = 0;
  const double cpu_before = CpuSeconds();
  for (auto _ : state) {
    ingest::IngestOptions options;
    options.show_progress = false;
    auto report = ingest::IngestSource(*project, project->sources[0], options);
    if (!report.ok()) {
      state.SkipWithError(report.status().ToString().c_str());
      break;
    }
    silver = report->silver();
    quarantined = report->quarantined();
    split = report->split_seconds;
    publish = report->publish_seconds;
  }
  state.counters["cpu_s"] = (CpuSeconds() - cpu_before) / static_cast<double>(state.iterations());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["csv_MB"] = mb;
  state.counters["silver"] = static_cast<double>(silver);
  state.counters["quarantined"] = static_cast<double>(quarantined);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["split_s"] = split;
  state.counters["publish_s"] = publish;
  state.counters["peak_rss_MB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  state.counters["parquet_MB"] = DirMegabytes(project->workspace.datamart());
  std::filesystem::remove_all(project->workspace.datamart());
}
BENCHMARK(BM_IngestLms)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

// The DuckDB type of each config column type, as ingest writes silver.
std::string_view SqlType(config::ColumnType type) {
  switch (type) {
    case config::ColumnType::kInt:
      return "BIGINT";
    case config::ColumnType::kFloat:
      return "DOUBLE";
    case config::ColumnType::kDate:
      return "DATE";
    case config::ColumnType::kBool:
      return "BOOLEAN";
    default:
      return "VARCHAR";
  }
}

void BM_IngestLms_DuckDbBaseline(benchmark::State& state) {
  const int64_t rows = RowsWanted();
  // The same cached CSV as BM_IngestLms.
  const auto root =
      std::filesystem::temp_directory_path() / ("riskpipe-ingest-bench-v1-" + std::to_string(rows));
  auto project = config::ParseProject(kConfig, root / "riskpipe.yaml");
  if (!project.ok()) {
    state.SkipWithError(project.status().ToString().c_str());
    return;
  }
  const config::Source& source = project->sources[0];
  if (!std::filesystem::exists(source.file)) WriteLms(source.file, rows);
  std::string columns;
  for (const config::Column& c : source.columns) {
    columns += (columns.empty() ? "" : ", ") + db::QuoteLiteral(c.name) + ": " +
               db::QuoteLiteral(SqlType(c.type));
  }
  const std::filesystem::path out = root / "baseline" / "lms_loan_daily.parquet";
  std::filesystem::create_directories(out.parent_path());
  const std::string sql = "COPY (SELECT * FROM read_csv(" + db::QuoteLiteral(source.file.string()) +
                          ", header = true, columns = {" + columns + "})) TO " +
                          db::QuoteLiteral(out.string()) +
                          " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)";
  const double cpu_before = CpuSeconds();
  for (auto _ : state) {
    // Two threads: the cores ingest's two workers use.
    db::Options options;
    options.threads = 2;
    auto database = db::Database::Open(":memory:", options);
    if (!database.ok()) return state.SkipWithError(database.status().ToString().c_str());
    auto con = database->Connect();
    if (!con.ok()) return state.SkipWithError(con.status().ToString().c_str());
    if (Status s = con->Execute(sql); !s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  state.counters["cpu_s"] = (CpuSeconds() - cpu_before) / static_cast<double>(state.iterations());
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["parquet_MB"] = DirMegabytes(out.parent_path());
  std::filesystem::remove_all(out.parent_path());
}
BENCHMARK(BM_IngestLms_DuckDbBaseline)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
