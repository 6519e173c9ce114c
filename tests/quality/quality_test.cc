#include "quality/quality.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stats/distribution.h"
#include "testing/temp_dir.h"

namespace riskpipe::quality {
namespace {

using config::ExpectationSuite;
using datamart::Layer;
using riskpipe::testing::TempDir;
using ::testing::HasSubstr;

const Month kMonth = Month::Of(2024, 3);

class QualityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok());
    db_ = std::make_unique<db::Database>(std::move(database).value());
    auto con = db_->Connect();
    ASSERT_TRUE(con.ok());
    con_ = std::make_unique<db::Connection>(std::move(con).value());
  }

  // Writes silver/<table> for `month` from a SELECT.
  void Write(const std::string& table, Month month, const std::string& select_sql) {
    auto n = mart_.WritePartition(*con_, Layer::kSilver, table, month.first_day(), select_sql);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
  }

  // A suite for silver/t with the given expectations (YAML list items).
  ExpectationSuite Suite(const std::string& items, const std::string& table = "t") {
    auto s = config::ParseExpectationSuite(
        "table: " + table + "\nlayer: silver\nexpectations:\n" + items,
        dir_.path() / ("silver." + table + ".yaml"));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : ExpectationSuite{};
  }

  SuiteResult Evaluate(const ExpectationSuite& suite, Month month = kMonth) {
    auto r = EvaluateSuite(*con_, mart_, suite, month);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SuiteResult{};
  }

  // The outcome of the single expectation of a one-item suite.
  ExpectationResult One(const std::string& item) {
    SuiteResult r = Evaluate(Suite(item));
    EXPECT_EQ(r.results.size(), 1u);
    return r.results.empty() ? ExpectationResult{} : r.results[0];
  }

  TempDir dir_;
  datamart::Datamart mart_{dir_.path() / "datamart"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::Connection> con_;
};

// 20 rows: id 0..19, a null on ids 0 and 1 (segment x), seg x for ids < 5 else y,
// v = id, code 'A' except id 19 'Z'.
constexpr char kTwentyRows[] =
    "SELECT i AS id, CASE WHEN i < 2 THEN NULL ELSE i END AS a, CASE WHEN i < 5 THEN 'x' "
    "ELSE 'y' END AS seg, i::DOUBLE AS v, CASE WHEN i = 19 THEN 'Z' ELSE 'A' END AS code "
    "FROM range(20) t(i)";

TEST_F(QualityTest, RowCountPassesInsideAndFailsOutsideBounds) {
  Write("t", kMonth, kTwentyRows);
  const auto pass = One("  - {name: n, kind: row_count, min: 10, max: 20, severity: error, "
                        "rationale: r}\n");
  EXPECT_EQ(pass.outcome, Outcome::kPass);
  EXPECT_DOUBLE_EQ(pass.observed, 20);
  const auto fail = One("  - {name: n, kind: row_count, min: 21, severity: error, rationale: r}\n");
  EXPECT_EQ(fail.outcome, Outcome::kFail);
  EXPECT_EQ(fail.threshold, "rows >= 21");
}

TEST_F(QualityTest, NullRateComparesTheFractionOfNulls) {
  Write("t", kMonth, kTwentyRows);
  const auto pass = One("  - {name: n, kind: null_rate, column: a, max: 0.1, severity: error, "
                        "rationale: r}\n");
  EXPECT_EQ(pass.outcome, Outcome::kPass);
  EXPECT_DOUBLE_EQ(pass.observed, 0.1);
  const auto fail = One("  - {name: n, kind: null_rate, column: a, max: 0.05, severity: error, "
                        "rationale: r}\n");
  EXPECT_EQ(fail.outcome, Outcome::kFail);
  EXPECT_THAT(fail.observed_text, HasSubstr("2 of 20 rows null"));
}

TEST_F(QualityTest, NullRateBySegmentCatchesAGapHiddenInTheOverallRate) {
  Write("t", kMonth, kTwentyRows);
  // Overall 0.1 passes 0.3, but segment x has 2 of 5 null (0.4).
  const auto fail = One("  - {name: n, kind: null_rate, column: a, by: seg, max: 0.3, "
                        "severity: error, rationale: r}\n");
  EXPECT_EQ(fail.outcome, Outcome::kFail);
  EXPECT_DOUBLE_EQ(fail.observed, 0.4);
  EXPECT_THAT(fail.observed_text, HasSubstr("seg=x"));
  // Segments smaller than min_segment_rows are not judged: only y (15 rows, no nulls) is.
  const auto pass = One("  - {name: n, kind: null_rate, column: a, by: seg, max: 0.3, "
                        "min_segment_rows: 10, severity: error, rationale: r}\n");
  EXPECT_EQ(pass.outcome, Outcome::kPass);
  EXPECT_DOUBLE_EQ(pass.observed, 0.0);
}

