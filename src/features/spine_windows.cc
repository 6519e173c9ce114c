#include "features/spine_windows.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <deque>
#include <thread>

#include "core/memory.h"
#include "features/dense_codes.h"

namespace riskpipe::features {
namespace {

using db::Type;

std::optional<Type> TypeOfName(const std::string& name) {
  if (name == "BOOLEAN") return Type::kBoolean;
  if (name == "INTEGER") return Type::kInteger;
  if (name == "BIGINT") return Type::kBigint;
  if (name == "DOUBLE") return Type::kDouble;
  if (name == "DATE") return Type::kDate;
  if (name == "VARCHAR") return Type::kVarchar;
  return std::nullopt;
}

// Integers up to this magnitude survive the columns' doubles exactly.
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

// An order-preserving unsigned image of a number; NaN (a null) sorts after every number, as
// NULLS LAST does.
uint64_t NumberOrderKey(double v) {
  if (std::isnan(v)) return ~uint64_t{0};
  v += 0.0;  // -0.0 -> 0.0
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

// Per row of a column: a 64-bit key that orders (and groups) like the SQL value, nulls last.
// Text is ranked by bytes, as DuckDB's default collation orders VARCHAR.
std::vector<uint64_t> OrderKeys(const db::ColumnarTable::Column& col) {
  std::vector<uint64_t> keys;
  ReserveHuge(keys, col.is_text() ? col.codes.size() : col.numbers.size());
  if (!col.is_text()) {
    for (double v : col.numbers) keys.push_back(NumberOrderKey(v));
    return keys;
  }
  std::vector<uint32_t> by_text(col.dictionary.size());
  for (uint32_t i = 0; i < by_text.size(); ++i) by_text[i] = i;
  std::sort(by_text.begin(), by_text.end(),
            [&](uint32_t a, uint32_t b) { return col.dictionary[a] < col.dictionary[b]; });
  std::vector<uint64_t> rank(col.dictionary.size());
  for (uint32_t r = 0; r < by_text.size(); ++r) rank[by_text[r]] = r;
  for (int32_t code : col.codes) keys.push_back(code < 0 ? ~uint64_t{0} : rank[code]);
  return keys;
}

// A sorted entry: the group or order key, a date, the row.
struct Entry {
  uint64_t key;
  int32_t date;
  uint32_t row;
};

constexpr uint32_t kNoBucket = UINT32_MAX;

// Entries for the rows with a bucket, grouped by bucket in bucket order (a counting sort) and
// sorted with `less` inside each bucket. The buckets are small (an entity's loans, a day's
// loans), so this costs far less than one comparison sort of every row.
template <typename MakeEntry, typename Less>
std::vector<Entry> BucketSort(const std::vector<uint32_t>& bucket, size_t buckets,
                              MakeEntry make, Less less) {
  std::vector<uint32_t> start(buckets + 1, 0);
  for (uint32_t b : bucket) {
    if (b != kNoBucket) ++start[b + 1];
  }
  for (size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  std::vector<Entry> out;
  ReserveHuge(out, start[buckets]);
  out.resize(start[buckets]);
  std::vector<uint32_t> next(start.begin(), start.end() - 1);
  for (uint32_t r = 0; r < bucket.size(); ++r) {
    if (bucket[r] != kNoBucket) out[next[bucket[r]]++] = make(r);
  }
  for (size_t b = 0; b < buckets; ++b) {
    if (start[b + 1] - start[b] > 1) std::sort(out.begin() + start[b], out.begin() + start[b + 1], less);
  }
  return out;
}

// The frame state of one aggregate feature.
struct Aggregate {
  enum class Kind { kCountStar, kCount, kSum, kAvg, kMin, kMax };
  Kind kind = Kind::kCountStar;
  const db::ColumnarTable::Column* arg = nullptr;
  int64_t count = 0;     // non-null argument values in the frame
  long double sum = 0;   // their sum (sum, avg)
  std::deque<uint32_t> queue;  // min/max: rows whose values may still be the frame's extreme

  bool IsNull(uint32_t row) const {
    return arg->is_text() ? arg->codes[row] < 0 : std::isnan(arg->numbers[row]);
  }
  double Value(uint32_t row) const { return arg->numbers[row]; }
  void Reset() {
    count = 0;
    sum = 0;
    queue.clear();
  }
  void Add(uint32_t row) {
    if (kind == Kind::kCountStar || IsNull(row)) return;
    ++count;
    switch (kind) {
      case Kind::kSum:
      case Kind::kAvg:
        sum += Value(row);
        break;
      case Kind::kMin:
        while (!queue.empty() && Value(queue.back()) >= Value(row)) queue.pop_back();
        queue.push_back(row);
        break;
      case Kind::kMax:
        while (!queue.empty() && Value(queue.back()) <= Value(row)) queue.pop_back();
        queue.push_back(row);
        break;
      default:
        break;
    }
  }
  // Rows leave in the order they came (the frame only moves forward).
  void Remove(uint32_t row) {
    if (kind == Kind::kCountStar || IsNull(row)) return;
    --count;
    if (kind == Kind::kSum || kind == Kind::kAvg) sum -= Value(row);
    if ((kind == Kind::kMin || kind == Kind::kMax) && !queue.empty() && queue.front() == row) {
      queue.pop_front();
    }
  }
  double Result(int64_t frame_rows) const {
    constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
    switch (kind) {
      case Kind::kCountStar:
        return static_cast<double>(frame_rows);
      case Kind::kCount:
        return static_cast<double>(count);
      case Kind::kSum:
        return count == 0 ? kNull : static_cast<double>(sum);
      case Kind::kAvg:
        // As DuckDB divides: the sum as a double over the count as a double.
        return count == 0 ? kNull : static_cast<double>(sum) / static_cast<double>(count);
      case Kind::kMin:
      case Kind::kMax:
        return queue.empty() ? kNull : Value(queue.front());
    }
    return kNull;
  }
};

std::optional<Aggregate::Kind> KindOf(const std::string& function, bool star) {
  if (function == "count") return star ? Aggregate::Kind::kCountStar : Aggregate::Kind::kCount;
  if (star) return std::nullopt;
  if (function == "sum") return Aggregate::Kind::kSum;
  if (function == "avg") return Aggregate::Kind::kAvg;
  if (function == "min") return Aggregate::Kind::kMin;
  if (function == "max") return Aggregate::Kind::kMax;
  return std::nullopt;
}

}  // namespace

class SpineWindowRows::Source : public db::RowSource {
 public:
  Source(const SpineWindowRows& rows, size_t begin, size_t end)
      : rows_(rows), pos_(begin), end_(end) {}
  const std::vector<std::pair<std::string, Type>>& Schema() const override {
    return rows_.schema_;
  }
  Status Fill(db::ChunkBuilder& chunk) override {
    const size_t n = std::min(end_ - pos_, db::ChunkBuilder::kCapacity);
    for (size_t i = 0; i < n; ++i) chunk.AddRow();
    for (size_t c = 0; c < rows_.outputs_.size(); ++c) {
      const Output& out = rows_.outputs_[c];
      const db::ColumnarTable::Column* in =
          out.input >= 0 ? &rows_.input_.columns[static_cast<size_t>(out.input)] : nullptr;
      if (out.type == Type::kVarchar) {
        for (size_t i = 0; i < n; ++i) {
          const int32_t code = in->codes[rows_.order_[pos_ + i]];
          if (code < 0) {
            chunk.SetNull(c, i);
          } else {
            chunk.SetString(c, i, in->dictionary[static_cast<size_t>(code)]);
          }
        }
        continue;
      }
      const double* values = in != nullptr ? in->numbers.data()
                                           : rows_.computed_[static_cast<size_t>(out.computed)].data();
      for (size_t i = 0; i < n; ++i) {
        const double v = values[rows_.order_[pos_ + i]];
        if (std::isnan(v)) {
          chunk.SetNull(c, i);
          continue;
        }
        switch (out.type) {
          case Type::kBoolean:
            chunk.SetBool(c, i, v != 0);
            break;
          case Type::kInteger:
            chunk.SetInt32(c, i, static_cast<int32_t>(v));
            break;
          case Type::kBigint:
            chunk.SetInt64(c, i, static_cast<int64_t>(v));
            break;
          case Type::kDate:
            chunk.SetDate(c, i, Date::FromDays(static_cast<int32_t>(v)));
            break;
          default:
            chunk.SetDouble(c, i, v);
            break;
        }
      }
    }
    pos_ += n;
    return OkStatus();
  }

 private:
  const SpineWindowRows& rows_;
  size_t pos_, end_;
};

std::unique_ptr<db::RowSource> SpineWindowRows::Rows(Date first, Date next) const {
  const auto lo = std::lower_bound(order_date_.begin(), order_date_.end(), first.days());
  const auto hi = std::lower_bound(order_date_.begin(), order_date_.end(), next.days());
  return std::make_unique<Source>(*this, static_cast<size_t>(lo - order_date_.begin()),
                                  static_cast<size_t>(hi - order_date_.begin()));
}

StatusOr<std::optional<SpineWindowRows>> SpineWindowRows::Compute(const SpineWindowPlan& plan,
                                                                  db::Connection& con,
                                                                  int64_t source_rows) {
  const std::optional<SpineWindowRows> decline;
  const int64_t input_columns = plan.keep + 1;
  if (source_rows * input_columns > kMaxCells) return decline;

  SpineWindowRows out;
  // The result's columns, names and types, as the SQL plan would give them.
  ASSIGN_OR_RETURN(db::Table described, con.Query("DESCRIBE " + plan.sql));
  if (described.rows.size() != plan.columns.size()) {
    return InternalError("feature store: the window plan describes " +
                         std::to_string(plan.columns.size()) + " columns, its query returns " +
                         std::to_string(described.rows.size()));
  }
  for (size_t c = 0; c < plan.columns.size(); ++c) {
    const auto* name = std::get_if<std::string>(&described.rows[c][0]);
    const auto* type_name = std::get_if<std::string>(&described.rows[c][1]);
    if (name == nullptr || type_name == nullptr) return InternalError("feature store: DESCRIBE");
    const std::optional<Type> type = TypeOfName(*type_name);
    if (!type) return decline;
    Output o;
    o.name = *name;
    o.type = *type;
    o.input = plan.columns[c].input;
    out.outputs_.push_back(o);
    out.schema_.emplace_back(o.name, o.type);
  }

  ASSIGN_OR_RETURN(out.input_, con.QueryColumns(plan.rows_sql));
  const db::ColumnarTable& in = out.input_;
  const size_t n = in.rows;
  if (n > UINT32_MAX || in.columns.size() != static_cast<size_t>(input_columns)) return decline;
  for (const auto& col : in.columns) {
    if (col.has_nan) return decline;
    if (col.type == Type::kBigint) {
      for (double v : col.numbers) {
        if (std::fabs(v) > kMaxExactInteger) return decline;
      }
    }
  }
  // Every column taken from the input keeps its SQL type.
  for (const Output& o : out.outputs_) {
    if (o.input >= 0 && in.columns[static_cast<size_t>(o.input)].type != o.type) return decline;
  }
  const auto& dates = in.columns[static_cast<size_t>(plan.decision_date)];
  const auto& keep = in.columns[static_cast<size_t>(plan.keep)];
  if (dates.type != Type::kDate || keep.type != Type::kBoolean) return decline;

  // The aggregates, one state per feature, and the computed columns: each window's features,
  // then its frame's latest date.
  std::vector<std::vector<Aggregate>> aggregates(plan.windows.size());
  std::vector<std::vector<int>> feature_column(plan.windows.size());
  std::vector<int> frame_date_column(plan.windows.size());
  for (size_t w = 0; w < plan.windows.size(); ++w) {
    for (const auto& a : plan.windows[w].features) {
      const std::optional<Aggregate::Kind> kind = KindOf(a.function, a.argument < 0);
      if (!kind) return decline;
      Aggregate agg;
      agg.kind = *kind;
      if (a.argument >= 0) {
        agg.arg = &in.columns[static_cast<size_t>(a.argument)];
        if (agg.arg->is_text() && *kind != Aggregate::Kind::kCount) return decline;
      }
      aggregates[w].push_back(std::move(agg));
      feature_column[w].push_back(static_cast<int>(out.computed_.size()));
      out.computed_.emplace_back();
    }
    frame_date_column[w] = static_cast<int>(out.computed_.size());
    out.computed_.emplace_back();
  }
  for (size_t c = 0; c < plan.columns.size(); ++c) {
    const auto& pc = plan.columns[c];
    if (pc.window < 0) continue;
    const size_t w = static_cast<size_t>(pc.window);
    out.outputs_[c].computed =
        pc.feature < 0 ? frame_date_column[w] : feature_column[w][static_cast<size_t>(pc.feature)];
  }
  for (auto& col : out.computed_) {
    ReserveHuge(col, n);
    col.assign(n, std::numeric_limits<double>::quiet_NaN());
  }

  // Decision dates as days.
  std::vector<int32_t> day;
  ReserveHuge(day, n);
  int32_t first_day = INT32_MAX, last_day = INT32_MIN;
  for (double v : dates.numbers) {
    day.push_back(static_cast<int32_t>(v));
    first_day = std::min(first_day, day.back());
    last_day = std::max(last_day, day.back());
  }
  if (n > 0 && int64_t{last_day} - first_day > (int64_t{1} << 26)) return decline;

  // The output order, on a second thread while the frames are computed: kept rows by
  // (decision date, key, row), bucketed by day.
  std::thread order_thread([&] {
    const std::vector<uint64_t> keys = OrderKeys(in.columns[0]);
    std::vector<uint32_t> bucket;
    ReserveHuge(bucket, n);
    for (uint32_t r = 0; r < n; ++r) {
      bucket.push_back(keep.numbers[r] == 1 ? static_cast<uint32_t>(day[r] - first_day)
                                            : kNoBucket);
    }
    const std::vector<Entry> kept = BucketSort(
        bucket, n > 0 ? static_cast<size_t>(last_day - first_day) + 1 : 0,
        [&](uint32_t r) { return Entry{keys[r], day[r], r}; },
        [](const Entry& a, const Entry& b) { return a.key != b.key ? a.key < b.key : a.row < b.row; });
    ReserveHuge(out.order_, kept.size());
    ReserveHuge(out.order_date_, kept.size());
    for (const Entry& e : kept) {
      out.order_.push_back(e.row);
      out.order_date_.push_back(e.date);
    }
  });

  // Every row by (entity, date): each entity's rows are then one run, in date order.
  const DenseCoding entity = DenseCodes(in.columns[static_cast<size_t>(plan.columns[1].input)]);
  const std::vector<Entry> entries = BucketSort(
      entity.codes, entity.count, [&](uint32_t r) { return Entry{entity.codes[r], day[r], r}; },
      [](const Entry& a, const Entry& b) { return a.date != b.date ? a.date < b.date : a.row < b.row; });

  out.violations_.assign(plan.windows.size(), 0);
  for (size_t g0 = 0; g0 < n;) {
    size_t g1 = g0 + 1;
    while (g1 < n && entries[g1].key == entries[g0].key) ++g1;
    for (size_t w = 0; w < plan.windows.size(); ++w) {
      const SpineWindowPlan::Window& win = plan.windows[w];
      std::vector<Aggregate>& aggs = aggregates[w];
      for (Aggregate& a : aggs) a.Reset();
      std::vector<double>& frame_date = out.computed_[static_cast<size_t>(frame_date_column[w])];
      size_t lo = g0, hi = g0;  // the frame: entries [lo, hi)
      for (size_t i = g0; i < g1;) {
        const int32_t d = entries[i].date;
        size_t j = i + 1;
        while (j < g1 && entries[j].date == d) ++j;
        const int64_t upper = win.strict ? int64_t{d} - 1 : d;
        const int64_t lower = win.window_days > 0 ? int64_t{d} - win.window_days : INT64_MIN;
        for (; hi < g1 && entries[hi].date <= upper; ++hi) {
          for (Aggregate& a : aggs) a.Add(entries[hi].row);
        }
        for (; lo < hi && entries[lo].date < lower; ++lo) {
          for (Aggregate& a : aggs) a.Remove(entries[lo].row);
        }
        const int64_t frame_rows = static_cast<int64_t>(hi - lo);
        const double latest =
            hi > lo ? entries[hi - 1].date : std::numeric_limits<double>::quiet_NaN();
        // The audit, on the frame as built: its latest date against the decision date.
        if (hi > lo && (win.strict ? latest >= d : latest > d)) {
          for (size_t k = i; k < j; ++k) out.violations_[w] += keep.numbers[entries[k].row] == 1;
        }
        for (size_t a = 0; a < aggs.size(); ++a) {
          const double value = aggs[a].Result(frame_rows);
          std::vector<double>& col = out.computed_[static_cast<size_t>(feature_column[w][a])];
          for (size_t k = i; k < j; ++k) col[entries[k].row] = value;
        }
        for (size_t k = i; k < j; ++k) frame_date[entries[k].row] = latest;
        i = j;
      }
    }
    g0 = g1;
  }
  order_thread.join();
  return std::optional<SpineWindowRows>(std::move(out));
}

}  // namespace riskpipe::features
