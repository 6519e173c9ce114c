#pragma once
// Internal to the metastore: RAII owners of an SQLite connection (Database), a prepared
// statement (Statement) and a write transaction (Transaction). sqlite.cc is the only file in
// riskpipe that includes sqlite3.h. A Database and its Statements belong to one thread at a
// time. Nothing here throws on SQLite errors: each is a Status naming the database file, the
// first words of the SQL and SQLite's own message.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace riskpipe::metastore {

// A prepared statement. Parameters are 1-based, result columns 0-based (SQLite's convention).
// Must not outlive the Database that prepared it.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Bind a parameter; text is copied. Internal when the index is out of range.
  Status BindInt64(int index, int64_t value);
  Status BindDouble(int index, double value);
  Status BindText(int index, std::string_view value);
  Status BindNull(int index);

  // Advances to the next row: true when a row is ready, false when the statement is done.
  // Unavailable when the database stayed locked past the busy timeout, InvalidArgument on a
  // constraint violation, DataLoss on a corrupt file, Internal otherwise.
  StatusOr<bool> Step();
  // Steps to completion, ignoring any rows (for INSERT, UPDATE, DELETE). Errors as Step().
  Status Run();

  // Reads a column of the current row. NULL reads as 0, 0.0 and "" respectively.
  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;

 private:
  friend class Database;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Status Error(int rc, std::string_view action) const;

  sqlite3_stmt* stmt_ = nullptr;
};

// One connection to an SQLite file, opened with the settings of docs/metastore.md: WAL,
// synchronous=NORMAL, busy_timeout, foreign_keys=ON.
class Database {
 public:
  // Opens or creates the file (its folder must exist). DataLoss when the file is not an
  // SQLite database, Unavailable when it stays locked, Internal on other failures.
  static StatusOr<Database> Open(const std::filesystem::path& path);
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Compiles one statement. InvalidArgument on an SQL error.
  StatusOr<Statement> Prepare(std::string_view sql);
  // Runs one or more statements that return no rows. Errors as Statement::Step().
  Status Execute(std::string_view sql);

  // The rowid of the last successful INSERT on this connection.
  int64_t LastInsertRowid() const;
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  int Changes() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  Status Configure();
  // Runs PRAGMA journal_mode=WAL once; the resulting mode ("wal" unless the file cannot).
  StatusOr<std::string> JournalModeWal();

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// A write transaction begun with BEGIN IMMEDIATE, so the write lock is taken (waiting up to the
// busy timeout) before anything is read and a commit never fails for a concurrent writer.
// Rolls back on destruction unless committed.
class Transaction {
 public:
  // Unavailable when another writer held the lock past the busy timeout.
  static StatusOr<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;  // Null once committed or rolled back.
};

namespace internal {
inline Status BindOne(Statement& s, int i, int64_t v) { return s.BindInt64(i, v); }
inline Status BindOne(Statement& s, int i, double v) { return s.BindDouble(i, v); }
inline Status BindOne(Statement& s, int i, std::string_view v) { return s.BindText(i, v); }
inline Status BindOne(Statement& s, int i, std::nullopt_t) { return s.BindNull(i); }
inline Status BindOne(Statement& s, int i, const std::optional<int64_t>& v) {
  return v.has_value() ? s.BindInt64(i, *v) : s.BindNull(i);
}
}  // namespace internal

// Prepares `sql` and binds `args` to ?1, ?2, ... in order. An argument is an int64_t, a
// double, text (anything convertible to string_view), std::nullopt or std::optional<int64_t>.
// Errors as Database::Prepare and the Bind functions.
template <typename... Args>
StatusOr<Statement> PrepareBound(Database& db, std::string_view sql, const Args&... args) {
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  int index = 0;
  Status status;
  ((status = status.ok() ? internal::BindOne(stmt, ++index, args) : status), ...);
  if (!status.ok()) return status;
  return stmt;
}

// Steps `stmt` to its end and returns `read(stmt)` of each row, in order. `read` returns a
// Record, or StatusOr<Record> when a row can be refused (its error is returned). Errors as
// Statement::Step.
template <typename Record, typename Reader>
StatusOr<std::vector<Record>> ReadAll(Statement& stmt, Reader read) {
  std::vector<Record> out;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) return out;
    if constexpr (std::is_same_v<std::invoke_result_t<Reader&, const Statement&>, Record>) {
      out.push_back(read(stmt));
    } else {
      ASSIGN_OR_RETURN(Record record, read(stmt));
      out.push_back(std::move(record));
    }
  }
}

}  // namespace riskpipe::metastore
