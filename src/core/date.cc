#include "core/date.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace riskpipe {
namespace {

// Days from civil, the proleptic Gregorian algorithm of H. Hinnant's "chrono-compatible
// low-level date algorithms" (public domain description).
int32_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

CivilDay CivilFromDays(int32_t z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDay{y + (m <= 2), static_cast<int>(m), static_cast<int>(d)};
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

bool ParseDigits(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool Date::IsValidCivil(int year, int month, int day) {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
         day <= DaysInMonth(year, month);
}

Date Date::FromCivil(int year, int month, int day) {
  return Date(DaysFromCivil(year, month, day));
}

CivilDay Date::civil() const { return CivilFromDays(days_); }

std::string Date::ToString() const {
  const CivilDay c = civil();
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", c.year, c.month, c.day);
  return buf;
}

Date Date::AddMonths(int n) const {
  const CivilDay c = civil();
  const int index = c.year * 12 + (c.month - 1) + n;
  const int y = index / 12;
  const int m = index % 12 + 1;
  const int d = std::min(c.day, DaysInMonth(y, m));
  return FromCivil(y, m, d);
}

std::optional<Date> ParseIsoDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  if (!ParseDigits(t.substr(0, 4), y) || !ParseDigits(t.substr(5, 2), m) ||
      !ParseDigits(t.substr(8, 2), d)) {
    return std::nullopt;
  }
  if (!Date::IsValidCivil(y, m, d)) return std::nullopt;
  return Date::FromCivil(y, m, d);
}

std::optional<Date> ParseDayMonthYear(std::string_view t) {
  const size_t a = t.find('/');
  if (a == std::string_view::npos) return std::nullopt;
  const size_t b = t.find('/', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  const std::string_view ds = t.substr(0, a), ms = t.substr(a + 1, b - a - 1),
                         ys = t.substr(b + 1);
  if (ds.size() > 2 || ms.size() > 2 || ys.size() != 4) return std::nullopt;
  int y = 0, m = 0, d = 0;
  if (!ParseDigits(ds, d) || !ParseDigits(ms, m) || !ParseDigits(ys, y)) return std::nullopt;
  if (!Date::IsValidCivil(y, m, d)) return std::nullopt;
  return Date::FromCivil(y, m, d);
}

Month Month::Of(Date d) {
  const CivilDay c = d.civil();
  return Of(c.year, c.month);
}

StatusOr<Month> Month::Parse(std::string_view text) {
  if (text.size() == 10) {
    auto d = ParseIsoDate(text);
    if (!d || d->civil().day != 1) {
      return InvalidArgumentError("month \"" + std::string(text) +
                                  "\" must be YYYY-MM or the first day YYYY-MM-01");
    }
    return Of(*d);
  }
  int y = 0, m = 0;
  if (text.size() != 7 || text[4] != '-' || !ParseDigits(text.substr(0, 4), y) ||
      !ParseDigits(text.substr(5, 2), m) || m < 1 || m > 12 || y < 1) {
    return InvalidArgumentError("month \"" + std::string(text) + "\" is not YYYY-MM");
  }
  return Of(y, m);
}

std::string Month::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d", year(), month());
  return buf;
}

}  // namespace riskpipe
