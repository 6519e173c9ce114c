// Longer than the house's ~600 lines on purpose: this file is the one owner of DuckDB's C API
// (the only includer of duckdb.h), and keeping every handle, result conversion and the row
// source together keeps that boundary in one place.

#include "db/database.h"

#include <duckdb.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

#include "core/memory.h"

namespace riskpipe::db {
namespace {

std::string ResultError(duckdb_result* r) {
  const char* e = duckdb_result_error(r);
  return e != nullptr ? e : "unknown DuckDB error";
}

// Keeps the first line of a DuckDB message (later lines are hints and context).
std::string FirstLines(const std::string& msg) {
  return msg.size() > 2000 ? msg.substr(0, 2000) + "..." : msg;
}

std::string Abbrev(std::string_view sql) {
  std::string s(sql.substr(0, 120));
  for (char& c : s) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return sql.size() > 120 ? s + "..." : s;
}

duckdb_type ToDuckType(Type t) {
  switch (t) {
    case Type::kBoolean:
      return DUCKDB_TYPE_BOOLEAN;
    case Type::kInteger:
      return DUCKDB_TYPE_INTEGER;
    case Type::kBigint:
      return DUCKDB_TYPE_BIGINT;
    case Type::kDouble:
      return DUCKDB_TYPE_DOUBLE;
    case Type::kVarchar:
      return DUCKDB_TYPE_VARCHAR;
    case Type::kDate:
      return DUCKDB_TYPE_DATE;
    case Type::kTimestamp:
      return DUCKDB_TYPE_TIMESTAMP;
  }
  return DUCKDB_TYPE_INVALID;
}

StatusOr<Value> ReadCell(duckdb_type type, duckdb_vector vec, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vec);
  if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) return Value{};
  void* data = duckdb_vector_get_data(vec);
  switch (type) {
    case DUCKDB_TYPE_BOOLEAN:
      return Value{static_cast<bool*>(data)[row]};
    case DUCKDB_TYPE_TINYINT:
      return Value{int64_t{static_cast<int8_t*>(data)[row]}};
    case DUCKDB_TYPE_SMALLINT:
      return Value{int64_t{static_cast<int16_t*>(data)[row]}};
    case DUCKDB_TYPE_INTEGER:
      return Value{int64_t{static_cast<int32_t*>(data)[row]}};
    case DUCKDB_TYPE_BIGINT:
      return Value{static_cast<int64_t*>(data)[row]};
    case DUCKDB_TYPE_UTINYINT:
      return Value{int64_t{static_cast<uint8_t*>(data)[row]}};
    case DUCKDB_TYPE_USMALLINT:
      return Value{int64_t{static_cast<uint16_t*>(data)[row]}};
    case DUCKDB_TYPE_UINTEGER:
      return Value{int64_t{static_cast<uint32_t*>(data)[row]}};
    case DUCKDB_TYPE_UBIGINT:
      return Value{static_cast<int64_t>(static_cast<uint64_t*>(data)[row])};
    case DUCKDB_TYPE_HUGEINT:
      return Value{static_cast<int64_t>(static_cast<duckdb_hugeint*>(data)[row].lower)};
    case DUCKDB_TYPE_FLOAT:
      return Value{double{static_cast<float*>(data)[row]}};
    case DUCKDB_TYPE_DOUBLE:
      return Value{static_cast<double*>(data)[row]};
    case DUCKDB_TYPE_DATE:
      return Value{Date::FromDays(static_cast<duckdb_date*>(data)[row].days)};
    case DUCKDB_TYPE_TIMESTAMP:
      return Value{static_cast<duckdb_timestamp*>(data)[row].micros};
    case DUCKDB_TYPE_VARCHAR: {
      duckdb_string_t* s = static_cast<duckdb_string_t*>(data) + row;
      return Value{std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s))};
    }
    default:
      return InvalidArgumentError("result column of DuckDB type " + std::to_string(type) +
                                  " cannot be read; cast it in SQL");
  }
}

}  // namespace

std::string LibraryVersion() { return duckdb_library_version(); }

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string_view TypeSql(Type t) {
  switch (t) {
    case Type::kBoolean:
      return "BOOLEAN";
    case Type::kInteger:
      return "INTEGER";
    case Type::kBigint:
      return "BIGINT";
    case Type::kDouble:
      return "DOUBLE";
    case Type::kVarchar:
      return "VARCHAR";
    case Type::kDate:
      return "DATE";
    case Type::kTimestamp:
      return "TIMESTAMP";
  }
  return "VARCHAR";
}

