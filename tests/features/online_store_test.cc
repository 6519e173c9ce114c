// Tests of the online store (docs/online-store.md): Materialize() on tiny silver partitions
// written here (one row per entity, features as of as_of, future rows ignored, Kueski-style
// "previous loans strictly before as_of"), atomic publish with CURRENT and pruning, and the
// DuckDB-free loader (round trip of values, nulls and quoted text; tampered, malformed and
// missing files refused with clear errors).

#include "core/json.h"
#include "features/materialize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/files.h"
#include "core/hash.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "features/feature_query.h"
#include "testing/temp_dir.h"

namespace riskpipe::features {
namespace {

namespace fs = std::filesystem;
using datamart::Datamart;
using datamart::Layer;
using riskpipe::testing::TempDir;

// Kueski-shaped loans plus a dated customer profile (a latest view with a text feature).
constexpr char kConfig[] = R"yaml(
project: online
workspace: ws
pii_salt: test-salt
sources:
  - name: loans
    file: raw/loans.csv
    keys: [id, loan_id]
    date_column: loan_date
    columns:
      - {name: loan_id, type: int, required: true}
      - {name: id, type: int, required: true}
      - {name: loan_date, type: date, required: true}
      - {name: loan_amount, type: float}
      - {name: birthday, type: date}
      - {name: flag_own_car, type: string}
  - name: profile
    file: raw/profile.csv
    keys: [id, report_date]
    date_column: report_date
    columns:
      - {name: id, type: int, required: true}
      - {name: report_date, type: date, required: true}
      - {name: income, type: float}
      - {name: segment, type: string}
features:
  version: "7"
  spine:
    source: loans
    key: loan_id
    entity: id
    date: loan_date
  views:
    - name: applicant
      kind: spine
      features:
        - {name: age, expr: "date_part('year', age(decision_date, birthday))"}
        - {name: flag_own_car, expr: "CASE flag_own_car WHEN 'Y' THEN 1 WHEN 'N' THEN 0 END"}
    - name: loan_history
      kind: aggregate
      source: loans
      event_time: loan_date
      strict: true
      features:
        - {name: nb_previous_loans, expr: "count(*)"}
        - {name: avg_amount_loans_previous, expr: "avg(loan_amount)"}
    - name: profile
      kind: latest
      source: profile
      event_time: report_date
      features:
        - {name: income, expr: income}
        - {name: segment, expr: segment}
        - {name: income_or_zero, expr: "coalesce(income, 0)"}
    - name: fresh_profile
      kind: latest
      source: profile
      event_time: report_date
      max_age_days: 30
      features:
        - {name: fresh_income, expr: "coalesce(income, -1)"}
    - name: recent_profile
      kind: aggregate
      source: profile
      event_time: report_date
      window_days: 60
      features:
        - {name: reports_60d, expr: "count(*)"}
        - {name: max_income_60d, expr: "max(income)"}
)yaml";

Date D(const char* iso) { return *ParseIsoDate(iso); }
const Date kAsOf = D("2021-04-30");

struct LoanRow {
  int64_t loan_id, id;
  const char* loan_date;
  double amount;
  const char* birthday;
  const char* car;  // nullptr = NULL
};

// User 1: two loans before as_of, one after. User 2: one before and one ON as_of (not
// "previous", but its terms are the latest application). User 3: only after as_of. User 4:
// one loan, no profile.
std::vector<LoanRow> Loans() {
  return {
      {1000, 1, "2021-01-10", 0.1, "1990-05-01", "Y"},
      {1001, 1, "2021-03-05", 0.2, "1990-05-01", "N"},
      {1002, 1, "2021-06-01", 900, "1970-01-01", "Y"},
      {1003, 2, "2021-02-01", 200, "2000-04-30", nullptr},
      {1004, 2, "2021-04-30", 400, "2000-04-30", "Y"},
      {1005, 3, "2021-07-01", 50, "1980-01-01", "N"},
      {1006, 4, "2021-04-01", 10, "1985-06-15", "N"},  // no profile rows at all
  };
}

class OnlineStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::make_unique<db::Database>(std::move(*database));
    auto con = database_->Connect();
    ASSERT_TRUE(con.ok()) << con.status().ToString();
    con_ = std::make_unique<db::Connection>(std::move(*con));
    UseConfig(kConfig);
  }

  // Replaces the project with one parsed from `yaml` (in the test's folder).
  void UseConfig(const std::string& yaml) {
    auto p = config::ParseProject(yaml, dir_.path() / "riskpipe.yaml");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = *p;
  }

  Datamart mart() const { return Datamart(project_.workspace.datamart()); }
  fs::path online() const { return project_.workspace.online(); }

  // Writes the loans (and the profile rows, as SQL tuples (id, report_date, income, segment))
  // to silver, one partition per month.
  void WriteSilver(const std::vector<LoanRow>& loans, const std::vector<std::string>& profile) {
    std::map<Date, std::string> by_month;
    for (const LoanRow& l : loans) {
      std::string& v = by_month[Month::Of(D(l.loan_date)).first_day()];
      v += (v.empty() ? "" : ", ") + std::string("(") + std::to_string(l.loan_id) + ", " +
           std::to_string(l.id) + ", DATE '" + l.loan_date + "', " + std::to_string(l.amount) +
           "::DOUBLE, DATE '" + l.birthday + "', " +
           (l.car ? "'" + std::string(l.car) + "'" : "NULL::VARCHAR") + ")";
    }
    for (const auto& [month, values] : by_month) {
      auto n = mart().WritePartition(
          *con_, Layer::kSilver, "loans", month,
          "SELECT CAST(loan_id AS BIGINT) AS loan_id, CAST(id AS BIGINT) AS id, loan_date, "
          "CAST(loan_amount AS DOUBLE) AS loan_amount, birthday, flag_own_car FROM (VALUES " +
              values + ") t(loan_id, id, loan_date, loan_amount, birthday, flag_own_car)");
      ASSERT_TRUE(n.ok()) << n.status().ToString();
    }
    std::map<Date, std::string> profile_by_month;
    for (const std::string& row : profile) {
      const Date d = D(row.substr(row.find("DATE '") + 6, 10).c_str());
      std::string& v = profile_by_month[Month::Of(d).first_day()];
      v += (v.empty() ? "" : ", ") + row;
    }
    for (const auto& [month, values] : profile_by_month) {
      auto n = mart().WritePartition(
          *con_, Layer::kSilver, "profile", month,
          "SELECT CAST(id AS BIGINT) AS id, report_date, CAST(income AS DOUBLE) AS income, "
          "CAST(segment AS VARCHAR) AS segment FROM (VALUES " +
              values + ") t(id, report_date, income, segment)");
      ASSERT_TRUE(n.ok()) << n.status().ToString();
    }
  }

  // Text with a comma, quotes and a newline; an empty string; a null.
  static std::vector<std::string> Profile(double future_income = 1e6) {
    return {
        "(1, DATE '2021-02-01', 1000.5, 'a, \"quoted\"\nline')",
        "(1, DATE '2021-05-01', " + std::to_string(future_income) + ", 'future')",
        "(2, DATE '2021-04-30', NULL, '')",
        "(3, DATE '2021-01-01', 7, NULL)",
    };
  }

  MaterializeSummary Run(MaterializeOptions options = {}) {
    auto s = Materialize(project_, *con_, options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : MaterializeSummary{};
  }

  OnlineSnapshot Load() {
    auto s = LoadOnlineSnapshot(online());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : OnlineSnapshot{};
  }

  static std::string Cell(const OnlineSnapshot& s, std::string_view entity, const char* feature) {
    const auto row = s.Find(entity);
    const auto f = s.FeatureIndex(feature);
    if (!row || !f) return "<missing>";
    const OnlineValue v = s.Value(*row, *f);
    if (std::holds_alternative<std::monostate>(v)) return "NULL";
    if (const double* d = std::get_if<double>(&v)) return std::to_string(*d);
    return "'" + std::string(std::get<std::string_view>(v)) + "'";
  }

  // The cells of the test data as LoaderRoundTripsValuesNullsAndQuotedText expects them.
  void ExpectRoundTrip(const OnlineSnapshot& snap);

  // Compares every cell of the CURRENT snapshot (as of kAsOf) with FeatureSql over
  // EventSpineSql for the events (entity, as_of).
  void ExpectSnapshotMatchesTheTrainingPath();

  std::string Current() const {
    std::string v = riskpipe::testing::ReadAll(online() / kCurrentFile);
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  }

  std::set<std::string> SnapshotDirs() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(online() / kSnapshotsDir)) {
      out.insert(e.path().filename().string());
    }
    return out;
  }

  TempDir dir_;
  config::Project project_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<db::Connection> con_;
};

