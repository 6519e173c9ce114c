#include "metastore/sqlite.h"

#include <sqlite3.h>

#include <cctype>
#include <chrono>
#include <thread>

namespace riskpipe::metastore {
namespace {

// How long a connection waits for another process's write lock before SQLITE_BUSY. 5 s was
// measured with two writer processes and 0 busy errors (shared/dependency-notes.md, SQLite).
constexpr int kBusyTimeoutMs = 5000;

// The pause between attempts to switch a file to WAL while another connection holds a lock
// (see Database::Configure): short against the busy timeout, long enough not to spin.
constexpr std::chrono::milliseconds kWalRetryPause{5};

// The first few words of an SQL text, whitespace collapsed, to name a statement in errors:
// "INSERT INTO steps (run_id,".
std::string SqlHead(std::string_view sql) {
  constexpr int kWords = 4;
  constexpr size_t kMaxChars = 60;
  std::string out;
  int words = 0;
  bool in_space = true;
  for (char c : sql) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && !in_space && ++words == kWords) break;
    if (!space) {
      if (in_space && !out.empty()) out += ' ';
      out += c;
    }
    in_space = space;
    if (out.size() >= kMaxChars) break;
  }
  return out;
}

Status FromCode(int rc, std::string message) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(std::move(message));
    // SQLITE_RANGE (a bind index out of range) is a mistake in riskpipe's code, not in its
    // input, so it stays Internal with the other codes.
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return InvalidArgumentError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

// "metastore <file>: <sql head>: <sqlite message>". Reads the message at once, before any other
// call on the connection can replace it.
Status ConnectionError(sqlite3* db, int rc, const std::filesystem::path& path,
                       std::string_view what) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return FromCode(rc, "metastore " + path.string() + ": " + std::string(what) + ": " +
                          (msg != nullptr ? msg : sqlite3_errstr(rc)));
}

}  // namespace

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

// sqlite3_finalize returns the statement's last error, which Step() already reported.
Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::Error(int rc, std::string_view action) const {
  sqlite3* db = sqlite3_db_handle(stmt_);
  const char* file = sqlite3_db_filename(db, "main");
  const char* sql = sqlite3_sql(stmt_);
  std::string what = SqlHead(sql != nullptr ? sql : "");
  if (!action.empty()) what += std::string(" (") + std::string(action) + ")";
  return ConnectionError(db, rc, file != nullptr ? file : "", what);
}

Status Statement::BindInt64(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  return rc == SQLITE_OK ? OkStatus() : Error(rc, "bind ?" + std::to_string(index));
}

Status Statement::BindDouble(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  return rc == SQLITE_OK ? OkStatus() : Error(rc, "bind ?" + std::to_string(index));
}

Status Statement::BindText(int index, std::string_view value) {
  // SQLITE_TRANSIENT makes SQLite copy the bytes; a string_view need not outlive the call.
  const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8);
  return rc == SQLITE_OK ? OkStatus() : Error(rc, "bind ?" + std::to_string(index));
}

Status Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  return rc == SQLITE_OK ? OkStatus() : Error(rc, "bind ?" + std::to_string(index));
}

StatusOr<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc, "");
}

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(const bool row, Step());
    if (!row) return OkStatus();
  }
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  // Per SQLite's documentation, take the pointer first, then the byte count.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  const int bytes = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes));
}

// ---- Database ----

StatusOr<Database> Database::Open(const std::filesystem::path& path) {
  sqlite3* handle = nullptr;
  // NOMUTEX: a connection is used by one thread at a time, so SQLite's own mutex is not needed.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  // Even a failed open may allocate a handle; the Database owns it from here, and frees it.
  Database db(handle, path);
  if (rc != SQLITE_OK) return ConnectionError(handle, rc, path, "open");
  RETURN_IF_ERROR(db.Configure());
  return db;
}

Status Database::Configure() {
  sqlite3_extended_result_codes(db_, 1);
  int rc = sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  if (rc != SQLITE_OK) return ConnectionError(db_, rc, path_, "busy_timeout");
  // WAL lets readers proceed while one writer commits, and is persistent in the file.
  // Switching a file to WAL rewrites its header under the write lock. When another connection
  // holds that lock, SQLite returns SQLITE_BUSY at once without calling the busy handler (this
  // connection already reads the file, and waiting could deadlock). That happens when several
  // processes open a new file together, so retry here for as long as the busy timeout allows.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  StatusOr<std::string> mode = JournalModeWal();
  while (!mode.ok() && mode.status().code() == StatusCode::kUnavailable &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kWalRetryPause);
    mode = JournalModeWal();
  }
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return FailedPreconditionError("metastore " + path_.string() +
                                   ": cannot use WAL journal mode (got '" + *mode + "')");
  }
  // NORMAL is durable in WAL mode except for the last commits before a power loss, and it
  // does not fsync on every commit.
  return Execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
}

StatusOr<std::string> Database::JournalModeWal() {
  ASSIGN_OR_RETURN(Statement wal, Prepare("PRAGMA journal_mode=WAL"));
  ASSIGN_OR_RETURN(const bool row, wal.Step());
  return row ? wal.ColumnText(0) : std::string();
}

Database::Database(Database&& other) noexcept
    : db_(other.db_), path_(std::move(other.path_)) {
  other.db_ = nullptr;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = other.db_;
    path_ = std::move(other.path_);
    other.db_ = nullptr;
  }
  return *this;
}

// close_v2 defers the close until every Statement is finalized, so destruction order is free.
Database::~Database() { sqlite3_close_v2(db_); }

StatusOr<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  Statement owned(stmt);
  if (rc != SQLITE_OK) {
    const Status s = ConnectionError(db_, rc, path_, SqlHead(sql));
    // A prepare error is a mistake in the SQL text, whatever SQLite's code says.
    return (rc & 0xff) == SQLITE_ERROR ? InvalidArgumentError(s.message()) : s;
  }
  if (stmt == nullptr) {
    return InvalidArgumentError("metastore " + path_.string() + ": empty SQL statement");
  }
  return owned;
}

Status Database::Execute(std::string_view sql) {
  // sqlite3_exec needs a NUL-terminated string.
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? OkStatus() : ConnectionError(db_, rc, path_, SqlHead(sql));
}

int64_t Database::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::Changes() const { return sqlite3_changes(db_); }

// ---- Transaction ----

StatusOr<Transaction> Transaction::Begin(Database& db) {
  RETURN_IF_ERROR(db.Execute("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }

Transaction::~Transaction() {
  // A failed rollback leaves nothing to do: SQLite rolls back when the connection closes.
  if (db_ != nullptr) (void)db_->Execute("ROLLBACK");
}

Status Transaction::Commit() {
  if (db_ == nullptr) return FailedPreconditionError("metastore: transaction already ended");
  Database* db = db_;
  db_ = nullptr;
  const Status s = db->Execute("COMMIT");
  // A failed COMMIT may leave the transaction open; roll it back so the connection is usable.
  if (!s.ok()) (void)db->Execute("ROLLBACK");
  return s;
}

}  // namespace riskpipe::metastore
