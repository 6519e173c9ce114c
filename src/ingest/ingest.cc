// Slightly over the house's ~600 lines: the two passes of one ingest share the Ingester's
// state (spill files, key marks, counts); the reader, cleaning and spill live in their own files.

#include "ingest/ingest.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <thread>

#include "core/files.h"
#include "core/hash.h"
#include "core/progress.h"
#include "db/database.h"
#include "ingest/cleaning.h"
#include "ingest/csv_reader.h"
#include "ingest/spill.h"
#include "ingest/split.h"

namespace riskpipe::ingest {
namespace {

namespace fs = std::filesystem;
using datamart::Layer;
using db::ChunkBuilder;
using db::Type;
using internal::SpillReader;
using internal::SpillRecord;
using internal::SpillWriter;

using internal::kUndatedMonth;

// Row groups of 65536 rows: on the 10M-row benchmark, 10% less wall time than DuckDB's 122880
// (smaller write buffers) for +1.7% file size; 32768 saved little more for +8%.
constexpr datamart::ParquetOptions kParquet{.dictionary = true, .row_group_rows = 65536};

Type SilverType(config::ColumnType t) {
  switch (t) {
    case config::ColumnType::kInt: return Type::kBigint;
    case config::ColumnType::kFloat: return Type::kDouble;
    case config::ColumnType::kDate: return Type::kDate;
    case config::ColumnType::kBool: return Type::kBoolean;
    case config::ColumnType::kString:
    case config::ColumnType::kCategory: return Type::kVarchar;
  }
  return Type::kVarchar;
}

// Bronze keeps the raw text of a source column named like the partition column under
// "<name>_raw": the partition folder's value would otherwise hide it on read.
std::string BronzeName(const std::string& name) {
  return name == datamart::kPartitionColumn ? name + "_raw" : name;
}

constexpr std::string_view kDuplicateKey = "duplicate key";

// The reason without the offending value, for summaries: `Age: "-500" is below min 14` ->
// `Age: is below min 14`; `duplicate key ("id") first seen on line 9` -> `duplicate key ("id")`.
std::string ReasonKind(std::string_view reason) {
  if (reason.rfind(kDuplicateKey, 0) == 0) {
    return std::string(reason.substr(0, reason.rfind(" first seen on line")));
  }
  const size_t a = reason.find('"');
  const size_t b = reason.rfind('"');
  if (a == std::string_view::npos || b == a) return std::string(reason);
  std::string kind = std::string(reason.substr(0, a)) + std::string(reason.substr(b + 1));
  const size_t sp = kind.find("  ");
  if (sp != std::string::npos) kind.erase(sp, 1);
  return kind;
}

std::string TimestampLiteral(std::chrono::system_clock::time_point t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "TIMESTAMP '%04d-%02d-%02d %02d:%02d:%02d.%06lld'",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buf;
}


std::string ColumnList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + db::QuoteIdent(n);
  return out;
}

// Quoted names for a message: header text is input, so each name and the list are bounded.
std::string NamesForMessage(const std::vector<std::string>& names) {
  constexpr size_t kMaxNames = 20;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kMaxNames; ++i) {
    out += (out.empty() ? "" : ", ") + db::QuoteIdent(Excerpt(names[i], 100));
  }
  if (names.size() > kMaxNames) out += " and " + std::to_string(names.size() - kMaxNames) + " more";
  return out;
}

Date PartitionOf(int month) {
  return month == kUndatedMonth ? datamart::UndatedPartition()
                                : Month::Of(month / 12, month % 12 + 1).first_day();
}

struct SilverColumn {
  const config::Column* column;
  int header_index;
  std::string name;  // in silver
  Type type;
  ColumnCleaner cleaner;
};

// What both passes share; read-only once built.
struct Plan {
  const config::Project* project = nullptr;
  const config::Source* source = nullptr;
  std::vector<std::string> header;
  std::vector<SilverColumn> silver;
  int date_index = -1;
  const ColumnCleaner* date_cleaner = nullptr;
  std::unique_ptr<ColumnCleaner> date_cleaner_owner;
  std::vector<int> key_index;
  std::vector<std::pair<std::string, Type>> bronze_schema, silver_schema, quarantine_schema;
  std::string bronze_select, silver_select, quarantine_select;  // each ends in FROM
};

// Per-month results of the second pass, merged into the report.
struct MonthStats {
  PartitionCounts counts;
  std::map<std::string, int64_t> nulled;
  std::map<std::string, int64_t> reasons;
};