TEST_F(OnlineStoreTest, OneRowPerEntityWithFeaturesAsOfTheDate) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary s = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  EXPECT_EQ(s.rows, 3);  // user 3 has no event on or before as_of
  EXPECT_EQ(s.features, 10u);
  EXPECT_EQ(s.as_of, kAsOf);
  EXPECT_EQ(Current(), s.version);

  const std::string csv = riskpipe::testing::ReadAll(s.dir / kSnapshotCsv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "id,age,flag_own_car,nb_previous_loans,avg_amount_loans_previous,income,segment,"
            "income_or_zero,fresh_income,reports_60d,max_income_60d");
  // Rows sorted by entity; text always quoted, null as an empty unquoted field.
  EXPECT_NE(csv.find("\n2,"), std::string::npos);
  EXPECT_LT(csv.find("\n1,"), csv.find("\n2,"));
  EXPECT_NE(csv.find(",\"\","), std::string::npos) << csv;  // user 2's empty segment
  const OnlineSnapshot snap = Load();
  ASSERT_EQ(snap.rows(), 3u);
  EXPECT_EQ(snap.version(), s.version);
  EXPECT_EQ(snap.as_of(), kAsOf);
  EXPECT_EQ(snap.entity_column(), "id");
  EXPECT_EQ(snap.feature_set_version(), "7");
  EXPECT_EQ(snap.project(), "online");
  EXPECT_FALSE(snap.Find("3").has_value());
  // User 1: the latest application is 2021-03-05 (the 2021-06-01 loan is after as_of); age on
  // as_of; two loans strictly before as_of; the profile as of 2021-02-01.
  EXPECT_EQ(Cell(snap, "1", "age"), "30.000000");
  EXPECT_EQ(Cell(snap, "1", "flag_own_car"), "0.000000");
  EXPECT_EQ(Cell(snap, "1", "nb_previous_loans"), "2.000000");
  EXPECT_EQ(Cell(snap, "1", "income"), "1000.500000");
  // User 2's latest application is the one ON as_of: its terms are used, but it is not a
  // previous loan (strictly before as_of), so only the 2021-02-01 loan counts.
  EXPECT_EQ(Cell(snap, "2", "age"), "21.000000");  // born 2000-04-30: 21 on as_of
  EXPECT_EQ(Cell(snap, "2", "flag_own_car"), "1.000000");
  EXPECT_EQ(Cell(snap, "2", "nb_previous_loans"), "1.000000");
  EXPECT_EQ(Cell(snap, "2", "avg_amount_loans_previous"), "200.000000");
  // User 4 has no profile: NULL, except expressions that turn NULL into a value (as the
  // training path's unmatched ASOF row does), unless max_age_days rules the missing row out.
  EXPECT_EQ(Cell(snap, "4", "income"), "NULL");
  EXPECT_EQ(Cell(snap, "4", "income_or_zero"), "0.000000");
  EXPECT_EQ(Cell(snap, "4", "fresh_income"), "NULL");
  EXPECT_EQ(Cell(snap, "4", "reports_60d"), "0.000000");
  EXPECT_EQ(Cell(snap, "4", "nb_previous_loans"), "1.000000");
  // User 1's latest profile (2021-02-01) is older than 30 days: fresh_income is NULL (not -1:
  // a row too old is no row for max_age_days); in the 60-day window there is none either.
  EXPECT_EQ(Cell(snap, "1", "fresh_income"), "NULL");
  EXPECT_EQ(Cell(snap, "1", "reports_60d"), "0.000000");
  EXPECT_EQ(Cell(snap, "2", "reports_60d"), "1.000000");
}

TEST_F(OnlineStoreTest, NbPreviousLoansMatchesAReferenceCount) {
  WriteSilver(Loans(), Profile());
  for (const char* day : {"2021-01-10", "2021-02-01", "2021-03-05", "2021-04-30", "2021-12-31"}) {
    Run({.as_of = D(day)});
    const OnlineSnapshot snap = Load();
    std::map<int64_t, int> reference;  // loans strictly before as_of, for users with an event
    std::set<int64_t> active;
    for (const LoanRow& l : Loans()) {
      if (D(l.loan_date) <= D(day)) active.insert(l.id);
      if (D(l.loan_date) < D(day)) ++reference[l.id];
    }
    ASSERT_EQ(snap.rows(), active.size()) << day;
    for (int64_t id : active) {
      EXPECT_EQ(Cell(snap, std::to_string(id), "nb_previous_loans"),
                std::to_string(static_cast<double>(reference[id])))
          << "user " << id << " as of " << day;
    }
  }
}

