// The feature store, its point-in-time guarantees and training sets (docs/features.md).
// Silver partitions are written here by hand, small enough to reason about row by row.
// The leakage tests change every source row dated after a decision date and show that the
// features of that date do not move, while features of later dates do (so they can fail).

#include "features/feature_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "db/database.h"
#include "features/feature_query.h"
#include "features/label_store.h"
#include "features/training_set.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace riskpipe::features {
namespace {

using datamart::Datamart;
using datamart::Layer;
using riskpipe::testing::StatusIs;
using riskpipe::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

Date D(const char* iso) { return *ParseIsoDate(iso); }

constexpr char kLending[] = R"yaml(
project: lending
workspace: ws
sources:
  - name: apps
    file: raw/apps.csv
    keys: [loan_id]
    date_column: app_date
    columns:
      - {name: loan_id, type: string, required: true}
      - {name: cust, type: string, required: true}
      - {name: app_date, type: date, required: true}
      - {name: amount, type: float}
  - name: fin
    file: raw/fin.csv
    keys: [cust, snapshot_date]
    date_column: snapshot_date
    columns:
      - {name: cust, type: string, required: true}
      - {name: income, type: float}
      - {name: snapshot_date, type: date, required: true}
  - name: clicks
    file: raw/clicks.csv
    keys: [cust, snapshot_date]
    date_column: snapshot_date
    columns:
      - {name: cust, type: string, required: true}
      - {name: fe, type: int}
      - {name: snapshot_date, type: date, required: true}
features:
  spine: {source: apps, key: loan_id, entity: cust, date: app_date}
  views:
    - name: terms
      kind: spine
      features:
        - {name: loan_amount, expr: amount}
    - name: financials
      kind: latest
      source: fin
      event_time: snapshot_date
      features:
        - {name: income, expr: income}
        - {name: income_k, expr: "income / 1000"}
    - name: fresh_financials
      kind: latest
      source: fin
      event_time: snapshot_date
      max_age_days: 40
      features:
        - {name: fresh_income, expr: income}
    - name: clicks_3m
      kind: aggregate
      source: clicks
      event_time: snapshot_date
      window_days: 62
      features:
        - {name: fe_mean, expr: "avg(fe)"}
        - {name: fe_months, expr: "count(*)"}
    - name: clicks_before
      kind: aggregate
      source: clicks
      event_time: snapshot_date
      strict: true
      features:
        - {name: fe_months_before, expr: "count(*)"}
)yaml";

// Months 2023-01 .. 2023-06. Customer c1 has financials and clicks every month; c2 only from
// 2023-03; c3 never. Applications: c1 in 2023-02 and 2023-05, c2 in 2023-03, c3 in 2023-04.
class LendingStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = config::ParseProject(kLending, dir_.path() / "riskpipe.yaml");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = *p;
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok());
    database_ = std::make_unique<db::Database>(std::move(*database));
    auto con = database_->Connect();
    ASSERT_TRUE(con.ok());
    con_ = std::make_unique<db::Connection>(std::move(*con));
    WriteApps();
    WriteMonthly(1.0);
  }

  Datamart Mart() const { return Datamart(project_.workspace.datamart()); }

  void Write(const char* table, Date month, const std::string& select) {
    auto n = Mart().WritePartition(*con_, Layer::kSilver, table, month, select);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
  }

  void WriteApps() {
    Write("apps", D("2023-02-01"),
          "SELECT 'L1' AS loan_id, 'c1' AS cust, DATE '2023-02-15' AS app_date, 1000.0::DOUBLE AS "
          "amount");
    Write("apps", D("2023-03-01"),
          "SELECT 'L2' AS loan_id, 'c2' AS cust, DATE '2023-03-01' AS app_date, 2000.0::DOUBLE AS "
          "amount");
    Write("apps", D("2023-04-01"),
          "SELECT 'L3' AS loan_id, 'c3' AS cust, DATE '2023-04-10' AS app_date, 3000.0::DOUBLE AS "
          "amount");
    Write("apps", D("2023-05-01"),
          "SELECT 'L4' AS loan_id, 'c1' AS cust, DATE '2023-05-20' AS app_date, 4000.0::DOUBLE AS "
          "amount");
  }

  // Monthly financials and clicks; values of months after `changed_after` are multiplied by
  // `factor` (1 = the original data).
  void WriteMonthly(double factor, Date changed_after = D("1900-01-01")) {
    for (int m = 1; m <= 6; ++m) {
      const Date month = Date::FromCivil(2023, m, 1);
      const double f = month > changed_after ? factor : 1.0;
      std::string fin =
          "SELECT 'c1' AS cust, " + std::to_string(1000.0 * m * f) + "::DOUBLE AS income";
      std::string clicks = "SELECT 'c1' AS cust, " + std::to_string(static_cast<int>(10 * m * f)) +
                           "::INTEGER AS fe";
      if (m >= 3) {
        fin += " UNION ALL SELECT 'c2', " + std::to_string(500.0 * m * f);
        clicks += " UNION ALL SELECT 'c2', " + std::to_string(static_cast<int>(100 * m * f));
      }
      Write("fin", month, fin);
      Write("clicks", month, clicks);
    }
  }

  // loan_id -> feature row (column name -> value text).
  std::map<std::string, std::map<std::string, std::string>> Build() {
    auto s = BuildFeatureStore(project_, *con_, {});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    auto read = Mart().ReadSql(Layer::kGold, kFeatureStoreTable);
    EXPECT_TRUE(read.ok());
    auto t = con_->Query("SELECT * EXCLUDE (snapshot_date) FROM " + *read + " ORDER BY loan_id");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const auto& row : t->rows) {
      auto& r = out[db::ValueToString(row[0])];
      for (size_t c = 0; c < t->columns.size(); ++c) r[t->columns[c]] = db::ValueToString(row[c]);
    }
    return out;
  }

  TempDir dir_;
  config::Project project_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<db::Connection> con_;
};

