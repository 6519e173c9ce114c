#include "ingest/ingest.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/database.h"
#include "testing/temp_dir.h"

namespace riskpipe::ingest {
namespace {

using datamart::Datamart;
using datamart::Layer;
using riskpipe::testing::TempDir;

// A small source with the shapes ingestion must handle: a key, PII, a dirty int, a category
// and a snapshot date in two formats.
constexpr char kConfig[] = R"(
project: test
workspace: ws
pii_salt: test-salt
sources:
  - name: people
    file: raw/people.csv
    keys: [id, snapshot_date]
    date_column: snapshot_date
    columns:
      - {name: id, type: string, required: true}
      - {name: Name, type: string, pii: drop}
      - {name: SSN, type: string, pii: hash, null_values: ["#F%$D@*&8"]}
      - {name: Age, type: int, rules: [strip_underscores], min: 14, max: 100}
      - {name: Mix, type: category, levels: [Good, Bad], null_values: ["_"]}
      - {name: snapshot_date, type: date, required: true, formats: [iso, dmy]}
)";

constexpr char kHeader[] = "id,Name,SSN,Age,Mix,snapshot_date\n";

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = config::ParseProject(kConfig, dir_.path() / "riskpipe.yaml");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = *p;
  }

  void WriteSource(const std::string& text) { dir_.Write("ws/raw/people.csv", text); }

  StatusOr<SourceReport> Ingest(IngestOptions options = {}) {
    options.show_progress = false;
    return IngestSource(project_, project_.sources[0], options);
  }

  // Runs a query over the datamart and returns the table.
  db::Table Query(const std::string& sql) {
    auto database = db::Database::Open(":memory:");
    auto con = database->Connect();
    auto t = con->Query(sql);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : db::Table{};
  }

  std::string Read(Layer layer) {
    auto sql = mart().ReadSql(layer, "people");
    EXPECT_TRUE(sql.ok()) << sql.status().ToString();
    return sql.ok() ? *sql : "(SELECT 1)";
  }

  int64_t Count(Layer layer, const std::string& where = "true") {
    auto t = Query("SELECT count(*) FROM " + Read(layer) + " WHERE " + where);
    return t.rows.empty() ? -1 : std::get<int64_t>(t.rows[0][0]);
  }

  Datamart mart() const { return Datamart(project_.workspace.datamart()); }

  // Every row of a layer, in file order, without the ingestion time.
  std::vector<std::vector<std::string>> Snapshot(Layer layer) {
    const db::Table t = Query("SELECT COLUMNS(c -> c != '_ingested_at') FROM " + Read(layer));
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : t.rows) {
      rows.emplace_back();
      for (const auto& v : row) rows.back().push_back(db::ValueToString(v));
    }
    return rows;
  }

  TempDir dir_;
  config::Project project_;
};

TEST_F(IngestTest, CleanRowsReachSilverTypedAndPiiFree) {
  WriteSource(std::string(kHeader) +
              "C1,Ann Lee,123-45-6789,40_,Good,2024-01-01\n"
              "C2,Bob,#F%$D@*&8,-500,_,2024-01-01\n"
              "C3,Cy,111-22-3333,33,Bad,2024-02-01\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->bronze(), 3);
  EXPECT_EQ(report->silver(), 3);
  EXPECT_EQ(report->quarantined(), 0);
  EXPECT_EQ(report->nulled.at("Age"), 1);
  auto t = Query("SELECT id, Age, Mix, SSN_sha256, snapshot_date, _line, _source_file FROM " +
                 Read(Layer::kSilver) + " ORDER BY id");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(t.rows[0][1]), 40);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t.rows[1][1]));  // -500 nulled
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t.rows[1][2]));  // "_" is null
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t.rows[1][3]));  // junk SSN is null
  EXPECT_EQ(std::get<std::string>(t.rows[0][3]).size(), 64u);
  EXPECT_EQ(std::get<Date>(t.rows[2][4]).ToString(), "2024-02-01");
  EXPECT_EQ(std::get<int64_t>(t.rows[2][5]), 4);
  EXPECT_EQ(std::get<std::string>(t.rows[0][6]), "raw/people.csv");
  // PII never reaches silver: no Name or SSN column, and no raw SSN text anywhere in it.
  const auto cols = Query("DESCRIBE SELECT * FROM " + Read(Layer::kSilver));
  for (const auto& row : cols.rows) {
    EXPECT_NE(std::get<std::string>(row[0]), "Name");
    EXPECT_NE(std::get<std::string>(row[0]), "SSN");
  }
  EXPECT_EQ(Count(Layer::kSilver, "SSN_sha256 LIKE '%123-45%'"), 0);
  // Bronze keeps the raw text, including the partition column's as "snapshot_date_raw".
  EXPECT_EQ(Count(Layer::kBronze, "Age = '40_' AND snapshot_date_raw = '2024-01-01'"), 1);
}