// Streams a month's spill as bronze rows: every field as received, plus _line and _raw.
class BronzeSource : public db::RowSource {
 public:
  BronzeSource(const Plan& plan, std::unique_ptr<SpillReader> reader)
      : plan_(plan), reader_(std::move(reader)) {}
  const std::vector<std::pair<std::string, Type>>& Schema() const override {
    return plan_.bronze_schema;
  }
  Status Fill(ChunkBuilder& chunk) override {
    const size_t n = plan_.header.size();
    while (reader_ != nullptr && !chunk.full()) {
      ASSIGN_OR_RETURN(bool more, reader_->Next(rec_));
      if (!more) break;
      const size_t r = chunk.AddRow();
      const bool structural = rec_.fields.size() != n || rec_.unterminated_quote;
      const bool escape = rec_.invalid_utf8_at >= 0;
      for (size_t c = 0; c < n; ++c) {
        if (structural) {
          chunk.SetNull(c, r);
        } else if (escape) {
          chunk.SetString(c, r, EscapeInvalidUtf8(rec_.fields[c]));
        } else {
          chunk.SetString(c, r, rec_.fields[c]);
        }
      }
      chunk.SetInt64(n, r, rec_.line);
      if (structural || escape || rec_.bad_quote) {
        chunk.SetString(n + 1, r, EscapeInvalidUtf8(rec_.raw));
      } else {
        chunk.SetNull(n + 1, r);
      }
      ++rows_;
    }
    return OkStatus();
  }
  int64_t rows() const { return rows_; }

 private:
  const Plan& plan_;
  std::unique_ptr<SpillReader> reader_;
  SpillRecord rec_;
  int64_t rows_ = 0;
};

// Streams a month's spill as cleaned silver rows; rows that cannot be made valid go to a
// quarantine spill with their reason.
class SilverSource : public db::RowSource {
 public:
  // `dated`: the spill holds a month's records, whose dates pass 1 already read.
  SilverSource(const Plan& plan, std::unique_ptr<SpillReader> reader, SpillWriter* quarantine,
               MonthStats& stats, bool dated)
      : plan_(plan),
        reader_(std::move(reader)),
        quarantine_(quarantine),
        stats_(stats),
        dated_(dated),
        cells_(plan.silver.size()) {}
  const std::vector<std::pair<std::string, Type>>& Schema() const override {
    return plan_.silver_schema;
  }
  Status Fill(ChunkBuilder& chunk) override {
    while (reader_ != nullptr && !chunk.full()) {
      ASSIGN_OR_RETURN(bool more, reader_->Next(rec_));
      if (!more) break;
      const std::string problem = Classify();
      if (!problem.empty()) {
        RETURN_IF_ERROR(quarantine_->AddQuarantine(rec_.line, EscapeInvalidUtf8(rec_.raw),
                                                   EscapeInvalidUtf8(problem)));
        stats_.counts.quarantined++;
        stats_.reasons[ReasonKind(problem)]++;
        continue;
      }
      Emit(chunk);
      stats_.counts.silver++;
    }
    return OkStatus();
  }

 private:
  // Cleans the record into cells_; returns why it must be quarantined, or "".
  std::string Classify() {
    const size_t n = plan_.header.size();
    if (rec_.unterminated_quote) return "unterminated quoted field (the file may be truncated)";
    if (rec_.fields.size() != n) {
      return "expected " + std::to_string(n) + " fields, found " + std::to_string(rec_.fields.size());
    }
    if (rec_.bad_quote) return "text after a closing quote";
    if (rec_.invalid_utf8_at >= 0) {
      return "invalid UTF-8 at byte " + std::to_string(rec_.invalid_utf8_at + 1) + " of the record";
    }
    for (size_t i = 0; i < plan_.silver.size(); ++i) {
      const SilverColumn& sc = plan_.silver[i];
      const CleanOutcome o = sc.cleaner.Clean(rec_.fields[sc.header_index], cells_[i], reason_);
      if (o == CleanOutcome::kQuarantine) return reason_;
      if (o == CleanOutcome::kNulled) stats_.nulled[sc.name]++;
    }
    // The date column may be dropped from silver (as the partition column): check it here,
    // unless pass 1 placed the record in a month, which it does only for a readable date.
    Cell date;
    if (!dated_ && (plan_.date_cleaner->Clean(rec_.fields[plan_.date_index], date, reason_) !=
                        CleanOutcome::kOk ||
                    date.is_null)) {
      return reason_.empty() ? plan_.source->date_column + ": missing date" : reason_;
    }
    if (rec_.duplicate_of >= 0) {
      std::vector<std::string> keys = plan_.source->keys;
      return std::string(kDuplicateKey) + " (" + ColumnList(keys) + ") first seen on line " +
             std::to_string(rec_.duplicate_of);
    }
    return "";
  }

