#pragma once
// RAII access to DuckDB through its C API; the only code in riskpipe that includes duckdb.h.
// A Database owns one DuckDB instance (file or in-memory); Connections are cheap and each
// must be used by one thread at a time. Nothing here throws: every failure is a Status that
// carries DuckDB's message.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/date.h"
#include "core/status.h"

namespace riskpipe::db {

// "v1.4.4": the DuckDB library riskpipe runs with.
std::string LibraryVersion();

// Quotes an SQL identifier ("a""b") and a string literal ('it''s').
std::string QuoteIdent(std::string_view name);
std::string QuoteLiteral(std::string_view text);

enum class Type { kBoolean, kInteger, kBigint, kDouble, kVarchar, kDate, kTimestamp };
std::string_view TypeSql(Type t);

struct Options {
  // Worker threads for DuckDB's own parallelism; 0 keeps DuckDB's default (all cores).
  int threads = 0;
  // DuckDB memory limit, e.g. "1GB"; empty keeps DuckDB's default (80% of RAM).
  std::string memory_limit;
  // Spill folder for larger-than-memory work; empty keeps DuckDB's default.
  std::filesystem::path temp_directory;
  // When non-empty, SQL run on the database may read and write files only below these
  // folders (absolute, compared as written: DuckDB's allowed_directories with
  // enable_external_access=false), and its configuration is locked (lock_configuration), so
  // no statement can widen it again. For databases that run SQL text from project files.
  std::vector<std::filesystem::path> allowed_directories;
};

// One cell of a query result. Dates are riskpipe Dates, timestamps microseconds since epoch.
using Value = std::variant<std::monostate, bool, int64_t, double, std::string, Date>;
std::string ValueToString(const Value& v);  // "NULL" for null

// A fully materialised (small) query result.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  // Index of a column by name, or -1.
  int ColumnIndex(std::string_view name) const;
};

// A query result held column by column, for large numeric work (model training): numbers as
// doubles (integers, booleans and dates converted; dates as days since 1970-01-01; null ->
// NaN) and text dictionary-coded (null -> code -1). Far smaller and faster than Table.
struct ColumnarTable {
  struct Column {
    std::string name;
    Type type = Type::kDouble;  // the SQL type it came from
    bool is_text() const { return type == Type::kVarchar; }
    std::vector<double> numbers;          // non-text columns: one value per row
    std::vector<int32_t> codes;           // text columns: index into `dictionary`, -1 = null
    std::vector<std::string> dictionary;  // text columns: distinct values, first-seen order
    // A number column held a NaN that was not a null (both read as NaN in `numbers`).
    bool has_nan = false;
  };
  std::vector<Column> columns;
  size_t rows = 0;
  // Index of a column by name, or -1.
  int ColumnIndex(std::string_view name) const;
};

class Connection;

// Distinct text values coded 0, 1, ... in first-seen order, with a hash index of them: one
// dictionary that several reads share (ColumnStream codes its first column with it), so equal
// text gets equal codes across queries without re-indexing the values for each. Move-only.
class TextDictionary {
 public:
  TextDictionary();
  // Starts with `values` (distinct), coded by their position.
  explicit TextDictionary(std::vector<std::string> values);
  TextDictionary(TextDictionary&&) noexcept;
  TextDictionary& operator=(TextDictionary&&) noexcept;
  ~TextDictionary();

  // The code of `value`, adding it when it is new.
  int32_t CodeOf(std::string_view value);
  // The codes of `n` values at once (-1 where `valid` is false), faster than one by one.
  void CodesOf(const std::string_view* values, const bool* valid, size_t n, int32_t* out);
  const std::vector<std::string>& values() const;
  // Hands the values over and leaves the dictionary empty.
  std::vector<std::string> Release();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A query's result read chunk by chunk, for work that reduces rows as they arrive: neither
// DuckDB nor the caller holds the whole result (Connection::StreamColumns). chunk() holds the
// current chunk's cells only (up to 2048 rows), in QueryColumns' form; a text column keeps one
// dictionary across chunks, so its codes stay valid from chunk to chunk. Rows arrive in the
// order QueryColumns would return them. The connection must outlive the stream and run
// nothing else until the stream is done or destroyed.
class ColumnStream {
 public:
  ColumnStream(ColumnStream&&) noexcept;
  ColumnStream& operator=(ColumnStream&&) noexcept;
  ~ColumnStream();

  // Reads the next chunk into chunk(): false at the end of the result. InvalidArgument with
  // DuckDB's message when the query fails while it runs.
  StatusOr<bool> Next();
  const ColumnarTable& chunk() const;