std::string ValueToString(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", d);
      return buf;
    }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(Date d) const { return d.ToString(); }
  };
  return std::visit(Visitor{}, v);
}

int Table::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// ---- Database ----

struct Database::Impl {
  duckdb_database db = nullptr;
  bool row_source_registered = false;
  ~Impl() {
    if (db != nullptr) duckdb_close(&db);
  }
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

StatusOr<Database> Database::Open(const std::string& path, const Options& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError)
    return InternalError("duckdb: cannot create config");
  auto set = [&](const char* key, const std::string& value) {
    return duckdb_set_config(config, key, value.c_str()) == DuckDBSuccess;
  };
  bool ok = true;
  if (options.threads > 0) ok = ok && set("threads", std::to_string(options.threads));
  if (!options.memory_limit.empty()) ok = ok && set("memory_limit", options.memory_limit);
  if (!options.temp_directory.empty())
    ok = ok && set("temp_directory", options.temp_directory.string());
  if (!ok) {
    duckdb_destroy_config(&config);
    return InvalidArgumentError("duckdb: invalid database option");
  }
  auto impl = std::make_unique<Impl>();
  char* error = nullptr;
  const char* p = (path.empty() || path == ":memory:") ? nullptr : path.c_str();
  const duckdb_state st = duckdb_open_ext(p, &impl->db, config, &error);
  duckdb_destroy_config(&config);
  if (st == DuckDBError) {
    std::string msg = error != nullptr ? error : "unknown error";
    if (error != nullptr) duckdb_free(error);
    impl->db = nullptr;
    return UnavailableError("duckdb: cannot open " + (p ? path : std::string(":memory:")) + ": " +
                            msg);
  }
  Database database(std::move(impl));
  if (!options.allowed_directories.empty()) {
    // allowed_directories is a list setting the C config API does not take; these three are
    // global, so one connection sets them for every later one.
    std::vector<std::filesystem::path> dirs = options.allowed_directories;
    if (!options.temp_directory.empty()) dirs.push_back(options.temp_directory);
    std::string list;
    for (const std::filesystem::path& dir : dirs) {
      std::error_code ec;
      std::string d = std::filesystem::absolute(dir, ec).lexically_normal().string();
      if (ec || d.empty()) return InvalidArgumentError("duckdb: bad allowed directory " + dir.string());
      if (d.back() != '/') d += '/';
      list += (list.empty() ? "" : ", ") + QuoteLiteral(d);
    }
    ASSIGN_OR_RETURN(Connection con, database.Connect());
    RETURN_IF_ERROR(con.Execute("SET allowed_directories = [" + list +
                                "]; SET enable_external_access = false; "
                                "SET lock_configuration = true;"));
  }
  return database;
}

// ---- Connection ----

