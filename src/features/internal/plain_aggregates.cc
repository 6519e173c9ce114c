#include "features/internal/plain_aggregates.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/memory.h"

namespace riskpipe::features::internal {
namespace {

using Column = db::ColumnarTable::Column;
using Function = PlainCall::Function;
constexpr uint32_t kNone = UINT32_MAX;
constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
// The NaN flags of a row travel as one double: its integers are exact up to 2^53.
constexpr size_t kMaxNanFlags = 52;

std::string Trim(std::string t) {
  t.erase(0, t.find_first_not_of(" \t\r\n"));
  t.erase(t.find_last_not_of(" \t\r\n") + 1);
  return t;
}

std::string Upper(std::string t) {
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return t;
}

// A NaN in this call's argument makes its result NaN (a min passes over it, as DuckDB orders
// NaN above every number).
bool NanPoisons(Function f) {
  return f == Function::kSum || f == Function::kAvg || f == Function::kMax;
}

}  // namespace

std::optional<PlainCall> PlainCallOf(const std::string& expr) {
  const std::string e = Trim(expr);
  const size_t open = e.find('(');
  if (open == std::string::npos || e.back() != ')') return std::nullopt;
  const std::string name = Upper(Trim(e.substr(0, open)));
  PlainCall call;
  if (name == "COUNT") {
    call.function = Function::kCount;
  } else if (name == "SUM") {
    call.function = Function::kSum;
  } else if (name == "AVG") {
    call.function = Function::kAvg;
  } else if (name == "MIN") {
    call.function = Function::kMin;
  } else if (name == "MAX") {
    call.function = Function::kMax;
  } else {
    return std::nullopt;
  }
  // The call's own closing parenthesis must be the last character.
  int depth = 0;
  char quote = 0;
  for (size_t i = open; i < e.size(); ++i) {
    const char c = e[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0 && i + 1 != e.size()) {
      return std::nullopt;
    }
  }
  if (depth != 0 || quote != 0) return std::nullopt;
  call.argument = Trim(e.substr(open + 1, e.size() - open - 2));
  const std::string head = Upper(call.argument.substr(0, 9));
  if (head.starts_with("DISTINCT") || head.starts_with("ALL ") || head.starts_with("ALL\t")) {
    return std::nullopt;
  }
  if (call.argument.empty() || call.argument == "*") {
    if (call.function != Function::kCount) return std::nullopt;
    call.function = Function::kCountStar;
    call.argument.clear();
  }
  return call;
}

bool ReducibleCalls(const std::vector<PlainCall>& calls, const std::vector<std::string>& types) {
  size_t arg = 0, nan_flags = 0;
  for (const PlainCall& call : calls) {
    if (call.function == Function::kCountStar) continue;
    if (arg >= types.size()) return false;
    const std::string& type = types[arg++];
    if (call.function != Function::kCount && type != "DOUBLE") return false;
    if (NanPoisons(call.function)) ++nan_flags;
  }
  return arg == types.size() && nan_flags <= kMaxNanFlags;
}

namespace {

// Where each call's values live: its argument's column in the stream and its slot in a
// position's running values (value, -1 for count(*)), and its bit in _nan (nan_bit, -1 when
// a NaN cannot change its result).
struct Layout {
  std::vector<int> value, nan_bit;
  size_t values = 0;
};

Layout LayoutOf(const std::vector<PlainCall>& calls) {
  Layout out;
  out.value.assign(calls.size(), -1);
  out.nan_bit.assign(calls.size(), -1);
  int bits = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].function == Function::kCountStar) continue;
    if (NanPoisons(calls[i].function)) out.nan_bit[i] = bits++;
    out.value[i] = static_cast<int>(out.values++);
  }
  return out;
}

// The stream: _e as text, _t, each argument as a DOUBLE (a count's as 0/1 for null or not,
// which keeps a NaN apart from a null), and _nan, whose bit j says the argument with nan_bit j
// is a NaN rather than a null (both read as NaN).
std::string StreamSql(const std::vector<PlainCall>& calls, const Layout& layout,
                      const std::string& args_sql) {
  std::string cols, nan_bits;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (layout.value[i] < 0) continue;
    const std::string a = "q._a" + std::to_string(layout.value[i]);
    cols += calls[i].function == Function::kCount ? ", (" + a + " IS NOT NULL)::DOUBLE"
                                                  : ", " + a + "::DOUBLE";
    if (layout.nan_bit[i] >= 0) {
      nan_bits += " + CASE WHEN isnan(" + a + ") THEN " +
                  std::to_string(int64_t{1} << layout.nan_bit[i]) + " ELSE 0 END";
    }
  }
  return "SELECT CAST(q._e AS VARCHAR) AS _e, q._t" + cols + ", (0" + nan_bits +
         ")::DOUBLE AS _nan FROM (" + args_sql + ") q";
}