TEST_F(LendingStore, FeaturesAreTakenAsOfTheDecisionDate) {
  auto f = Build();
  ASSERT_EQ(f.size(), 4u);
  // L1: c1 applied 2023-02-15: latest financials are February's (2000), not March's.
  EXPECT_EQ(f["L1"]["loan_amount"], "1000");
  EXPECT_EQ(f["L1"]["income"], "2000");
  EXPECT_EQ(f["L1"]["income_k"], "2");
  EXPECT_EQ(f["L1"]["_asof_financials"], "2023-02-01");
  // Clicks of 2023-01 and 2023-02 are within 62 days of 2023-02-15: mean (10 + 20) / 2.
  EXPECT_EQ(f["L1"]["fe_mean"], "15");
  EXPECT_EQ(f["L1"]["fe_months"], "2");
  // L2: c2 applied on 2023-03-01, the day its first row is dated: included (<=), but the
  // strict view sees nothing before that day.
  EXPECT_EQ(f["L2"]["income"], "1500");
  EXPECT_EQ(f["L2"]["fe_months"], "1");
  EXPECT_EQ(f["L2"]["fe_months_before"], "0");
  // L3: c3 has no rows at all: latest features are null, count is 0, avg is null.
  EXPECT_EQ(f["L3"]["income"], "NULL");
  EXPECT_EQ(f["L3"]["fe_months"], "0");
  EXPECT_EQ(f["L3"]["fe_mean"], "NULL");
  EXPECT_EQ(f["L3"]["_asof_financials"], "NULL");
  // L4: c1 on 2023-05-20: May's income; the 62-day window holds 2023-04 and 2023-05 (March
  // 20 is 61 days back, so 2023-03-01 is outside); months strictly before: Jan..May = 5.
  EXPECT_EQ(f["L4"]["income"], "5000");
  EXPECT_EQ(f["L4"]["fe_mean"], "45");
  EXPECT_EQ(f["L4"]["fe_months_before"], "5");
  EXPECT_EQ(f["L4"]["decision_date"], "2023-05-20");
}

TEST_F(LendingStore, StaleRowsBeyondMaxAgeAreNotUsed) {
  // Remove c1's March and April financials: on 2023-05-20 May's row is still fresh; move the
  // application to see staleness: L1 uses February (14 days old) - fresh.
  auto f = Build();
  EXPECT_EQ(f["L1"]["fresh_income"], "2000");
  // Without May's row, c1's latest on 2023-05-20 is April (49 days old): too stale (> 40).
  Write("fin", D("2023-05-01"), "SELECT 'c2' AS cust, 2500.0::DOUBLE AS income");
  f = Build();
  EXPECT_EQ(f["L4"]["income"], "4000");
  EXPECT_EQ(f["L4"]["fresh_income"], "NULL");
}