TEST_F(OnlineStoreTest, MatchesTheTrainingPathForEventsOnAsOf) {
  // The snapshot equals FeatureSql over EventSpineSql for the events (entity, as_of): the
  // historical-retrieval path a training set uses.
  WriteSilver(Loans(), Profile());
  Run({.as_of = kAsOf});
  ExpectSnapshotMatchesTheTrainingPath();
}

// Aggregate views over the profile: every plain call (count(*), count of text and of numbers,
// sum and avg of integers and doubles, min, max of a boolean), a strict view with a ratio of two
// calls, a text max and a DATE min.
constexpr char kAggregateViews[] = R"yaml(
    - name: profile_stats
      kind: aggregate
      source: profile
      event_time: report_date
      window_days: 120
      features:
        - {name: p_rows, expr: "count(*)"}
        - {name: p_rows_too, expr: " Count ( ) "}
        - {name: p_segments, expr: "count(segment)"}
        - {name: p_incomes, expr: "COUNT( income )"}
        - {name: p_income_sum, expr: "sum(income)"}
        - {name: p_income_avg, expr: "avg(income)"}
        - {name: p_income_min, expr: "min(income)"}
        - {name: p_id_sum, expr: "sum(id)"}
        - {name: p_id_avg, expr: "avg(id * 3)"}
        - {name: p_id_max, expr: "max(id)"}
        - {name: p_rich, expr: "max(income > 100)"}
        - {name: p_paren, expr: "sum((coalesce(income, 1) + 1) * 2)"}
    - name: profile_strict
      kind: aggregate
      source: profile
      event_time: report_date
      strict: true
      features:
        - {name: s_income_max, expr: "max(income)"}
        - {name: s_ratio, expr: "sum(income) / count(*)"}
    - name: profile_text
      kind: aggregate
      source: profile
      event_time: report_date
      features:
        - {name: t_segment_max, expr: "max(segment)"}
        - {name: t_first, expr: "min(report_date)"}
)yaml";

// Aggregate views give the training path's values: with nulls, a source entity outside the
// spine, rows on the window's first day and the day before it, and a customer without rows.
TEST_F(OnlineStoreTest, AggregateViewsMatchTheTrainingPath) {
  ASSERT_NO_FATAL_FAILURE(UseConfig(std::string(kConfig) + kAggregateViews));
  std::vector<std::string> profile = Profile();
  for (const char* row : {"(1, DATE '2021-03-15', NULL, 'b')", "(2, DATE '2021-01-15', 5.25, NULL)",
                          "(99, DATE '2021-04-01', 50, 'x')",     // not a spine entity
                          "(1, DATE '2020-12-31', 2.5, 'edge')",  // as_of - 120: inside
                          "(1, DATE '2020-12-30', 1000, 'out')",  // the day before: outside
                          "(2, DATE '2021-04-29', 300, 'late')"}) {
    profile.push_back(row);
  }
  WriteSilver(Loans(), profile);
  Run({.as_of = kAsOf});
  ExpectSnapshotMatchesTheTrainingPath();
  const OnlineSnapshot snap = Load();
  // User 1 in the window: 2020-12-31 (2.5), 2021-02-01 (1000.5), 2021-03-15 (NULL).
  EXPECT_EQ(Cell(snap, "1", "p_rows"), "3.000000");
  EXPECT_EQ(Cell(snap, "1", "p_rows_too"), "3.000000");
  EXPECT_EQ(Cell(snap, "1", "p_incomes"), "2.000000");
  EXPECT_EQ(Cell(snap, "1", "p_income_sum"), "1003.000000");
  EXPECT_EQ(Cell(snap, "1", "p_income_avg"), "501.500000");
  EXPECT_EQ(Cell(snap, "1", "p_id_sum"), "3.000000");
  EXPECT_EQ(Cell(snap, "1", "p_paren"), std::to_string((2.5 + 1 + 1000.5 + 1 + 1 + 1) * 2));
  // User 2: 2021-01-15 (segment NULL), 2021-04-29, 2021-04-30 (income NULL, segment '').
  EXPECT_EQ(Cell(snap, "2", "p_segments"), "2.000000");
  EXPECT_EQ(Cell(snap, "2", "p_income_min"), "5.250000");
  EXPECT_EQ(Cell(snap, "2", "p_rich"), "1.000000");
  EXPECT_EQ(Cell(snap, "2", "p_id_avg"), "6.000000");
  // User 4 has no profile: counts 0, the rest NULL.
  EXPECT_EQ(Cell(snap, "4", "p_rows"), "0.000000");
  EXPECT_EQ(Cell(snap, "4", "p_income_sum"), "NULL");
  EXPECT_EQ(Cell(snap, "4", "p_id_max"), "NULL");
}

