// The `validation:` section: defaults when absent, every key read, strict errors with lines.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "testing/status_matchers.h"

namespace riskpipe::config {
namespace {

using riskpipe::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kHead[] =
    "project: p\nworkspace: ws\nmodel:\n  name: m\n  dataset: {file: d.csv, target: y}\n"
    "  candidates: [{family: logistic}]\n";

StatusOr<Project> Parse(const std::string& tail) {
  return ParseProject(std::string(kHead) + tail, "/tmp/riskpipe.yaml");
}

TEST(ValidationConfig, AbsentSectionGivesTheDocumentedDefaults) {
  auto p = Parse("");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->validation.present);
  EXPECT_DOUBLE_EQ(p->validation.min_auc, 0.60);
  EXPECT_DOUBLE_EQ(p->validation.min_approval_ratio, 0.8);
  EXPECT_TRUE(p->validation.auto_segments);
  EXPECT_TRUE(p->validation.directions.empty());
}

TEST(ValidationConfig, ReadsThresholdsSegmentsAndDirections) {
  auto p = Parse(
      "validation:\n  min_auc: 0.7\n  min_segment_rows: 50\n  auto_segments: false\n"
      "  segments:\n    - {column: age, bands: [25, 40, 60]}\n"
      "    - {column: region, levels: [north, west]}\n"
      "  directions: {delays: 1, income: -1}\n  max_rows: 5000\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const ValidationDef& v = p->validation;
  EXPECT_TRUE(v.present);
  EXPECT_EQ(v.line, 8);  // the line of the section's first key
  EXPECT_DOUBLE_EQ(v.min_auc, 0.7);
  EXPECT_EQ(v.min_segment_rows, 50);
  EXPECT_FALSE(v.auto_segments);
  ASSERT_EQ(v.segments.size(), 2u);
  EXPECT_EQ(v.segments[0].bands, (std::vector<double>{25, 40, 60}));
  EXPECT_EQ(v.segments[1].levels, (std::vector<std::string>{"north", "west"}));
  EXPECT_EQ(v.directions.at("income"), -1);
  EXPECT_EQ(v.max_rows, 5000);
}

TEST(ValidationConfig, UnknownKeyIsAnErrorNamingKeyAndLine) {
  EXPECT_THAT(
      Parse("validation:\n  min_auc: 0.7\n  min_acu: 0.6\n"),
      StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("min_acu"), HasSubstr(":9:"))));
}

TEST(ValidationConfig, OutOfRangeAndMalformedValuesAreRefused) {
  const auto refused = [](const std::string& words) {
    return StatusIs(StatusCode::kInvalidArgument, HasSubstr(words));
  };
  EXPECT_THAT(Parse("validation:\n  min_auc: 60\n"), refused("min_auc"));
  EXPECT_THAT(Parse("validation:\n  segments: [{column: age, bands: [40, 25]}]\n"),
              refused("band edges must increase"));
  EXPECT_THAT(Parse("validation:\n  segments: [{bands: [1]}]\n"), refused("column"));
  EXPECT_THAT(Parse("validation:\n  segments: [{column: a, bands: [1], levels: [x]}]\n"),
              refused("give either bands (numeric column) or levels (text column)"));
  EXPECT_THAT(Parse("validation:\n  directions: {delays: up}\n"),
              refused("expected 1 (PD must not fall as it rises) or -1"));
  EXPECT_THAT(Parse("validation:\n  segments: [{column: a, colour: red}]\n"), refused("colour"));
}

}  // namespace
}  // namespace riskpipe::config
