#pragma once
// Turning one raw CSV value into a typed silver value by a column's configured rules:
// named text rules, null tokens, type parsing, ranges and levels. A value that fails is
// either nulled (and counted) or sends its row to quarantine, as the column says. Pure
// functions of the config; a ColumnCleaner is immutable after construction and thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/date.h"

namespace riskpipe::ingest {

struct Cell {
  bool is_null = true;
  int64_t i = 0;         // int and bool (0/1)
  double d = 0;          // float
  Date date;             // date
  std::string_view s;    // string and category (a view of the raw text or a level)
};

enum class CleanOutcome {
  kOk,          // value (or a legitimate null) in the cell
  kNulled,      // the value was invalid and became null (on_invalid: null)
  kQuarantine,  // the row must go to quarantine (on_invalid: quarantine, or required)
};

class ColumnCleaner {
 public:
  explicit ColumnCleaner(const config::Column& column);

  // Cleans `raw` into `cell`. For kNulled and kQuarantine, `reason` receives a message such as
  // `Age: "-500" is below min 14`.
  CleanOutcome Clean(std::string_view raw, Cell& cell, std::string& reason) const;

  const config::Column& column() const { return column_; }

 private:
  // Applies the column's text rules. Returns false with a reason when a rule cannot apply.
  bool ApplyRules(std::string_view& text, int64_t& rule_int, bool& have_rule_int,
                  std::string& reason) const;
  CleanOutcome Invalid(std::string_view raw, const std::string& problem, Cell& cell,
                       std::string& reason) const;

  config::Column column_;
};

// Parses "X Years and Y Months" into X*12+Y months; false when the text has another shape.
bool ParseYearsAndMonths(std::string_view text, int64_t& months);
// Parses a whole-number value; accepts an integral float ("11.0"). False otherwise.
bool ParseInt64(std::string_view text, int64_t& out);
// Parses a finite decimal number. False otherwise.
bool ParseDouble(std::string_view text, double& out);

}  // namespace riskpipe::ingest
