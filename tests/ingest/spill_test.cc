#include "ingest/spill.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace riskpipe::ingest::internal {
namespace {

using riskpipe::testing::TempDir;

// Parses `csv` (header first), spills every record, reads the spill back and checks that each
// record comes back exactly: fields, raw bytes, line, flags and duplicate mark.
void ExpectRoundTrip(const std::string& csv) {
  TempDir dir;
  auto reader = CsvReader::Open(dir.Write("in.csv", csv));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->ReadHeader().ok());
  auto writer = SpillWriter::Create(dir.path() / "spill");
  ASSERT_TRUE(writer.ok());
  std::vector<std::vector<std::string>> fields;
  std::vector<std::string> raws;
  std::vector<CsvRecord> recs;
  CsvRecord rec;
  while (*(*reader)->Next(rec)) {
    if (rec.blank) continue;
    ASSERT_TRUE((*writer)->Add(rec, rec.line * 10).ok());
    fields.emplace_back(rec.fields.begin(), rec.fields.end());
    raws.emplace_back(rec.raw);
    recs.push_back(rec);
  }
  ASSERT_TRUE((*writer)->Close().ok());
  auto spill = SpillReader::Open(dir.path() / "spill");
  ASSERT_TRUE(spill.ok());
  SpillRecord back;
  for (size_t i = 0; i < recs.size(); ++i) {
    auto more = (*spill)->Next(back);
    ASSERT_TRUE(more.ok() && *more) << i;
    EXPECT_EQ(std::vector<std::string>(back.fields.begin(), back.fields.end()), fields[i]) << i;
    EXPECT_EQ(back.raw, raws[i]) << i;
    EXPECT_EQ(back.line, recs[i].line);
    EXPECT_EQ(back.duplicate_of, recs[i].line * 10);
    EXPECT_EQ(back.unterminated_quote, recs[i].unterminated_quote);
    EXPECT_EQ(back.bad_quote, recs[i].bad_quote);
    EXPECT_EQ(back.invalid_utf8_at, recs[i].invalid_utf8_at);
  }
  auto end = (*spill)->Next(back);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
}

TEST(Spill, PlainRecordsRoundTrip) { ExpectRoundTrip("a,b,c\n1,22,333\n,,\nx,,z\r\n\xE9,t,\n"); }

TEST(Spill, QuotedAndLongFieldsRoundTrip) {
  ExpectRoundTrip("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"\"\n1,\"two\nlines\"z,3\n" +
                  std::string(300, 'w') + ",2,3\n4,5,\"open");
}

TEST(Spill, DelimiterAsTheLastByteGivesAnEmptyLastField) { ExpectRoundTrip("a,b\n1,"); }

}  // namespace
}  // namespace riskpipe::ingest::internal