// Aggregates keep DuckDB's semantics: a NaN orders above every number (the snapshot then
// stores it as null), and integers beyond 2^53 are summed exactly before the result is
// rounded to a double.
TEST_F(OnlineStoreTest, AggregatesOrderNaNAboveNumbersAndSumHugeIntegersExactly) {
  ASSERT_NO_FATAL_FAILURE(UseConfig(std::string(kConfig) + kAggregateViews));
  std::vector<std::string> profile = Profile();
  profile.push_back("(1, DATE '2021-03-15', 'NaN'::DOUBLE, 'b')");
  WriteSilver(Loans(), profile);
  Run({.as_of = kAsOf});
  ExpectSnapshotMatchesTheTrainingPath();
  EXPECT_EQ(Cell(Load(), "1", "p_income_min"), "1000.500000");  // DuckDB: NaN is the greatest
  // An argument beyond 2^53 (2^53 + 1 is not a double).
  ASSERT_NO_FATAL_FAILURE(UseConfig(std::string(kConfig) + R"yaml(
    - name: big
      kind: aggregate
      source: profile
      event_time: report_date
      features:
        - {name: big_sum, expr: "sum(id * 9007199254740993)"}
        - {name: big_max, expr: "max(income)"}
)yaml"));
  fs::remove_all(project_.workspace.datamart() / "silver" / "profile");
  profile = Profile();
  profile.push_back("(1, DATE '2021-03-15', 2, 'b')");
  profile.push_back("(1, DATE '2021-04-10', 3, 'c')");
  WriteSilver(Loans(), profile);
  Run({.as_of = kAsOf});
  ExpectSnapshotMatchesTheTrainingPath();
  // Three rows of 2^53 + 1: exactly 27021597764222979, the double nearest it ends in 980. Read
  // as doubles each would be 2^53, and the sum 27021597764222976.
  EXPECT_EQ(Cell(Load(), "1", "big_sum"), std::to_string(27021597764222980.0));
}

// An aggregate view of counts and of sums, means, mins and maxes of DOUBLEs is reduced from the
// streamed rows (features/internal/plain_aggregates.h), with DuckDB's results: a null is
// skipped, a NaN is counted, is greater than every number (a min passes over it) and makes a
// sum, mean or max NaN, which the snapshot stores as null. Rows on the window's first day
// count, the day before and rows of entities outside the spine do not.
constexpr char kDoubleAggregates[] = R"yaml(
    - name: income_stats
      kind: aggregate
      source: profile
      event_time: report_date
      window_days: 120
      features:
        - {name: i_rows, expr: "count(*)"}
        - {name: i_incomes, expr: "count(income)"}
        - {name: i_segments, expr: "count(segment)"}
        - {name: i_sum, expr: "sum(income)"}
        - {name: i_avg, expr: "avg(income * 2)"}
        - {name: i_min, expr: "min(income)"}
        - {name: i_max, expr: "MAX( income )"}
)yaml";

TEST_F(OnlineStoreTest, ReducedAggregatesOfDoublesFollowDuckDbOnNullsAndNaN) {
  ASSERT_NO_FATAL_FAILURE(UseConfig(std::string(kConfig) + kDoubleAggregates));
  std::vector<std::string> profile = Profile();
  for (const char* row :
       {"(1, DATE '2021-03-15', NULL, 'b')",
        "(1, DATE '2020-12-31', 2.5, 'edge')",   // as_of - 120: inside
        "(1, DATE '2020-12-30', -1000, 'out')",  // the day before: outside
        "(2, DATE '2021-01-15', 5.25, NULL)", "(2, DATE '2021-04-29', 'NaN'::DOUBLE, 'nan')",
        "(99, DATE '2021-04-01', 50, 'x')"}) {  // not a spine entity
    profile.push_back(row);
  }
  WriteSilver(Loans(), profile);
  Run({.as_of = kAsOf});
  ExpectSnapshotMatchesTheTrainingPath();
  const OnlineSnapshot snap = Load();
  // User 1 in the window: 2020-12-31 (2.5), 2021-02-01 (1000.5), 2021-03-15 (NULL).
  EXPECT_EQ(Cell(snap, "1", "i_rows"), "3.000000");
  EXPECT_EQ(Cell(snap, "1", "i_incomes"), "2.000000");
  EXPECT_EQ(Cell(snap, "1", "i_segments"), "3.000000");
  EXPECT_EQ(Cell(snap, "1", "i_sum"), "1003.000000");
  EXPECT_EQ(Cell(snap, "1", "i_avg"), "1003.000000");
  EXPECT_EQ(Cell(snap, "1", "i_min"), "2.500000");
  EXPECT_EQ(Cell(snap, "1", "i_max"), "1000.500000");
  // User 2: 2021-01-15 (5.25), 2021-04-29 (NaN), 2021-04-30 (NULL, segment '').
  EXPECT_EQ(Cell(snap, "2", "i_rows"), "3.000000");
  EXPECT_EQ(Cell(snap, "2", "i_incomes"), "2.000000");  // the NaN counts
  EXPECT_EQ(Cell(snap, "2", "i_segments"), "2.000000");
  EXPECT_EQ(Cell(snap, "2", "i_sum"), "NULL");
  EXPECT_EQ(Cell(snap, "2", "i_avg"), "NULL");
  EXPECT_EQ(Cell(snap, "2", "i_min"), "5.250000");
  EXPECT_EQ(Cell(snap, "2", "i_max"), "NULL");
  // User 4 has no profile: counts 0, the rest NULL.
  EXPECT_EQ(Cell(snap, "4", "i_rows"), "0.000000");
  EXPECT_EQ(Cell(snap, "4", "i_incomes"), "0.000000");
  EXPECT_EQ(Cell(snap, "4", "i_sum"), "NULL");
  EXPECT_EQ(Cell(snap, "4", "i_min"), "NULL");
}

TEST_F(OnlineStoreTest, MatchesTheTrainingPathWhenKeysDoNotMakeTheLatestRowUnique) {
  // Keys that do not make (entity, event time) unique: a latest view keeps one of an entity's
  // rows at its latest time instead of refusing two.
  std::string yaml = kConfig;
  yaml.replace(yaml.find("keys: [id, report_date]"), 23, "keys: [id, report_date, segment]");
  ASSERT_NO_FATAL_FAILURE(UseConfig(yaml));
  WriteSilver(Loans(), Profile());
  Run({.as_of = kAsOf});
  ExpectSnapshotMatchesTheTrainingPath();
}

// A customer without a row in a view gets the view's expressions over an empty row, text
// included ('none' below), whether or not another customer has that value too.
TEST_F(OnlineStoreTest, CustomersWithoutRowsGetTheExpressionsOverAnEmptyRow) {
  std::string yaml = kConfig;
  const std::string at = "        - {name: income_or_zero, expr: \"coalesce(income, 0)\"}\n";
  ASSERT_NE(yaml.find(at), std::string::npos);
  yaml.replace(yaml.find(at), at.size(),
               at + "        - {name: segment_or_none, expr: \"coalesce(segment, 'none')\"}\n");
  ASSERT_NO_FATAL_FAILURE(UseConfig(yaml));
  std::vector<std::string> profile = Profile();
  profile.push_back("(2, DATE '2021-04-01', 3, 'none')");  // before user 2's latest report
  WriteSilver(Loans(), profile);
  Run({.as_of = kAsOf});
  const OnlineSnapshot snap = Load();
  EXPECT_EQ(Cell(snap, "4", "segment_or_none"), "'none'");  // no profile row at all
  EXPECT_EQ(Cell(snap, "4", "income_or_zero"), "0.000000");
  EXPECT_EQ(Cell(snap, "4", "segment"), "NULL");
  EXPECT_EQ(Cell(snap, "2", "segment_or_none"), "''");
  ExpectSnapshotMatchesTheTrainingPath();
}