TEST_F(IngestTest, EveryPartitionReconciles) {
  WriteSource(std::string(kHeader) +
              "C1,A,,20,Good,2024-01-01\n"
              "C2,B,,21,Good,2024-01-01,EXTRA\n"
              ",C,,22,Good,2024-02-01\n"
              "C4,D,,23,Good,not-a-date\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const PartitionCounts& p : report->partitions) {
    EXPECT_EQ(p.bronze, p.silver + p.quarantined) << p.partition.ToString();
    const std::string where = "snapshot_date = DATE '" + p.partition.ToString() + "'";
    EXPECT_EQ(Count(Layer::kBronze, where), p.bronze);
    EXPECT_EQ(Count(Layer::kSilver, where), p.silver);
    EXPECT_EQ(Count(Layer::kQuarantine, where), p.quarantined);
  }
  EXPECT_EQ(report->bronze(), 4);
  EXPECT_EQ(report->quarantined(), 3);
  EXPECT_EQ(Count(Layer::kQuarantine, "_reason = 'expected 6 fields, found 7' AND _line = 3"), 1);
  EXPECT_EQ(Count(Layer::kQuarantine, "_reason = 'id: required value is missing'"), 1);
  // The undated row is kept in its own partition, not dropped.
  EXPECT_EQ(Count(Layer::kQuarantine, "snapshot_date = DATE '1900-01-01' AND _raw LIKE 'C4,%'"), 1);
}

TEST_F(IngestTest, MissingFileNamesIt) {
  auto report = Ingest();
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
  EXPECT_NE(report.status().message().find("raw/people.csv"), std::string::npos);
}

TEST_F(IngestTest, EmptyFileIsAClearError) {
  WriteSource("");
  auto report = Ingest();
  EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(report.status().message().find("the file is empty"), std::string::npos);
  EXPECT_TRUE(mart().ListPartitions(Layer::kBronze, "people").empty());
}

