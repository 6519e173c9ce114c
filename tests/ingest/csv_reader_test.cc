#include "ingest/csv_reader.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace riskpipe::ingest {
namespace {

using riskpipe::testing::TempDir;

struct Parsed {
  std::vector<std::string> header;
  std::vector<CsvRecord> records;            // views are invalid; use the copies below
  std::vector<std::vector<std::string>> fields;
  std::vector<std::string> raws;
};

Parsed ParseText(const std::string& text) {
  TempDir dir;
  const auto path = dir.Write("in.csv", text);
  auto reader = CsvReader::Open(path);
  EXPECT_TRUE(reader.ok());
  Parsed out;
  auto header = (*reader)->ReadHeader();
  EXPECT_TRUE(header.ok()) << header.status().ToString();
  if (!header.ok()) return out;
  out.header = *header;
  CsvRecord rec;
  while (true) {
    auto more = (*reader)->Next(rec);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    out.records.push_back(rec);
    out.fields.emplace_back(rec.fields.begin(), rec.fields.end());
    out.raws.emplace_back(rec.raw);
  }
  return out;
}

TEST(CsvReader, StripsBomAndHandlesCrlf) {
  const Parsed p = ParseText("\xEF\xBB\xBF" "a,b\r\n1,2\r\n3,4\r\n");
  ASSERT_EQ(p.header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[1], (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(p.raws[0], "1,2");
  EXPECT_EQ(p.records[1].line, 3);
}

TEST(CsvReader, QuotedFieldsWithDelimitersQuotesAndNewlines) {
  const Parsed p = ParseText("a,b,c\n\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\nlast,1,2\n");
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[0], (std::vector<std::string>{"x, y", "he said \"hi\"", "two\nlines"}));
  EXPECT_EQ(p.records[0].line, 2);
  EXPECT_EQ(p.records[1].line, 4);  // the quoted newline moved the line count on
  EXPECT_FALSE(p.records[0].bad_quote);
}

TEST(CsvReader, TwoEscapedFieldsInOneRecordStayDistinct) {
  const Parsed p = ParseText("a,b\n\"1\"\"\",\"2\"\"\"\n");
  ASSERT_EQ(p.fields.size(), 1u);
  EXPECT_EQ(p.fields[0], (std::vector<std::string>{"1\"", "2\""}));
}

TEST(CsvReader, BlankLinesAreReportedNotDropped) {
  const Parsed p = ParseText("a\n1\n\n\r\n2\n");
  ASSERT_EQ(p.records.size(), 4u);
  EXPECT_FALSE(p.records[0].blank);
  EXPECT_TRUE(p.records[1].blank);
  EXPECT_TRUE(p.records[2].blank);
  EXPECT_EQ(p.fields[3], std::vector<std::string>{"2"});
  EXPECT_EQ(p.records[3].line, 5);
}

TEST(CsvReader, LastLineWithoutNewlineIsARecord) {
  const Parsed p = ParseText("a,b\n1,2\n3,4");
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[1], (std::vector<std::string>{"3", "4"}));
}

TEST(CsvReader, TruncatedQuotedLastLineIsFlagged) {
  const Parsed p = ParseText("a,b\n1,2\n3,\"unfinished");
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_TRUE(p.records[1].unterminated_quote);
  EXPECT_EQ(p.raws[1], "3,\"unfinished");
}

TEST(CsvReader, InvalidUtf8IsLocated) {
  const Parsed p = ParseText("a,b\nok,\xE9t\xE9\n");
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.records[0].invalid_utf8_at, 3);
  EXPECT_EQ(EscapeInvalidUtf8("ok,\xE9t"), "ok,\\xE9t");
  EXPECT_EQ(FindInvalidUtf8("caf\xC3\xA9"), -1);  // valid two-byte sequence
}

TEST(CsvReader, TextAfterClosingQuoteIsFlagged) {
  const Parsed p = ParseText("a,b\n\"x\"y,2\n");
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_TRUE(p.records[0].bad_quote);
}

TEST(CsvReader, RecordsLargerThanTheReadBlockAreWhole) {
  std::string big(9 << 20, 'z');  // larger than the 4 MiB read block
  const Parsed p = ParseText("a,b\n1,\"" + big + "\"\n2,3\n");
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[0][1].size(), big.size());
  EXPECT_EQ(p.fields[1], (std::vector<std::string>{"2", "3"}));
}

// Reads the records starting in [begin, stop) with a range reader.
std::vector<CsvRecord> ReadRange(const std::filesystem::path& path, uint64_t begin, uint64_t stop,
                                 uint64_t give_up_at, std::unique_ptr<CsvReader>* keep) {
  auto reader = CsvReader::OpenRange(path, ',', begin, stop, give_up_at);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<CsvRecord> out;
  CsvRecord rec;
  while (reader.ok()) {
    auto more = (*reader)->Next(rec);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    out.push_back(rec);
  }
  if (reader.ok()) *keep = std::move(*reader);
  return out;
}

TEST(CsvReader, RangeReadsRecordsStartingBeforeItsStop) {
  TempDir dir;
  // Offsets: "a,b\n" 0-3, "1,2\n" 4-7, "3,\"x\ny\"\n" 8-15, "5,6\n" 16-19.
  const auto path = dir.Write("in.csv", "a,b\n1,2\n3,\"x\ny\"\n5,6\n");
  std::unique_ptr<CsvReader> reader;
  // Records starting at 4 and 8; the second runs past the stop (10) and is whole.
  const auto recs = ReadRange(path, 4, 10, UINT64_MAX, &reader);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].line, 0);  // lines count from the range's start
  EXPECT_EQ(recs[1].line, 1);
  EXPECT_EQ(recs[1].raw, "3,\"x\ny\"");
  EXPECT_EQ(reader->bytes_consumed(), 16u);
  EXPECT_EQ(reader->line(), 3);
  EXPECT_FALSE(reader->gave_up());
}

TEST(CsvReader, RangeGivesUpOnARecordRunningPastItsLimit) {
  TempDir dir;
  // Longer than what a range reader reads past its stop in one go (64 KiB).
  const auto path = dir.Write("in.csv", "a,b\n1,\"" + std::string(200000, 'q') + "\"\n2,3\n");
  std::unique_ptr<CsvReader> reader;
  const auto recs = ReadRange(path, 4, 8, 100, &reader);
  EXPECT_TRUE(recs.empty());
  EXPECT_TRUE(reader->gave_up());
}

TEST(CsvReader, EmptyFileIsAnError) {
  TempDir dir;
  auto reader = CsvReader::Open(dir.Write("empty.csv", ""));
  ASSERT_TRUE(reader.ok());
  const auto header = (*reader)->ReadHeader();
  EXPECT_EQ(header.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(header.status().message().find("empty.csv: the file is empty"), std::string::npos);
}

TEST(CsvReader, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(CsvReader::Open(dir.path() / "nope.csv").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace riskpipe::ingest