TEST_F(LendingStore, ChangingEveryRowAfterADecisionDateDoesNotMoveItsFeatures) {
  const auto before = Build();
  // Every financial and click row dated after 2023-03-01 (the L2 decision date) changes, and
  // a new application appears later.
  WriteMonthly(1000.0, D("2023-03-01"));
  Write(
      "apps", D("2023-06-01"),
      "SELECT 'L5' AS loan_id, 'c2' AS cust, DATE '2023-06-30' AS app_date, 1.0::DOUBLE AS amount");
  const auto after = Build();
  for (const char* loan : {"L1", "L2"}) {
    EXPECT_EQ(before.at(loan), after.at(loan)) << loan;
  }
  // Decisions after the change see it, so the comparison above could have failed.
  EXPECT_NE(before.at("L4").at("income"), after.at("L4").at("income"));
  EXPECT_EQ(after.count("L5"), 1u);
}

TEST_F(LendingStore, RebuildingOneMonthReplacesOnlyThatMonth) {
  Build();
  const Datamart mart = Mart();
  const auto other = mart.PartitionFile(Layer::kGold, kFeatureStoreTable, D("2023-02-01"));
  const auto mtime = std::filesystem::last_write_time(other);
  FeatureBuildOptions options;
  options.from = options.to = Month::Of(2023, 5);
  auto s = BuildFeatureStore(project_, *con_, options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->months.size(), 1u);
  EXPECT_EQ(s->rows, 1);
  EXPECT_EQ(std::filesystem::last_write_time(other), mtime);
  EXPECT_EQ(mart.ListPartitions(Layer::kGold, kFeatureStoreTable).size(), 4u);
}

TEST_F(LendingStore, AuditCountsRowsThatSawTheFuture) {
  ASSERT_TRUE(con_->Execute("CREATE TABLE fake AS SELECT DATE '2023-01-01' AS decision_date, "
                            "DATE '2023-02-01' AS _asof_financials, DATE '2023-01-01' AS "
                            "_asof_fresh_financials, DATE '2022-12-01' AS _asof_clicks_3m, "
                            "DATE '2023-01-01' AS _asof_clicks_before")
                  .ok());
  auto t = con_->Query(AuditSql(project_.features, "fake"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::map<std::string, int64_t> violations;
  for (const auto& row : t->rows)
    violations[std::get<std::string>(row[0])] = std::get<int64_t>(row[1]);
  EXPECT_EQ(violations["financials"], 1);        // a month after the decision
  EXPECT_EQ(violations["fresh_financials"], 0);  // the same day is allowed
  EXPECT_EQ(violations["clicks_3m"], 0);
  EXPECT_EQ(violations["clicks_before"], 1);  // the same day breaks a strict view
}

TEST_F(LendingStore, HistoricalRetrievalGivesFeaturesAsOfEachRequestedDate) {
  TrainingSetRequest request;
  request.cutoff = D("2023-12-31");
  request.keep_unlabelled = true;
  request.events_sql =
      "SELECT * FROM (VALUES ('c1', DATE '2023-01-31'), ('c1', DATE '2023-04-02'), "
      "('c2', DATE '2023-02-01')) t(cust, decision_date)";
  auto sql = TrainingSetSql(project_, *con_, request);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto t = con_->Query("SELECT cust, decision_date, income, loan_amount, fe_months FROM (" + *sql +
                       ") ORDER BY cust, decision_date");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 3u);
  // c1 on 2023-01-31: January's income; no application yet, so no loan terms.
  EXPECT_EQ(db::ValueToString(t->rows[0][2]), "1000");
  EXPECT_EQ(db::ValueToString(t->rows[0][3]), "NULL");
  // c1 on 2023-04-02: April's income, the terms of its 2023-02-15 application.
  EXPECT_EQ(db::ValueToString(t->rows[1][2]), "4000");
  EXPECT_EQ(db::ValueToString(t->rows[1][3]), "1000");
  EXPECT_EQ(db::ValueToString(t->rows[1][4]), "3");  // Feb, Mar and Apr within 62 days
  // c2 before its first row: nothing.
  EXPECT_EQ(db::ValueToString(t->rows[2][2]), "NULL");
  EXPECT_EQ(db::ValueToString(t->rows[2][4]), "0");
}

TEST(FeatureConfig, ExpressionsNamingMissingColumnsFailAtLoadWithTheViewName) {
  std::string yaml = kLending;
  yaml.replace(yaml.find("expr: \"income / 1000\""), 21, "expr: \"incme / 1000\"");
  EXPECT_THAT(config::ParseProject(yaml, "/tmp/x/riskpipe.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("riskpipe.yaml:"),
                             HasSubstr("feature view \"financials\", feature \"income_k\": "
                                       "\"incme\""))));
}

