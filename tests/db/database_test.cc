#include "db/database.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <thread>

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

TEST(Connection, SiblingSeesTablesButNotTempTablesAndRunsOnAnotherThread) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto con = db->Connect();
  ASSERT_TRUE(con.ok());
  ASSERT_TRUE(con->Execute("CREATE TABLE shared AS SELECT range AS i FROM range(1000); "
                           "CREATE TEMP TABLE mine AS SELECT 1 AS i")
                  .ok());
  auto sibling = con->Sibling();
  ASSERT_TRUE(sibling.ok()) << sibling.status().ToString();
  StatusOr<int64_t> sum = InternalError("not run");
  std::thread other([&] { sum = sibling->QueryInt("SELECT sum(i) FROM shared"); });
  auto mine = con->QueryInt("SELECT count(*) FROM mine");
  other.join();
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(*sum, 499500);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(*mine, 1);
  auto hidden = sibling->Query("SELECT * FROM mine");
  EXPECT_EQ(hidden.status().code(), StatusCode::kInvalidArgument);
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
  EXPECT_EQ(*con->QueryInt("SELECT count(*) FROM t WHERE s = 'a long string value number 4999'"),
            1);
}

TEST(Appender, MissingTableIsNotFound) {
  auto db = Database::Open(":memory:");
  auto con = db->Connect();
  EXPECT_EQ(Appender::Open(*con, "nope").status().code(), StatusCode::kNotFound);
}

// Emits `rows` rows (i, "s<i>") in chunks, then ends.
class CountingSource : public RowSource {
 public:
  explicit CountingSource(int64_t rows) : rows_(rows) {}
  const std::vector<std::pair<std::string, Type>>& Schema() const override { return schema_; }
  Status Fill(ChunkBuilder& chunk) override {
    while (next_ < rows_ && !chunk.full()) {
      const size_t r = chunk.AddRow();
      chunk.SetInt64(0, r, next_);
      if (next_ % 3 == 0) {
        chunk.SetNull(1, r);
      } else {
        chunk.SetString(1, r, "value number " + std::to_string(next_));
      }
      ++next_;
    }
    if (fail_at_end_ && next_ == rows_) return DataLossError("source broke");
    return OkStatus();
  }
  bool fail_at_end_ = false;

 private:
  int64_t rows_;
  int64_t next_ = 0;
  std::vector<std::pair<std::string, Type>> schema_ = {{"i", Type::kBigint}, {"s", Type::kVarchar}};
};

TEST(RowSource, StreamsRowsIntoAQuery) {
  auto db = Database::Open(":memory:");
  auto con = db->Connect();
  CountingSource source(5000);
  auto t = con->Query("SELECT count(*), sum(i), count(s) FROM " + RowSourceSql(&source));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), 5000);
  EXPECT_EQ(std::get<int64_t>(t->rows[0][1]), int64_t{5000} * 4999 / 2);
  EXPECT_EQ(std::get<int64_t>(t->rows[0][2]), 5000 - 1667);
}

TEST(RowSource, ErrorAbortsTheQueryWithItsMessage) {
  auto db = Database::Open(":memory:");
  auto con = db->Connect();
  CountingSource source(10);
  source.fail_at_end_ = true;
  auto t = con->Query("SELECT count(*) FROM " + RowSourceSql(&source));
  EXPECT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("source broke"), std::string::npos) << t.status().message();
}