 private:
  friend class Connection;
  struct Impl;
  explicit ColumnStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Database {
 public:
  // Opens (creating if needed) a database file, or an in-memory one for path ":memory:" or "".
  static StatusOr<Database> Open(const std::string& path, const Options& options = {});
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  StatusOr<Connection> Connect();

 private:
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class ChunkBuilder;

// A stream of rows that DuckDB pulls from C++ code, chunk by chunk, without staging them in
// a table first: query it as `SELECT ... FROM <RowSourceSql(source)>`. Used to stream data
// straight into Parquet. Implementations are called from the thread running the query.
//
// No pointer travels through SQL: each source registers itself, for its lifetime, in a
// process-wide handle table under a random 64-bit handle, and the table function looks the
// handle up (an unknown handle is a binder error). Only the code holding the source learns
// its handle (RowSourceSql).
class RowSource {
 public:
  RowSource();
  virtual ~RowSource();
  RowSource(const RowSource&) = delete;
  RowSource& operator=(const RowSource&) = delete;
  // Column names and types, fixed for the source's life.
  virtual const std::vector<std::pair<std::string, Type>>& Schema() const = 0;
  // Appends up to ChunkBuilder::kCapacity rows to `chunk` (which arrives empty). Leaving it
  // empty ends the stream. An error aborts the query with its message.
  virtual Status Fill(ChunkBuilder& chunk) = 0;

 private:
  friend std::string RowSourceSql(const RowSource* source);
  uint64_t handle_;
};

// The SQL table expression that reads `source` on a connection of the same process. The
// source must outlive the query.
std::string RowSourceSql(const RowSource* source);

class Connection {
 public:
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one or more statements and discards results. InvalidArgument with DuckDB's message
  // (which names the line for parser errors) on failure.
  Status Execute(std::string_view sql);
  // Runs a query and materialises its result. Meant for small results (metadata, counts).
  StatusOr<Table> Query(std::string_view sql);
  // Runs a query and reads its result column by column (see ColumnarTable). InvalidArgument
  // for a column of a type it cannot hold (lists, structs, ...: cast them in SQL).
  StatusOr<ColumnarTable> QueryColumns(std::string_view sql);
  // The same, with the first column's dictionary starting as `first_dictionary` (distinct
  // values; the first column must then be text): a value found there gets its index there as
  // its code, so codes match the table that dictionary came from (a join by code); others get
  // codes from first_dictionary.size() on.
  StatusOr<ColumnarTable> QueryColumns(std::string_view sql,
                                       const std::vector<std::string>& first_dictionary);
  // Runs a query and streams its result (ColumnStream). With `first_dictionary`, the first
  // column (which must be text) is coded with it, and new values are added to it; the
  // dictionary must outlive the stream. InvalidArgument for SQL errors and for a column of a
  // type ColumnarTable cannot hold.
  StatusOr<ColumnStream> StreamColumns(std::string_view sql,
                                       TextDictionary* first_dictionary = nullptr);
  // Runs a query expected to return one row with one integer cell.
  StatusOr<int64_t> QueryInt(std::string_view sql);

  // Cancels the query running on this connection (callable from another thread).
  void Interrupt();

  // A new connection to the same database, for work on another thread (a connection runs
  // one statement at a time). It sees the database's tables but not this connection's TEMP
  // tables. The database must outlive it. Internal on failure.
  StatusOr<Connection> Sibling();

 private:
  friend class Database;
  friend class Appender;
  Status RegisterRowSourceFunction();
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Appends rows to one table in chunks. Close() (or destruction) flushes; rows appended before
// a failure may or may not be visible, so append inside a transaction or into a staging table.
class Appender {
 public:
  // NotFound when the table does not exist.
  static StatusOr<Appender> Open(Connection& connection, std::string_view table);
  Appender(Appender&&) noexcept;
  Appender& operator=(Appender&&) = delete;
  ~Appender();

  // Appends the chunk's rows and resets it. Internal with DuckDB's message on failure
  // (e.g. a constraint violation).
  Status Append(ChunkBuilder& chunk);
  Status Close();

 private:
  struct Impl;
  explicit Appender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A column-major batch of up to kCapacity rows in DuckDB's own vectors, appended to a table
// without per-value calls. Fill rows with the setters, then Connection::Append flushes and
// resets it. Not thread-safe.
class ChunkBuilder {
 public:
  static constexpr size_t kCapacity = 2048;  // DuckDB's STANDARD_VECTOR_SIZE

  explicit ChunkBuilder(const std::vector<Type>& types);
  ~ChunkBuilder();
  ChunkBuilder(const ChunkBuilder&) = delete;
  ChunkBuilder& operator=(const ChunkBuilder&) = delete;

  size_t size() const { return size_; }
  bool full() const { return size_ == kCapacity; }
  // Wraps a chunk owned by DuckDB (a table function's output); internal to db.
  ChunkBuilder(const std::vector<Type>& types, void* external_chunk);

  const std::vector<Type>& types() const { return types_; }
  // Starts a new row; returns its index. Requires !full().
  size_t AddRow() { return size_++; }

  // Setters for row `row` of column `col`; the type must match the column's.
  void SetNull(size_t col, size_t row);
  void SetString(size_t col, size_t row, std::string_view value);  // must be valid UTF-8
  void SetInt64(size_t col, size_t row, int64_t value);
  void SetInt32(size_t col, size_t row, int32_t value);
  void SetDouble(size_t col, size_t row, double value);
  void SetBool(size_t col, size_t row, bool value);
  void SetDate(size_t col, size_t row, Date value);
  void SetTimestampMicros(size_t col, size_t row, int64_t micros);

 private:
  friend class Appender;
  void Reset();

  struct Impl;
  std::vector<Type> types_;
  std::unique_ptr<Impl> impl_;
  size_t size_ = 0;
};

}  // namespace riskpipe::db