// Silver written by hand can break the keys a view relies on: two rows of one customer at its
// latest time would make two snapshot rows, so materialize refuses and names the view.
TEST_F(OnlineStoreTest, AViewWithTwoLatestRowsForACustomerIsRefused) {
  std::vector<std::string> profile = Profile();
  profile.push_back("(1, DATE '2021-02-01', 5, 'twin')");  // the same (id, report_date) as one
  WriteSilver(Loans(), profile);
  auto s = Materialize(project_, *con_, {.as_of = kAsOf});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("\"profile\""), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("id 1 "), std::string::npos) << s.status().message();
  EXPECT_FALSE(fs::exists(online() / kCurrentFile));
}

void OnlineStoreTest::ExpectSnapshotMatchesTheTrainingPath() {
  const OnlineSnapshot snap = Load();
  const Datamart m = mart();
  const std::string events = "SELECT DISTINCT id, DATE '2021-04-30' AS decision_date FROM " +
                             *m.ReadSql(Layer::kSilver, "loans") +
                             " WHERE loan_date <= DATE '2021-04-30'";
  auto spine = EventSpineSql(project_, m, events);
  ASSERT_TRUE(spine.ok()) << spine.status().ToString();
  auto sql = FeatureSql(project_, m, *spine);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto t = con_->Query("SELECT * FROM (" + *sql + ") ORDER BY id");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), snap.rows());
  for (const auto& row : t->rows) {
    const std::string id = db::ValueToString(row[static_cast<size_t>(t->ColumnIndex("id"))]);
    for (size_t f = 0; f < snap.features().size(); ++f) {
      const db::Value& want = row[static_cast<size_t>(t->ColumnIndex(snap.features()[f].name))];
      std::string expected = db::ValueToString(want);
      if (const auto* i = std::get_if<int64_t>(&want))
        expected = std::to_string(static_cast<double>(*i));
      if (const auto* d = std::get_if<Date>(&want)) expected = "'" + d->ToString() + "'";
      if (const auto* b = std::get_if<bool>(&want)) expected = std::to_string(*b ? 1.0 : 0.0);
      if (const auto* d = std::get_if<double>(&want)) {
        expected = std::isnan(*d) ? "NULL" : std::to_string(*d);  // snapshots store NaN as null
      }
      if (const auto* text = std::get_if<std::string>(&want)) expected = "'" + *text + "'";
      EXPECT_EQ(Cell(snap, id, snap.features()[f].name.c_str()), expected)
          << "user " << id << ", " << snap.features()[f].name;
    }
  }
}

TEST_F(OnlineStoreTest, SameDayApplicationsUseTheGreaterKey) {
  std::vector<LoanRow> loans = Loans();
  loans.push_back({1010, 5, "2021-04-01", 10, "1990-01-01", "N"});
  loans.push_back({1009, 5, "2021-04-01", 10, "1990-01-01", "Y"});
  WriteSilver(loans, Profile());
  Run({.as_of = kAsOf});
  EXPECT_EQ(Cell(Load(), "5", "flag_own_car"), "0.000000");  // loan 1010's terms
}

// Text keys compare by bytes ("L9" after "L10"), and a later date wins over any key.
// Text entities are in byte order: ids sharing a long prefix, one that is only the prefix,
// ones differing beyond the first 8 bytes after it, a byte above 0x7f.
TEST_F(OnlineStoreTest, TextEntitiesAreInByteOrder) {
  const std::vector<std::string> ids = {
      "CUSTOMER_000000010", "CUSTOMER_000000002",     "CUSTOMER_00000001", "CUSTOMER_000000010x",
      "CUSTOMER_\xc3\xa9",  "CUSTOMER_000000009",     "CUSTOMER_",         "CUSTOMER_zz",
      "CUSTOMER_A",         "CUSTOMER_00000000100000"};
  std::string values;
  int64_t loan_id = 1;
  for (const std::string& id : ids) {
    values += (values.empty() ? "" : ", ") + std::string("(") + std::to_string(loan_id++) +
              "::BIGINT, " + db::QuoteLiteral(id) +
              ", DATE '2021-04-01', 10.0::DOUBLE, DATE '1990-01-01', 'N')";
  }
  auto loans =
      mart().WritePartition(*con_, Layer::kSilver, "loans", D("2021-04-01"),
                            "SELECT * FROM (VALUES " + values +
                                ") t(loan_id, id, loan_date, loan_amount, birthday, flag_own_car)");
  ASSERT_TRUE(loans.ok()) << loans.status().ToString();
  auto profile = mart().WritePartition(*con_, Layer::kSilver, "profile", D("2021-02-01"),
                                       "SELECT 'CUSTOMER_A' AS id, DATE '2021-02-01' AS "
                                       "report_date, 1.0::DOUBLE AS income, 'x' AS segment");
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  std::vector<std::string> want = ids;
  std::sort(want.begin(), want.end());
  Run({.as_of = kAsOf});
  const OnlineSnapshot snap = Load();
  std::vector<std::string> got;
  for (size_t r = 0; r < snap.rows(); ++r) got.emplace_back(snap.Entity(r));
  EXPECT_EQ(got, want);
  EXPECT_EQ(Cell(snap, "CUSTOMER_A", "income"), "1.000000");
  EXPECT_EQ(Cell(snap, "CUSTOMER_", "income"), "NULL");
}

TEST_F(OnlineStoreTest, SameDayApplicationsWithTextKeysUseTheGreaterKeyByBytes) {
  WriteSilver({}, Profile());
  auto n = mart().WritePartition(
      *con_, Layer::kSilver, "loans", D("2021-04-01"),
      "SELECT * FROM (VALUES ('L10', 5::BIGINT, DATE '2021-04-01', 10.0::DOUBLE, "
      "DATE '1990-01-01', 'N'), ('L9', 5, DATE '2021-04-01', 10.0, DATE '1990-01-01', 'Y'), "
      "('L2', 6, DATE '2021-04-01', 10.0, DATE '1990-01-01', 'N'), "
      "('L1', 6, DATE '2021-04-02', 10.0, DATE '1990-01-01', 'Y')) "
      "t(loan_id, id, loan_date, loan_amount, birthday, flag_own_car)");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  Run({.as_of = kAsOf});
  const OnlineSnapshot snap = Load();
  EXPECT_EQ(snap.rows(), 2u);
  EXPECT_EQ(Cell(snap, "5", "flag_own_car"), "1.000000");  // L9's terms
  EXPECT_EQ(Cell(snap, "6", "flag_own_car"), "1.000000");  // L1, the later date
  // Both users' two loans are before as_of.
  EXPECT_EQ(Cell(snap, "5", "nb_previous_loans"), "2.000000");
  EXPECT_EQ(Cell(snap, "6", "nb_previous_loans"), "2.000000");
}