// SQL text can name a row source only by the random handle its owner was given; any other
// number is refused at bind time instead of being dereferenced.
TEST(RowSource, AnUnknownHandleIsRefusedNotDereferenced) {
  auto db = Database::Open(":memory:");
  auto con = db->Connect();
  CountingSource source(10);
  EXPECT_FALSE(con->Query("SELECT count(*) FROM riskpipe_row_source(4242)").ok());
  for (const char* sql : {"SELECT count(*) FROM riskpipe_row_source(4242::UBIGINT)",
                          "SELECT count(*) FROM riskpipe_row_source(0::UBIGINT)",
                          "SELECT count(*) FROM riskpipe_row_source(18446744073709551615::UBIGINT)"}) {
    auto t = con->Query(sql);
    ASSERT_FALSE(t.ok()) << sql;
    EXPECT_NE(t.status().message().find("no row source has this handle"), std::string::npos)
        << t.status().message();
  }
  // A destroyed source's handle is gone too.
  std::string sql;
  {
    CountingSource gone(3);
    sql = "SELECT count(*) FROM " + RowSourceSql(&gone);
    EXPECT_TRUE(con->Query(sql).ok());
  }
  EXPECT_FALSE(con->Query(sql).ok());
  EXPECT_TRUE(con->Query("SELECT count(*) FROM " + RowSourceSql(&source)).ok());
}

TEST(Database, AllowedDirectoriesConfineFilesAndLockTheConfiguration) {
  testing::TempDir dir;
  const std::filesystem::path inside = dir.path() / "inside";
  std::filesystem::create_directories(inside);
  const std::filesystem::path outside = dir.Write("outside/secret.txt", "secret");
  Options options;
  options.allowed_directories = {inside};
  auto db = Database::Open(":memory:", options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto con = db->Connect();
  const std::string file = QuoteLiteral((inside / "t.parquet").string());
  ASSERT_TRUE(con->Execute("COPY (SELECT 7 AS v) TO " + file + " (FORMAT parquet)").ok());
  auto n = con->QueryInt("SELECT v FROM read_parquet(" + file + ")");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 7);
  for (const std::string& sql :
       {"SELECT content FROM read_text(" + QuoteLiteral(outside.string()) + ")",
        std::string("SELECT content FROM read_text('/etc/hostname')"),
        "SELECT content FROM read_text(" +
            QuoteLiteral((inside / ".." / "outside" / "secret.txt").string()) + ")"}) {
    auto t = con->Query(sql);
    ASSERT_FALSE(t.ok()) << sql;
    EXPECT_NE(t.status().message().find("disabled by configuration"), std::string::npos)
        << t.status().message();
  }
  // No statement can widen it again, on this connection or another.
  EXPECT_FALSE(con->Execute("SET enable_external_access = true").ok());
  auto other = db->Connect();
  EXPECT_FALSE(other->Execute("SET allowed_directories = ['/']").ok());
  EXPECT_FALSE(other->Query("SELECT content FROM read_text('/etc/hostname')").ok());
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

namespace riskpipe::db {
namespace {

TEST(Connection, QueryColumnsReadsColumnsWithNullsAndDictionaries) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto con = db->Connect();
  ASSERT_TRUE(con.ok());
  // 5,000 rows: more than one DuckDB chunk.
  auto t = con->QueryColumns(
      "SELECT i::INTEGER AS n, CASE WHEN i % 10 = 0 THEN NULL ELSE i / 2.0 END AS x, "
      "CASE WHEN i % 7 = 0 THEN NULL ELSE ['a', 'b', 'c'][i % 3 + 1] END AS s, "
      "DATE '1970-01-01' + i::INTEGER AS d, i % 2 = 0 AS flag FROM range(5000) t(i) ORDER BY i");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows, 5000u);
  ASSERT_EQ(t->columns.size(), 5u);
  const auto& n = t->columns[t->ColumnIndex("n")];
  const auto& x = t->columns[t->ColumnIndex("x")];
  const auto& s = t->columns[t->ColumnIndex("s")];
  const auto& d = t->columns[t->ColumnIndex("d")];
  const auto& flag = t->columns[t->ColumnIndex("flag")];
  EXPECT_EQ(n.type, Type::kInteger);
  EXPECT_EQ(d.type, Type::kDate);
  EXPECT_TRUE(s.is_text());
  EXPECT_EQ(n.numbers[4321], 4321);
  EXPECT_TRUE(std::isnan(x.numbers[4320]));
  EXPECT_EQ(x.numbers[4321], 2160.5);
  EXPECT_EQ(d.numbers[17], 17);
  EXPECT_EQ(flag.numbers[3], 0);
  EXPECT_EQ(flag.numbers[4], 1);
  EXPECT_EQ(s.dictionary.size(), 3u);
  EXPECT_EQ(s.codes[0], -1);
  EXPECT_EQ(s.dictionary[s.codes[4]], "b");  // 4 % 3 + 1 = 2
  EXPECT_EQ(t->ColumnIndex("missing"), -1);
  // Types it cannot hold are refused with the column's name.
  auto bad = con->QueryColumns("SELECT [1, 2] AS l");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("l"), std::string::npos);
}

