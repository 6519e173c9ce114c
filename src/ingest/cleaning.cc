#include "ingest/cleaning.h"

#include <charconv>
#include <cmath>

namespace riskpipe::ingest {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view StripUnderscores(std::string_view s) {
  while (!s.empty() && s.front() == '_') s.remove_prefix(1);
  while (!s.empty() && s.back() == '_') s.remove_suffix(1);
  return s;
}

std::string Shown(std::string_view raw) {
  constexpr size_t kMax = 60;  // keep messages one line long
  std::string s(raw.substr(0, kMax));
  if (raw.size() > kMax) s += "...";
  return "\"" + s + "\"";
}

// ParseIsoDate without its general-purpose number parsing: the same answers (exactly
// "YYYY-MM-DD", a real calendar day), several times faster, for the one or two dates of
// every row.
std::optional<Date> IsoDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int v[8];
  static constexpr int kDigitAt[8] = {0, 1, 2, 3, 5, 6, 8, 9};
  for (int i = 0; i < 8; ++i) {
    const int c = static_cast<unsigned char>(t[kDigitAt[i]]) - '0';
    if (c < 0 || c > 9) return std::nullopt;
    v[i] = c;
  }
  const int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
  const int m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
  if (!Date::IsValidCivil(y, m, d)) return std::nullopt;
  return Date::FromCivil(y, m, d);
}

std::string Num(double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, p) : std::to_string(v);
}

}  // namespace

bool ParseDouble(std::string_view text, double& out) {
  if (text.empty()) return false;
  const char* b = text.data();
  const char* e = b + text.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && std::isfinite(out);
}

bool ParseInt64(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  const char* b = text.data();
  const char* e = b + text.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  if (ec == std::errc() && p == e) return true;
  double d = 0;
  // 2^53: beyond it a double no longer holds every integer exactly.
  if (!ParseDouble(text, d) || d != std::floor(d) || std::fabs(d) > 9007199254740992.0) {
    return false;
  }
  out = static_cast<int64_t>(d);
  return true;
}

bool ParseYearsAndMonths(std::string_view t, int64_t& months) {
  // "<int> Years and <int> Months"
  int64_t years = 0, m = 0;
  const char* b = t.data();
  const char* e = b + t.size();
  auto r1 = std::from_chars(b, e, years);
  if (r1.ec != std::errc()) return false;
  constexpr std::string_view kMid = " Years and ";
  std::string_view rest(r1.ptr, static_cast<size_t>(e - r1.ptr));
  if (rest.substr(0, kMid.size()) != kMid) return false;
  rest.remove_prefix(kMid.size());
  auto r2 = std::from_chars(rest.data(), rest.data() + rest.size(), m);
  if (r2.ec != std::errc()) return false;
  if (std::string_view(r2.ptr, static_cast<size_t>(rest.data() + rest.size() - r2.ptr)) !=
      " Months") {
    return false;
  }
  if (years < 0 || m < 0 || m > 11) return false;
  months = years * 12 + m;
  return true;
}

ColumnCleaner::ColumnCleaner(const config::Column& column) : column_(column) {}

bool ColumnCleaner::ApplyRules(std::string_view& text, int64_t& rule_int, bool& have_rule_int,
                               std::string& reason) const {
  for (config::Rule r : column_.rules) {
    switch (r) {
      case config::Rule::kTrim: text = Trim(text); break;
      case config::Rule::kStripUnderscores: text = StripUnderscores(text); break;
      case config::Rule::kYearsMonthsToMonths:
        if (text.empty()) break;
        if (!ParseYearsAndMonths(text, rule_int)) {
          reason = column_.name + ": " + Shown(text) + " is not \"X Years and Y Months\"";
          return false;
        }
        have_rule_int = true;
        break;
    }
  }
  return true;
}

