#include "config/expectations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "testing/temp_dir.h"

namespace riskpipe::config {
namespace {

using riskpipe::testing::TempDir;
using ::testing::HasSubstr;

StatusOr<ExpectationSuite> Parse(const std::string& yaml) {
  return ParseExpectationSuite(yaml, "silver.t.yaml");
}

constexpr char kValid[] = R"(table: t
layer: silver
expectations:
  - name: nulls
    kind: null_rate
    column: a
    by: seg
    min_segment_rows: 5
    max: 0.1
    severity: error
    rationale: reference rate plus margin
  - name: dist
    kind: distribution
    column: b
    psi_max: 0.2
    ks_pvalue_min: 0.001
    bins: 5
    reference: {from: 2023-01, to: 2023-06}
    severity: warn
    rationale: customary PSI level
)";

TEST(ExpectationSuite, ParsesEveryField) {
  auto s = Parse(kValid);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->table, "t");
  EXPECT_EQ(s->layer, "silver");
  ASSERT_EQ(s->expectations.size(), 2u);
  const Expectation& n = s->expectations[0];
  EXPECT_EQ(n.kind, ExpectationKind::kNullRate);
  EXPECT_EQ(n.by, "seg");
  EXPECT_EQ(n.min_segment_rows, 5);
  EXPECT_DOUBLE_EQ(*n.max, 0.1);
  EXPECT_EQ(n.severity, Severity::kError);
  EXPECT_EQ(n.line, 4);
  const Expectation& d = s->expectations[1];
  EXPECT_EQ(d.kind, ExpectationKind::kDistribution);
  EXPECT_EQ(d.bins, 5);
  EXPECT_EQ(d.reference_from, Month::Of(2023, 1));
  EXPECT_EQ(d.reference_to, Month::Of(2023, 6));
  EXPECT_EQ(d.severity, Severity::kWarn);
}