TEST_F(LendingStore, ExpressionsThatDoNotCompileFailValidationWithTheViewName) {
  std::string yaml = kLending;
  yaml.replace(yaml.find("expr: \"income / 1000\""), 21, "expr: \"income + * 1000\"");
  auto p = config::ParseProject(yaml, dir_.path() / "riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(ValidateFeatures(*p, Mart(), *con_),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("feature view \"financials\", feature \"income_k\"")));
  // An aggregate in a row-level view is refused too.
  yaml = kLending;
  yaml.replace(yaml.find("expr: \"income / 1000\""), 21, "expr: \"max(income)\"  ");
  p = config::ParseProject(yaml, dir_.path() / "riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(ValidateFeatures(*p, Mart(), *con_),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("feature view \"financials\", feature \"income_k\"")));
}

TEST(FeatureConfig, APartitionMonthEventTimeOnDatedRowsIsRefused) {
  // apps rows carry their own app_date; their partition month starts before it, so a view
  // keyed on snapshot_date would see applications dated later in the month.
  std::string yaml = kLending;
  yaml += R"yaml(    - name: other_apps
      kind: aggregate
      source: apps
      event_time: snapshot_date
      features:
        - {name: apps_seen, expr: "count(*)"}
)yaml";
  auto p = config::ParseProject(yaml, "/tmp/x/riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(CheckFeatureSet(*p),
              StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("feature view \"other_apps\""),
                                                           HasSubstr("event_time: app_date"))));
}

// --- Kueski: the five features against a straightforward reference implementation. ---

constexpr char kKueski[] = R"yaml(
project: kueski
workspace: ws
sources:
  - name: loans
    file: raw/loans.csv
    keys: [loan_id]
    date_column: loan_date
    columns:
      - {name: loan_id, type: int, required: true}
      - {name: id, type: int, required: true}
      - {name: flag_own_car, type: category, levels: [Y, N]}
      - {name: status, type: int}
      - {name: birthday, type: date}
      - {name: job_start_date, type: date}
      - {name: loan_date, type: date, required: true}
      - {name: loan_amount, type: float}
label:
  name: status_60d
  kind: outcome
  source: loans
  entity: id
  loan_key: loan_id
  application_date: loan_date
  outcome_column: status
  outcome_window_days: 60
)yaml";

struct KLoan {
  int loan_id;
  int id;
  const char* car;
  int status;
  const char* birthday;
  const char* job_start;
  const char* date;
  double amount;
};

// Reference: the definitions of docs/features.md, loop by loop.
struct Expected {
  int64_t nb_previous;
  std::optional<double> avg_previous;
  int64_t age;
  std::optional<int64_t> years_on_job;
  std::optional<int64_t> car;
};

int64_t FullYears(Date from, Date to) {
  const CivilDay a = from.civil(), b = to.civil();
  int64_t years = b.year - a.year;
  if (b.month < a.month || (b.month == a.month && b.day < a.day)) --years;
  return years;
}

Expected Reference(const std::vector<KLoan>& loans, const KLoan& l) {
  Expected e{};
  double sum = 0;
  for (const KLoan& o : loans) {
    if (o.id == l.id && D(o.date) < D(l.date)) {
      ++e.nb_previous;
      sum += o.amount;
    }
  }
  if (e.nb_previous > 0) e.avg_previous = sum / static_cast<double>(e.nb_previous);
  e.age = FullYears(D(l.birthday), D(l.date));
  if (l.job_start != nullptr) {
    e.years_on_job = D(l.job_start) > D(l.date) ? 0 : FullYears(D(l.job_start), D(l.date));
  }
  if (std::string(l.car) == "Y") e.car = 1;
  if (std::string(l.car) == "N") e.car = 0;
  return e;
}

