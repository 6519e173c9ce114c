#pragma once
// Fast CSV field formatting into a std::string: integers, floats written the way Python and
// Spark print them (shortest round-trip digits, always with a decimal point: `1000.0`), and
// dates. No locale, no iostreams. Free functions on caller-owned strings; thread-safe.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/date.h"

namespace riskpipe::synth {

inline void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

// Shortest digits that read back to the same double, in fixed notation, with ".0" added to
// whole numbers (Python's repr for the magnitudes we write).
inline void AppendFloat(std::string& out, double v) {
  char buf[400];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  out.append(buf, res.ptr);
  if (std::string_view(buf, static_cast<size_t>(res.ptr - buf)).find('.') ==
      std::string_view::npos) {
    out.append(".0");
  }
}

inline void AppendDigits(std::string& out, int v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

// "YYYY-MM-DD".
inline void AppendIsoDate(std::string& out, Date d) {
  const CivilDay c = d.civil();
  AppendDigits(out, c.year, 4);
  out.push_back('-');
  AppendDigits(out, c.month, 2);
  out.push_back('-');
  AppendDigits(out, c.day, 2);
}

// "d/m/yyyy" without zero padding: the spreadsheet re-save format of data-spec A.1.
inline void AppendDayMonthYear(std::string& out, Date d) {
  const CivilDay c = d.civil();
  AppendInt(out, c.day);
  out.push_back('/');
  AppendInt(out, c.month);
  out.push_back('/');
  AppendInt(out, c.year);
}

}  // namespace riskpipe::synth
