#include "metastore/sqlite.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <thread>

#include "metastore/test_util.h"
#include "testing/temp_dir.h"

namespace riskpipe::metastore {
namespace {

using riskpipe::testing::TempDir;
using test::CodeOf;
using test::QueryInt;
using test::QueryText;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<Database> db = Database::Open(path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_.emplace(std::move(db).value());
    ASSERT_TRUE(db_->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, d REAL, "
                             "s TEXT, u TEXT UNIQUE)")
                    .ok());
  }
  std::filesystem::path path() const { return dir_.path() / "test.sqlite"; }
  Database& db() { return *db_; }

  TempDir dir_;
  std::optional<Database> db_;
};

TEST_F(SqliteTest, OpenConfiguresWalSynchronousBusyTimeoutAndForeignKeys) {
  EXPECT_EQ(QueryText(db(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryInt(db(), "PRAGMA synchronous"), 1);  // NORMAL.
  EXPECT_EQ(QueryInt(db(), "PRAGMA busy_timeout"), 5000);
  EXPECT_EQ(QueryInt(db(), "PRAGMA foreign_keys"), 1);
}

TEST_F(SqliteTest, ForeignKeysAreEnforced) {
  ASSERT_TRUE(db().Execute("CREATE TABLE parent (id INTEGER PRIMARY KEY); "
                           "CREATE TABLE child (pid INTEGER REFERENCES parent (id))")
                  .ok());
  const Status s = db().Execute("INSERT INTO child (pid) VALUES (5)");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

TEST(Sqlite, OpenNonDatabaseIsDataLoss) {
  TempDir dir;
  const auto path = dir.Write("x.sqlite", std::string(4096, 'z'));
  StatusOr<Database> db = Database::Open(path);
  EXPECT_EQ(CodeOf(db), StatusCode::kDataLoss) << db.status().ToString();
}

TEST(Sqlite, OpenInMissingFolderIsInternal) {
  TempDir dir;
  StatusOr<Database> db = Database::Open(dir.path() / "no" / "such" / "x.sqlite");
  EXPECT_EQ(CodeOf(db), StatusCode::kInternal) << db.status().ToString();
}

TEST_F(SqliteTest, PrepareSyntaxErrorIsInvalidArgumentNamingTheSql) {
  StatusOr<Statement> stmt = db().Prepare("SELEKT * FROM t");
  EXPECT_EQ(CodeOf(stmt), StatusCode::kInvalidArgument);
  EXPECT_NE(stmt.status().message().find("SELEKT * FROM t"), std::string::npos)
      << stmt.status().message();
  EXPECT_NE(stmt.status().message().find(path().string()), std::string::npos);
  EXPECT_EQ(CodeOf(db().Prepare("SELECT nope FROM t")), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(db().Prepare("   ")), StatusCode::kInvalidArgument);
}

TEST_F(SqliteTest, BindAndReadEveryType) {
  const std::string text("a\0b", 3);
  StatusOr<Statement> insert =
      PrepareBound(db(), "INSERT INTO t (i, d, s, u) VALUES (?1, ?2, ?3, ?4)",
                   std::numeric_limits<int64_t>::min(), 2.25, std::string_view(text), std::nullopt);
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  ASSERT_TRUE(insert->Run().ok());
  EXPECT_EQ(db().Changes(), 1);
  const int64_t id = db().LastInsertRowid();
  EXPECT_GT(id, 0);

  StatusOr<Statement> query = PrepareBound(db(), "SELECT i, d, s, u FROM t WHERE id = ?1", id);
  ASSERT_TRUE(query.ok());
  StatusOr<bool> row = query->Step();
  ASSERT_TRUE(row.ok());
  ASSERT_TRUE(*row);
  EXPECT_EQ(query->ColumnInt64(0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(query->ColumnDouble(1), 2.25);
  EXPECT_EQ(query->ColumnText(2), text);  // Embedded NUL survives.
  EXPECT_TRUE(query->ColumnIsNull(3));
  EXPECT_FALSE(query->ColumnIsNull(0));
  EXPECT_EQ(query->ColumnText(3), "");
  EXPECT_EQ(query->ColumnInt64(3), 0);
  row = query->Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
}

TEST_F(SqliteTest, OptionalBindsValueOrNull) {
  const std::optional<int64_t> some = 7, none;
  StatusOr<Statement> stmt = PrepareBound(db(), "SELECT ?1 IS NULL, ?2 IS NULL, ?1", some, none);
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->ColumnInt64(0), 0);
  EXPECT_EQ(stmt->ColumnInt64(1), 1);
  EXPECT_EQ(stmt->ColumnInt64(2), 7);
}

TEST_F(SqliteTest, BindOutOfRangeIsInternal) {
  StatusOr<Statement> stmt = db().Prepare("SELECT ?1");
  ASSERT_TRUE(stmt.ok());
  const Status s = stmt->BindInt64(2, 1);
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  EXPECT_NE(s.message().find("bind ?2"), std::string::npos) << s.message();
  EXPECT_EQ(CodeOf(PrepareBound(db(), "SELECT 1", int64_t{1})), StatusCode::kInternal);
}

TEST_F(SqliteTest, ConstraintViolationIsInvalidArgument) {
  ASSERT_TRUE(db().Execute("INSERT INTO t (u) VALUES ('k')").ok());
  StatusOr<Statement> dup = db().Prepare("INSERT INTO t (u) VALUES ('k')");
  ASSERT_TRUE(dup.ok());
  const Status s = dup->Run();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("UNIQUE"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("INSERT INTO t"), std::string::npos) << s.message();
}

TEST_F(SqliteTest, TransactionRollsBackUnlessCommitted) {
  {
    StatusOr<Transaction> txn = Transaction::Begin(db());
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE(db().Execute("INSERT INTO t (i) VALUES (1)").ok());
  }
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM t"), 0);
  {
    StatusOr<Transaction> txn = Transaction::Begin(db());
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db().Execute("INSERT INTO t (i) VALUES (2)").ok());
    ASSERT_TRUE(txn->Commit().ok());
    EXPECT_EQ(txn->Commit().code(), StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM t"), 1);
  // A moved-from transaction does nothing on destruction; the moved-to one still rolls back.
  {
    StatusOr<Transaction> txn = Transaction::Begin(db());
    ASSERT_TRUE(txn.ok());
    Transaction moved(std::move(*txn));
    ASSERT_TRUE(db().Execute("INSERT INTO t (i) VALUES (3)").ok());
  }
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM t"), 1);
  // The connection is usable again after every path above.
  StatusOr<Transaction> txn = Transaction::Begin(db());
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
}

TEST_F(SqliteTest, WriterLockedPastBusyTimeoutIsUnavailable) {
  StatusOr<Database> other = Database::Open(path());
  ASSERT_TRUE(other.ok());
  StatusOr<Transaction> held = Transaction::Begin(db());
  ASSERT_TRUE(held.ok());
  // Waits the whole busy timeout (5 s) for a lock that is never released.
  StatusOr<Transaction> blocked = Transaction::Begin(*other);
  EXPECT_EQ(CodeOf(blocked), StatusCode::kUnavailable) << blocked.status().ToString();
  // Readers are not blocked by the writer (WAL).
  EXPECT_EQ(QueryInt(*other, "SELECT count(*) FROM t"), 0);
}

// Regression: switching a file to WAL needs an exclusive lock, and SQLite reports SQLITE_BUSY
// at once instead of calling the busy handler. Several processes opening a new metastore
// together failed with "PRAGMA journal_mode=WAL: database is locked"; Open now retries.
TEST(Sqlite, OpenRetriesWalSwitchWhileAnotherConnectionHoldsALock) {
  TempDir dir;
  const auto path = dir.path() / "x.sqlite";
  StatusOr<Database> writer = Database::Open(path);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->Execute("PRAGMA journal_mode=DELETE; CREATE TABLE t (x)").ok());
  EXPECT_EQ(QueryText(*writer, "PRAGMA journal_mode"), "delete");
  // A write transaction in rollback-journal mode holds the RESERVED lock until it ends; that is
  // what a process that is itself switching a new file to WAL holds.
  ASSERT_TRUE(writer->Execute("BEGIN IMMEDIATE").ok());
  std::thread release([&writer] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    (void)writer->Execute("COMMIT");
  });
  StatusOr<Database> opener = Database::Open(path);
  release.join();
  ASSERT_TRUE(opener.ok()) << opener.status().ToString();
  EXPECT_EQ(QueryText(*opener, "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteTest, MovedDatabaseKeepsWorking) {
  Database moved = std::move(db());
  EXPECT_EQ(moved.path(), path());
  EXPECT_TRUE(moved.Execute("INSERT INTO t (i) VALUES (1)").ok());
  EXPECT_EQ(QueryInt(moved, "SELECT count(*) FROM t"), 1);
}

}  // namespace
}  // namespace riskpipe::metastore