CleanOutcome ColumnCleaner::Invalid(std::string_view raw, const std::string& problem, Cell& cell,
                                    std::string& reason) const {
  cell.is_null = true;
  reason = column_.name + ": " + Shown(raw) + " " + problem;
  if (column_.required) return CleanOutcome::kQuarantine;
  return column_.on_invalid == config::OnInvalid::kQuarantine ? CleanOutcome::kQuarantine
                                                              : CleanOutcome::kNulled;
}

CleanOutcome ColumnCleaner::Clean(std::string_view raw, Cell& cell, std::string& reason) const {
  cell.is_null = true;
  std::string_view text = raw;
  int64_t rule_int = 0;
  bool have_rule_int = false;
  if (!column_.rules.empty() && !ApplyRules(text, rule_int, have_rule_int, reason)) {
    return column_.on_invalid == config::OnInvalid::kQuarantine ? CleanOutcome::kQuarantine
                                                                : CleanOutcome::kNulled;
  }
  bool is_null = text.empty();
  for (const std::string& token : column_.null_values) {
    if (text == token) is_null = true;
  }
  if (is_null) {
    if (column_.required) {
      reason = column_.name + ": required value is missing" +
               (raw.empty() ? std::string() : " (" + Shown(raw) + ")");
      return CleanOutcome::kQuarantine;
    }
    return CleanOutcome::kOk;
  }

  switch (column_.type) {
    case config::ColumnType::kString:
      cell.s = text;
      break;
    case config::ColumnType::kCategory: {
      bool found = false;
      for (const std::string& level : column_.levels) {
        if (text == level) {
          cell.s = level;
          found = true;
          break;
        }
      }
      if (!found) return Invalid(raw, "is not one of the allowed levels", cell, reason);
      break;
    }
    case config::ColumnType::kBool: {
      if (text == "1" || text == "true" || text == "True" || text == "Y" || text == "yes") {
        cell.i = 1;
      } else if (text == "0" || text == "false" || text == "False" || text == "N" || text == "no") {
        cell.i = 0;
      } else {
        return Invalid(raw, "is not a yes/no value", cell, reason);
      }
      break;
    }
    case config::ColumnType::kInt: {
      int64_t v = rule_int;
      if (!have_rule_int && !ParseInt64(text, v)) return Invalid(raw, "is not a whole number", cell, reason);
      if (column_.min && static_cast<double>(v) < *column_.min) {
        return Invalid(raw, "is below min " + Num(*column_.min), cell, reason);
      }
      if (column_.max && static_cast<double>(v) > *column_.max) {
        return Invalid(raw, "is above max " + Num(*column_.max), cell, reason);
      }
      cell.i = v;
      break;
    }
    case config::ColumnType::kFloat: {
      double v = static_cast<double>(rule_int);
      if (!have_rule_int && !ParseDouble(text, v)) return Invalid(raw, "is not a number", cell, reason);
      if (column_.min && v < *column_.min) {
        return Invalid(raw, "is below min " + Num(*column_.min), cell, reason);
      }
      if (column_.max && v > *column_.max) {
        return Invalid(raw, "is above max " + Num(*column_.max), cell, reason);
      }
      cell.d = v;
      break;
    }
    case config::ColumnType::kDate: {
      std::optional<Date> d;
      for (config::DateFormat f : column_.date_formats) {
        d = f == config::DateFormat::kIso ? IsoDate(text) : ParseDayMonthYear(text);
        if (d) break;
      }
      if (!d) return Invalid(raw, "is not a date in the configured formats", cell, reason);
      if (column_.min_date && *d < *column_.min_date) {
        return Invalid(raw, "is before min " + column_.min_date->ToString(), cell, reason);
      }
      if (column_.max_date && *d > *column_.max_date) {
        return Invalid(raw, "is after max " + column_.max_date->ToString(), cell, reason);
      }
      cell.date = *d;
      break;
    }
  }
  cell.is_null = false;
  return CleanOutcome::kOk;
}

}  // namespace riskpipe::ingest