TEST_F(QualityTest, RangeHonoursMostly) {
  Write("t", kMonth, kTwentyRows);
  // v in [0, 18]: 19 of 20 comply (0.95).
  const auto strict = One("  - {name: r, kind: range, column: v, min: 0, max: 18, "
                          "severity: error, rationale: r}\n");
  EXPECT_EQ(strict.outcome, Outcome::kFail);
  EXPECT_DOUBLE_EQ(strict.observed, 0.95);
  EXPECT_THAT(strict.details, HasSubstr("max 19"));
  const auto mostly = One("  - {name: r, kind: range, column: v, min: 0, max: 18, mostly: 0.9, "
                          "severity: error, rationale: r}\n");
  EXPECT_EQ(mostly.outcome, Outcome::kPass);
}

TEST_F(QualityTest, AllowedValuesFailsOnAnUnknownCode) {
  Write("t", kMonth, kTwentyRows);
  const auto fail = One("  - {name: c, kind: allowed_values, column: code, values: [A, B], "
                        "severity: error, rationale: r}\n");
  EXPECT_EQ(fail.outcome, Outcome::kFail);
  EXPECT_DOUBLE_EQ(fail.observed, 0.95);
  const auto pass = One("  - {name: c, kind: allowed_values, column: code, values: [A, Z], "
                        "severity: error, rationale: r}\n");
  EXPECT_EQ(pass.outcome, Outcome::kPass);
}

TEST_F(QualityTest, UniqueCountsDuplicateRows) {
  Write("t", kMonth, "SELECT i % 8 AS k, i % 2 AS j FROM range(20) t(i)");
  // (k) repeats: 20 rows over 8 keys -> 12 duplicate rows. (k, j): k determines j -> same.
  const auto fail = One("  - {name: u, kind: unique, columns: [k], severity: error, "
                        "rationale: r}\n");
  EXPECT_EQ(fail.outcome, Outcome::kFail);
  EXPECT_DOUBLE_EQ(fail.observed, 12);
  Write("t", kMonth, "SELECT i AS k FROM range(20) t(i)");
  const auto pass = One("  - {name: u, kind: unique, columns: [k], severity: error, "
                        "rationale: r}\n");
  EXPECT_EQ(pass.outcome, Outcome::kPass);
  EXPECT_DOUBLE_EQ(pass.observed, 0);
}

TEST_F(QualityTest, FreshnessFailsForAMissingMonthAndSkipsTheRest) {
  Write("t", Month::Of(2024, 2), kTwentyRows);
  const SuiteResult r = Evaluate(Suite(
      "  - {name: fresh, kind: freshness, severity: error, rationale: r}\n"
      "  - {name: n, kind: null_rate, column: a, max: 0.5, severity: error, rationale: r}\n"));
  EXPECT_FALSE(r.partition_found);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].outcome, Outcome::kFail);
  EXPECT_EQ(r.results[0].observed_text, "partition missing");
  EXPECT_EQ(r.results[1].outcome, Outcome::kSkip);
  EXPECT_TRUE(r.failed());
  EXPECT_THAT(r.FailureMessage(),
              HasSubstr("silver/t 2024-03: expectation fresh failed: observed partition missing"));
}

TEST_F(QualityTest, FreshnessFailsForAnEmptyPartitionAndPassesOtherwise) {
  Write("t", kMonth, "SELECT 1 AS a WHERE false");
  const auto empty = One("  - {name: f, kind: freshness, severity: error, rationale: r}\n");
  EXPECT_EQ(empty.outcome, Outcome::kFail);
  Write("t", kMonth, kTwentyRows);
  const auto full = One("  - {name: f, kind: freshness, severity: error, rationale: r}\n");
  EXPECT_EQ(full.outcome, Outcome::kPass);
  EXPECT_DOUBLE_EQ(full.observed, 20);
}

// Two reference months of v = 0..999 (uniform) and a current month as given.
constexpr char kDistribution[] =
    "  - name: d\n    kind: distribution\n    column: v\n    psi_max: 0.1\n"
    "    ks_pvalue_min: 0.001\n    reference: {from: 2024-01, to: 2024-02}\n"
    "    severity: warn\n    rationale: r\n";

