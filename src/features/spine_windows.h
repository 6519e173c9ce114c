#pragma once
// The feature store's one-pass window plan (SpineWindowPlan, features/feature_query.h)
// evaluated in C++ instead of by DuckDB's window operator and sort. DuckDB still reads the
// source and evaluates every expression (rows_sql); this code then groups the rows by entity,
// walks each entity's rows in date order with a frame [D - window, D] (or up to D - 1 when
// strict) that only moves forward, keeps the aggregates of the frame (count, sum, avg, and
// min/max through monotonic queues), and orders the kept rows by (decision date, key) for the
// month partitions, which DuckDB then writes from these columns (db::RowSource).
//
// The rows are the ones plan.sql returns, with its columns, names and types (read with
// DESCRIBE), and the same values: counts, min, max and the frames' latest dates exactly; sums
// and means of integer columns exactly (long double accumulation), of DOUBLE columns within
// rounding (DuckDB's window sums add in another order). Measured on the Kueski benchmark
// (docs/benchmarks.md): about 0.3 s less than DuckDB's windows and sort of the same rows.
//
// Compute() declines (nullopt; the caller runs plan.sql) whatever it cannot reproduce
// exactly: an output type other than BOOLEAN, INTEGER, BIGINT, DOUBLE, DATE or VARCHAR (a sum
// of integers is a HUGEINT), min/max of text, a NaN in a number column (the columns read
// NULL and NaN alike), an integer beyond 2^53, or a source with more than kMaxCells cells (the
// columns are held in memory; DuckDB's operators can spill).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/date.h"
#include "core/status.h"
#include "db/database.h"
#include "features/feature_query.h"

namespace riskpipe::features {

class SpineWindowRows {
 public:
  // Source rows x columns beyond which Compute() declines (about 0.5 GB of doubles).
  static constexpr int64_t kMaxCells = int64_t{64} << 20;

  // Reads plan.rows_sql on `con` and computes every kept row's features. `source_rows` is the
  // spine source's row count (an upper bound of what rows_sql returns), for the size check.
  static StatusOr<std::optional<SpineWindowRows>> Compute(const SpineWindowPlan& plan,
                                                          db::Connection& con,
                                                          int64_t source_rows);

  // The output rows (plan.sql's), in (decision date, key) order.
  size_t rows() const { return order_.size(); }
  // Rows whose frame reached a date after their decision date (on or after, for a strict view),
  // per window in plan order: the point-in-time audit, 0 unless the frames are wrong.
  const std::vector<int64_t>& violations() const { return violations_; }
  // A stream of the rows with decision dates in [first, next), for `SELECT * FROM` its
  // RowSourceSql. Valid while this object lives.
  std::unique_ptr<db::RowSource> Rows(Date first, Date next) const;

  // Output column `c`: where its values come from.
  struct Output {
    std::string name;
    db::Type type = db::Type::kDouble;
    int input = -1;     // a column of the rows_sql result, or
    int computed = -1;  // a window feature / frame date in computed_
  };

 private:
  class Source;
  db::ColumnarTable input_;
  std::vector<std::vector<double>> computed_;  // NaN = null; dates as days
  std::vector<Output> outputs_;
  std::vector<std::pair<std::string, db::Type>> schema_;
  std::vector<uint32_t> order_;      // input rows kept, by (decision date, key)
  std::vector<int32_t> order_date_;  // their decision dates (days), for the month ranges
  std::vector<int64_t> violations_;
};

}  // namespace riskpipe::features