// A seeded first column codes the seed's values by their index in the seed (so codes from two
// queries over the same entities can be compared directly); values not in it come after.
TEST(Connection, QueryColumnsWithASeedCodesTheFirstColumnByTheSeed) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto con = db->Connect();
  ASSERT_TRUE(con.ok());
  // Enough seed values that the index must start larger than its default size.
  std::vector<std::string> seed;
  for (int i = 0; i < 1000; ++i) seed.push_back("e" + std::to_string(i));
  auto t = con->QueryColumns(
      "SELECT CASE WHEN i = 3 THEN NULL WHEN i % 2 = 0 THEN 'e' || (999 - i) ELSE 'new' || i END "
      "AS e, i FROM range(3000) t(i) ORDER BY i",
      seed);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const auto& e = t->columns[0];
  ASSERT_EQ(t->rows, 3000u);
  EXPECT_EQ(e.codes[0], 999);  // 'e999'
  EXPECT_EQ(e.codes[2], 997);
  EXPECT_EQ(e.codes[3], -1);
  // i = 1000: 'e-1', not in the seed, gets a code after the seed's.
  EXPECT_GE(e.codes[1000], 1000);
  EXPECT_EQ(e.dictionary[e.codes[1000]], "e-1");
  EXPECT_GE(e.codes[1], 1000);
  EXPECT_EQ(e.dictionary[e.codes[1]], "new1");
  for (size_t r = 0; r < t->rows; ++r) {
    if (e.codes[r] >= 0 && e.codes[r] < 1000) {
      EXPECT_EQ(e.dictionary[e.codes[r]], seed[e.codes[r]]) << "row " << r;
    }
  }
  // Every dictionary entry is distinct: a seeded value read again gets its seed code.
  std::set<std::string> distinct(e.dictionary.begin(), e.dictionary.end());
  EXPECT_EQ(distinct.size(), e.dictionary.size());
  // A seed for a column that is not text is refused, naming the column.
  auto bad = con->QueryColumns("SELECT 1 AS num", seed);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("num"), std::string::npos);
}