TEST_F(IngestTest, HeaderMismatchNamesColumns) {
  WriteSource("id,Name,SSN,Age,Mix,snapshot_date,extra\nC1,A,,20,Good,2024-01-01,x\n");
  auto extra = Ingest();
  EXPECT_EQ(extra.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(extra.status().message().find("unexpected \"extra\""), std::string::npos)
      << extra.status().message();

  WriteSource("id,Name,SSN,Mix,snapshot_date\nC1,A,,Good,2024-01-01\n");
  auto missing = Ingest();
  EXPECT_NE(missing.status().message().find("missing \"Age\""), std::string::npos);

  WriteSource("id,Name,SSN,age_years,Mix,snapshot_date\nC1,A,,20,Good,2024-01-01\n");
  auto renamed = Ingest();
  EXPECT_NE(renamed.status().message().find("was \"Age\" renamed to \"age_years\"?"),
            std::string::npos)
      << renamed.status().message();
  EXPECT_TRUE(mart().ListPartitions(Layer::kBronze, "people").empty());
}

TEST_F(IngestTest, BomCrlfQuotesAndBlankLines) {
  WriteSource(std::string("\xEF\xBB\xBF") +
              "id,Name,SSN,Age,Mix,snapshot_date\r\n"
              "C1,\"Lee, Ann\",,20,Good,2024-01-01\r\n"
              "\r\n"
              "C2,\"two\r\nlines\",,21,Bad,2024-01-01\r\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->silver(), 2);
  EXPECT_EQ(report->blank_lines, 1);
  EXPECT_EQ(Count(Layer::kBronze, "Name = 'Lee, Ann' AND _line = 2"), 1);
  EXPECT_EQ(Count(Layer::kSilver, "id = 'C2' AND _line = 4 AND Mix = 'Bad'"), 1);
}

TEST_F(IngestTest, TruncatedLastLineIsQuarantined) {
  WriteSource(std::string(kHeader) + "C1,A,,20,Good,2024-01-01\nC2,\"B,,2");
  auto report = Ingest();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->bronze(), 2);
  EXPECT_EQ(report->quarantined(), 1);
  EXPECT_EQ(Count(Layer::kQuarantine,
                  "_reason LIKE 'unterminated quoted field%' AND _line = 3 AND _raw = 'C2,\"B,,2'"),
            1);
}

TEST_F(IngestTest, NonUtf8BytesAreQuarantinedWithEscapedText) {
  WriteSource(std::string(kHeader) + "C1,Jos\xE9,,20,Good,2024-01-01\nC2,B,,21,Good,2024-01-01\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->silver(), 1);
  EXPECT_EQ(Count(Layer::kQuarantine, "_reason = 'invalid UTF-8 at byte 7 of the record' AND "
                                      "_raw = 'C1,Jos\\xE9,,20,Good,2024-01-01'"),
            1);
  EXPECT_EQ(Count(Layer::kBronze, "Name = 'Jos\\xE9'"), 1);
}

TEST_F(IngestTest, DatesInTwoFormatsLandInOnePartition) {
  WriteSource(std::string(kHeader) + "C1,A,,20,Good,2024-03-01\nC2,B,,21,Good,1/3/2024\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->partitions.size(), 1u);
  EXPECT_EQ(report->partitions[0].partition.ToString(), "2024-03-01");
  EXPECT_EQ(report->partitions[0].silver, 2);
}

TEST_F(IngestTest, MonthWithNoRowsGetsAnEmptyPartition) {
  WriteSource(std::string(kHeader) + "C1,A,,20,Good,2024-01-01\nC3,B,,21,Good,2024-03-01\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->partitions.size(), 3u);
  EXPECT_EQ(report->partitions[1].partition.ToString(), "2024-02-01");
  EXPECT_EQ(report->partitions[1].bronze, 0);
  EXPECT_TRUE(std::filesystem::exists(
      mart().PartitionFile(Layer::kSilver, "people", *ParseIsoDate("2024-02-01"))));
  EXPECT_EQ(Count(Layer::kSilver, "snapshot_date = DATE '2024-02-01'"), 0);
}

TEST_F(IngestTest, DuplicateKeysAreQuarantinedWithTheFirstLine) {
  WriteSource(std::string(kHeader) + "C1,A,,20,Good,2024-01-01\nC1,A,,20,Good,2024-01-01\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(Count(Layer::kQuarantine,
                  "_line = 3 AND _reason = 'duplicate key (\"id\", \"snapshot_date\") first seen "
                  "on line 2'"),
            1);
}

TEST_F(IngestTest, DuplicateKeysAreSummarisedByTheirKeyColumns) {
  WriteSource(std::string(kHeader) + "C1,A,,20,Good,2024-01-01\nC1,A,,20,Good,2024-01-01\n" +
              "C1,A,,20,Good,2024-01-01\n");
  auto report = Ingest();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->quarantine_reasons.size(), 1u);
  EXPECT_EQ(report->quarantine_reasons.begin()->first, "duplicate key (\"id\", \"snapshot_date\")");
  EXPECT_EQ(report->quarantine_reasons.begin()->second, 2);
}

// A header line of 10 MB without a newline is named, not echoed whole.
TEST_F(IngestTest, AHugeHeaderGivesABoundedMessage) {
  WriteSource(std::string(10 << 20, 'x'));
  auto report = Ingest();
  ASSERT_FALSE(report.ok());
  EXPECT_LT(report.status().message().size(), 2000u) << report.status().message().substr(0, 3000);
  EXPECT_NE(report.status().message().find("(10485760 bytes)"), std::string::npos)
      << report.status().message().substr(0, 3000);
}

// A SIGKILL between the renames of a month's bronze, silver and quarantine files: the next
// writer's recovery completes the publication, so every month's layers come from one run.
TEST_F(IngestTest, AMonthKilledBetweenItsRenamesIsPublishedWhole) {
  const std::string v1 = std::string(kHeader) + "C1,A,,20,Good,2024-01-01\nC2,B,,21,Good,2024-01-05\n" +
                         "C3,C,,22,Good,2024-02-01\n";
  // Re-delivered data with other counts in both months: more rows, and quarantined ones.
  std::string v2 = std::string(kHeader);
  for (int i = 0; i < 40; ++i) {
    v2 += "D" + std::to_string(i) + ",N,," + (i % 4 == 0 ? "500" : "30") + ",Good,2024-0" +
          std::to_string(1 + i % 2) + "-1" + std::to_string(i % 9) + "\n";
  }
  for (const std::string point : {"publish:0", "publish:1", "publish:2", "publish:3"}) {
    SCOPED_TRACE(point);
    std::filesystem::remove_all(project_.workspace.root() / "datamart");
    WriteSource(v1);
    ASSERT_TRUE(Ingest().ok());
    WriteSource(v2);
    const pid_t child = ::fork();
    if (child == 0) {
      IngestOptions options;
      options.threads = 1;
      options.fault_hook = [&](const std::string& at) {
        if (at == point) ::kill(::getpid(), SIGKILL);
      };
      (void)Ingest(options);
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the fault hook did not fire";
    // The next writer recovers before anything reads.
    ASSERT_TRUE(mart().RecoverPublishes().ok());
    EXPECT_FALSE(std::filesystem::exists(mart().JournalDir()) &&
                 !std::filesystem::is_empty(mart().JournalDir()));
    for (const char* month : {"2024-01-01", "2024-02-01"}) {
      const std::string where = "snapshot_date = DATE '" + std::string(month) + "'";
      const int64_t bronze = Count(Layer::kBronze, where);
      EXPECT_EQ(bronze, Count(Layer::kSilver, where) + Count(Layer::kQuarantine, where)) << month;
      // All of v1 (2 or 1 rows) or all of v2 (20 rows): never a mix.
      EXPECT_TRUE(bronze == 20 || bronze == (month[6] == '1' ? 2 : 1)) << month << ": " << bronze;
    }
    // January (published first) was being published when the kill came: its journal was
    // written, so it is v2 whole; February was not reached and is still v1 whole.
    EXPECT_EQ(Count(Layer::kBronze, "snapshot_date = DATE '2024-01-01'"), 20);
    EXPECT_EQ(Count(Layer::kBronze, "snapshot_date = DATE '2024-02-01'"), 1);
  }
}

TEST_F(IngestTest, RerunOfOneMonthReplacesOnlyThatMonth) {
  WriteSource(std::string(kHeader) + "C1,A,,20,Good,2024-01-01\nC2,B,,21,Good,2024-02-01\n");
  ASSERT_TRUE(Ingest().ok());
  const auto jan = mart().PartitionFile(Layer::kSilver, "people", *ParseIsoDate("2024-01-01"));
  const auto jan_time = std::filesystem::last_write_time(jan);
  WriteSource(std::string(kHeader) + "C1,A,,20,Good,2024-01-01\nC2,B,,21,Good,2024-02-01\n"
              "C3,C,,22,Bad,2024-02-01\n");
  IngestOptions options;
  options.from = *Month::Parse("2024-02");
  options.to = *Month::Parse("2024-02");
  auto report = Ingest(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->out_of_range, 1);
  ASSERT_EQ(report->partitions.size(), 1u);
  EXPECT_EQ(std::filesystem::last_write_time(jan), jan_time);
  EXPECT_EQ(Count(Layer::kSilver, "snapshot_date = DATE '2024-02-01'"), 2);
  EXPECT_EQ(Count(Layer::kSilver), 3);
}

// A source with every record shape pass 1 must keep in order whatever the block boundaries:
// quoted newlines (LF and CRLF), doubled quotes, a quote inside an unquoted field, blank and
// CRLF lines, duplicate keys far apart, invalid UTF-8, text after a closing quote, a wrong
// field count, undated rows and a truncated quoted last line.
std::string TrickySource() {
  std::string s = kHeader;
  for (int i = 0; i < 60; ++i) {
    const std::string id = "C" + std::to_string(i % 45);  // ids 0..14 repeat
    const std::string date =
        (i % 3 == 0 ? "2024-0" : "1/") + std::string(i % 3 == 0 ? "1-01" : "2/2024");
    switch (i % 9) {
      case 0:
        s += id + ",\"Lee,\nAnn\",,20,Good," + date + "\n";
        break;
      case 1:
        s += id + ",\"say \"\"hi\"\"\r\nthere\",,21_,Bad," + date + "\r\n";
        break;
      case 2:
        s += id + ",ab\"c,,22,Good," + date + "\n\n";
        break;
      case 3:
        s += id + ",Jos\xE9,,23,Good," + date + "\n";
        break;
      case 4:
        s += id + ",\"x\"y,,24,Good," + date + "\n\r\n";
        break;
      case 5:
        s += id + ",A,,25,Good," + date + ",EXTRA\n";
        break;
      case 6:
        s += id + ",B,,26,Good,someday\n";
        break;
      case 7:
        s += id + ",\"\n\n\",#F%$D@*&8,-500,_," + date + "\n";
        break;
      default:
        s += id + ",C,123,27,Good," + date + "\n";
        break;
    }
  }
  return s + "C99,\"never closed,,1,Good,2024-01-01\n";
}

TEST_F(IngestTest, BlockBoundariesNeverChangeTheResult) {
  WriteSource(TrickySource());
  IngestOptions sequential;  // one block, one thread: a plain sequential read
  sequential.threads = 1;
  sequential.split_block_bytes = 1 << 30;
  auto expected = Ingest(sequential);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  ASSERT_GT(expected->quarantined(), 10);
  ASSERT_GT(expected->blank_lines, 5);
  std::vector<std::vector<std::vector<std::string>>> want;
  for (Layer l : {Layer::kBronze, Layer::kSilver, Layer::kQuarantine}) {
    want.push_back(Snapshot(l));
  }
  for (int threads : {1, 2}) {
    for (uint64_t block : {1, 2, 3, 7, 16, 61, 200}) {
      IngestOptions options;
      options.threads = threads;
      options.split_block_bytes = block;
      auto report = Ingest(options);
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      const std::string where =
          "threads " + std::to_string(threads) + ", block " + std::to_string(block);
      EXPECT_EQ(report->records, expected->records) << where;
      EXPECT_EQ(report->blank_lines, expected->blank_lines) << where;
      EXPECT_EQ(report->quarantine_reasons, expected->quarantine_reasons) << where;
      EXPECT_EQ(report->nulled, expected->nulled) << where;
      int i = 0;
      for (Layer l : {Layer::kBronze, Layer::kSilver, Layer::kQuarantine}) {
        EXPECT_EQ(Snapshot(l), want[i++]) << where << ", " << LayerName(l);
      }
    }
  }
}

}  // namespace
}  // namespace riskpipe::ingest
