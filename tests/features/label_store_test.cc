// Tests of gold/loan_dpd and gold/label_store (docs/labels.md): hand-computed dpd on tiny
// silver partitions written here, the label rule, NULL for unmatured loans, availability dates
// for both label kinds, per-month idempotence, errors, and the real synthetic lending data.

#include "features/label_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "db/database.h"
#include "ingest/ingest.h"
#include "synth/synth.h"
#include "testing/temp_dir.h"

namespace riskpipe::features {
namespace {

namespace fs = std::filesystem;
using datamart::Datamart;
using datamart::Layer;
using riskpipe::testing::TempDir;

constexpr char kSources[] = R"(
project: labels
workspace: ws
pii_salt: test-salt
sources:
  - name: lms
    file: raw/lms.csv
    keys: [loan_id, snapshot_date]
    date_column: snapshot_date
    columns:
      - {name: loan_id, type: string, required: true}
      - {name: Customer_ID, type: string, required: true}
      - {name: loan_start_date, type: date, required: true}
      - {name: installment_num, type: int, required: true}
      - {name: due_amt, type: float}
      - {name: overdue_amt, type: float}
      - {name: snapshot_date, type: date, required: true}
  - name: loans
    file: raw/loans.csv
    keys: [id, loan_id]
    date_column: loan_date
    columns:
      - {name: loan_id, type: int, required: true}
      - {name: id, type: int, required: true}
      - {name: status, type: int, required: true}
      - {name: loan_date, type: date, required: true}
)";

constexpr char kDpdLabel[] = R"(
label:
  name: 30dpd_6mob
  kind: dpd
  source: lms
  entity: Customer_ID
  loan_key: loan_id
  application_date: loan_start_date
  mob: 6
  dpd: 30
)";

constexpr char kOutcomeLabel[] = R"(
label:
  name: status_60d
  kind: outcome
  source: loans
  entity: id
  loan_key: loan_id
  application_date: loan_date
  outcome_column: status
  outcome_window_days: 60
)";

Date D(const char* iso) { return *ParseIsoDate(iso); }

// One loan of 10 instalments of 1000; digit k of `paid` is what was paid at instalment k + 1
// (data-spec A.3.1 payment strings). Rows exist for snapshots up to `last`.
struct Loan {
  std::string id;
  Date start;
  std::string paid;
};

// The tiny LMS: snapshots 2022-09 .. 2023-07.
const std::vector<Loan>& Loans() {
  static const std::vector<Loan> loans = {
      {"A", D("2023-01-01"), "1111111111"},  // never misses
      {"B", D("2023-01-01"), "1100000000"},  // stops paying at instalment 3
      {"C", D("2023-01-01"), "1020000000"},  // misses 2, catches up at 3, stops at 4
      {"D", D("2023-01-01"), "1111100000"},  // one missed instalment at MOB 6: dpd 30
      {"E", D("2022-09-01"), "1111100000"},  // the same in February: dpd 28 (edge)
      {"F", D("2023-05-01"), "1111111111"},  // MOB 6 is 2023-11: not in the data
  };
  return loans;
}
const Date kLastSnapshot = D("2023-07-01");

// Silver rows per snapshot month, as SQL VALUES tuples; `overrides` replaces the overdue amount
// of (loan, snapshot).
std::map<Date, std::vector<std::string>> LmsRows(
    const std::map<std::pair<std::string, Date>, int>& overrides = {}) {
  std::map<Date, std::vector<std::string>> out;
  for (const Loan& loan : Loans()) {
    int due_sum = 0, paid_sum = 0;
    for (int k = 0; k <= 10; ++k) {
      const Date snap = loan.start.AddMonths(k);
      if (snap > kLastSnapshot) break;
      const int due = k == 0 ? 0 : 1000;
      due_sum += due;
      paid_sum += k == 0 ? 0 : (loan.paid[static_cast<size_t>(k - 1)] - '0') * 1000;
      int overdue = due_sum - paid_sum;
      if (auto it = overrides.find({loan.id, snap}); it != overrides.end()) overdue = it->second;
      out[snap].push_back("('" + loan.id + "', 'CUS_" + loan.id + "', DATE '" +
                          loan.start.ToString() + "', " + std::to_string(k) + ", " +
                          std::to_string(due) + ".0, " + std::to_string(overdue) + ".0)");
    }
  }
  return out;
}

class LabelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::make_unique<db::Database>(std::move(*database));
    auto con = database_->Connect();
    ASSERT_TRUE(con.ok()) << con.status().ToString();
    con_ = std::make_unique<db::Connection>(std::move(*con));
  }

  void Load(const std::string& label_yaml) {
    auto p = config::ParseProject(std::string(kSources) + label_yaml, dir_.path() / "r.yaml");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = *p;
  }

  Datamart mart() const { return Datamart(project_.workspace.datamart()); }

  void WriteLms(const std::map<std::pair<std::string, Date>, int>& overrides = {}) {
    for (const auto& [snap, rows] : LmsRows(overrides)) WriteLmsMonth(snap, rows);
  }

  void WriteLmsMonth(Date snap, const std::vector<std::string>& rows) {
    std::string values;
    for (const std::string& r : rows) values += (values.empty() ? "" : ", ") + r;
    auto n = mart().WritePartition(
        *con_, Layer::kSilver, "lms", snap,
        "SELECT loan_id, Customer_ID, loan_start_date, CAST(installment_num AS BIGINT) AS "
        "installment_num, CAST(due_amt AS DOUBLE) AS due_amt, CAST(overdue_amt AS DOUBLE) AS "
        "overdue_amt FROM (VALUES " +
            values +
            ") t(loan_id, Customer_ID, loan_start_date, installment_num, due_amt, overdue_amt)");
    ASSERT_TRUE(n.ok()) << n.status().ToString();
  }

  // Kueski-like loans: (loan_id, id, status, loan_date), partitioned by loan month.
  void WriteLoans() {
    const std::vector<std::pair<Date, std::string>> rows = {
        {D("2021-01-01"), "(1000, 1, 1, DATE '2021-01-10')"},
        {D("2021-08-01"), "(1001, 1, 0, DATE '2021-08-01')"},
        {D("2021-09-01"), "(1002, 2, 1, DATE '2021-09-17')"},
    };
    for (const auto& [part, row] : rows) {
      auto n = mart().WritePartition(*con_, Layer::kSilver, "loans", part,
                                     "SELECT CAST(loan_id AS BIGINT) AS loan_id, CAST(id AS "
                                     "BIGINT) AS id, CAST(status AS BIGINT) AS status, "
                                     "loan_date FROM (VALUES " +
                                         row + ") t(loan_id, id, status, loan_date)");
      ASSERT_TRUE(n.ok()) << n.status().ToString();
    }
  }

  LabelBuildSummary Build(LabelBuildOptions options = {}) {
    auto s = BuildLabelStore(project_, *con_, options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : LabelBuildSummary{};
  }

  db::Table Query(const std::string& sql) {
    auto t = con_->Query(sql);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : db::Table{};
  }

  std::string Gold(const char* table) {
    auto sql = mart().ReadSql(Layer::kGold, table);
    EXPECT_TRUE(sql.ok()) << sql.status().ToString();
    return sql.ok() ? *sql : "(SELECT 1)";
  }

  // key -> "label/dpd_at_mob/label_available_date/partition" from gold/label_store.
  std::map<std::string, std::string> Labels(const std::string& key = "loan_id") {
    std::map<std::string, std::string> out;
    const db::Table t = Query("SELECT CAST(" + key + " AS VARCHAR), label, dpd_at_mob, " +
                              "label_available_date, snapshot_date FROM " + Gold(kLabelStoreTable));
    for (const auto& r : t.rows) {
      out[std::get<std::string>(r[0])] = db::ValueToString(r[1]) + "/" + db::ValueToString(r[2]) +
                                         "/" + db::ValueToString(r[3]) + "/" +
                                         db::ValueToString(r[4]);
    }
    return out;
  }

  TempDir dir_;
  config::Project project_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<db::Connection> con_;
};