TEST_F(QualityTest, NumericDistributionPassesForTheSameShapeAndFailsForAShift) {
  Write("t", Month::Of(2024, 1), "SELECT i::DOUBLE AS v FROM range(1000) t(i)");
  Write("t", Month::Of(2024, 2), "SELECT i::DOUBLE AS v FROM range(1000) t(i)");
  Write("t", kMonth, "SELECT (999 - i)::DOUBLE AS v FROM range(1000) t(i)");
  const auto same = One(kDistribution);
  EXPECT_EQ(same.outcome, Outcome::kPass) << same.observed_text;
  EXPECT_NEAR(same.observed, 0.0, 1e-12);
  Write("t", kMonth, "SELECT (i + 300)::DOUBLE AS v FROM range(1000) t(i)");
  const auto shifted = One(kDistribution);
  EXPECT_EQ(shifted.outcome, Outcome::kFail);
  EXPECT_GT(shifted.observed, 0.1);
  EXPECT_THAT(shifted.observed_text, HasSubstr("KS p"));
  EXPECT_THAT(shifted.details, HasSubstr("KS D 0.3 over 1000 vs 2000"));
}

TEST_F(QualityTest, NumericDistributionMatchesStatsOnBothComputationPaths) {
  // Few distinct values (histogram copied to C++) and many (computed inside DuckDB) must give
  // the PSI and KS of the pure functions on the same samples.
  for (const int distinct : {500, 150'000}) {
    const int rows = 150'000;
    const std::string n = std::to_string(rows), k = std::to_string(distinct);
    Write("t", Month::Of(2024, 1), "SELECT (i % " + k + ")::DOUBLE AS v FROM range(" + n + ") t(i)");
    Write("t", Month::Of(2024, 2), "SELECT ((i * 7) % " + k + ")::DOUBLE AS v FROM range(" + n +
                                       ") t(i)");
    Write("t", kMonth, "SELECT ((i % " + k + ") * 1.1)::DOUBLE AS v FROM range(" + n + ") t(i)");
    std::vector<double> ref, cur;
    for (int i = 0; i < rows; ++i) {
      ref.push_back(i % distinct);
      ref.push_back(static_cast<double>((static_cast<int64_t>(i) * 7) % distinct));
      cur.push_back((i % distinct) * 1.1);
    }
    const double psi = stats::PsiOfSamples(ref, cur);
    const stats::KsResult ks = stats::KsTwoSample(cur, ref);
    const SuiteResult r = Evaluate(Suite(kDistribution));
    ASSERT_EQ(r.results.size(), 1u);
    EXPECT_NEAR(r.results[0].observed, psi, 1e-9) << distinct << " distinct";
    EXPECT_THAT(r.results[0].details,
                HasSubstr("KS D " + std::string(std::to_string(ks.statistic)).substr(0, 5)))
        << distinct << " distinct";
  }
}

TEST_F(QualityTest, CategoricalDistributionUsesChiSquare) {
  const std::string item =
      "  - name: d\n    kind: distribution\n    column: c\n    chi2_pvalue_min: 0.001\n"
      "    reference: {from: 2024-01, to: 2024-01}\n    severity: warn\n    rationale: r\n";
  Write("t", Month::Of(2024, 1), "SELECT CASE WHEN i % 4 = 0 THEN 'a' ELSE 'b' END AS c FROM "
                                 "range(2000) t(i)");
  Write("t", kMonth, "SELECT CASE WHEN i % 4 = 1 THEN 'a' ELSE 'b' END AS c FROM range(1000) t(i)");
  EXPECT_EQ(One(item).outcome, Outcome::kPass);
  Write("t", kMonth, "SELECT CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS c FROM range(1000) t(i)");
  const auto shifted = One(item);
  EXPECT_EQ(shifted.outcome, Outcome::kFail);
  EXPECT_LT(shifted.observed, 1e-6);
  EXPECT_THAT(shifted.details, HasSubstr("2 categories"));
}

TEST_F(QualityTest, DistributionWithoutReferenceDataFails) {
  Write("t", kMonth, "SELECT i::DOUBLE AS v FROM range(10) t(i)");
  const auto r = One(kDistribution);
  EXPECT_EQ(r.outcome, Outcome::kFail);
  EXPECT_EQ(r.observed_text, "no reference data");
}

TEST_F(QualityTest, KsOnTextAndUnknownColumnsAreConfigurationErrors) {
  Write("t", Month::Of(2024, 1), "SELECT 'x' AS v");
  Write("t", kMonth, "SELECT 'y' AS v");
  auto ks = EvaluateSuite(*con_, mart_, Suite(kDistribution), kMonth);
  ASSERT_FALSE(ks.ok());
  EXPECT_EQ(ks.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ks.status().message(), HasSubstr("silver.t.yaml:4: expectation d: the KS test"));
  auto missing = EvaluateSuite(
      *con_, mart_,
      Suite("  - {name: n, kind: null_rate, column: nope, max: 0.1, severity: warn, rationale: "
            "r}\n"),
      kMonth);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("expectation n: column \"nope\" is not in silver/t"));
}