  void Emit(ChunkBuilder& chunk) {
    const size_t r = chunk.AddRow();
    for (size_t i = 0; i < plan_.silver.size(); ++i) {
      const Cell& cell = cells_[i];
      if (cell.is_null) {
        chunk.SetNull(i, r);
        continue;
      }
      const config::Column& col = *plan_.silver[i].column;
      if (col.pii == config::Pii::kHash) {
        chunk.SetString(i, r, SaltedSha256Hex(plan_.project->pii_salt, cell.s));
        continue;
      }
      switch (col.type) {
        case config::ColumnType::kInt: chunk.SetInt64(i, r, cell.i); break;
        case config::ColumnType::kFloat: chunk.SetDouble(i, r, cell.d); break;
        case config::ColumnType::kDate: chunk.SetDate(i, r, cell.date); break;
        case config::ColumnType::kBool: chunk.SetBool(i, r, cell.i != 0); break;
        case config::ColumnType::kString:
        case config::ColumnType::kCategory: chunk.SetString(i, r, cell.s); break;
      }
    }
    chunk.SetInt64(plan_.silver.size(), r, rec_.line);
  }

  const Plan& plan_;
  std::unique_ptr<SpillReader> reader_;
  SpillWriter* quarantine_;
  MonthStats& stats_;
  bool dated_;
  SpillRecord rec_;
  std::vector<Cell> cells_;
  std::string reason_;
};

// Streams a quarantine spill: _line, _raw, _reason.
class QuarantineSource : public db::RowSource {
 public:
  QuarantineSource(const Plan& plan, std::unique_ptr<SpillReader> reader)
      : plan_(plan), reader_(std::move(reader)) {}
  const std::vector<std::pair<std::string, Type>>& Schema() const override {
    return plan_.quarantine_schema;
  }
  Status Fill(ChunkBuilder& chunk) override {
    while (!chunk.full()) {
      ASSIGN_OR_RETURN(bool more, reader_->Next(rec_));
      if (!more) break;
      const size_t r = chunk.AddRow();
      chunk.SetInt64(0, r, rec_.line);
      chunk.SetString(1, r, rec_.raw);
      chunk.SetString(2, r, rec_.reason);
    }
    return OkStatus();
  }

 private:
  const Plan& plan_;
  std::unique_ptr<SpillReader> reader_;
  SpillRecord rec_;
};

class SourceIngestor {
 public:
  SourceIngestor(const config::Project& project, const config::Source& source,
                 const IngestOptions& options)
      : project_(project), source_(source), options_(options) {}
  ~SourceIngestor() {
    std::error_code ec;
    if (!spill_dir_.empty()) fs::remove_all(spill_dir_, ec);
  }

  StatusOr<SourceReport> Run();

 private:
  Status BuildPlan(const std::vector<std::string>& header);
  Status Split(uint64_t data_begin, int64_t first_line);
  std::vector<int> MonthsInScope() const;
  Status PublishAll();
  Status PublishMonth(db::Connection& con, int month, MonthStats& stats);

  const config::Project& project_;
  const config::Source& source_;
  const IngestOptions& options_;
  Plan plan_;
  SourceReport report_;
  fs::path spill_dir_;
  std::set<int> spilled_months_;
};