TEST_F(LabelStoreTest, DpdPerMonthMatchesHandComputedValues) {
  Load(kDpdLabel);
  WriteLms();
  auto months = BuildLoanDpd(project_, *con_, {});
  ASSERT_TRUE(months.ok()) << months.status().ToString();
  ASSERT_EQ(months->size(), 11u);  // 2022-09 .. 2023-07
  const std::string gold = Gold(kLoanDpdTable);
  auto series = [&](const std::string& loan) {
    std::vector<std::string> out;
    for (const auto& r : Query("SELECT dpd, installments_missed, first_missed_date FROM " + gold +
                               " WHERE loan_id = '" + loan + "' ORDER BY snapshot_date")
                             .rows) {
      out.push_back(db::ValueToString(r[0]) + "/" + db::ValueToString(r[1]) + "/" +
                    db::ValueToString(r[2]));
    }
    return out;
  };
  // Instalment 0: due 0 and overdue 0 (0/0 is null) counts as 0 missed, dpd 0.
  EXPECT_EQ(series("A"), std::vector<std::string>(7, "0/0/NULL"));
  // B misses from instalment 3 (due 2023-03-01): dpd counts from that date.
  EXPECT_EQ(series("B"),
            (std::vector<std::string>{"0/0/NULL", "0/0/NULL", "0/0/NULL", "31/1/2023-03-01",
                                      "61/2/2023-03-01", "92/3/2023-03-01", "122/4/2023-03-01"}));
  // C misses instalment 2 (28 days in February), catches up with 2000 at 3, then stops.
  EXPECT_EQ(series("C"),
            (std::vector<std::string>{"0/0/NULL", "0/0/NULL", "28/1/2023-02-01", "0/0/NULL",
                                      "30/1/2023-04-01", "61/2/2023-04-01", "91/3/2023-04-01"}));
  const db::Table cols = Query("SELECT * FROM " + gold + " LIMIT 0");
  EXPECT_EQ(cols.columns,
            (std::vector<std::string>{"loan_id", "Customer_ID", "application_date", "mob",
                                      "due_amount", "overdue_amount", "installments_missed",
                                      "first_missed_date", "dpd", "snapshot_date"}));
  // 2023-04: B (31) and E (stopped at its instalment 6) are past due; C has caught up.
  EXPECT_EQ(months->at(7).month.ToString(), "2023-04");
  EXPECT_EQ(months->at(7).rows, 5);  // F starts in 2023-05
  EXPECT_EQ(months->at(7).past_due, 2);
}

TEST_F(LabelStoreTest, LabelIsOneExactlyWhenDpdAtMobReachesThreshold) {
  Load(kDpdLabel);
  WriteLms();
  Build();
  const auto labels = Labels();
  EXPECT_EQ(labels.at("A"), "0/0/2023-07-01/2023-01-01");
  EXPECT_EQ(labels.at("B"), "1/122/2023-07-01/2023-01-01");
  EXPECT_EQ(labels.at("C"), "1/91/2023-07-01/2023-01-01");
  EXPECT_EQ(labels.at("D"), "1/30/2023-07-01/2023-01-01");
  // One missed instalment in February is 28 days past due: below 30, so not bad.
  EXPECT_EQ(labels.at("E"), "0/28/2023-03-01/2022-09-01");
  const db::Table t =
      Query("SELECT label_def, typeof(label) FROM " + Gold(kLabelStoreTable) + " LIMIT 1");
  EXPECT_EQ(std::get<std::string>(t.rows[0][0]), "30dpd_6mob");
  EXPECT_EQ(std::get<std::string>(t.rows[0][1]), "INTEGER");
}

TEST_F(LabelStoreTest, UnmaturedLoanHasNullLabelNotZero) {
  Load(kDpdLabel);
  WriteLms();
  const LabelBuildSummary s = Build();
  EXPECT_EQ(s.as_of.ToString(), "2023-07-01");  // the latest LMS snapshot
  EXPECT_EQ(Labels().at("F"), "NULL/NULL/2023-11-01/2023-05-01");
  ASSERT_EQ(s.months.size(), 3u);
  EXPECT_EQ(s.months[2].month.ToString(), "2023-05");
  EXPECT_EQ(s.months[2].rows, 1);
  EXPECT_EQ(s.months[2].matured, 0);
  EXPECT_EQ(s.months[2].labelled, 0);
  EXPECT_EQ(s.months[1].rows, 4);
  EXPECT_EQ(s.months[1].labelled, 4);
  EXPECT_EQ(s.months[1].positives, 3);
  EXPECT_EQ(s.rows(), 6);
  EXPECT_EQ(s.labelled(), 5);
}

TEST_F(LabelStoreTest, AsOfBeforeTheMobSnapshotLeavesLabelsNull) {
  Load(kDpdLabel);
  WriteLms();
  LabelBuildOptions o;
  o.as_of = D("2023-06-30");
  Build(o);
  const auto labels = Labels();
  EXPECT_EQ(labels.at("A"), "NULL/NULL/2023-07-01/2023-01-01");
  EXPECT_EQ(labels.at("E"), "0/28/2023-03-01/2022-09-01");
  EXPECT_EQ(labels.at("F"), "NULL/NULL/2023-11-01/2023-05-01");
}