struct Connection::Impl {
  duckdb_connection con = nullptr;
  duckdb_database db = nullptr;  // not owned: the database this connection belongs to
  ~Impl() {
    if (con != nullptr) duckdb_disconnect(&con);
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

StatusOr<Connection> Database::Connect() {
  auto impl = std::make_unique<Connection::Impl>();
  if (duckdb_connect(impl_->db, &impl->con) == DuckDBError) {
    impl->con = nullptr;
    return InternalError("duckdb: cannot connect");
  }
  impl->db = impl_->db;
  Connection con(std::move(impl));
  if (!impl_->row_source_registered) {
    RETURN_IF_ERROR(con.RegisterRowSourceFunction());
    impl_->row_source_registered = true;
  }
  return con;
}

void Connection::Interrupt() { duckdb_interrupt(impl_->con); }

StatusOr<Connection> Connection::Sibling() {
  auto impl = std::make_unique<Impl>();
  if (duckdb_connect(impl_->db, &impl->con) == DuckDBError) {
    impl->con = nullptr;
    return InternalError("duckdb: cannot connect");
  }
  impl->db = impl_->db;
  return Connection(std::move(impl));
}

Status Connection::Execute(std::string_view sql) {
  duckdb_result result;
  const std::string q(sql);
  const duckdb_state st = duckdb_query(impl_->con, q.c_str(), &result);
  Status status;
  if (st == DuckDBError) {
    status = InvalidArgumentError(FirstLines(ResultError(&result)) + " (in: " + Abbrev(sql) + ")");
  }
  duckdb_destroy_result(&result);
  return status;
}

StatusOr<Table> Connection::Query(std::string_view sql) {
  duckdb_result result;
  const std::string q(sql);
  if (duckdb_query(impl_->con, q.c_str(), &result) == DuckDBError) {
    Status s =
        InvalidArgumentError(FirstLines(ResultError(&result)) + " (in: " + Abbrev(sql) + ")");
    duckdb_destroy_result(&result);
    return s;
  }
  Table table;
  const idx_t ncol = duckdb_column_count(&result);
  std::vector<duckdb_type> types(ncol);
  for (idx_t c = 0; c < ncol; ++c) {
    table.columns.emplace_back(duckdb_column_name(&result, c));
    types[c] = duckdb_column_type(&result, c);
  }
  Status status;
  while (status.ok()) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(result);
    if (chunk == nullptr) break;
    const idx_t n = duckdb_data_chunk_get_size(chunk);
    for (idx_t r = 0; r < n && status.ok(); ++r) {
      std::vector<Value> row;
      row.reserve(ncol);
      for (idx_t c = 0; c < ncol; ++c) {
        auto v = ReadCell(types[c], duckdb_data_chunk_get_vector(chunk, c), r);
        if (!v.ok()) {
          status = v.status().WithPrefix("column " + table.columns[c]);
          break;
        }
        row.push_back(std::move(*v));
      }
      table.rows.push_back(std::move(row));
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  duckdb_destroy_result(&result);
  if (!status.ok()) return status;
  return table;
}

int ColumnarTable::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

// Appends `n` cells of a non-text vector to `out` as doubles (null -> NaN). Writes in place
// after one resize (no per-cell push_back), with a plain copy loop when the chunk has no nulls.
template <typename T>
void AppendNumbers(duckdb_vector vec, idx_t n, std::vector<double>& out) {
  const T* data = static_cast<const T*>(duckdb_vector_get_data(vec));
  uint64_t* validity = duckdb_vector_get_validity(vec);
  const size_t at = out.size();
  out.resize(at + n);
  double* dst = out.data() + at;
  if (validity == nullptr) {
    for (idx_t r = 0; r < n; ++r) dst[r] = static_cast<double>(data[r]);
    return;
  }
  for (idx_t r = 0; r < n; ++r) {
    dst[r] = duckdb_validity_row_is_valid(validity, r) ? static_cast<double>(data[r])
                                                       : std::numeric_limits<double>::quiet_NaN();
  }
}

// True when a valid (non-null) cell of a FLOAT/DOUBLE vector holds NaN.
template <typename T>
bool HasValidNan(duckdb_vector vec, idx_t n) {
  const T* data = static_cast<const T*>(duckdb_vector_get_data(vec));
  uint64_t* validity = duckdb_vector_get_validity(vec);
  for (idx_t r = 0; r < n; ++r) {
    if (data[r] != data[r] && (validity == nullptr || duckdb_validity_row_is_valid(validity, r))) {
      return true;
    }
  }
  return false;
}

// The codes of one text column's dictionary: an open-addressing table of codes into
// `values` (no node per entry, no key copy), so a column of a million distinct ids costs one
// string per id and a probe, not a hash-map node allocation.
class DictionaryIndex {
 public:
  // Starts the index with `values` (distinct), coded by their position.
  void Seed(const std::vector<std::string>& values) {
    hashes_.reserve(values.size());
    for (const std::string& v : values) hashes_.push_back(std::hash<std::string_view>()(v));
    Grow(values);
  }

  // The code of `v`, appending it to `values` when it is new.
  int32_t CodeOf(std::string_view v, std::vector<std::string>& values) {
    return CodeOf(v, std::hash<std::string_view>()(v), values);
  }

  // The codes of `n` values at once (nulls, where `valid` says so, get -1). A chunk's lookups
  // go in stages (hash every value and prefetch its slot; read the slots and prefetch the
  // candidate strings; compare), so the cache misses of a large dictionary overlap instead of
  // following one another: on a million distinct ids most lookups miss every cache.
  void CodesOf(const std::string_view* v, const bool* valid, size_t n, int32_t* out,
               std::vector<std::string>& values) {
    if (2 * (values.size() + n) > slots_.size()) Grow(values, values.size() + n);
    hash_.resize(n);
    candidate_.resize(n);
    const size_t mask = slots_.size() - 1;
    for (size_t r = 0; r < n; ++r) {
      hash_[r] = std::hash<std::string_view>()(v[r]);
      __builtin_prefetch(&slots_[hash_[r] & mask]);
    }
    for (size_t r = 0; r < n; ++r) {
      // The first slot whose tag matches (the slots hold the hash's top bits besides the code).
      const uint64_t tag = hash_[r] >> 32;
      int32_t c = -1;
      for (size_t i = hash_[r] & mask;; i = (i + 1) & mask) {
        const uint64_t s = slots_[i];
        if (s == 0) break;
        if ((s >> 32) == tag) {
          c = static_cast<int32_t>((s & 0xffffffffu) - 1);
          break;
        }
      }
      candidate_[r] = c;
      if (c >= 0) __builtin_prefetch(values[c].data());
    }
    for (size_t r = 0; r < n; ++r) {
      if (!valid[r]) {
        out[r] = -1;
      } else if (candidate_[r] >= 0 && values[candidate_[r]] == v[r]) {
        out[r] = candidate_[r];
      } else {  // new, or a tag collision: the full probe
        out[r] = CodeOf(v[r], hash_[r], values);
      }
    }
  }

 private:
  int32_t CodeOf(std::string_view v, uint64_t h, std::vector<std::string>& values) {
    if (2 * (values.size() + 1) > slots_.size()) Grow(values);
    const size_t mask = slots_.size() - 1;
    const uint64_t tag = h >> 32;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint64_t s = slots_[i];
      if (s == 0) {
        slots_[i] = (tag << 32) | (values.size() + 1);
        hashes_.push_back(h);
        values.emplace_back(v);
        return static_cast<int32_t>(values.size() - 1);
      }
      const size_t code = (s & 0xffffffffu) - 1;
      if ((s >> 32) == tag && hashes_[code] == h && values[code] == v) {
        return static_cast<int32_t>(code);
      }
    }
  }

  // Rehashes into a table with room for `capacity` values at half load.
  void Grow(const std::vector<std::string>& values, size_t capacity = 0) {
    const size_t size = std::max<size_t>(
        {64, slots_.size() * 2, std::bit_ceil(2 * std::max(capacity, values.size()) + 2)});
    std::vector<uint64_t> slots;
    ReserveHuge(slots, size);
    slots.assign(size, 0);
    const size_t mask = size - 1;
    for (size_t code = 0; code < values.size(); ++code) {
      size_t i = hashes_[code] & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = ((hashes_[code] >> 32) << 32) | (code + 1);
    }
    slots_ = std::move(slots);
  }
  // (top 32 bits of the hash) << 32 | (code + 1), or 0 when empty; size a power of two.
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> hashes_;  // per code
  std::vector<uint64_t> hash_;    // CodesOf's scratch, per value
  std::vector<int32_t> candidate_;
};

// The ColumnarTable type of a DuckDB result column, or InvalidArgument.
StatusOr<Type> ColumnTypeOf(duckdb_type type, const std::string& name) {
  switch (type) {
    case DUCKDB_TYPE_VARCHAR:
      return Type::kVarchar;
    case DUCKDB_TYPE_DATE:
      return Type::kDate;
    case DUCKDB_TYPE_BOOLEAN:
      return Type::kBoolean;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
      return Type::kInteger;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UBIGINT:
      return Type::kBigint;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
      return Type::kDouble;
    default:
      return InvalidArgumentError("column " + name + ": DuckDB type " + std::to_string(type) +
                                  " cannot be read as a column; cast it in SQL");
  }
}

// Appends one result chunk's cells to `table`'s columns (numbers, or codes from `dictionary`:
// the text column's own, or `shared` for column 0 when given).
void AppendChunk(duckdb_data_chunk chunk, const std::vector<duckdb_type>& types,
                 std::vector<DictionaryIndex>& dictionaries, TextDictionary* shared,
                 ColumnarTable& table) {
  const idx_t n = duckdb_data_chunk_get_size(chunk);
  for (idx_t c = 0; c < types.size(); ++c) {
    duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
    ColumnarTable::Column& col = table.columns[c];
    switch (types[c]) {
      case DUCKDB_TYPE_BOOLEAN:
        AppendNumbers<bool>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_TINYINT:
        AppendNumbers<int8_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_SMALLINT:
        AppendNumbers<int16_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_INTEGER:
        AppendNumbers<int32_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_BIGINT:
        AppendNumbers<int64_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_UTINYINT:
        AppendNumbers<uint8_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_USMALLINT:
        AppendNumbers<uint16_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_UINTEGER:
        AppendNumbers<uint32_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_UBIGINT:
        AppendNumbers<uint64_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_FLOAT:
        AppendNumbers<float>(vec, n, col.numbers);
        col.has_nan = col.has_nan || HasValidNan<float>(vec, n);
        break;
      case DUCKDB_TYPE_DOUBLE:
        AppendNumbers<double>(vec, n, col.numbers);
        col.has_nan = col.has_nan || HasValidNan<double>(vec, n);
        break;
      case DUCKDB_TYPE_DATE:
        AppendNumbers<int32_t>(vec, n, col.numbers);
        break;
      case DUCKDB_TYPE_VARCHAR: {
        auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vec));
        uint64_t* validity = duckdb_vector_get_validity(vec);
        std::string_view text[2048];
        bool valid[2048];
        const size_t at = col.codes.size();
        col.codes.resize(at + n);
        for (idx_t begin = 0; begin < n; begin += 2048) {
          const idx_t m = std::min<idx_t>(2048, n - begin);
          for (idx_t i = 0; i < m; ++i) {
            const idx_t r = begin + i;
            valid[i] = validity == nullptr || duckdb_validity_row_is_valid(validity, r);
            text[i] = valid[i] ? std::string_view(duckdb_string_t_data(data + r),
                                                  duckdb_string_t_length(data[r]))
                               : std::string_view();
          }
          if (c == 0 && shared != nullptr) {
            shared->CodesOf(text, valid, m, col.codes.data() + at + begin);
          } else {
            dictionaries[c].CodesOf(text, valid, m, col.codes.data() + at + begin, col.dictionary);
          }
        }
        break;
      }
      default:
        break;
    }
  }
  table.rows += n;
}