// Rows are published by entity: numerically for a numeric entity (2, 9, 10, not "10" < "2"),
// the same bytes from one run to the next whatever order DuckDB's threads produced them in.
TEST_F(OnlineStoreTest, RowsAreInEntityOrderNumericallyAndTheFileIsReproducible) {
  std::vector<LoanRow> loans;
  int64_t loan_id = 2000;
  for (const int64_t id : {10, 2, 9, 100, 1, -5, 0}) {
    loans.push_back({loan_id++, id, "2021-03-01", 10.0 * id, "1990-01-01", "Y"});
  }
  WriteSilver(loans, Profile());
  const MaterializeSummary first = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  const std::string csv = riskpipe::testing::ReadAll(first.dir / kSnapshotCsv);
  auto ids = [](const OnlineSnapshot& snap) {  // in file order
    std::vector<std::string> out;
    for (size_t r = 0; r < snap.rows(); ++r) out.emplace_back(snap.Entity(r));
    return out;
  };
  const std::vector<std::string> want = {"-5", "0", "1", "2", "9", "10", "100"};
  EXPECT_EQ(ids(Load()), want) << csv;
  const MaterializeSummary second = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  EXPECT_EQ(riskpipe::testing::ReadAll(second.dir / kSnapshotCsv), csv);
  const MaterializeSummary bin1 = Run({.as_of = kAsOf});
  const MaterializeSummary bin2 = Run({.as_of = kAsOf});
  EXPECT_EQ(*Sha256File(bin1.dir / kSnapshotBin), *Sha256File(bin2.dir / kSnapshotBin));
  const OnlineSnapshot snap = Load();
  EXPECT_EQ(ids(snap), want);
  EXPECT_EQ(Cell(snap, "9", "flag_own_car"), "1.000000");
}

// With several entities repeated, the message names the first in entity order (not whichever
// DuckDB returned first).
TEST_F(OnlineStoreTest, DuplicateSpineRowsNameTheFirstRepeatedEntity) {
  std::vector<LoanRow> loans = Loans();
  for (const LoanRow& l : Loans()) {
    if (l.id == 4 || l.id == 2) loans.push_back(l);
  }
  WriteSilver(loans, Profile());
  auto s = Materialize(project_, *con_, {.as_of = kAsOf});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("id 2 has duplicate spine rows"), std::string::npos)
      << s.status().message();
}

TEST_F(OnlineStoreTest, DuplicateLatestSpineRowIsRefused) {
  std::vector<LoanRow> loans = Loans();
  loans.push_back(loans[1]);  // loan 1001 of user 1 twice
  WriteSilver(loans, Profile());
  auto s = Materialize(project_, *con_, {.as_of = kAsOf});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("id 1 has duplicate spine rows"), std::string::npos)
      << s.status().message();
  EXPECT_FALSE(fs::exists(online() / kCurrentFile));
  // A duplicate of a row that is not the latest is harmless.
  loans.pop_back();
  loans.push_back(loans[0]);  // loan 1000, before 1001
  WriteSilver(loans, Profile());
  s = Materialize(project_, *con_, {.as_of = kAsOf});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
}

TEST_F(OnlineStoreTest, RowsDatedAfterAsOfDoNotChangeTheSnapshot) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary before = Run({.as_of = kAsOf});
  const MaterializeSummary before_csv = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  // Every source row dated after as_of changes: amounts, birthdays, the car flag, income.
  std::vector<LoanRow> changed = Loans();
  for (LoanRow& l : changed) {
    if (D(l.loan_date) > kAsOf) {
      l.amount = 123456;
      l.birthday = "1950-01-01";
      l.car = nullptr;
    }
  }
  changed.push_back({2000, 2, "2021-05-01", 9, "1950-01-01", "N"});
  WriteSilver(changed, Profile(-5));
  const MaterializeSummary after = Run({.as_of = kAsOf});
  const MaterializeSummary after_csv = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  EXPECT_NE(before.version, after.version);
  // Byte for byte, in both formats.
  EXPECT_EQ(riskpipe::testing::ReadAll(before.dir / kSnapshotBin),
            riskpipe::testing::ReadAll(after.dir / kSnapshotBin));
  EXPECT_EQ(riskpipe::testing::ReadAll(before_csv.dir / kSnapshotCsv),
            riskpipe::testing::ReadAll(after_csv.dir / kSnapshotCsv));
}

TEST_F(OnlineStoreTest, DefaultAsOfIsTheLatestSpineDate) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary s = Run();
  EXPECT_EQ(s.as_of, D("2021-07-01"));
  EXPECT_EQ(s.rows, 4);
  const OnlineSnapshot snap = Load();
  EXPECT_EQ(Cell(snap, "1", "nb_previous_loans"), "3.000000");
  EXPECT_EQ(Cell(snap, "1", "income"), "1000000.000000");
}

TEST_F(OnlineStoreTest, NoEventOnOrBeforeAsOfIsFailedPrecondition) {
  WriteSilver(Loans(), Profile());
  auto s = Materialize(project_, *con_, {.as_of = D("2020-12-31")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("2020-12-31"), std::string::npos);
  EXPECT_FALSE(fs::exists(online() / kCurrentFile));
}

TEST_F(OnlineStoreTest, RematerializingReplacesCurrentAndPrunes) {
  WriteSilver(Loans(), Profile());
  std::vector<std::string> versions;
  for (int i = 0; i < 5; ++i) versions.push_back(Run({.as_of = kAsOf, .keep = 2}).version);
  // Versions sort in creation order, and CURRENT names the newest.
  EXPECT_TRUE(std::is_sorted(versions.begin(), versions.end()));
  EXPECT_EQ(std::set<std::string>(versions.begin(), versions.end()).size(), 5u);
  EXPECT_EQ(Current(), versions.back());
  // The new one plus the two before it; nothing temporary is left behind.
  EXPECT_EQ(SnapshotDirs(), (std::set<std::string>{versions[2], versions[3], versions[4]}));
  EXPECT_EQ(Load().version(), versions.back());
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(online())) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{kCurrentFile, kSnapshotsDir}));
}

