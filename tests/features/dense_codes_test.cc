#include "features/dense_codes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

namespace riskpipe::features {
namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

db::ColumnarTable::Column Numbers(std::vector<double> v) {
  db::ColumnarTable::Column col;
  col.type = db::Type::kDouble;
  col.numbers = std::move(v);
  return col;
}

// Equal numbers share a code (0.0 and -0.0 too, and every null), codes count from 0 in order of
// first appearance, and `values` gives each code's number.
TEST(DenseCodes, NumbersAreCodedByFirstAppearance) {
  const DenseCoding d = DenseCodes(Numbers({7, 3, 7, kNull, -0.0, 0.0, 3, kNull, 2.5}));
  EXPECT_EQ(d.codes, (std::vector<uint32_t>{0, 1, 0, 2, 3, 3, 1, 2, 4}));
  ASSERT_EQ(d.count, 5u);
  ASSERT_EQ(d.values.size(), 5u);
  EXPECT_EQ(d.values[0], 7);
  EXPECT_EQ(d.values[1], 3);
  EXPECT_TRUE(std::isnan(d.values[2]));
  EXPECT_EQ(d.values[3], 0.0);
  EXPECT_FALSE(std::signbit(d.values[3]));
  EXPECT_EQ(d.values[4], 2.5);
}

// Past the table's first size (1,024 slots) every value still keeps one code.
TEST(DenseCodes, ManyDistinctNumbersKeepOneCodeEach) {
  std::vector<double> v;
  for (int i = 0; i < 5000; ++i) v.push_back(static_cast<double>((i * 37) % 3000) - 1000.5);
  const DenseCoding d = DenseCodes(Numbers(v));
  ASSERT_EQ(d.count, 3000u);
  ASSERT_EQ(d.codes.size(), v.size());
  std::set<uint32_t> seen;
  for (size_t r = 0; r < v.size(); ++r) {
    ASSERT_LT(d.codes[r], d.count);
    EXPECT_EQ(d.values[d.codes[r]], v[r]) << r;
    seen.insert(d.codes[r]);
  }
  EXPECT_EQ(seen.size(), 3000u);
}

// Text keeps its dictionary codes; nulls get the code after the dictionary's.
TEST(DenseCodes, TextUsesItsDictionaryCodesAndNullsComeLast) {
  db::ColumnarTable::Column col;
  col.type = db::Type::kVarchar;
  col.dictionary = {"a", "b"};
  col.codes = {1, -1, 0, 1, -1};
  const DenseCoding d = DenseCodes(col);
  EXPECT_EQ(d.codes, (std::vector<uint32_t>{1, 2, 0, 1, 2}));
  EXPECT_EQ(d.count, 3u);
  EXPECT_TRUE(d.values.empty());
}

}  // namespace
}  // namespace riskpipe::features
