#include "ingest/cleaning.h"

#include <gtest/gtest.h>

namespace riskpipe::ingest {
namespace {

config::Column Col(std::string name, config::ColumnType type) {
  config::Column c;
  c.name = std::move(name);
  c.type = type;
  return c;
}

TEST(Cleaning, StripUnderscoresThenRangeNullsAbsurdAge) {
  config::Column c = Col("Age", config::ColumnType::kInt);
  c.rules = {config::Rule::kStripUnderscores};
  c.min = 14;
  c.max = 100;
  ColumnCleaner cleaner(c);
  Cell cell;
  std::string reason;
  EXPECT_EQ(cleaner.Clean("40_", cell, reason), CleanOutcome::kOk);
  EXPECT_EQ(cell.i, 40);
  EXPECT_EQ(cleaner.Clean("-500", cell, reason), CleanOutcome::kNulled);
  EXPECT_TRUE(cell.is_null);
  EXPECT_EQ(reason, "Age: \"-500\" is below min 14");
  EXPECT_EQ(cleaner.Clean("3843_", cell, reason), CleanOutcome::kNulled);
  EXPECT_EQ(reason, "Age: \"3843_\" is above max 100");
}

TEST(Cleaning, SentinelsBecomeNull) {
  config::Column c = Col("Amount_invested_monthly", config::ColumnType::kFloat);
  c.rules = {config::Rule::kStripUnderscores};
  c.max = 5000;
  ColumnCleaner cleaner(c);
  Cell cell;
  std::string reason;
  EXPECT_EQ(cleaner.Clean("__10000__", cell, reason), CleanOutcome::kNulled);
  EXPECT_EQ(cleaner.Clean("_", cell, reason), CleanOutcome::kOk);  // "_" alone means missing
  EXPECT_TRUE(cell.is_null);
  EXPECT_EQ(cleaner.Clean("113781.38999999998", cell, reason), CleanOutcome::kNulled);
  EXPECT_EQ(cleaner.Clean("134.5", cell, reason), CleanOutcome::kOk);
  EXPECT_DOUBLE_EQ(cell.d, 134.5);
}

TEST(Cleaning, CategoryNullTokensAndUnknownLevels) {
  config::Column c = Col("Credit_Mix", config::ColumnType::kCategory);
  c.levels = {"Good", "Standard", "Bad"};
  c.null_values = {"_"};
  ColumnCleaner cleaner(c);
  Cell cell;
  std::string reason;
  EXPECT_EQ(cleaner.Clean("_", cell, reason), CleanOutcome::kOk);
  EXPECT_TRUE(cell.is_null);
  EXPECT_EQ(cleaner.Clean("Bad", cell, reason), CleanOutcome::kOk);
  EXPECT_EQ(cell.s, "Bad");
  EXPECT_EQ(cleaner.Clean("Excellent", cell, reason), CleanOutcome::kNulled);
}

TEST(Cleaning, YearsAndMonthsToMonths) {
  config::Column c = Col("Credit_History_Age", config::ColumnType::kInt);
  c.rules = {config::Rule::kYearsMonthsToMonths};
  ColumnCleaner cleaner(c);
  Cell cell;
  std::string reason;
  EXPECT_EQ(cleaner.Clean("22 Years and 1 Months", cell, reason), CleanOutcome::kOk);
  EXPECT_EQ(cell.i, 265);
  EXPECT_EQ(cleaner.Clean("NA", cell, reason), CleanOutcome::kNulled);
}

TEST(Cleaning, IntegralFloatsAreWholeNumbers) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64("11.0", v));
  EXPECT_EQ(v, 11);
  EXPECT_FALSE(ParseInt64("11.5", v));
  EXPECT_FALSE(ParseInt64("12_x", v));
}

TEST(Cleaning, RequiredMissingValueQuarantines) {
  config::Column c = Col("Customer_ID", config::ColumnType::kString);
  c.required = true;
  ColumnCleaner cleaner(c);
  Cell cell;
  std::string reason;
  EXPECT_EQ(cleaner.Clean("", cell, reason), CleanOutcome::kQuarantine);
  EXPECT_EQ(reason, "Customer_ID: required value is missing");
}

TEST(Cleaning, DatesInTwoFormats) {
  config::Column c = Col("snapshot_date", config::ColumnType::kDate);
  c.date_formats = {config::DateFormat::kIso, config::DateFormat::kDayMonthYear};
  ColumnCleaner cleaner(c);
  Cell cell;
  std::string reason;
  ASSERT_EQ(cleaner.Clean("1/5/2023", cell, reason), CleanOutcome::kOk);
  EXPECT_EQ(cell.date.ToString(), "2023-05-01");
  ASSERT_EQ(cleaner.Clean("2023-05-01", cell, reason), CleanOutcome::kOk);
  EXPECT_EQ(cleaner.Clean("May 2023", cell, reason), CleanOutcome::kNulled);
}

TEST(Cleaning, IsoDatesAgreeWithTheCoreParser) {
  config::Column c = Col("d", config::ColumnType::kDate);
  c.date_formats = {config::DateFormat::kIso};
  ColumnCleaner cleaner(c);
  for (std::string_view text :
       {"2024-02-29", "2023-02-29", "2023-04-31", "2023-12-31", "0001-01-01", "0000-01-01",
        "9999-12-31", "2024-13-01", "2024-00-10", "2024-01-00", "2024-1-01", "2024/01/01",
        "2024-01-0a", "+024-01-01", " 024-01-01", "2024-01-011",
        "\xEF\xBC\x92"
        "024-01-01"}) {
    Cell cell;
    std::string reason;
    const auto expected = ParseIsoDate(text);
    const CleanOutcome o = cleaner.Clean(text, cell, reason);
    EXPECT_EQ(o == CleanOutcome::kOk, expected.has_value()) << text;
    if (expected && o == CleanOutcome::kOk) {
      EXPECT_EQ(cell.date, *expected) << text;
    }
  }
}

TEST(Cleaning, QuarantineOnInvalidWhenConfigured) {
  config::Column c = Col("paid_amt", config::ColumnType::kFloat);
  c.min = 0;
  c.on_invalid = config::OnInvalid::kQuarantine;
  ColumnCleaner cleaner(c);
  Cell cell;
  std::string reason;
  EXPECT_EQ(cleaner.Clean("-1000.0", cell, reason), CleanOutcome::kQuarantine);
  EXPECT_EQ(reason, "paid_amt: \"-1000.0\" is below min 0");
}

}  // namespace
}  // namespace riskpipe::ingest