// Clickstream-shaped month: 300 customers, fe_1..fe_20 ~ 100 +- noise; fe_7 empty when
// `outage`.
std::string Clickstream(bool outage) {
  std::string sql = "SELECT 'CUS_' || i AS Customer_ID";
  for (int f = 1; f <= 20; ++f) {
    const std::string fe = "fe_" + std::to_string(f);
    sql += ", " + std::string(outage && f == 7 ? "NULL::BIGINT" : "(100 + (i * " +
                                                     std::to_string(f) + ") % 200 - 100)") +
           " AS " + fe;
  }
  return sql + " FROM range(9000) t(i)";
}

TEST_F(QualityTest, ShippedSuiteCatchesTheClickstreamOutageMonth) {
  auto suite = config::LoadExpectationSuite(
      std::string(RISKPIPE_SOURCE_DIR) +
      "/examples/lending-datamart/expectations/silver.feature_clickstream.yaml");
  ASSERT_TRUE(suite.ok()) << suite.status().ToString();
  Write("feature_clickstream", Month::Of(2024, 2), Clickstream(false));
  Write("feature_clickstream", kMonth, Clickstream(true));
  const SuiteResult normal = Evaluate(*suite, Month::Of(2024, 2));
  EXPECT_FALSE(normal.failed()) << normal.FailureMessage();
  EXPECT_EQ(normal.Count(Outcome::kFail), 0);
  const SuiteResult broken = Evaluate(*suite, kMonth);
  EXPECT_TRUE(broken.failed());
  EXPECT_THAT(broken.FailureMessage(),
              HasSubstr("expectation fe_7_present failed: observed 1 (9000 of 9000 rows null), "
                        "threshold <= 0.01"));
}

TEST_F(QualityTest, ResultsTableReplacesTheMonthIdempotently) {
  Write("t", kMonth, kTwentyRows);
  Write("u", kMonth, kTwentyRows);
  const std::string items =
      "  - {name: n, kind: row_count, min: 1, severity: error, rationale: r}\n"
      "  - {name: a, kind: null_rate, column: a, max: 0.05, severity: warn, rationale: r}\n";
  const SuiteResult t = Evaluate(Suite(items, "t"));
  const SuiteResult u = Evaluate(Suite(items, "u"));
  const RunContext ctx{7, "2024-04-01T00:00:00.000Z"};
  ASSERT_TRUE(WriteResults(*con_, mart_, kMonth, {t}, ctx).ok());
  ASSERT_TRUE(WriteResults(*con_, mart_, kMonth, {u}, ctx).ok());
  const std::string file =
      mart_.PartitionFile(Layer::kGold, kResultsTable, kMonth.first_day()).string();
  const std::string count = "SELECT count(*) FROM read_parquet('" + file + "')";
  EXPECT_EQ(*con_->QueryInt(count), 4);
  // Re-running t replaces its rows and keeps u's.
  ASSERT_TRUE(WriteResults(*con_, mart_, kMonth, {t}, RunContext{8, "later"}).ok());
  ASSERT_TRUE(WriteResults(*con_, mart_, kMonth, {t}, RunContext{9, "later still"}).ok());
  EXPECT_EQ(*con_->QueryInt(count), 4);
  EXPECT_EQ(*con_->QueryInt(count + " WHERE table_name = 't' AND run_id = 9"), 2);
  EXPECT_EQ(*con_->QueryInt(count + " WHERE table_name = 'u' AND run_id = 7"), 2);
  EXPECT_EQ(*con_->QueryInt(count + " WHERE expectation = 'a' AND outcome = 'fail' AND "
                                    "NOT passed AND observed = 0.1 AND month = '2024-03'"),
            2);
}

TEST_F(QualityTest, ReportShowsResultsAndRationale) {
  Write("t", kMonth, kTwentyRows);
  const SuiteResult r = Evaluate(Suite(
      "  - {name: a_nulls, kind: null_rate, column: a, max: 0.05, severity: error, "
      "rationale: \"reference 0.01 plus margin\"}\n"));
  auto path = WriteReport(dir_.path() / "ws", r, RunContext{3, "now"});
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, dir_.path() / "ws/reports/quality/t_2024-03.md");
  const std::string md = riskpipe::testing::ReadAll(*path);
  EXPECT_THAT(md, HasSubstr("# Data quality: silver/t 2024-03"));
  EXPECT_THAT(md, HasSubstr("| **FAIL** | a_nulls | null_rate | a | error | 0.1 (2 of 20 rows "
                            "null) | <= 0.05 |"));
  EXPECT_THAT(md, HasSubstr("reference 0.01 plus margin"));
}

}  // namespace
}  // namespace riskpipe::quality