// The result's columns (names and types, no cells), or the first column DuckDB cannot hold.
StatusOr<ColumnarTable> EmptyColumns(duckdb_result* result, std::vector<duckdb_type>& types) {
  ColumnarTable table;
  const idx_t ncol = duckdb_column_count(result);
  types.resize(ncol);
  for (idx_t c = 0; c < ncol; ++c) {
    ColumnarTable::Column col;
    col.name = duckdb_column_name(result, c);
    types[c] = duckdb_column_type(result, c);
    ASSIGN_OR_RETURN(col.type, ColumnTypeOf(types[c], col.name));
    table.columns.push_back(std::move(col));
  }
  return table;
}

}  // namespace

StatusOr<ColumnarTable> Connection::QueryColumns(std::string_view sql) {
  return QueryColumns(sql, {});
}

StatusOr<ColumnarTable> Connection::QueryColumns(std::string_view sql,
                                                 const std::vector<std::string>& first_dictionary) {
  duckdb_result result;
  const std::string q(sql);
  if (duckdb_query(impl_->con, q.c_str(), &result) == DuckDBError) {
    Status s =
        InvalidArgumentError(FirstLines(ResultError(&result)) + " (in: " + Abbrev(sql) + ")");
    duckdb_destroy_result(&result);
    return s;
  }
  std::vector<duckdb_type> types;
  StatusOr<ColumnarTable> columns = EmptyColumns(&result, types);
  if (!columns.ok()) {
    duckdb_destroy_result(&result);
    return columns.status();
  }
  ColumnarTable& table = *columns;
  std::vector<DictionaryIndex> dictionaries(types.size());
  Status status;
  // duckdb_query materialises the result, so its size is known: reserve once instead of
  // growing, on huge pages (page faults on fresh memory dominate otherwise: core/memory.h).
  const idx_t expected_rows = duckdb_row_count(&result);
  for (size_t c = 0; c < table.columns.size(); ++c) {
    ColumnarTable::Column& col = table.columns[c];
    if (c == 0 && !first_dictionary.empty()) {
      if (col.type != Type::kVarchar) {
        status = InvalidArgumentError("column " + col.name +
                                      ": a seeded dictionary needs a text column");
      } else {
        col.dictionary = first_dictionary;
        dictionaries[0].Seed(col.dictionary);
      }
    }
    if (col.type == Type::kVarchar) {
      ReserveHuge(col.codes, expected_rows);
    } else {
      ReserveHuge(col.numbers, expected_rows);
    }
  }
  while (status.ok()) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(result);
    if (chunk == nullptr) break;
    AppendChunk(chunk, types, dictionaries, nullptr, table);
    duckdb_destroy_data_chunk(&chunk);
  }
  duckdb_destroy_result(&result);
  if (!status.ok()) return status;
  return columns;
}