Status SourceIngestor::BuildPlan(const std::vector<std::string>& header) {
  plan_.project = &project_;
  plan_.source = &source_;
  plan_.header = header;
  std::vector<int> index;
  RETURN_IF_ERROR(MatchHeader(source_, header, index));
  for (size_t i = 0; i < source_.columns.size(); ++i) {
    const config::Column& c = source_.columns[i];
    if (c.name == source_.date_column) {
      plan_.date_index = index[i];
      plan_.date_cleaner_owner = std::make_unique<ColumnCleaner>(c);
      plan_.date_cleaner = plan_.date_cleaner_owner.get();
    }
    if (std::find(source_.keys.begin(), source_.keys.end(), c.name) != source_.keys.end()) {
      plan_.key_index.push_back(index[i]);
    }
    if (c.pii == config::Pii::kDrop || c.name == datamart::kPartitionColumn) continue;
    const bool hashed = c.pii == config::Pii::kHash;
    plan_.silver.push_back(SilverColumn{&c, index[i], hashed ? c.name + "_sha256" : c.name,
                                        hashed ? Type::kVarchar : SilverType(c.type),
                                        ColumnCleaner(c)});
  }

  const std::string file = db::QuoteLiteral(report_.file);
  const std::string at = TimestampLiteral(std::chrono::system_clock::now());
  std::vector<std::string> bronze_cols, silver_cols;
  for (const std::string& h : header) {
    bronze_cols.push_back(BronzeName(h));
    plan_.bronze_schema.emplace_back(BronzeName(h), Type::kVarchar);
  }
  plan_.bronze_schema.emplace_back("_line", Type::kBigint);
  plan_.bronze_schema.emplace_back("_raw", Type::kVarchar);
  for (const SilverColumn& c : plan_.silver) {
    silver_cols.push_back(c.name);
    plan_.silver_schema.emplace_back(c.name, c.type);
  }
  plan_.silver_schema.emplace_back("_line", Type::kBigint);
  plan_.quarantine_schema = {{"_line", Type::kBigint}, {"_raw", Type::kVarchar},
                             {"_reason", Type::kVarchar}};
  plan_.bronze_select = "SELECT " + ColumnList(bronze_cols) + ", " + file +
                        " AS _source_file, _line, " + at + " AS _ingested_at, _raw FROM ";
  plan_.silver_select =
      "SELECT " + ColumnList(silver_cols) + ", " + file + " AS _source_file, _line FROM ";
  plan_.quarantine_select = "SELECT " + file + " AS _source_file, _line, _raw, _reason, " + at +
                            " AS _ingested_at FROM ";
  return OkStatus();
}

// Pass 1: split the source into per-month spill files, marking duplicate keys.
Status SourceIngestor::Split(uint64_t data_begin, int64_t first_line) {
  internal::SplitOptions split;
  split.file = source_.file;
  split.delimiter = source_.delimiter;
  split.data_begin = data_begin;
  split.first_line = first_line;
  split.fields = plan_.header.size();
  split.date_index = plan_.date_index;
  split.date_cleaner = plan_.date_cleaner;
  split.key_index = plan_.key_index;
  if (options_.from) split.from = options_.from->index();
  if (options_.to) split.to = options_.to->index();
  split.spill_dir = spill_dir_;
  split.threads = std::max(1, options_.threads);
  split.block_bytes = std::max<uint64_t>(1, options_.split_block_bytes);
  split.show_progress = options_.show_progress;
  split.progress_label = "ingest " + source_.name;
  ASSIGN_OR_RETURN(internal::SplitResult result, internal::SplitByMonth(split));
  report_.records = result.records;
  report_.blank_lines = result.blank_lines;
  report_.out_of_range = result.out_of_range;
  spilled_months_ = std::move(result.months);
  return OkStatus();
}

std::vector<int> SourceIngestor::MonthsInScope() const {
  int lo = INT32_MAX, hi = INT32_MIN;
  for (int m : spilled_months_) {
    if (m == kUndatedMonth) continue;
    lo = std::min(lo, m);
    hi = std::max(hi, m);
  }
  if (options_.from) lo = options_.from->index();
  if (options_.to) hi = options_.to->index();
  // A month in range without rows still gets (empty) partitions, so a re-run replaces any
  // stale ones and readers see an explicit zero.
  std::vector<int> months;
  if (spilled_months_.count(kUndatedMonth) != 0) months.push_back(kUndatedMonth);
  for (int m = lo; m <= hi && lo != INT32_MAX && hi != INT32_MIN; ++m) months.push_back(m);
  return months;
}