TEST_F(LabelStoreTest, OutcomeLabelIsAvailableAfterTheOutcomeWindow) {
  Load(kOutcomeLabel);
  WriteLoans();
  const LabelBuildSummary s = Build();
  // The latest date the source holds is its latest loan date, not its partition's first day.
  EXPECT_EQ(s.as_of.ToString(), "2021-09-17");
  auto labels = Labels();
  EXPECT_EQ(labels.at("1000"), "1/NULL/2021-03-11/2021-01-01");
  EXPECT_EQ(labels.at("1001"), "NULL/NULL/2021-09-30/2021-08-01");  // matures after as_of
  EXPECT_EQ(labels.at("1002"), "NULL/NULL/2021-11-16/2021-09-01");
  // As of the day before loan 1000's window ends, its outcome is not known yet, and the later
  // loans do not exist.
  LabelBuildOptions o;
  o.as_of = D("2021-03-10");
  o.month = Month::Of(2021, 1);
  const LabelBuildSummary early = Build(o);
  ASSERT_EQ(early.months.size(), 1u);
  EXPECT_EQ(early.months[0].rows, 1);
  EXPECT_EQ(early.months[0].labelled, 0);
  EXPECT_EQ(Labels().at("1000"), "NULL/NULL/2021-03-11/2021-01-01");
  // Outcome labels have no dpd table.
  auto dpd = BuildLoanDpd(project_, *con_, {});
  ASSERT_TRUE(dpd.ok()) << dpd.status().ToString();
  EXPECT_TRUE(dpd->empty());
}