// A streamed result arrives chunk by chunk with the cells QueryColumns reads; text codes stay
// valid across chunks, and a shared dictionary codes the first column across streams.
TEST(Connection, StreamColumnsReadsChunksWithOneDictionaryPerColumn) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto con = db->Connect();
  ASSERT_TRUE(con.ok());
  const std::string sql =
      "SELECT 'id' || (i % 1500) AS e, i::BIGINT AS n, CASE WHEN i % 10 = 0 THEN NULL ELSE "
      "i / 2.0 END AS x, CASE WHEN i % 7 = 0 THEN NULL ELSE ['a', 'b', 'c'][i % 3 + 1] END AS s "
      "FROM range(5000) t(i) ORDER BY i";
  auto whole = con->QueryColumns(sql);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  TextDictionary ids({"id7", "other"});  // id7 keeps code 0
  auto stream = con->StreamColumns(sql, &ids);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  size_t rows = 0, chunks = 0;
  while (true) {
    auto more = stream->Next();
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    const ColumnarTable& c = stream->chunk();
    ASSERT_LE(c.rows, 2048u);
    ASSERT_EQ(c.columns[1].numbers.size(), c.rows);  // this chunk's cells only
    ++chunks;
    for (size_t r = 0; r < c.rows; ++r, ++rows) {
      EXPECT_EQ(ids.values()[c.columns[0].codes[r]],
                whole->columns[0].dictionary[whole->columns[0].codes[rows]]);
      EXPECT_EQ(c.columns[1].numbers[r], whole->columns[1].numbers[rows]);
      const double x = c.columns[2].numbers[r], want = whole->columns[2].numbers[rows];
      EXPECT_TRUE(x == want || (std::isnan(x) && std::isnan(want))) << "row " << rows;
      const int32_t code = c.columns[3].codes[r];
      const int32_t want_code = whole->columns[3].codes[rows];
      ASSERT_EQ(code < 0, want_code < 0) << "row " << rows;
      if (code >= 0) {
        EXPECT_EQ(c.columns[3].dictionary[code], whole->columns[3].dictionary[want_code]);
      }
    }
  }
  EXPECT_EQ(rows, 5000u);
  EXPECT_GE(chunks, 3u);
  EXPECT_EQ(stream->chunk().columns[1].type, Type::kBigint);
  // The shared dictionary kept its seed codes and gained the 1,499 other ids.
  EXPECT_EQ(ids.values().size(), 2u + 1499u);
  EXPECT_EQ(ids.CodeOf("id7"), 0);
  EXPECT_EQ(ids.CodeOf("other"), 1);
  // Errors: SQL that does not bind, a column type it cannot hold, a shared dictionary for a
  // first column that is not text.
  auto bad = con->StreamColumns("SELECT missing FROM range(3)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("missing"), std::string::npos);
  auto list = con->StreamColumns("SELECT [1, 2] AS l");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("l"), std::string::npos);
  auto number = con->StreamColumns("SELECT 1 AS num", &ids);
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.status().code(), StatusCode::kInvalidArgument);
}

// A query that fails while it runs (not when it is prepared) fails the stream's Next().
TEST(Connection, StreamColumnsReportsAnErrorRaisedWhileRunning) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto con = db->Connect();
  ASSERT_TRUE(con.ok());
  auto stream = con->StreamColumns(
      "SELECT CASE WHEN i = 4000 THEN error('boom at 4000') ELSE i END AS v FROM range(5000) "
      "t(i)");
  Status failure;
  if (!stream.ok()) {
    failure = stream.status();
  } else {
    while (true) {
      auto more = stream->Next();
      if (!more.ok()) {
        failure = more.status();
        break;
      }
      if (!*more) break;
    }
  }
  ASSERT_FALSE(failure.ok());
  EXPECT_NE(failure.message().find("boom at 4000"), std::string::npos) << failure.message();
}

// Batched lookups give the codes one-by-one lookups give, through growth and nulls.
TEST(TextDictionary, BatchedCodesMatchSingleLookups) {
  TextDictionary batched({"seed0", "seed1"});
  TextDictionary single({"seed0", "seed1"});
  std::vector<std::string> texts;
  for (int i = 0; i < 6000; ++i) texts.push_back("v" + std::to_string((i * 7919) % 2500));
  texts[17] = "seed1";
  for (size_t begin = 0; begin < texts.size(); begin += 1000) {
    std::vector<std::string_view> views;
    bool valid[1000];
    int32_t codes[1000];
    for (size_t i = 0; i < 1000; ++i) {
      views.push_back(texts[begin + i]);
      valid[i] = (begin + i) % 13 != 0;
    }
    batched.CodesOf(views.data(), valid, views.size(), codes);
    for (size_t i = 0; i < 1000; ++i) {
      EXPECT_EQ(codes[i], valid[i] ? single.CodeOf(texts[begin + i]) : -1) << begin + i;
    }
  }
  EXPECT_EQ(batched.values(), single.values());
  EXPECT_EQ(batched.values()[1], "seed1");
  const std::vector<std::string> released = batched.Release();
  EXPECT_EQ(released.size(), single.values().size());
  EXPECT_TRUE(batched.values().empty());
}

}  // namespace
}  // namespace riskpipe::db