// ---- TextDictionary ----

struct TextDictionary::Impl {
  std::vector<std::string> values;
  DictionaryIndex index;
};

TextDictionary::TextDictionary() : impl_(std::make_unique<Impl>()) {}
TextDictionary::TextDictionary(std::vector<std::string> values) : TextDictionary() {
  impl_->values = std::move(values);
  impl_->index.Seed(impl_->values);
}
TextDictionary::TextDictionary(TextDictionary&&) noexcept = default;
TextDictionary& TextDictionary::operator=(TextDictionary&&) noexcept = default;
TextDictionary::~TextDictionary() = default;

int32_t TextDictionary::CodeOf(std::string_view value) {
  return impl_->index.CodeOf(value, impl_->values);
}
void TextDictionary::CodesOf(const std::string_view* values, const bool* valid, size_t n,
                             int32_t* out) {
  impl_->index.CodesOf(values, valid, n, out, impl_->values);
}
const std::vector<std::string>& TextDictionary::values() const { return impl_->values; }
std::vector<std::string> TextDictionary::Release() {
  std::vector<std::string> values = std::move(impl_->values);
  impl_ = std::make_unique<Impl>();
  return values;
}

// ---- ColumnStream ----

struct ColumnStream::Impl {
  duckdb_prepared_statement prepared = nullptr;
  duckdb_pending_result pending = nullptr;
  duckdb_result result{};
  bool has_result = false;
  std::vector<duckdb_type> types;
  std::vector<DictionaryIndex> dictionaries;
  TextDictionary* shared = nullptr;
  ColumnarTable chunk;
  std::string sql;
  ~Impl() {
    if (has_result) duckdb_destroy_result(&result);
    if (pending != nullptr) duckdb_destroy_pending(&pending);
    if (prepared != nullptr) duckdb_destroy_prepare(&prepared);
  }
};