TEST_F(OnlineStoreTest, KeepZeroLeavesOnlyCurrentAndNegativeKeepIsInvalid) {
  WriteSilver(Loans(), Profile());
  Run({.as_of = kAsOf});
  const MaterializeSummary s = Run({.as_of = kAsOf, .keep = 0});
  EXPECT_EQ(SnapshotDirs(), std::set<std::string>{s.version});
  EXPECT_EQ(s.pruned.size(), 1u);
  auto bad = Materialize(project_, *con_, {.as_of = kAsOf, .keep = -1});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OnlineStoreTest, ManifestRecordsTheSnapshot) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary s = Run({.as_of = kAsOf});
  const auto m = nlohmann::json::parse(riskpipe::testing::ReadAll(s.dir / kSnapshotManifest));
  EXPECT_EQ(m["format"], kSnapshotFormatBinary);
  EXPECT_EQ(m["file"], kSnapshotBin);
  EXPECT_EQ(m["bytes"], fs::file_size(s.dir / kSnapshotBin));
  EXPECT_EQ(m["version"], s.version);
  EXPECT_EQ(m["as_of"], "2021-04-30");
  EXPECT_EQ(m["project"], "online");
  EXPECT_EQ(m["feature_set_version"], "7");
  EXPECT_EQ(m["entity"]["name"], "id");
  EXPECT_EQ(m["entity"]["type"], "BIGINT");
  EXPECT_EQ(m["rows"], 3);
  EXPECT_EQ(m["sha256"], *Sha256File(s.dir / kSnapshotBin));
  EXPECT_FALSE(fs::exists(s.dir / kSnapshotCsv));
  ASSERT_EQ(m["views"].size(), 5u);
  EXPECT_EQ(m["views"][3]["max_age_days"], 30);
  EXPECT_EQ(m["views"][4]["window_days"], 60);
  EXPECT_EQ(m["views"][1]["name"], "loan_history");
  EXPECT_EQ(m["views"][1]["kind"], "aggregate");
  EXPECT_EQ(m["views"][1]["source"], "loans");
  EXPECT_EQ(m["views"][1]["strict"], true);
  ASSERT_EQ(m["features"].size(), 10u);
  EXPECT_EQ(m["features"][3]["name"], "avg_amount_loans_previous");
  EXPECT_EQ(m["features"][3]["type"], "DOUBLE");
  EXPECT_EQ(m["features"][3]["view"], "loan_history");
  EXPECT_EQ(m["features"][5]["type"], "VARCHAR");
  EXPECT_EQ(m["features"][5]["numeric"], false);
}

TEST_F(OnlineStoreTest, LoaderRoundTripsValuesNullsAndQuotedText) {
  WriteSilver(Loans(), Profile());
  for (SnapshotFormat format : {SnapshotFormat::kBinary, SnapshotFormat::kCsv}) {
    SCOPED_TRACE(SnapshotFormatName(format));
    Run({.as_of = kAsOf, .format = format});
    ExpectRoundTrip(Load());
  }
}

TEST_F(OnlineStoreTest, BinaryAndCsvSnapshotsLoadTheSameCells) {
  WriteSilver(Loans(), Profile());
  Run({.as_of = kAsOf});
  const OnlineSnapshot binary = Load();
  Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  const OnlineSnapshot csv = Load();
  ASSERT_EQ(binary.rows(), csv.rows());
  ASSERT_EQ(binary.features().size(), csv.features().size());
  for (size_t r = 0; r < binary.rows(); ++r) {
    EXPECT_EQ(binary.Entity(r), csv.Entity(r));
    for (size_t f = 0; f < binary.features().size(); ++f) {
      EXPECT_EQ(binary.Value(r, f), csv.Value(r, f)) << binary.features()[f].name << " row " << r;
    }
  }
}

void OnlineStoreTest::ExpectRoundTrip(const OnlineSnapshot& snap) {
  const size_t avg = *snap.FeatureIndex("avg_amount_loans_previous");
  const size_t segment = *snap.FeatureIndex("segment");
  const size_t income = *snap.FeatureIndex("income");
  // Exactly DuckDB's double, through the CSV text.
  auto expected = con_->Query("SELECT avg(x) FROM (VALUES (0.1::DOUBLE), (0.2::DOUBLE)) t(x)");
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(*snap.Number(*snap.Find("1"), avg), std::get<double>(expected->rows[0][0]));
  EXPECT_EQ(*snap.Text(*snap.Find("1"), segment), "a, \"quoted\"\nline");
  EXPECT_EQ(snap.Text(*snap.Find("2"), segment), std::optional<std::string_view>(""));
  EXPECT_FALSE(snap.Number(*snap.Find("2"), income).has_value());  // NULL income
  EXPECT_FALSE(snap.Text(*snap.Find("1"), income).has_value());    // wrong kind
  EXPECT_FALSE(snap.features()[segment].numeric);
  EXPECT_TRUE(snap.features()[avg].numeric);
  EXPECT_EQ(snap.Entity(*snap.Find("2")), "2");
  EXPECT_FALSE(snap.Find("").has_value());
}

TEST_F(OnlineStoreTest, TamperedFeaturesCsvIsRefused) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary s = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  const fs::path csv = s.dir / kSnapshotCsv;
  std::string text = riskpipe::testing::ReadAll(csv);
  text[text.find("200")] = '9';  // same size, different bytes
  std::ofstream(csv, std::ios::binary | std::ios::trunc) << text;
  auto loaded = LoadOnlineSnapshot(online());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find(csv.string()), std::string::npos);
  EXPECT_NE(loaded.status().message().find("sha256"), std::string::npos);

  std::ofstream(csv, std::ios::binary | std::ios::app) << "3,1,1,1,1,1,\"x\"\n";
  loaded = LoadOnlineSnapshot(online());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("bytes"), std::string::npos);
}