// The shipped example's features section.
std::string KueskiFeatures() {
  const std::string example = testing::ReadAll(std::filesystem::path(RISKPIPE_SOURCE_DIR) /
                                               "examples/kueski/riskpipe.yaml");
  return example.substr(example.find("\nfeatures:") + 1);
}

// Writes the loans to silver, one partition per month.
void WriteKueskiLoans(const Datamart& mart, db::Connection& con, const std::vector<KLoan>& loans) {
  std::map<Date, std::string> by_month;
  for (const KLoan& l : loans) {
    std::string& sql = by_month[Month::Of(D(l.date)).first_day()];
    sql += sql.empty() ? "SELECT * FROM (VALUES " : ", ";
    sql += "(" + std::to_string(l.loan_id) + ", " + std::to_string(l.id) + ", " +
           (l.car[0] ? "'" + std::string(l.car) + "'" : std::string("NULL::VARCHAR")) + ", " +
           std::to_string(l.status) + ", DATE '" + l.birthday + "', " +
           (l.job_start ? "DATE '" + std::string(l.job_start) + "'" : std::string("NULL::DATE")) +
           ", DATE '" + l.date + "', " + std::to_string(l.amount) + "::DOUBLE)";
  }
  for (auto& [month, sql] : by_month) {
    sql +=
        ") t(loan_id, id, flag_own_car, status, birthday, job_start_date, loan_date, "
        "loan_amount)";
    ASSERT_TRUE(mart.WritePartition(con, Layer::kSilver, "loans", month, sql).ok());
  }
}

TEST(KueskiFeatures, TheShippedDefinitionsMatchAReferenceImplementation) {
  TempDir dir;
  // The shipped example's features section, appended to a small source definition.
  auto p =
      config::ParseProject(std::string(kKueski) + KueskiFeatures(), dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::vector<KLoan> loans = {
      // user 1: two loans on the same day, then a later one; a birthday on the loan date.
      {1008, 1, "Y", 0, "1990-03-10", "2015-06-01", "2019-02-01", 100.0},
      {1000, 1, "Y", 0, "1990-03-10", "2015-06-01", "2019-02-15", 120.0},
      {1003, 1, "Y", 1, "1990-03-10", "2015-06-01", "2019-02-15", 130.0},
      {1001, 1, "Y", 0, "1990-03-10", "2015-06-01", "2020-03-10", 90.0},
      // user 2: the "not employed" sentinel, unknown car.
      {2000, 2, "", 0, "1955-12-31", "3021-09-17", "2019-01-05", 200.0},
      {2001, 2, "", 0, "1955-12-31", "3021-09-17", "2019-02-05", 210.0},
      // user 3: a job that starts after the loan; no job date at all on the second.
      {3000, 3, "N", 0, "2000-01-01", "2019-06-01", "2019-05-31", 50.0},
      {3001, 3, "N", 0, "2000-01-01", nullptr, "2019-06-30", 60.0},
  };
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  const Datamart mart(p->workspace.datamart());
  WriteKueskiLoans(mart, *con, loans);
  auto built = BuildFeatureStore(*p, *con, {});
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->features, 5u);
  auto t = con->Query(
      "SELECT loan_id, nb_previous_loans, avg_amount_loans_previous, age, "
      "years_on_the_job, flag_own_car FROM " +
      *mart.ReadSql(Layer::kGold, kFeatureStoreTable) + " ORDER BY loan_id");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), loans.size());
  auto as_int = [](const db::Value& v) -> std::optional<int64_t> {
    if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
    if (std::holds_alternative<double>(v)) return static_cast<int64_t>(std::get<double>(v));
    return std::nullopt;
  };
  for (const auto& row : t->rows) {
    const int64_t id = *as_int(row[0]);
    const KLoan& l =
        *std::find_if(loans.begin(), loans.end(), [&](const KLoan& k) { return k.loan_id == id; });
    const Expected e = Reference(loans, l);
    EXPECT_EQ(as_int(row[1]), e.nb_previous) << id;
    if (e.avg_previous) {
      ASSERT_TRUE(std::holds_alternative<double>(row[2])) << id;
      EXPECT_NEAR(std::get<double>(row[2]), *e.avg_previous, 1e-9) << id;
    } else {
      EXPECT_TRUE(std::holds_alternative<std::monostate>(row[2])) << id;
    }
    EXPECT_EQ(as_int(row[3]), e.age) << id;
    EXPECT_EQ(as_int(row[4]), e.years_on_job) << id;
    EXPECT_EQ(as_int(row[5]), e.car) << id;
  }
  // The feature store computes the history view with window functions; historical retrieval
  // of the same events takes the general join path. Both must agree on every loan.
  TrainingSetRequest request;
  request.cutoff = D("2030-01-01");
  request.keep_unlabelled = true;
  request.events_sql = "SELECT id, loan_date AS decision_date, loan_id FROM " +
                       *mart.ReadSql(Layer::kSilver, "loans");
  auto retrieval = TrainingSetSql(*p, *con, request);
  ASSERT_TRUE(retrieval.ok()) << retrieval.status().ToString();
  auto diff = con->Query(
      "SELECT count(*) FROM (SELECT loan_id, nb_previous_loans, avg_amount_loans_previous, age, "
      "years_on_the_job, flag_own_car FROM " +
      *mart.ReadSql(Layer::kGold, kFeatureStoreTable) + ") f FULL JOIN (" + *retrieval +
      ") r USING (loan_id) WHERE f.nb_previous_loans IS DISTINCT "
      "FROM r.nb_previous_loans OR f.avg_amount_loans_previous IS DISTINCT FROM "
      "r.avg_amount_loans_previous OR f.age IS DISTINCT FROM r.age OR f.years_on_the_job IS "
      "DISTINCT FROM r.years_on_the_job OR f.flag_own_car IS DISTINCT FROM r.flag_own_car");
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_EQ(std::get<int64_t>(diff->rows[0][0]), 0);
  // Spot checks of the stated rules: same-day loans do not count each other; the birthday
  // counts on the day; the sentinel gives 0 years.
  EXPECT_EQ(Reference(loans, loans[2]).nb_previous, 1);
  EXPECT_EQ(Reference(loans, loans[3]).age, 30);
  EXPECT_EQ(Reference(loans, loans[4]).years_on_job, 0);
}