ColumnStream::ColumnStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ColumnStream::ColumnStream(ColumnStream&&) noexcept = default;
ColumnStream& ColumnStream::operator=(ColumnStream&&) noexcept = default;
ColumnStream::~ColumnStream() = default;

const ColumnarTable& ColumnStream::chunk() const { return impl_->chunk; }

StatusOr<bool> ColumnStream::Next() {
  Impl& s = *impl_;
  for (ColumnarTable::Column& col : s.chunk.columns) {
    col.numbers.clear();
    col.codes.clear();
  }
  s.chunk.rows = 0;
  duckdb_data_chunk chunk = duckdb_fetch_chunk(s.result);
  if (chunk == nullptr) {
    const char* error = duckdb_result_error(&s.result);
    if (error != nullptr && *error != '\0') {
      return InvalidArgumentError(FirstLines(error) + " (in: " + Abbrev(s.sql) + ")");
    }
    return false;
  }
  AppendChunk(chunk, s.types, s.dictionaries, s.shared, s.chunk);
  duckdb_destroy_data_chunk(&chunk);
  return true;
}

StatusOr<ColumnStream> Connection::StreamColumns(std::string_view sql,
                                                 TextDictionary* first_dictionary) {
  auto impl = std::make_unique<ColumnStream::Impl>();
  impl->sql = std::string(sql);
  auto fail = [&](const char* error) {
    return InvalidArgumentError(FirstLines(error != nullptr ? error : "unknown error") +
                                " (in: " + Abbrev(sql) + ")");
  };
  if (duckdb_prepare(impl_->con, impl->sql.c_str(), &impl->prepared) == DuckDBError) {
    return fail(duckdb_prepare_error(impl->prepared));
  }
  if (duckdb_pending_prepared_streaming(impl->prepared, &impl->pending) == DuckDBError) {
    return fail(duckdb_pending_error(impl->pending));
  }
  const duckdb_state st = duckdb_execute_pending(impl->pending, &impl->result);
  impl->has_result = true;
  if (st == DuckDBError) return fail(duckdb_result_error(&impl->result));
  ASSIGN_OR_RETURN(impl->chunk, EmptyColumns(&impl->result, impl->types));
  impl->dictionaries.resize(impl->types.size());
  if (first_dictionary != nullptr) {
    if (impl->chunk.columns.empty() || impl->chunk.columns[0].type != Type::kVarchar) {
      return InvalidArgumentError(
          "a shared dictionary needs a text first column (in: " + Abbrev(sql) + ")");
    }
    impl->shared = first_dictionary;
  }
  return ColumnStream(std::move(impl));
}

StatusOr<int64_t> Connection::QueryInt(std::string_view sql) {
  ASSIGN_OR_RETURN(Table t, Query(sql));
  if (t.rows.size() != 1 || t.columns.size() != 1) {
    return InternalError("expected one value from: " + Abbrev(sql));
  }
  if (const int64_t* v = std::get_if<int64_t>(&t.rows[0][0])) return *v;
  if (std::holds_alternative<std::monostate>(t.rows[0][0])) return int64_t{0};
  return InternalError("expected an integer from: " + Abbrev(sql));
}

// ---- ChunkBuilder ----