TEST_F(LabelStoreTest, LabelIsNeverAvailableBeforeItsAvailabilityDate) {
  Load(kDpdLabel);
  WriteLms();
  Build();
  auto count = [&](Date cutoff, const std::string& where) {
    auto sql = LabelsAvailableBySql(mart(), "30dpd_6mob", cutoff);
    EXPECT_TRUE(sql.ok()) << sql.status().ToString();
    auto n = con_->QueryInt("SELECT count(*) FROM " + *sql + " WHERE " + where);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  };
  EXPECT_EQ(count(D("2023-06-30"), "loan_id = 'A'"), 0);
  EXPECT_EQ(count(D("2023-07-01"), "loan_id = 'A'"), 1);
  EXPECT_EQ(count(D("2023-02-28"), "loan_id = 'E'"), 0);
  EXPECT_EQ(count(D("2023-03-01"), "loan_id = 'E'"), 1);
  // For every cutoff, nothing returned is dated after it, and unmatured loans never appear.
  for (Date c = D("2022-09-01"); c <= D("2024-01-01"); c = c.AddDays(7)) {
    EXPECT_EQ(count(c, "label_available_date > DATE '" + c.ToString() + "'"), 0);
    EXPECT_EQ(count(c, "loan_id = 'F' OR label IS NULL"), 0);
  }
  // Another label definition's labels are not returned.
  EXPECT_EQ(count(D("2024-01-01"), "true"), 5);
  auto other = LabelsAvailableBySql(mart(), "60dpd_12mob", D("2024-01-01"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*con_->QueryInt("SELECT count(*) FROM " + *other), 0);
}

TEST_F(LabelStoreTest, RebuildingOneMonthChangesOnlyThatMonth) {
  Load(kDpdLabel);
  WriteLms();
  Build();
  const Datamart m = mart();
  const fs::path sept = m.PartitionFile(Layer::kGold, kLabelStoreTable, D("2022-09-01"));
  const fs::path may = m.PartitionFile(Layer::kGold, kLabelStoreTable, D("2023-05-01"));
  const std::string sept_bytes = riskpipe::testing::ReadAll(sept);
  const auto sept_time = fs::last_write_time(sept);
  const auto may_time = fs::last_write_time(may);
  // New data that would change loans of two application months: A (2023-01) and E (2022-09).
  WriteLms({{{"A", D("2023-07-01")}, 2000}, {{"E", D("2023-03-01")}, 3000}});
  LabelBuildOptions o;
  o.month = Month::Of(2023, 1);
  const LabelBuildSummary s = Build(o);
  ASSERT_EQ(s.months.size(), 1u);
  EXPECT_EQ(s.months[0].positives, 4);
  const auto labels = Labels();
  EXPECT_EQ(labels.at("A"), "1/61/2023-07-01/2023-01-01");
  EXPECT_EQ(labels.at("E"), "0/28/2023-03-01/2022-09-01");  // not rebuilt
  EXPECT_EQ(riskpipe::testing::ReadAll(sept), sept_bytes);
  EXPECT_EQ(fs::last_write_time(sept), sept_time);
  EXPECT_EQ(fs::last_write_time(may), may_time);
  // Running the same month again gives the same rows.
  Build(o);
  EXPECT_EQ(Labels(), labels);
}

TEST_F(LabelStoreTest, RequestedMonthWithoutLoansGetsAnEmptyPartition) {
  Load(kDpdLabel);
  WriteLms();
  LabelBuildOptions o;
  o.month = Month::Of(2024, 1);
  const LabelBuildSummary s = Build(o);
  ASSERT_EQ(s.months.size(), 1u);
  EXPECT_EQ(s.months[0].rows, 0);
  EXPECT_TRUE(fs::exists(mart().PartitionFile(Layer::kGold, kLabelStoreTable, D("2024-01-01"))));
  EXPECT_EQ(Query("SELECT * FROM " + Gold(kLabelStoreTable)).rows.size(), 0u);
}

TEST_F(LabelStoreTest, ProjectWithoutLabelIsFailedPrecondition) {
  Load("");
  auto s = BuildLabelStore(project_, *con_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("label:"), std::string::npos) << s.status().message();
  auto d = BuildLoanDpd(project_, *con_, {});
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LabelStoreTest, MissingSilverTableIsNotFoundAndSuggestsIngest) {
  Load(kDpdLabel);
  auto s = BuildLabelStore(project_, *con_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("silver/lms"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("riskpipe ingest"), std::string::npos);
  WriteLms();
  LoanDpdOptions o;
  o.month = Month::Of(2024, 1);
  auto d = BuildLoanDpd(project_, *con_, o);
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("2024-01-01"), std::string::npos) << d.status().message();
}

// The real synthetic lending data (2000 customers) through ingest: the label equals
// (overdue_amt > 0 at MOB 6) exactly (data-spec A.3.2) and the base rate is realistic.
TEST(LabelStoreSynthetic, LabelEqualsOverdueAtMob6AndBaseRateIsRealistic) {
  TempDir dir;
  std::ifstream in(std::string(RISKPIPE_SOURCE_DIR) + "/examples/lending-datamart/riskpipe.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto project = config::ParseProject(text.str(), dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  ASSERT_TRUE(project->label.has_value());
  synth::Options so;
  so.customers = 2000;
  so.out_dir = project->workspace.raw();
  so.show_progress = false;
  ASSERT_TRUE(synth::Generate(so).ok());
  ingest::IngestOptions io;
  io.show_progress = false;
  auto report = ingest::IngestSource(*project, *project->FindSource("lms_loan_daily"), io);
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  auto summary = BuildLabelStore(*project, *con, {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows(), 2000);
  auto dpd = BuildLoanDpd(*project, *con, {});
  ASSERT_TRUE(dpd.ok()) << dpd.status().ToString();

  const Datamart mart(project->workspace.datamart());
  const std::string silver = *mart.ReadSql(Layer::kSilver, "lms_loan_daily");
  const std::string labels = *mart.ReadSql(Layer::kGold, kLabelStoreTable);
  const std::string loan_dpd = *mart.ReadSql(Layer::kGold, kLoanDpdTable);
  EXPECT_EQ(*con->QueryInt("SELECT count(*) FROM " + loan_dpd), report->silver());
  // Every loan with a MOB-6 row is labelled, and its label is exactly overdue > 0 there.
  const std::string joined = "FROM " + labels + " l LEFT JOIN (SELECT * FROM " + silver +
                             " WHERE installment_num = 6) s USING (loan_id)";
  EXPECT_EQ(*con->QueryInt("SELECT count(*) " + joined +
                           " WHERE l.label IS DISTINCT FROM CAST(s.overdue_amt > 0 AS INTEGER)"),
            0);
  EXPECT_EQ(*con->QueryInt("SELECT count(*) " + joined + " WHERE s.loan_id IS NULL"),
            2000 - summary->labelled());
  // The base rate of data-spec A.3.2: the cohorts before the synthetic macro shock of 2024-01
  // (docs/synthetic-data.md, "Drift").
  auto rate = con->Query("SELECT avg(label) FROM " + labels +
                         " WHERE application_date BETWEEN DATE '2023-01-01' AND DATE '2023-12-31'");
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  const double base_rate = std::get<double>(rate->rows[0][0]);
  EXPECT_GE(base_rate, 0.25);
  EXPECT_LE(base_rate, 0.33);
}

}  // namespace
}  // namespace riskpipe::features