TEST(KueskiFeatures, OnePassWindowPathEqualsTheJoinPathWithAFilterAndAMonthRange) {
  // The feature store computes a spine whose every view is a window over its own source in
  // one pass (SpineFeatureSql). With a spine filter and a month range, rows outside either are
  // still history: the result must equal the general join path over SpineSql.
  TempDir dir;
  std::string features = KueskiFeatures();
  features.replace(features.find("    date: loan_date\n"), 20,
                   "    date: loan_date\n    where: \"loan_amount >= 100\"\n");
  auto p = config::ParseProject(std::string(kKueski) + features, dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->features.spine.where, "loan_amount >= 100");
  const std::vector<KLoan> loans = {
      {999, 1, "Y", 0, "1990-03-10", "2015-06-01", "2019-01-20", 40.0},  // filtered out
      {1008, 1, "Y", 0, "1990-03-10", "2015-06-01", "2019-02-01", 100.0},
      {1000, 1, "N", 0, "1990-03-10", "2015-06-01", "2019-02-15", 120.0},
      {1003, 1, "Y", 1, "1990-03-10", "2015-06-01", "2019-02-15", 130.0},
      {1001, 1, "Y", 0, "1990-03-10", "2015-06-01", "2019-03-10", 90.0},  // after the range
      {2000, 2, "", 0, "1955-12-31", "3021-09-17", "2019-01-05", 200.0},  // before the range
      {2001, 2, "", 0, "1955-12-31", "3021-09-17", "2019-02-05", 210.0},
      {3000, 3, "N", 0, "2000-01-01", "2019-06-01", "2019-02-28", 50.0},  // filtered out
  };
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  const Datamart mart(p->workspace.datamart());
  WriteKueskiLoans(mart, *con, loans);
  FeatureBuildOptions options;
  options.from = options.to = Month::Of(2019, 2);
  auto built = BuildFeatureStore(*p, *con, options);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->rows, 4);
  const Date from = D("2019-02-01"), to = D("2019-02-28");
  auto spine = SpineSql(*p, mart, &from, &to);
  ASSERT_TRUE(spine.ok()) << spine.status().ToString();
  auto joined = FeatureSql(*p, mart, *spine);
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  const std::string stored =
      "SELECT * EXCLUDE (snapshot_date) FROM " + *mart.ReadSql(Layer::kGold, kFeatureStoreTable);
  for (const auto& [a, b] : {std::pair{stored, *joined}, std::pair{*joined, stored}}) {
    auto diff = con->Query("SELECT count(*) FROM (SELECT * FROM (" + a +
                           ") EXCEPT ALL SELECT * FROM (" + b + "))");
    ASSERT_TRUE(diff.ok()) << diff.status().ToString();
    EXPECT_EQ(std::get<int64_t>(diff->rows[0][0]), 0);
  }
  auto t = con->Query(
      "SELECT loan_id, nb_previous_loans, avg_amount_loans_previous, "
      "_asof_loan_history FROM (" +
      stored + ") ORDER BY loan_id");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 4u);
  // Loan 1008 counts the filtered-out loan 999 as history; 1000 and 1003 count 999 and 1008.
  EXPECT_EQ(db::ValueToString(t->rows[0][0]), "1000");
  EXPECT_EQ(db::ValueToString(t->rows[0][1]), "2");
  EXPECT_EQ(db::ValueToString(t->rows[0][2]), "70");
  EXPECT_EQ(db::ValueToString(t->rows[2][0]), "1008");
  EXPECT_EQ(db::ValueToString(t->rows[2][1]), "1");
  EXPECT_EQ(db::ValueToString(t->rows[2][3]), "2019-01-20");
  // Loan 2001 counts 2000, dated before the range.
  EXPECT_EQ(db::ValueToString(t->rows[3][1]), "1");
  EXPECT_EQ(db::ValueToString(t->rows[3][2]), "200");
}

