#pragma once
// A column-major table of model inputs: numeric columns as doubles (NaN = missing) and text
// columns dictionary-coded (code -1 = missing). What training reads from the datamart and what
// batch scoring and serving hand to a model package. Plain data; thread-safe to read.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace riskpipe::model {

struct FrameColumn {
  std::string name;
  bool text = false;
  std::string sql_type;                 // type it came from ("DOUBLE", "VARCHAR", ...)
  std::vector<double> numbers;          // !text: one value per row
  std::vector<int32_t> codes;           // text: index into dictionary, -1 = missing
  std::vector<std::string> dictionary;  // text: distinct values

  bool IsMissing(size_t row) const;
};

struct Frame {
  std::vector<FrameColumn> columns;
  size_t rows = 0;

  // Index of a column by name, or -1.
  int Find(std::string_view name) const;
};

}  // namespace riskpipe::model