struct ChunkBuilder::Impl {
  duckdb_data_chunk chunk = nullptr;
  bool owned = true;
  std::vector<duckdb_vector> vectors;
  std::vector<void*> data;
  std::vector<uint64_t*> validity;  // lazily made writable
  ~Impl() {
    if (owned && chunk != nullptr) duckdb_destroy_data_chunk(&chunk);
  }
};

ChunkBuilder::ChunkBuilder(const std::vector<Type>& types, void* external_chunk)
    : types_(types), impl_(std::make_unique<Impl>()) {
  impl_->chunk = static_cast<duckdb_data_chunk>(external_chunk);
  impl_->owned = false;
  Reset();
}

ChunkBuilder::ChunkBuilder(const std::vector<Type>& types)
    : types_(types), impl_(std::make_unique<Impl>()) {
  std::vector<duckdb_logical_type> logical;
  logical.reserve(types.size());
  for (Type t : types) logical.push_back(duckdb_create_logical_type(ToDuckType(t)));
  impl_->chunk = duckdb_create_data_chunk(logical.data(), logical.size());
  for (auto& l : logical) duckdb_destroy_logical_type(&l);
  Reset();
}

ChunkBuilder::~ChunkBuilder() = default;

void ChunkBuilder::Reset() {
  if (impl_->owned) duckdb_data_chunk_reset(impl_->chunk);
  size_ = 0;
  const size_t n = types_.size();
  impl_->vectors.resize(n);
  impl_->data.resize(n);
  impl_->validity.assign(n, nullptr);
  for (size_t c = 0; c < n; ++c) {
    impl_->vectors[c] = duckdb_data_chunk_get_vector(impl_->chunk, c);
    impl_->data[c] = duckdb_vector_get_data(impl_->vectors[c]);
  }
}

void ChunkBuilder::SetNull(size_t col, size_t row) {
  uint64_t*& v = impl_->validity[col];
  if (v == nullptr) {
    duckdb_vector_ensure_validity_writable(impl_->vectors[col]);
    v = duckdb_vector_get_validity(impl_->vectors[col]);
  }
  duckdb_validity_set_row_invalid(v, row);
}

void ChunkBuilder::SetString(size_t col, size_t row, std::string_view value) {
  duckdb_vector_assign_string_element_len(impl_->vectors[col], row, value.data(), value.size());
}
void ChunkBuilder::SetInt64(size_t col, size_t row, int64_t value) {
  static_cast<int64_t*>(impl_->data[col])[row] = value;
}
void ChunkBuilder::SetInt32(size_t col, size_t row, int32_t value) {
  static_cast<int32_t*>(impl_->data[col])[row] = value;
}
void ChunkBuilder::SetDouble(size_t col, size_t row, double value) {
  static_cast<double*>(impl_->data[col])[row] = value;
}
void ChunkBuilder::SetBool(size_t col, size_t row, bool value) {
  static_cast<bool*>(impl_->data[col])[row] = value;
}
void ChunkBuilder::SetDate(size_t col, size_t row, Date value) {
  static_cast<duckdb_date*>(impl_->data[col])[row].days = value.days();
}
void ChunkBuilder::SetTimestampMicros(size_t col, size_t row, int64_t micros) {
  static_cast<duckdb_timestamp*>(impl_->data[col])[row].micros = micros;
}

// ---- RowSource table function ----

namespace {

constexpr char kRowSourceFunction[] = "riskpipe_row_source";

// The live row sources by handle. Handles are random, so SQL text cannot name a source it was
// not given, and an unknown handle is refused instead of dereferenced.
class RowSourceHandles {
 public:
  static RowSourceHandles& Get() {
    static RowSourceHandles* handles = new RowSourceHandles;  // never destroyed: see ~RowSource
    return *handles;
  }
  uint64_t Add(RowSource* source) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t h = 0;
    while (h == 0 || sources_.count(h) != 0) h = random_();
    sources_.emplace(h, source);
    return h;
  }
  void Remove(uint64_t handle) {
    std::lock_guard<std::mutex> lock(mu_);
    sources_.erase(handle);
  }
  RowSource* Find(uint64_t handle) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sources_.find(handle);
    return it == sources_.end() ? nullptr : it->second;
  }

 private:
  RowSourceHandles() : random_(std::random_device{}()) {}
  std::mutex mu_;
  std::mt19937_64 random_;
  std::unordered_map<uint64_t, RowSource*> sources_;
};

struct RowSourceBind {
  RowSource* source;
  std::vector<Type> types;
};