TEST(KueskiFeatures, TrainingSetUsesALabelOnlyFromItsAvailabilityDate) {
  TempDir dir;
  const std::string example = testing::ReadAll(std::filesystem::path(RISKPIPE_SOURCE_DIR) /
                                               "examples/kueski/riskpipe.yaml");
  auto p =
      config::ParseProject(std::string(kKueski) + example.substr(example.find("\nfeatures:") + 1),
                           dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  const Datamart mart(p->workspace.datamart());
  ASSERT_TRUE(
      mart.WritePartition(*con, Layer::kSilver, "loans", D("2019-01-01"),
                          "SELECT * FROM (VALUES (1, 7, 'Y', 1, DATE '1980-01-01', "
                          "DATE '2010-01-01', DATE '2019-01-10', 100.0::DOUBLE)) t(loan_id, id, "
                          "flag_own_car, status, birthday, job_start_date, loan_date, "
                          "loan_amount)")
          .ok());
  ASSERT_TRUE(
      mart.WritePartition(*con, Layer::kSilver, "loans", D("2019-04-01"),
                          "SELECT * FROM (VALUES (2, 7, 'Y', 0, DATE '1980-01-01', "
                          "DATE '2010-01-01', DATE '2019-04-10', 100.0::DOUBLE)) t(loan_id, id, "
                          "flag_own_car, status, birthday, job_start_date, loan_date, "
                          "loan_amount)")
          .ok());
  LabelBuildOptions lo;
  lo.as_of = D("2019-12-31");  // the outcomes were all known by then
  ASSERT_TRUE(BuildLabelStore(*p, *con, lo).ok());
  // Loan 1 (2019-01-10) has its label available on 2019-03-11 (+60 days).
  for (const auto& [cutoff, expected_rows] : std::vector<std::pair<const char*, size_t>>{
           {"2019-03-10", 0}, {"2019-03-11", 1}, {"2019-12-31", 2}}) {
    TrainingSetRequest request;
    request.cutoff = D(cutoff);
    auto sql = TrainingSetSql(*p, *con, request);
    ASSERT_TRUE(sql.ok()) << sql.status().ToString();
    auto t = con->Query("SELECT label, label_available_date, decision_date FROM (" + *sql + ")");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->rows.size(), expected_rows) << cutoff;
    for (const auto& row : t->rows) {
      EXPECT_LE(std::get<Date>(row[1]), D(cutoff));
      EXPECT_LE(std::get<Date>(row[2]), D(cutoff));
    }
  }
}

}  // namespace
}  // namespace riskpipe::features
