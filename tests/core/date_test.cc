#include "core/date.h"

#include <gtest/gtest.h>

namespace riskpipe {
namespace {

TEST(Date, RoundTripsCivilDays) {
  for (int32_t d = -800000; d < 800000; d += 997) {
    const Date date = Date::FromDays(d);
    const CivilDay c = date.civil();
    EXPECT_EQ(Date::FromCivil(c.year, c.month, c.day).days(), d);
  }
  EXPECT_EQ(Date::FromCivil(1970, 1, 1).days(), 0);
  EXPECT_EQ(Date::FromCivil(2024, 3, 1).ToString(), "2024-03-01");
}

TEST(Date, ParsesIsoStrictly) {
  EXPECT_EQ(ParseIsoDate("2023-01-31")->ToString(), "2023-01-31");
  EXPECT_FALSE(ParseIsoDate("2023-02-30"));
  EXPECT_FALSE(ParseIsoDate("2023-1-01"));
  EXPECT_FALSE(ParseIsoDate("2023-01-01 "));
  EXPECT_EQ(ParseIsoDate("3021-09-17")->civil().year, 3021);
}

TEST(Date, ParsesDayMonthYear) {
  EXPECT_EQ(ParseDayMonthYear("1/5/2023")->ToString(), "2023-05-01");
  EXPECT_EQ(ParseDayMonthYear("31/12/2024")->ToString(), "2024-12-31");
  EXPECT_FALSE(ParseDayMonthYear("31/2/2024"));
  EXPECT_FALSE(ParseDayMonthYear("1/5/23"));
}

TEST(Date, AddMonthsClampsDay) {
  EXPECT_EQ(ParseIsoDate("2024-01-31")->AddMonths(1).ToString(), "2024-02-29");
  EXPECT_EQ(ParseIsoDate("2023-07-01")->AddMonths(6).ToString(), "2024-01-01");
  EXPECT_EQ(ParseIsoDate("2023-03-01")->AddMonths(-3).ToString(), "2022-12-01");
}

TEST(Month, ParsesAndSteps) {
  EXPECT_EQ(Month::Parse("2024-12")->Next().ToString(), "2025-01");
  EXPECT_EQ(Month::Parse("2024-03-01")->first_day().ToString(), "2024-03-01");
  EXPECT_EQ(Month::Parse("2024-13").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Month::Parse("2024-03-02").status().code(), StatusCode::kInvalidArgument);
  EXPECT_LT(*Month::Parse("2023-12"), *Month::Parse("2024-01"));
}

}  // namespace
}  // namespace riskpipe