TEST_F(OnlineStoreTest, MalformedCsvLineIsReportedWithItsNumber) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary s = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  // A consistent manifest over a CSV whose line 4 (after a quoted two-line field) is short.
  const std::string csv =
      "id,age,flag_own_car,nb_previous_loans,avg_amount_loans_previous,income,segment,"
      "income_or_zero,fresh_income,reports_60d,max_income_60d\n"
      "1,30,0,2,0.15,1000.5,\"two\nlines\",1000.5,,0,\n"
      "2,21,1,1\n";
  std::ofstream(s.dir / kSnapshotCsv, std::ios::binary | std::ios::trunc) << csv;
  auto m = nlohmann::json::parse(riskpipe::testing::ReadAll(s.dir / kSnapshotManifest));
  m["sha256"] = Sha256Hex(csv);
  m["bytes"] = csv.size();
  ASSERT_TRUE(WriteFileAtomic(s.dir / kSnapshotManifest, m.dump()).ok());
  auto loaded = LoadOnlineSnapshot(online());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find((s.dir / kSnapshotCsv).string() + ": line 4"),
            std::string::npos)
      << loaded.status().message();

  const std::string bad_number =
      "id,age,flag_own_car,nb_previous_loans,avg_amount_loans_previous,income,segment,"
      "income_or_zero,fresh_income,reports_60d,max_income_60d\n"
      "1,30,0,2,0.15,12_x,\"s\",0,0,0,0\n";
  std::ofstream(s.dir / kSnapshotCsv, std::ios::binary | std::ios::trunc) << bad_number;
  m["sha256"] = Sha256Hex(bad_number);
  m["bytes"] = bad_number.size();
  m["rows"] = 1;
  ASSERT_TRUE(WriteFileAtomic(s.dir / kSnapshotManifest, m.dump()).ok());
  loaded = LoadOnlineSnapshot(online());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("line 2: column income: \"12_x\" is not a number"),
            std::string::npos)
      << loaded.status().message();
}

// Regression (found by the ASan build): the loader's level index kept views into the
// dictionary, which dangled once the dictionary's vector grew and moved its short strings.
TEST_F(OnlineStoreTest, LoaderKeepsManyShortTextLevelsApart) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary s = Run({.as_of = kAsOf, .format = SnapshotFormat::kCsv});
  std::string csv =
      "id,age,flag_own_car,nb_previous_loans,avg_amount_loans_previous,income,segment,"
      "income_or_zero,fresh_income,reports_60d,max_income_60d\n";
  constexpr int kRows = 600, kLevels = 150;
  for (int i = 0; i < kRows; ++i) {
    csv += std::to_string(i + 1) + ",30,0,2,0.15,1000.5,\"L" + std::to_string(i % kLevels) +
           "\",1000.5,,0,\n";
  }
  std::ofstream(s.dir / kSnapshotCsv, std::ios::binary | std::ios::trunc) << csv;
  auto m = nlohmann::json::parse(riskpipe::testing::ReadAll(s.dir / kSnapshotManifest));
  m["sha256"] = Sha256Hex(csv);
  m["bytes"] = csv.size();
  m["rows"] = kRows;
  ASSERT_TRUE(WriteFileAtomic(s.dir / kSnapshotManifest, m.dump()).ok());
  auto loaded = LoadOnlineSnapshot(online());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const size_t segment = *loaded->FeatureIndex("segment");
  for (int i = 0; i < kRows; ++i) {
    const auto row = loaded->Find(std::to_string(i + 1));
    ASSERT_TRUE(row.has_value()) << i;
    EXPECT_EQ(loaded->Text(*row, segment), "L" + std::to_string(i % kLevels)) << "row " << i;
  }
}

// Rewrites features.bin with `edit` applied and a manifest that matches it again, so only the
// loader's own checks can catch the damage; returns the load's status.
Status LoadEditedBinary(const fs::path& online, const fs::path& dir,
                        const std::function<void(std::string&)>& edit) {
  std::string bin = riskpipe::testing::ReadAll(dir / kSnapshotBin);
  edit(bin);
  std::ofstream(dir / kSnapshotBin, std::ios::binary | std::ios::trunc) << bin;
  auto m = nlohmann::json::parse(riskpipe::testing::ReadAll(dir / kSnapshotManifest));
  m["sha256"] = Sha256Hex(bin);
  m["bytes"] = bin.size();
  EXPECT_TRUE(WriteFileAtomic(dir / kSnapshotManifest, m.dump()).ok());
  return LoadOnlineSnapshot(online).status();
}

TEST_F(OnlineStoreTest, TamperedOrDamagedFeaturesBinIsRefusedNamingTheSection) {
  WriteSilver(Loans(), Profile());
  const MaterializeSummary s = Run({.as_of = kAsOf});
  const fs::path bin = s.dir / kSnapshotBin;
  const std::string original = riskpipe::testing::ReadAll(bin);
  // Same size, different bytes, manifest untouched: the checksum catches it.
  std::string flipped = original;
  flipped[flipped.size() - 9] ^= 1;
  std::ofstream(bin, std::ios::binary | std::ios::trunc) << flipped;
  Status loaded = LoadOnlineSnapshot(online()).status();
  EXPECT_EQ(loaded.code(), StatusCode::kDataLoss);
  EXPECT_NE(loaded.message().find("sha256"), std::string::npos) << loaded.message();

  struct Case {
    const char* what;
    std::function<void(std::string&)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"magic", [](std::string& b) { b[0] = 'X'; }, "header does not start with"},
      {"rows", [](std::string& b) { b[8] = 7; }, "header says 7 rows, but the manifest says 3"},
      {"cut", [](std::string& b) { b.resize(b.size() / 2); }, "is cut short"},
      {"tail", [](std::string& b) { b += std::string(8, '\0'); }, "bytes after the last"},
      {"offsets", [](std::string& b) { b[32 + 8] = 5; },  // entity offset 1: 5 > offset 2
       "entity offsets offset 2 goes backwards"},
      {"repeat",
       [](std::string& b) {
         // Entities "1", "2", "4" back to back after the offsets: make the second "1".
         const size_t at = b.find(std::string("124"), 32);
         ASSERT_NE(at, std::string::npos);
         b[at + 1] = '1';
       },
       "entities row 2 repeats entity \"1\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::ofstream(bin, std::ios::binary | std::ios::trunc) << original;
    const Status st = LoadEditedBinary(online(), s.dir, c.edit);
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
    EXPECT_NE(st.message().find(bin.string()), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
  }
}

TEST_F(OnlineStoreTest, MissingCurrentOrSnapshotIsNotFound) {
  auto loaded = LoadOnlineSnapshot(online());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find((online() / kCurrentFile).string()), std::string::npos);
  EXPECT_NE(loaded.status().message().find("riskpipe materialize"), std::string::npos);

  ASSERT_TRUE(
      WriteFileAtomic(online() / kCurrentFile, "20990101T000000.000000Z_asof-2099-01-01\n").ok());
  loaded = LoadOnlineSnapshot(online());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find("20990101T000000.000000Z_asof-2099-01-01"),
            std::string::npos);

  ASSERT_TRUE(WriteFileAtomic(online() / kCurrentFile, "../../etc\n").ok());
  EXPECT_EQ(LoadOnlineSnapshot(online()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace riskpipe::features