// Pass 2 for one month: stream bronze, silver and quarantine into staged Parquet files,
// check that they reconcile, then publish all three.
Status SourceIngestor::PublishMonth(db::Connection& con, int month, MonthStats& stats) {
  const datamart::Datamart mart(project_.workspace.datamart());
  const Date partition = PartitionOf(month);
  stats.counts.partition = partition;
  const fs::path spill = internal::MonthSpillPath(spill_dir_, month);
  const fs::path qspill = spill_dir_ / ("q" + std::to_string(month));
  const bool has_rows = spilled_months_.count(month) != 0;
  auto open = [&](const fs::path& p) -> StatusOr<std::unique_ptr<SpillReader>> {
    if (!has_rows) return std::unique_ptr<SpillReader>();
    return SpillReader::Open(p);
  };

  ASSIGN_OR_RETURN(auto bronze_reader, open(spill));
  BronzeSource bronze(plan_, std::move(bronze_reader));
  // Bronze without dictionaries: its many raw-text columns made hashing every value the
  // largest single cost of the write (bench: about a quarter of bronze CPU), for +4% size.
  datamart::ParquetOptions raw_text = kParquet;
  raw_text.dictionary = false;
  ASSIGN_OR_RETURN(auto b, mart.Stage(con, Layer::kBronze, source_.name, partition,
                                      plan_.bronze_select + db::RowSourceSql(&bronze), raw_text));
  stats.counts.bronze = bronze.rows();

  ASSIGN_OR_RETURN(auto qwriter, SpillWriter::Create(qspill));
  ASSIGN_OR_RETURN(auto silver_reader, open(spill));
  SilverSource silver(plan_, std::move(silver_reader), qwriter.get(), stats,
                      month != kUndatedMonth);
  auto s = mart.Stage(con, Layer::kSilver, source_.name, partition,
                      plan_.silver_select + db::RowSourceSql(&silver), kParquet);
  if (!s.ok()) {
    mart.Discard(b);
    return s.status();
  }
  RETURN_IF_ERROR(qwriter->Close());
  ASSIGN_OR_RETURN(auto qreader, SpillReader::Open(qspill));
  QuarantineSource quarantine(plan_, std::move(qreader));
  auto q = mart.Stage(con, Layer::kQuarantine, source_.name, partition,
                      plan_.quarantine_select + db::RowSourceSql(&quarantine), kParquet);
  if (!q.ok()) {
    mart.Discard(b);
    mart.Discard(*s);
    return q.status();
  }
  const PartitionCounts& c = stats.counts;
  if (c.bronze != c.silver + c.quarantined || b.rows != c.bronze || s->rows != c.silver ||
      q->rows != c.quarantined) {
    mart.Discard(b);
    mart.Discard(*s);
    mart.Discard(*q);
    return DataLossError(source_.name + " " + partition.ToString() + ": bronze " +
                         std::to_string(c.bronze) + " rows (" + std::to_string(b.rows) +
                         " written) != silver " + std::to_string(c.silver) + " (" +
                         std::to_string(s->rows) + ") + quarantine " +
                         std::to_string(c.quarantined) + " (" + std::to_string(q->rows) +
                         "); nothing published for this partition");
  }
  // The month's three layers appear together or not at all (a kill between the renames is
  // completed by the next writer: Datamart::RecoverPublishes).
  RETURN_IF_ERROR(mart.PublishTogether(
      {b, *s, *q}, "ingest." + source_.name + "." + partition.ToString(),
      options_.fault_hook ? [&](int i) {
        options_.fault_hook("publish:" + std::to_string(i + 1));
      } : std::function<void(int)>()));
  std::error_code ec;
  fs::remove(spill, ec);
  fs::remove(qspill, ec);
  return OkStatus();
}

