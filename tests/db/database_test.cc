#include "db/database.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace riskpipe::db {
namespace {

TEST(Database, ReportsPinnedLibraryVersion) { EXPECT_EQ(LibraryVersion(), "v1.4.4"); }

TEST(Connection, QueryMaterialisesTypedCells) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto con = db->Connect();
  ASSERT_TRUE(con.ok());
  auto t = con->Query(
      "SELECT 1::INTEGER AS i, 2.5::DOUBLE AS d, 'x' AS s, DATE '2024-03-01' AS dt, NULL AS n, "
      "true AS b");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), 1);
  EXPECT_EQ(std::get<double>(t->rows[0][1]), 2.5);
  EXPECT_EQ(std::get<std::string>(t->rows[0][2]), "x");
  EXPECT_EQ(std::get<Date>(t->rows[0][3]).ToString(), "2024-03-01");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t->rows[0][4]));
  EXPECT_EQ(t->ColumnIndex("dt"), 3);
}

TEST(Connection, SqlErrorIsInvalidArgumentWithMessage) {
  auto db = Database::Open(":memory:");
  auto con = db->Connect();
  const Status s = con->Execute("SELEC 1");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("syntax error"), std::string::npos) << s.message();
}

TEST(Appender, AppendsChunksWithNullsAcrossResets) {
  auto db = Database::Open(":memory:");
  auto con = db->Connect();
  ASSERT_TRUE(con->Execute("CREATE TABLE t (s VARCHAR, i BIGINT, d DATE, x DOUBLE)").ok());
  auto app = Appender::Open(*con, "t");
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  ChunkBuilder chunk({Type::kVarchar, Type::kBigint, Type::kDate, Type::kDouble});
  const int kRows = 5000;  // spans three chunks
  for (int i = 0; i < kRows; ++i) {
    if (chunk.full()) {
      ASSERT_TRUE(app->Append(chunk).ok());
    }
    const size_t r = chunk.AddRow();
    if (i < 2048 && i % 2 == 0) {
      chunk.SetNull(0, r);  // nulls only in the first chunk: later chunks must be valid again
    } else {
      chunk.SetString(0, r, "a long string value number " + std::to_string(i));
    }
    chunk.SetInt64(1, r, i);
    chunk.SetDate(2, r, Date::FromCivil(2024, 1, 1).AddDays(i % 31));
    chunk.SetDouble(3, r, i * 0.5);
  }
  ASSERT_TRUE(app->Append(chunk).ok());
  ASSERT_TRUE(app->Close().ok());
  EXPECT_EQ(*con->QueryInt("SELECT count(*) FROM t"), kRows);
  EXPECT_EQ(*con->QueryInt("SELECT count(*) FROM t WHERE s IS NULL"), 1024);
  EXPECT_EQ(*con->QueryInt("SELECT sum(i) FROM t"), int64_t{kRows} * (kRows - 1) / 2);
  EXPECT_EQ(*con->QueryInt("SELECT count(*) FROM t WHERE s = 'a long string value number 4999'"), 1);
}

TEST(Appender, MissingTableIsNotFound) {
  auto db = Database::Open(":memory:");
  auto con = db->Connect();
  EXPECT_EQ(Appender::Open(*con, "nope").status().code(), StatusCode::kNotFound);
}

TEST(Database, FileDatabasePersists) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "x.duckdb").string();
  {
    Options options;
    options.threads = 1;
    auto db = Database::Open(path, options);
    auto con = db->Connect();
    ASSERT_TRUE(con->Execute("CREATE TABLE t AS SELECT 42 AS v").ok());
  }
  auto db = Database::Open(path);
  auto con = db->Connect();
  EXPECT_EQ(*con->QueryInt("SELECT v FROM t"), 42);
}

}  // namespace
}  // namespace riskpipe::db