void RowSourceBindCallback(duckdb_bind_info info) {
  duckdb_value v = duckdb_bind_get_parameter(info, 0);
  const uint64_t handle = duckdb_get_uint64(v);
  duckdb_destroy_value(&v);
  RowSource* source = RowSourceHandles::Get().Find(handle);
  if (source == nullptr) {
    duckdb_bind_set_error(info, "riskpipe_row_source: no row source has this handle");
    return;
  }
  auto* bind = new RowSourceBind{source, {}};
  for (const auto& [name, type] : source->Schema()) {
    duckdb_logical_type t = duckdb_create_logical_type(ToDuckType(type));
    duckdb_bind_add_result_column(info, name.c_str(), t);
    duckdb_destroy_logical_type(&t);
    bind->types.push_back(type);
  }
  duckdb_bind_set_bind_data(info, bind, [](void* p) { delete static_cast<RowSourceBind*>(p); });
}

void RowSourceInitCallback(duckdb_init_info info) {
  // The source is a sequential stream: one thread pulls it, in order.
  duckdb_init_set_max_threads(info, 1);
}

void RowSourceFunctionCallback(duckdb_function_info info, duckdb_data_chunk output) {
  auto* bind = static_cast<RowSourceBind*>(duckdb_function_get_bind_data(info));
  ChunkBuilder chunk(bind->types, output);
  const Status s = bind->source->Fill(chunk);
  if (!s.ok()) {
    duckdb_function_set_error(info, s.message().c_str());
    return;
  }
  duckdb_data_chunk_set_size(output, chunk.size());
}

}  // namespace

RowSource::RowSource() : handle_(RowSourceHandles::Get().Add(this)) {}
RowSource::~RowSource() { RowSourceHandles::Get().Remove(handle_); }

std::string RowSourceSql(const RowSource* source) {
  return std::string(kRowSourceFunction) + "(" + std::to_string(source->handle_) + "::UBIGINT)";
}

Status Connection::RegisterRowSourceFunction() {
  duckdb_table_function f = duckdb_create_table_function();
  duckdb_table_function_set_name(f, kRowSourceFunction);
  duckdb_logical_type handle = duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
  duckdb_table_function_add_parameter(f, handle);
  duckdb_destroy_logical_type(&handle);
  duckdb_table_function_set_bind(f, RowSourceBindCallback);
  duckdb_table_function_set_init(f, RowSourceInitCallback);
  duckdb_table_function_set_function(f, RowSourceFunctionCallback);
  const duckdb_state st = duckdb_register_table_function(impl_->con, f);
  duckdb_destroy_table_function(&f);
  if (st == DuckDBError) return InternalError("duckdb: cannot register the row source function");
  return OkStatus();
}

// ---- Appender ----

struct Appender::Impl {
  duckdb_appender appender = nullptr;
  std::string table;
  ~Impl() {
    if (appender != nullptr) duckdb_appender_destroy(&appender);
  }
};

Appender::Appender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Appender::Appender(Appender&&) noexcept = default;
Appender::~Appender() = default;

StatusOr<Appender> Appender::Open(Connection& connection, std::string_view table) {
  auto impl = std::make_unique<Impl>();
  impl->table = std::string(table);
  if (duckdb_appender_create(connection.impl_->con, nullptr, impl->table.c_str(),
                             &impl->appender) == DuckDBError) {
    std::string msg = duckdb_appender_error(impl->appender) ? duckdb_appender_error(impl->appender)
                                                            : "unknown error";
    return NotFoundError("duckdb: cannot append to " + impl->table + ": " + msg);
  }
  return Appender(std::move(impl));
}

Status Appender::Append(ChunkBuilder& chunk) {
  if (chunk.size() == 0) return OkStatus();
  duckdb_data_chunk_set_size(chunk.impl_->chunk, chunk.size());
  const duckdb_state st = duckdb_append_data_chunk(impl_->appender, chunk.impl_->chunk);
  chunk.Reset();
  if (st == DuckDBError) {
    const char* e = duckdb_appender_error(impl_->appender);
    return InternalError("duckdb: append to " + impl_->table + ": " + (e ? e : "unknown error"));
  }
  return OkStatus();
}

Status Appender::Close() {
  if (impl_->appender == nullptr) return OkStatus();
  const duckdb_state st = duckdb_appender_close(impl_->appender);
  Status s;
  if (st == DuckDBError) {
    const char* e = duckdb_appender_error(impl_->appender);
    s = InternalError("duckdb: flush " + impl_->table + ": " + (e ? e : "unknown error"));
  }
  duckdb_appender_destroy(&impl_->appender);
  impl_->appender = nullptr;
  return s;
}

}  // namespace riskpipe::db
