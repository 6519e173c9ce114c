#include "model/reasons.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace riskpipe::model {
namespace {

TEST(ReasonTable, TakesTheLargestPositiveContributionsLargestFirst) {
  const std::vector<std::string> features = {"age", "income", "delay", "debt", "cards"};
  const std::vector<double> row = {0.2, -0.9, 0.7, 0.2, 0.05};
  ReasonTable table("v7", 3, {{"delay", "Payments are often late"}});
  const auto reasons = table.Top(row, features);
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_EQ(reasons[0].code, "delay");
  EXPECT_EQ(reasons[0].text, "Payments are often late");
  EXPECT_DOUBLE_EQ(reasons[0].contribution, 0.7);
  // A tie keeps the feature order: age before debt.
  EXPECT_EQ(reasons[1].code, "age");
  EXPECT_EQ(reasons[2].code, "debt");
  EXPECT_EQ(reasons[1].text, "age increases the estimated risk");
  EXPECT_EQ(table.version(), "v7");
}

TEST(ReasonTable, NeverGivesARiskLoweringFeatureAsAReason) {
  const std::vector<std::string> features = {"a", "b", "c"};
  const std::vector<double> row = {-0.1, 0.0, 0.3};
  ReasonTable table("default", 3);
  const auto reasons = table.Top(row, features);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].code, "c");
  const std::vector<double> none = {-1, -2, 0};
  EXPECT_TRUE(table.Top(none, features).empty());
}

TEST(ReasonTable, TopIndicesMatchesAFullSortOnManyRows) {
  ReasonTable table("default", 4);
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>((state >> 33) % 2001) / 1000.0 - 1.0;
  };
  for (int r = 0; r < 500; ++r) {
    std::vector<double> row(17);
    for (double& v : row) v = next();
    std::vector<size_t> expected;
    for (size_t i = 0; i < row.size(); ++i) {
      if (row[i] > 0) expected.push_back(i);
    }
    std::stable_sort(expected.begin(), expected.end(),
                     [&](size_t a, size_t b) { return row[a] > row[b]; });
    if (expected.size() > 4) expected.resize(4);
    std::vector<size_t> got(4);
    got.resize(table.TopIndices(row, got));
    EXPECT_EQ(got, expected) << "row " << r;
  }
}

}  // namespace
}  // namespace riskpipe::model