// Running values per position, row-major: its row count, then one value per argument (a
// count's or sum's total, or the min or max so far: NaN until the first value), so a source
// row updates one place in memory. The source's row order has nothing to do with the file's,
// and a column per value would take a cache miss per cell.
struct Running {
  size_t width = 0;
  std::vector<double> values;
  // Per argument, allocated when first needed: the nulls per position (its non-null values
  // are the rows less these) and the NaNs.
  std::vector<std::vector<uint32_t>> nulls, nans;

  void Mark(std::vector<uint32_t>& per_position, size_t pos, size_t n) {
    if (per_position.empty()) per_position.assign(n, 0);
    ++per_position[pos];
  }
};

// The features from the running values: an entity without rows gets count 0 and null for the
// rest, as an aggregate over no rows.
std::vector<Column> Finish(const config::FeatureView& v, const std::vector<PlainCall>& calls,
                           const Layout& layout, const Running& run, size_t n) {
  std::vector<Column> out(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    Column& col = out[i];
    col.name = v.features[i].name;
    col.type = db::Type::kDouble;
    ReserveHuge(col.numbers, n);
    col.numbers.resize(n);
    const Function f = calls[i].function;
    const int j = layout.value[i];
    const std::vector<uint32_t>* nulls = j >= 0 && !run.nulls[j].empty() ? &run.nulls[j] : nullptr;
    const std::vector<uint32_t>* nans = j >= 0 && !run.nans[j].empty() ? &run.nans[j] : nullptr;
    for (size_t pos = 0; pos < n; ++pos) {
      const double rows = run.values[pos * run.width];
      const double value = j >= 0 ? run.values[pos * run.width + 1 + j] : 0;
      const double present = rows - (nulls != nullptr ? (*nulls)[pos] : 0);
      double cell = value;
      if (f == Function::kCountStar) {
        cell = rows;
      } else if (nans != nullptr && (*nans)[pos] != 0 && NanPoisons(f)) {
        cell = kNull;
      } else if (f == Function::kSum || f == Function::kAvg) {
        cell = present == 0 ? kNull : f == Function::kAvg ? value / present : value;
      }
      col.numbers[pos] = cell;
    }
  }
  return out;
}

}  // namespace

StatusOr<std::vector<Column>> ReduceAggregates(const config::FeatureView& v,
                                               const std::vector<PlainCall>& calls,
                                               const std::string& args_sql, ReduceTarget& target) {
  const Layout layout = LayoutOf(calls);
  ASSIGN_OR_RETURN(db::ColumnStream stream,
                   target.con.StreamColumns(StreamSql(calls, layout, args_sql), &target.entities));
  const db::ColumnarTable& chunk = stream.chunk();
  const size_t n = target.n;
  Running run;
  run.width = layout.values + 1;
  ReserveHuge(run.values, n * run.width);
  run.values.assign(n * run.width, 0.0);
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].function != Function::kMin && calls[i].function != Function::kMax) continue;
    for (size_t pos = 0; pos < n; ++pos) run.values[pos * run.width + 1 + layout.value[i]] = kNull;
  }
  run.nulls.resize(layout.values);
  run.nans.resize(layout.values);
  std::vector<uint32_t> at;  // per chunk row: its position, or kNone
  while (true) {
    ASSIGN_OR_RETURN(const bool more, stream.Next());
    if (!more) break;
    const std::vector<int32_t>& codes = chunk.columns[0].codes;
    const std::vector<double>& time = chunk.columns[1].numbers;
    const std::vector<double>& nan_bits = chunk.columns.back().numbers;
    at.assign(chunk.rows, kNone);
    for (size_t r = 0; r < chunk.rows; ++r) {
      const int32_t c = codes[r];
      if (c < 0 || static_cast<size_t>(c) >= n) continue;  // not a spine entity
      if (time[r] > target.limit) target.violated = true;
      at[r] = target.position_of[c];
      run.values[at[r] * run.width] += 1;
    }
    for (size_t i = 0; i < calls.size(); ++i) {
      const int j = layout.value[i];
      if (j < 0) continue;
      const Function f = calls[i].function;
      const std::vector<double>& x = chunk.columns[2 + j].numbers;
      for (size_t r = 0; r < chunk.rows; ++r) {
        if (at[r] == kNone) continue;
        double& value = run.values[at[r] * run.width + 1 + j];
        if (std::isnan(x[r])) {
          const int bit = layout.nan_bit[i];
          const bool nan = bit >= 0 && (static_cast<int64_t>(nan_bits[r]) >> bit & 1) != 0;
          run.Mark(nan ? run.nans[j] : run.nulls[j], at[r], n);
        } else if (f == Function::kCount || f == Function::kSum || f == Function::kAvg) {
          value += x[r];
        } else if (f == Function::kMin ? !(x[r] >= value) : !(x[r] <= value)) {
          value = x[r];  // also the first value, over the NaN that stands for none
        }
      }
    }
  }
  return Finish(v, calls, layout, run, n);
}

}  // namespace riskpipe::features::internal
