#include "ingest/ingest.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>

#include "core/files.h"
#include "core/hash.h"
#include "core/progress.h"
#include "db/database.h"
#include "ingest/cleaning.h"
#include "ingest/csv_reader.h"
#include "ingest/key_set.h"

namespace riskpipe::ingest {
namespace {

namespace fs = std::filesystem;
using datamart::Layer;
using db::ChunkBuilder;
using db::Type;

// The month index stored for rows without a readable date.
constexpr int kUndatedMonth = -1;

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

// The reason without the offending value, for summaries: `Age: "-500" is below min 14` ->
// `Age: is below min 14`.
std::string ReasonKind(const std::string& reason) {
  const size_t a = reason.find('"');
  const size_t b = reason.rfind('"');
  if (a == std::string::npos || b == a) return reason;
  std::string kind = reason.substr(0, a) + reason.substr(b + 1);
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

struct SilverColumn {
  const config::Column* column;
  int header_index;
  std::string name;  // in silver
  ColumnCleaner cleaner;
};

// Everything one ingestion run needs, built once per source.
class SourceIngestor {
 public:
  SourceIngestor(const config::Project& project, const config::Source& source,
                 const IngestOptions& options)
      : project_(project), source_(source), options_(options) {}

  StatusOr<SourceReport> Run();

 private:
  Status Prepare(const std::vector<std::string>& header);
  Status ProcessRecord(const CsvRecord& rec);
  Status AppendBronze(const CsvRecord& rec, int month, bool structural_problem,
                      bool escape_utf8);
  Status AppendQuarantine(const CsvRecord& rec, int month, const std::string& reason);
  Status FlushAll();
  Status Publish();
  std::vector<int> MonthsInScope() const;

  const config::Project& project_;
  const config::Source& source_;
  const IngestOptions& options_;
  SourceReport report_;

  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::Connection> con_;
  std::unique_ptr<db::Appender> bronze_app_, silver_app_, quarantine_app_;
  std::unique_ptr<ChunkBuilder> bronze_, silver_, quarantine_;

  std::vector<std::string> header_;
  std::vector<SilverColumn> silver_cols_;
  int date_header_index_ = -1;
  std::unique_ptr<ColumnCleaner> date_cleaner_;
  std::vector<int> key_header_index_;
  KeySet keys_;
  std::map<int, PartitionCounts> counts_;  // by month index
  std::string reason_;                     // scratch
  std::vector<Cell> cells_;
};

Status SourceIngestor::Prepare(const std::vector<std::string>& header) {
  header_ = header;
  std::vector<int> index;
  RETURN_IF_ERROR(MatchHeader(source_, header, index));
  for (size_t i = 0; i < source_.columns.size(); ++i) {
    const config::Column& c = source_.columns[i];
    if (c.name == source_.date_column) {
      date_header_index_ = index[i];
      date_cleaner_ = std::make_unique<ColumnCleaner>(c);
    }
    if (c.pii == config::Pii::kDrop || c.name == datamart::kPartitionColumn) continue;
    const std::string name = c.pii == config::Pii::kHash ? c.name + "_sha256" : c.name;
    silver_cols_.push_back(SilverColumn{&c, index[i], name, ColumnCleaner(c)});
  }
  for (const std::string& k : source_.keys) {
    for (size_t i = 0; i < source_.columns.size(); ++i) {
      if (source_.columns[i].name == k) key_header_index_.push_back(index[i]);
    }
  }
  cells_.resize(silver_cols_.size());

  const fs::path tmp = project_.workspace / "tmp" / "duckdb";
  RETURN_IF_ERROR(MakeDirs(tmp));
  db::Options db_options;
  db_options.memory_limit = options_.memory_limit;
  db_options.temp_directory = tmp;
  ASSIGN_OR_RETURN(db::Database database, db::Database::Open(":memory:", db_options));
  db_ = std::make_unique<db::Database>(std::move(database));
  ASSIGN_OR_RETURN(db::Connection con, db_->Connect());
  con_ = std::make_unique<db::Connection>(std::move(con));

  std::string bronze_sql = "CREATE TABLE bronze_stage (";
  std::vector<Type> bronze_types;
  for (const std::string& h : header_) {
    bronze_sql += db::QuoteIdent(BronzeName(h)) + " VARCHAR, ";
    bronze_types.push_back(Type::kVarchar);
  }
  bronze_sql += "_line BIGINT, _raw VARCHAR, _month INTEGER)";
  for (Type t : {Type::kBigint, Type::kVarchar, Type::kInteger}) bronze_types.push_back(t);

  std::string silver_sql = "CREATE TABLE silver_stage (";
  std::vector<Type> silver_types;
  for (const SilverColumn& c : silver_cols_) {
    const Type t = c.column->pii == config::Pii::kHash ? Type::kVarchar : SilverType(c.column->type);
    silver_sql += db::QuoteIdent(c.name) + " " + std::string(db::TypeSql(t)) + ", ";
    silver_types.push_back(t);
  }
  silver_sql += "_line BIGINT, _month INTEGER)";
  silver_types.push_back(Type::kBigint);
  silver_types.push_back(Type::kInteger);

  RETURN_IF_ERROR(con_->Execute(bronze_sql));
  RETURN_IF_ERROR(con_->Execute(silver_sql));
  RETURN_IF_ERROR(con_->Execute(
      "CREATE TABLE quarantine_stage (_line BIGINT, _raw VARCHAR, _reason VARCHAR, _month "
      "INTEGER)"));
  bronze_ = std::make_unique<ChunkBuilder>(bronze_types);
  silver_ = std::make_unique<ChunkBuilder>(silver_types);
  quarantine_ = std::make_unique<ChunkBuilder>(
      std::vector<Type>{Type::kBigint, Type::kVarchar, Type::kVarchar, Type::kInteger});
  ASSIGN_OR_RETURN(db::Appender b, db::Appender::Open(*con_, "bronze_stage"));
  ASSIGN_OR_RETURN(db::Appender s, db::Appender::Open(*con_, "silver_stage"));
  ASSIGN_OR_RETURN(db::Appender q, db::Appender::Open(*con_, "quarantine_stage"));
  bronze_app_ = std::make_unique<db::Appender>(std::move(b));
  silver_app_ = std::make_unique<db::Appender>(std::move(s));
  quarantine_app_ = std::make_unique<db::Appender>(std::move(q));
  return OkStatus();
}

Status SourceIngestor::AppendBronze(const CsvRecord& rec, int month, bool structural_problem,
                                    bool escape_utf8) {
  if (bronze_->full()) RETURN_IF_ERROR(bronze_app_->Append(*bronze_));
  const size_t r = bronze_->AddRow();
  const size_t n = header_.size();
  for (size_t c = 0; c < n; ++c) {
    if (structural_problem) {
      bronze_->SetNull(c, r);
    } else if (escape_utf8) {
      bronze_->SetString(c, r, EscapeInvalidUtf8(rec.fields[c]));
    } else {
      bronze_->SetString(c, r, rec.fields[c]);
    }
  }
  bronze_->SetInt64(n, r, rec.line);
  if (structural_problem || escape_utf8) {
    bronze_->SetString(n + 1, r, EscapeInvalidUtf8(rec.raw));
  } else {
    bronze_->SetNull(n + 1, r);
  }
  bronze_->SetInt32(n + 2, r, month);
  counts_[month].bronze++;
  return OkStatus();
}

Status SourceIngestor::AppendQuarantine(const CsvRecord& rec, int month,
                                        const std::string& reason) {
  if (quarantine_->full()) RETURN_IF_ERROR(quarantine_app_->Append(*quarantine_));
  const size_t r = quarantine_->AddRow();
  quarantine_->SetInt64(0, r, rec.line);
  quarantine_->SetString(1, r, EscapeInvalidUtf8(rec.raw));
  quarantine_->SetString(2, r, EscapeInvalidUtf8(reason));
  quarantine_->SetInt32(3, r, month);
  counts_[month].quarantined++;
  report_.quarantine_reasons[ReasonKind(reason)]++;
  return OkStatus();
}

Status SourceIngestor::ProcessRecord(const CsvRecord& rec) {
  report_.records++;
  // 1. Structure: the record must split into the header's fields.
  std::string structural;
  if (rec.unterminated_quote) {
    structural = "unterminated quoted field (the file may be truncated)";
  } else if (rec.fields.size() != header_.size()) {
    structural = "expected " + std::to_string(header_.size()) + " fields, found " +
                 std::to_string(rec.fields.size());
  } else if (rec.bad_quote) {
    structural = "text after a closing quote";
  }
  const bool bad_utf8 = rec.invalid_utf8_at >= 0;

  // 2. The snapshot month, from the date column.
  int month = kUndatedMonth;
  std::string date_reason;
  if (structural.empty()) {
    Cell cell;
    const CleanOutcome o = date_cleaner_->Clean(rec.fields[date_header_index_], cell, date_reason);
    if (o == CleanOutcome::kOk && !cell.is_null) {
      month = Month::Of(cell.date).index();
    } else if (date_reason.empty()) {
      date_reason = source_.date_column + ": missing date";
    }
  }
  if (month != kUndatedMonth && ((options_.from && month < options_.from->index()) ||
                                 (options_.to && month > options_.to->index()))) {
    report_.out_of_range++;
    return OkStatus();
  }

  // 3. Bronze keeps every record.
  RETURN_IF_ERROR(AppendBronze(rec, month, !structural.empty(), bad_utf8));
  if (!structural.empty()) return AppendQuarantine(rec, month, structural);
  if (bad_utf8) {
    return AppendQuarantine(rec, month,
                            "invalid UTF-8 at byte " + std::to_string(rec.invalid_utf8_at + 1) +
                                " of the record");
  }
  if (month == kUndatedMonth) return AppendQuarantine(rec, month, date_reason);

  // 4. Clean every silver column; the first quarantine-worthy problem wins.
  for (size_t i = 0; i < silver_cols_.size(); ++i) {
    const SilverColumn& sc = silver_cols_[i];
    const CleanOutcome o = sc.cleaner.Clean(rec.fields[sc.header_index], cells_[i], reason_);
    if (o == CleanOutcome::kQuarantine) return AppendQuarantine(rec, month, reason_);
    if (o == CleanOutcome::kNulled) report_.nulled[sc.name]++;
  }

  // 5. Keys must be unique.
  if (!key_header_index_.empty()) {
    uint64_t h = KeySet::kSeed;
    for (int k : key_header_index_) h = KeySet::Mix(h, rec.fields[k]);
    const int64_t first = keys_.InsertOrGetLine(h, rec.line);
    if (first >= 0) {
      return AppendQuarantine(rec, month,
                              "duplicate key (" + ColumnList(source_.keys) +
                                  ") first seen on line " + std::to_string(first));
    }
  }

  // 6. Silver.
  if (silver_->full()) RETURN_IF_ERROR(silver_app_->Append(*silver_));
  const size_t r = silver_->AddRow();
  for (size_t i = 0; i < silver_cols_.size(); ++i) {
    const Cell& cell = cells_[i];
    if (cell.is_null) {
      silver_->SetNull(i, r);
      continue;
    }
    const config::Column& col = *silver_cols_[i].column;
    if (col.pii == config::Pii::kHash) {
      silver_->SetString(i, r, SaltedSha256Hex(project_.pii_salt, cell.s));
      continue;
    }
    switch (col.type) {
      case config::ColumnType::kInt: silver_->SetInt64(i, r, cell.i); break;
      case config::ColumnType::kFloat: silver_->SetDouble(i, r, cell.d); break;
      case config::ColumnType::kDate: silver_->SetDate(i, r, cell.date); break;
      case config::ColumnType::kBool: silver_->SetBool(i, r, cell.i != 0); break;
      case config::ColumnType::kString:
      case config::ColumnType::kCategory: silver_->SetString(i, r, cell.s); break;
    }
  }
  silver_->SetInt64(silver_cols_.size(), r, rec.line);
  silver_->SetInt32(silver_cols_.size() + 1, r, month);
  counts_[month].silver++;
  return OkStatus();
}

Status SourceIngestor::FlushAll() {
  RETURN_IF_ERROR(bronze_app_->Append(*bronze_));
  RETURN_IF_ERROR(silver_app_->Append(*silver_));
  RETURN_IF_ERROR(quarantine_app_->Append(*quarantine_));
  RETURN_IF_ERROR(bronze_app_->Close());
  RETURN_IF_ERROR(silver_app_->Close());
  return quarantine_app_->Close();
}

std::vector<int> SourceIngestor::MonthsInScope() const {
  std::set<int> months;
  int lo = INT32_MAX, hi = INT32_MIN;
  for (const auto& [m, c] : counts_) {
    if (m == kUndatedMonth) continue;
    lo = std::min(lo, m);
    hi = std::max(hi, m);
  }
  if (options_.from) lo = options_.from->index();
  if (options_.to) hi = options_.to->index();
  // A month in range without rows still gets (empty) partitions, so a re-run replaces any
  // stale ones and readers see an explicit zero.
  for (int m = lo; m <= hi && lo != INT32_MAX && hi != INT32_MIN; ++m) months.insert(m);
  if (counts_.count(kUndatedMonth) != 0) months.insert(kUndatedMonth);
  return {months.begin(), months.end()};
}

Status SourceIngestor::Publish() {
  const datamart::Datamart mart(project_.workspace / "datamart");
  const std::string ingested_at = TimestampLiteral(std::chrono::system_clock::now());
  const std::string file = db::QuoteLiteral(report_.file);

  std::vector<std::string> bronze_cols;
  for (const std::string& h : header_) bronze_cols.push_back(BronzeName(h));
  std::vector<std::string> silver_cols;
  for (const SilverColumn& c : silver_cols_) silver_cols.push_back(c.name);
  const std::string bronze_select = "SELECT " + ColumnList(bronze_cols) + ", " + file +
                                    " AS _source_file, _line, " + ingested_at +
                                    " AS _ingested_at, _raw FROM bronze_stage WHERE _month = ";
  const std::string silver_select = "SELECT " + ColumnList(silver_cols) + ", " + file +
                                    " AS _source_file, _line FROM silver_stage WHERE _month = ";
  const std::string quarantine_select =
      "SELECT " + file + " AS _source_file, _line, _raw, _reason, " + ingested_at +
      " AS _ingested_at FROM quarantine_stage WHERE _month = ";

  for (int m : MonthsInScope()) {
    PartitionCounts c = counts_[m];
    c.partition = m == kUndatedMonth ? datamart::UndatedPartition() : Month::Of(m / 12, m % 12 + 1).first_day();
    const std::string where = std::to_string(m);
    if (c.bronze != c.silver + c.quarantined) {
      return DataLossError(source_.name + " " + c.partition.ToString() + ": bronze " +
                           std::to_string(c.bronze) + " rows != silver " +
                           std::to_string(c.silver) + " + quarantine " +
                           std::to_string(c.quarantined));
    }
    ASSIGN_OR_RETURN(int64_t b, mart.WritePartition(*con_, Layer::kBronze, source_.name,
                                                    c.partition, bronze_select + where));
    ASSIGN_OR_RETURN(int64_t s, mart.WritePartition(*con_, Layer::kSilver, source_.name,
                                                    c.partition, silver_select + where));
    ASSIGN_OR_RETURN(int64_t q, mart.WritePartition(*con_, Layer::kQuarantine, source_.name,
                                                    c.partition, quarantine_select + where));
    if (b != c.bronze || s != c.silver || q != c.quarantined) {
      return DataLossError(source_.name + " " + c.partition.ToString() +
                           ": rows written differ from rows read (bronze " + std::to_string(b) +
                           "/" + std::to_string(c.bronze) + ", silver " + std::to_string(s) +
                           "/" + std::to_string(c.silver) + ", quarantine " + std::to_string(q) +
                           "/" + std::to_string(c.quarantined) + ")");
    }
    report_.partitions.push_back(c);
    if (options_.on_partition) options_.on_partition(c);
  }
  return OkStatus();
}

StatusOr<SourceReport> SourceIngestor::Run() {
  const auto start = std::chrono::steady_clock::now();
  report_.source = source_.name;
  std::error_code ec;
  const fs::path rel = fs::relative(source_.file, project_.workspace, ec);
  report_.file = (!ec && !rel.empty() && rel.native().rfind("..", 0) != 0) ? rel.string()
                                                                           : source_.file.string();
  ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> reader,
                   CsvReader::Open(source_.file, source_.delimiter));
  ASSIGN_OR_RETURN(std::vector<std::string> header, reader->ReadHeader());
  RETURN_IF_ERROR(Prepare(header).WithPrefix(source_.file.string()));

  Progress progress("ingest " + source_.name, reader->file_size(), "B");
  const bool show = options_.show_progress;
  CsvRecord rec;
  uint64_t last_bytes = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->Next(rec));
    if (!more) break;
    if (rec.blank) {
      report_.blank_lines++;
      continue;
    }
    RETURN_IF_ERROR(ProcessRecord(rec));
    if (show && (report_.records & 4095) == 0) {
      progress.Advance(reader->bytes_consumed() - last_bytes);
      last_bytes = reader->bytes_consumed();
    }
  }
  if (show) progress.Advance(reader->bytes_consumed() - last_bytes);
  progress.Finish();
  RETURN_IF_ERROR(FlushAll());
  RETURN_IF_ERROR(Publish());
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
      return InvalidArgumentError("header: column \"" + header[i] + "\" appears twice");
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
  std::string msg = "header does not match the configured columns of source \"" + source.name + "\":";
  if (!missing.empty()) msg += " missing " + ColumnList(missing) + ";";
  if (!unexpected.empty()) msg += " unexpected " + ColumnList(unexpected) + ";";
  if (missing.size() == 1 && unexpected.size() == 1) {
    msg += " was \"" + missing[0] + "\" renamed to \"" + unexpected[0] + "\"?";
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
