#pragma once
// Calendar dates and months without time zones. Date counts days since 1970-01-01 (the
// same epoch as DuckDB's DATE), Month is a calendar month. Plain values; thread-safe.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace riskpipe {

struct CivilDay {
  int year;
  int month;  // 1..12
  int day;    // 1..31
};

class Date {
 public:
  Date() = default;
  static constexpr Date FromDays(int32_t days) { return Date(days); }
  // Requires a valid civil date (see IsValidCivil).
  static Date FromCivil(int year, int month, int day);
  static bool IsValidCivil(int year, int month, int day);

  int32_t days() const { return days_; }
  CivilDay civil() const;
  // "YYYY-MM-DD".
  std::string ToString() const;
  Date AddDays(int32_t n) const { return Date(days_ + n); }
  // Adds calendar months, clamping the day to the target month's length.
  Date AddMonths(int n) const;

  auto operator<=>(const Date&) const = default;

 private:
  constexpr explicit Date(int32_t days) : days_(days) {}
  int32_t days_ = 0;
};

// Parses "YYYY-MM-DD" strictly (4-digit year, 2-digit month and day, real calendar day).
std::optional<Date> ParseIsoDate(std::string_view text);
// Parses "d/m/yyyy" (1-2 digit day and month, 4-digit year): the spreadsheet re-save format.
std::optional<Date> ParseDayMonthYear(std::string_view text);

class Month {
 public:
  Month() = default;
  static Month Of(int year, int month) { return Month(year * 12 + (month - 1)); }
  static Month Of(Date d);
  // Parses "YYYY-MM" or "YYYY-MM-DD" (the day must be 01 for the latter).
  static StatusOr<Month> Parse(std::string_view text);

  int year() const { return index_ / 12; }
  int month() const { return index_ % 12 + 1; }
  Date first_day() const { return Date::FromCivil(year(), month(), 1); }
  Month Next(int n = 1) const { return Month(index_ + n); }
  int index() const { return index_; }
  // "YYYY-MM".
  std::string ToString() const;

  auto operator<=>(const Month&) const = default;

 private:
  explicit Month(int index) : index_(index) {}
  int index_ = 0;
};

}  // namespace riskpipe