Status SourceIngestor::PublishAll() {
  const std::vector<int> months = MonthsInScope();
  db::Options db_options;
  db_options.memory_limit = options_.memory_limit;
  db_options.temp_directory = spill_dir_ / "duckdb";
  // One DuckDB thread: each partition query runs on the worker thread that issued it. With
  // more, DuckDB's background thread takes the (single-threaded) row-source pipeline and the
  // issuing thread busy-waits for it, burning a core (perf: ~12 of 44 CPU-seconds on 10M rows).
  db_options.threads = 1;
  ASSIGN_OR_RETURN(db::Database database, db::Database::Open(":memory:", db_options));

  const int workers = std::max(1, std::min<int>(options_.threads, static_cast<int>(months.size())));
  std::vector<db::Connection> connections;
  for (int w = 0; w < workers; ++w) {
    ASSIGN_OR_RETURN(db::Connection con, database.Connect());
    connections.push_back(std::move(con));
  }
  Progress progress("publish " + source_.name, months.size(), "partitions");
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;  // guards first_error, results and the on_partition callback
  Status first_error;
  std::map<int, MonthStats> results;
  auto work = [&](db::Connection& con) {
    while (!failed.load()) {
      const size_t i = next.fetch_add(1);
      if (i >= months.size()) return;
      MonthStats stats;
      const Status s = PublishMonth(con, months[i], stats);
      std::lock_guard<std::mutex> lock(mu);
      if (!s.ok()) {
        if (first_error.ok()) first_error = s;
        failed = true;
        return;
      }
      if (options_.on_partition) options_.on_partition(stats.counts);
      results.emplace(months[i], std::move(stats));
      if (options_.show_progress) progress.Advance(1);
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work, std::ref(connections[w]));
  work(connections[0]);
  for (std::thread& t : threads) t.join();
  progress.Finish();
  for (auto& [month, stats] : results) {
    report_.partitions.push_back(stats.counts);
    for (const auto& [k, v] : stats.nulled) report_.nulled[k] += v;
    for (const auto& [k, v] : stats.reasons) report_.quarantine_reasons[k] += v;
  }
  return first_error;
}

StatusOr<SourceReport> SourceIngestor::Run() {
  const auto start = std::chrono::steady_clock::now();
  report_.source = source_.name;
  std::error_code ec;
  const fs::path rel = fs::relative(source_.file, project_.workspace.root(), ec);
  report_.file = (!ec && !rel.empty() && rel.native().rfind("..", 0) != 0) ? rel.string()
                                                                           : source_.file.string();
  ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> reader,
                   CsvReader::Open(source_.file, source_.delimiter));
  ASSIGN_OR_RETURN(std::vector<std::string> header, reader->ReadHeader());
  RETURN_IF_ERROR(BuildPlan(header).WithPrefix(source_.file.string()));
  const uint64_t data_begin = reader->bytes_consumed();
  const int64_t first_line = reader->line();
  reader.reset();

  spill_dir_ = project_.workspace.tmp() /
               (".ingest-" + source_.name + ".tmp-" + std::to_string(::getpid()));
  RETURN_IF_ERROR(MakeDirs(spill_dir_));
  RETURN_IF_ERROR(Split(data_begin, first_line));
  const auto split_done = std::chrono::steady_clock::now();
  report_.split_seconds = std::chrono::duration<double>(split_done - start).count();
  RETURN_IF_ERROR(PublishAll());
  report_.publish_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - split_done).count();
  report_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

}  // namespace

int64_t SourceReport::bronze() const {
  int64_t n = 0;
  for (const auto& p : partitions) n += p.bronze;
  return n;
}
int64_t SourceReport::silver() const {
  int64_t n = 0;
  for (const auto& p : partitions) n += p.silver;
  return n;
}
int64_t SourceReport::quarantined() const {
  int64_t n = 0;
  for (const auto& p : partitions) n += p.quarantined;
  return n;
}

Status MatchHeader(const config::Source& source, const std::vector<std::string>& header,
                   std::vector<int>& index) {
  std::map<std::string, int> pos;
  for (size_t i = 0; i < header.size(); ++i) {
    if (!pos.emplace(header[i], static_cast<int>(i)).second) {
      return InvalidArgumentError("header: column " + db::QuoteIdent(Excerpt(header[i], 100)) +
                                  " appears twice");
    }
  }
  std::vector<std::string> missing, unexpected;
  index.assign(source.columns.size(), -1);
  for (size_t i = 0; i < source.columns.size(); ++i) {
    auto it = pos.find(source.columns[i].name);
    if (it == pos.end()) {
      missing.push_back(source.columns[i].name);
    } else {
      index[i] = it->second;
    }
  }
  for (const std::string& h : header) {
    if (source.FindColumn(h) == nullptr) unexpected.push_back(h);
  }
  if (!unexpected.empty() && source.extra_columns == config::ExtraColumns::kIgnore &&
      missing.empty()) {
    unexpected.clear();
  }
  if (missing.empty() && unexpected.empty()) return OkStatus();
  std::string msg =
      "header does not match the configured columns of source \"" + source.name + "\":";
  if (!missing.empty()) msg += " missing " + NamesForMessage(missing) + ";";
  if (!unexpected.empty()) msg += " unexpected " + NamesForMessage(unexpected) + ";";
  if (missing.size() == 1 && unexpected.size() == 1) {
    msg += " was " + db::QuoteIdent(Excerpt(missing[0], 100)) + " renamed to " +
           db::QuoteIdent(Excerpt(unexpected[0], 100)) + "?";
  } else {
    msg.pop_back();
  }
  return InvalidArgumentError(msg);
}

StatusOr<SourceReport> IngestSource(const config::Project& project, const config::Source& source,
                                    const IngestOptions& options) {
  SourceIngestor ingestor(project, source, options);
  return ingestor.Run();
}

}  // namespace riskpipe::ingest