TEST(ExpectationSuite, MissingRationaleIsAnErrorWithFileAndLine) {
  auto s = Parse("table: t\nlayer: silver\nexpectations:\n"
                 "  - name: rows\n    kind: row_count\n    min: 1\n    severity: error\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("silver.t.yaml:4: expectations[0].rationale"));
  EXPECT_THAT(s.status().message(), HasSubstr("required key is missing"));
}

TEST(ExpectationSuite, BlankRationaleIsAnError) {
  auto s = Parse("table: t\nlayer: silver\nexpectations:\n  - {name: rows, kind: row_count, "
                 "min: 1, severity: error, rationale: \"  \"}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr(":4: expectations[0].rationale: must say where"));
}

TEST(ExpectationSuite, UnknownKindNamesTheKinds) {
  auto s = Parse("table: t\nlayer: silver\nexpectations:\n  - name: x\n    kind: mean\n"
                 "    severity: warn\n    rationale: r\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(),
              HasSubstr("silver.t.yaml:5: expectations[0].kind: unknown kind \"mean\""));
  EXPECT_THAT(s.status().message(), HasSubstr("distribution"));
}

TEST(ExpectationSuite, KeyOfAnotherKindIsUnknown) {
  auto s = Parse("table: t\nlayer: silver\nexpectations:\n  - name: x\n    kind: null_rate\n"
                 "    column: a\n    max: 0.1\n    mostly: 0.9\n    severity: warn\n"
                 "    rationale: r\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("silver.t.yaml:8: expectations[0].mostly: unknown key"));
  EXPECT_THAT(s.status().message(), HasSubstr("kind null_rate"));
}

TEST(ExpectationSuite, WrongTypeNamesKeyAndLine) {
  auto s = Parse("table: t\nlayer: silver\nexpectations:\n  - name: x\n    kind: range\n"
                 "    column: a\n    min: low\n    severity: warn\n    rationale: r\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(),
              HasSubstr("silver.t.yaml:7: expectations[0].min: \"low\" is not a number"));
}

TEST(ExpectationSuite, FractionOutOfRangeIsAnError) {
  auto s = Parse("table: t\nlayer: silver\nexpectations:\n  - name: x\n    kind: null_rate\n"
                 "    column: a\n    max: 5\n    severity: warn\n    rationale: r\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr(":7: expectations[0].max: must be a fraction"));
}

TEST(ExpectationSuite, BadSeverityAndLayerAreErrors) {
  auto sev = Parse("table: t\nlayer: silver\nexpectations:\n  - {name: x, kind: freshness, "
                   "severity: fatal, rationale: r}\n");
  ASSERT_FALSE(sev.ok());
  EXPECT_THAT(sev.status().message(), HasSubstr("severity: \"fatal\" is not one of error, warn"));
  auto layer = Parse("table: t\nlayer: platinum\nexpectations:\n  - {name: x, kind: freshness, "
                     "severity: warn, rationale: r}\n");
  ASSERT_FALSE(layer.ok());
  EXPECT_THAT(layer.status().message(), HasSubstr("silver.t.yaml:2: layer: \"platinum\""));
}

TEST(ExpectationSuite, DistributionNeedsThresholdAndReference) {
  auto none = Parse("table: t\nlayer: silver\nexpectations:\n  - name: d\n    kind: distribution\n"
                    "    column: a\n    reference: {from: 2023-01, to: 2023-02}\n"
                    "    severity: warn\n    rationale: r\n");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("needs psi_max, ks_pvalue_min or chi2"));
  auto noref = Parse("table: t\nlayer: silver\nexpectations:\n  - name: d\n    kind: distribution\n"
                     "    column: a\n    psi_max: 0.1\n    severity: warn\n    rationale: r\n");
  ASSERT_FALSE(noref.ok());
  EXPECT_THAT(noref.status().message(), HasSubstr(":4: expectations[0].reference: required key"));
  auto backwards = Parse("table: t\nlayer: silver\nexpectations:\n  - name: d\n"
                         "    kind: distribution\n    column: a\n    psi_max: 0.1\n"
                         "    reference: {from: 2023-06, to: 2023-01}\n    severity: warn\n"
                         "    rationale: r\n");
  ASSERT_FALSE(backwards.ok());
  EXPECT_THAT(backwards.status().message(), HasSubstr("reference.to: is before from"));
}

TEST(ExpectationSuite, DuplicateNamesAreAnError) {
  auto s = Parse("table: t\nlayer: silver\nexpectations:\n"
                 "  - {name: x, kind: freshness, severity: warn, rationale: r}\n"
                 "  - {name: x, kind: freshness, severity: warn, rationale: r}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr(":5: expectations[1]: expectation \"x\" is declared twice"));
}

TEST(ExpectationSuite, FileNameMustMatchLayerAndTable) {
  TempDir dir;
  const auto path = dir.Write("silver.other.yaml", kValid);
  auto s = LoadExpectationSuite(path);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("must be named silver.t.yaml"));
  EXPECT_EQ(LoadExpectationSuite(dir.path() / "silver.none.yaml").status().code(),
            StatusCode::kNotFound);
}

TEST(ExpectationSuite, ShippedSuitesLoad) {
  for (const char* project : {"lending-datamart", "kueski"}) {
    auto suites = LoadExpectationSuites(std::string(RISKPIPE_SOURCE_DIR) + "/examples/" + project +
                                        "/expectations");
    ASSERT_TRUE(suites.ok()) << suites.status().ToString();
    EXPECT_FALSE(suites->empty()) << project;
  }
}

TEST(ProjectExpectationsDir, DefaultsBesideTheProjectFileAndCanBeSet) {
  TempDir dir;
  const std::string base =
      "project: p\nworkspace: ws\nsources:\n  - name: s\n    file: s.csv\n"
      "    date_column: d\n    columns:\n      - {name: d, type: date}\n";
  auto p = ParseProject(base, dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->expectations_dir, (dir.path() / "expectations").lexically_normal());
  auto q = ParseProject(base + "expectations: checks/dq\n", dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->expectations_dir, (dir.path() / "checks/dq").lexically_normal());
}

}  // namespace
}  // namespace riskpipe::config
