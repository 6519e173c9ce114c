// The lending-datamart generator: file shapes, determinism, the repayment invariants and
// label base rate of data-spec A.3, dirt rates of A.4/A.5, clickstream coverage and the drift
// story of docs/synthetic-data.md. Files are read back with the ingester's CSV reader.

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingest/csv_reader.h"
#include "synth/synth.h"
#include "testing/temp_dir.h"

namespace riskpipe::synth {
namespace {

using Rows = std::vector<std::vector<std::string>>;

struct Table {
  std::vector<std::string> header;
  Rows rows;
  int Col(const std::string& name) const {
    auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<int>(it - header.begin());
  }
};

Table ReadCsv(const std::filesystem::path& path) {
  Table t;
  auto reader = ingest::CsvReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  auto header = (*reader)->ReadHeader();
  EXPECT_TRUE(header.ok());
  t.header = *header;
  ingest::CsvRecord rec;
  for (;;) {
    auto more = (*reader)->Next(rec);
    EXPECT_TRUE(more.ok());
    if (!*more) break;
    EXPECT_FALSE(rec.blank || rec.bad_quote || rec.unterminated_quote) << rec.line;
    EXPECT_EQ(rec.fields.size(), t.header.size()) << path << ":" << rec.line;
    t.rows.emplace_back(rec.fields.begin(), rec.fields.end());
  }
  return t;
}

double ToDouble(const std::string& s) { return std::stod(s); }

Summary MustGenerate(const std::filesystem::path& dir, int64_t customers, uint64_t seed,
                     int threads) {
  Options o;
  o.customers = customers;
  o.seed = seed;
  o.out_dir = dir;
  o.threads = threads;
  o.show_progress = false;
  auto s = Generate(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Summary{};
}

// Shared data set: 8000 customers keeps the rates' sampling error near 0.5 points.
class LendingData : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    summary_ = new Summary(MustGenerate(dir_->path(), 8000, 7, 2));
    lms_ = new Table(ReadCsv(dir_->path() / "lms_loan_daily.csv"));
    attributes_ = new Table(ReadCsv(dir_->path() / "features_attributes.csv"));
    financials_ = new Table(ReadCsv(dir_->path() / "features_financials.csv"));
    clicks_ = new Table(ReadCsv(dir_->path() / "feature_clickstream.csv"));
    // The MOB-6 label (data-spec A.3.2): overdue > 0 at installment 6.
    labels_ = new std::unordered_map<std::string, int>();
    const int inst = lms_->Col("installment_num"), overdue = lms_->Col("overdue_amt");
    const int cust = lms_->Col("Customer_ID");
    for (const auto& r : lms_->rows) {
      if (r[inst] == "6") (*labels_)[r[cust]] = ToDouble(r[overdue]) > 0 ? 1 : 0;
    }
  }
  static void TearDownTestSuite() {
    delete labels_;
    delete clicks_;
    delete financials_;
    delete attributes_;
    delete lms_;
    delete summary_;
    delete dir_;
  }

  // Share of rows whose column `name` satisfies `pred`.
  template <typename Pred>
  static double Share(const Table& t, const std::string& name, Pred pred) {
    const int c = t.Col(name);
    double n = 0;
    for (const auto& r : t.rows) n += pred(r[c]) ? 1 : 0;
    return n / static_cast<double>(t.rows.size());
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline Summary* summary_ = nullptr;
  static inline Table* lms_ = nullptr;
  static inline Table* attributes_ = nullptr;
  static inline Table* financials_ = nullptr;
  static inline Table* clicks_ = nullptr;
  static inline std::unordered_map<std::string, int>* labels_ = nullptr;
};

TEST_F(LendingData, FilesAndRowCountsMatchTheSpecShapes) {
  ASSERT_EQ(summary_->files.size(), 4u);
  EXPECT_EQ(summary_->files[0].file, "lms_loan_daily.csv");
  EXPECT_EQ(summary_->files[0].rows, 8000u * 11);
  EXPECT_EQ(summary_->files[2].rows, 8000u);
  EXPECT_EQ(summary_->files[3].rows, 8000u);
  EXPECT_EQ(lms_->rows.size(), summary_->files[0].rows);
  EXPECT_EQ(clicks_->rows.size(), summary_->files[1].rows);
  EXPECT_EQ(summary_->files[0].bytes, std::filesystem::file_size(dir_->path() / "lms_loan_daily.csv"));
  EXPECT_EQ(attributes_->header,
            (std::vector<std::string>{"Customer_ID", "Name", "Age", "SSN", "Occupation",
                                      "snapshot_date"}));
  EXPECT_EQ(financials_->header.size(), 22u);
  EXPECT_EQ(clicks_->header.size(), 22u);
  EXPECT_EQ(clicks_->header[20], "Customer_ID");
  // No temporary files are left beside the outputs.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_->path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 4);
}

TEST_F(LendingData, CustomerIdsAreSparseUniqueHexAndLoanIdsFollowTheFormat) {
  const std::regex id_re("CUS_0x[0-9a-f]{3,}");
  std::set<std::string> ids;
  const int c = attributes_->Col("Customer_ID");
  for (const auto& r : attributes_->rows) {
    ASSERT_TRUE(std::regex_match(r[c], id_re)) << r[c];
    ids.insert(r[c]);
  }
  EXPECT_EQ(ids.size(), 8000u);
  const int loan = lms_->Col("loan_id"), cust = lms_->Col("Customer_ID");
  const int start = lms_->Col("loan_start_date");
  for (size_t i = 0; i < lms_->rows.size(); i += 97) {
    const auto& r = lms_->rows[i];
    std::string expected = r[cust] + "_" + r[start];
    std::replace(expected.begin() + static_cast<long>(r[cust].size()), expected.end(), '-', '_');
    EXPECT_EQ(r[loan], expected);
  }
}

TEST_F(LendingData, RepaymentInvariantsHoldOnEveryLmsRow) {
  const int inst = lms_->Col("installment_num"), due = lms_->Col("due_amt");
  const int paid = lms_->Col("paid_amt"), overdue = lms_->Col("overdue_amt");
  const int balance = lms_->Col("balance"), amt = lms_->Col("loan_amt");
  const int start = lms_->Col("loan_start_date"), snap = lms_->Col("snapshot_date");
  double due_sum = 0, paid_sum = 0;
  for (const auto& r : lms_->rows) {
    if (r[inst] == "0") due_sum = paid_sum = 0;
    due_sum += ToDouble(r[due]);
    paid_sum += ToDouble(r[paid]);
    ASSERT_EQ(ToDouble(r[overdue]), due_sum - paid_sum);
    ASSERT_EQ(ToDouble(r[balance]), ToDouble(r[amt]) - paid_sum);
    // snapshot = start + installment_num months.
    const int k = std::stoi(r[inst]);
    const int sy = std::stoi(r[start].substr(0, 4)), sm = std::stoi(r[start].substr(5, 2));
    const int total = sy * 12 + sm - 1 + k;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-01", total / 12, total % 12 + 1);
    ASSERT_EQ(r[snap], buf);
  }
}

TEST_F(LendingData, DefaultRateIsNearTheSpecBaseAndRisesAfterTheShock) {
  const int start = attributes_->Col("snapshot_date"), id = attributes_->Col("Customer_ID");
  double before = 0, before_n = 0, after = 0, after_n = 0;
  for (const auto& r : attributes_->rows) {
    const int label = labels_->at(r[id]);
    if (r[start] < "2024-01-01") {
      before += label;
      ++before_n;
    } else {
      after += label;
      ++after_n;
    }
  }
  EXPECT_NEAR(before / before_n, 0.289, 0.025);
  EXPECT_NEAR(after / after_n, 0.45, 0.035);
}

// The shock's other half (drift.h): the shocked applicants are riskier on paper too (credit
// quality shifted), and their incomes are 12% lower.
TEST_F(LendingData, ShockedCohortsHaveRiskierProfilesAndLowerIncomes) {
  const int rate = financials_->Col("Interest_Rate");
  const int income = financials_->Col("Annual_Income"), snap = financials_->Col("snapshot_date");
  double rate_sum[2] = {0, 0}, rate_n[2] = {0, 0};
  std::vector<double> incomes[2];
  for (const auto& r : financials_->rows) {
    const int shocked = r[snap] >= "2024-01-01";
    const double x = ToDouble(r[rate]);
    if (x >= 0 && x <= 50) {  // clean rates only (data-spec A.5: 99..5789 are entry errors)
      rate_sum[shocked] += x;
      rate_n[shocked] += 1;
    }
    std::string v = r[income];
    while (!v.empty() && v.back() == '_') v.pop_back();
    if (!v.empty() && ToDouble(v) < 250000) incomes[shocked].push_back(ToDouble(v));
  }
  // Q shifted by 0.4 moves the interest-rate score by 0.2 sd: about 2 points of rate.
  EXPECT_GT(rate_sum[1] / rate_n[1] - rate_sum[0] / rate_n[0], 1.0);
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  // 12% lower on the income quantile, plus the quality shift (income loads on Q).
  EXPECT_LT(median(incomes[1]), 0.92 * median(incomes[0]));
}

TEST_F(LendingData, ProductChangeRaisesTheLoanAmountFromOctober2024) {
  const int start = lms_->Col("loan_start_date"), amt = lms_->Col("loan_amt");
  for (const auto& r : lms_->rows) {
    ASSERT_EQ(r[amt], r[start] < "2024-10-01" ? "10000" : "15000") << r[start];
  }
}

TEST_F(LendingData, DirtyTokensAppearAtTheSpecRates) {
  auto suffix = [](const std::string& v) { return !v.empty() && v.back() == '_'; };
  EXPECT_NEAR(Share(*attributes_, "Age", suffix), 0.051, 0.012);
  EXPECT_NEAR(Share(*attributes_, "Age", [](const std::string& v) { return v.rfind("-500", 0) == 0; }),
              0.0083, 0.004);
  EXPECT_NEAR(Share(*attributes_, "SSN", [](const std::string& v) { return v == "#F%$D@*&8"; }),
              0.0562, 0.012);
  EXPECT_NEAR(Share(*attributes_, "Occupation", [](const std::string& v) { return v == "_______"; }),
              0.0704, 0.012);
  EXPECT_NEAR(Share(*financials_, "Credit_Mix", [](const std::string& v) { return v == "_"; }),
              0.209, 0.02);
  EXPECT_NEAR(Share(*financials_, "Payment_Behaviour", [](const std::string& v) { return v == "!@9#%8"; }),
              0.0798, 0.012);
  EXPECT_NEAR(Share(*financials_, "Amount_invested_monthly",
                    [](const std::string& v) { return v == "__10000__"; }),
              0.0446, 0.01);
  EXPECT_NEAR(Share(*financials_, "Num_of_Loan", [](const std::string& v) { return v.rfind("-100", 0) == 0; }),
              0.04, 0.01);
  EXPECT_NEAR(Share(*financials_, "Payment_of_Min_Amount", [](const std::string& v) { return v == "NM"; }),
              0.115, 0.015);
  EXPECT_NEAR(Share(*financials_, "Type_of_Loan", [](const std::string& v) { return v.empty(); }),
              0.114, 0.02);
  // Type_of_Loan lists as many items as Num_of_Loan says (for clean counts).
  const int n = financials_->Col("Num_of_Loan"), types = financials_->Col("Type_of_Loan");
  for (const auto& r : financials_->rows) {
    if (r[n].empty() || r[n].back() == '_' || r[n][0] == '-' || std::stoi(r[n]) > 9) continue;
    const auto items = r[types].empty() ? 0 : std::count(r[types].begin(), r[types].end(), ',') + 1;
    ASSERT_EQ(items, std::stoi(r[n])) << r[types];
  }
}

// Rank AUC of `score` against `label` (ties count half).
double Auc(std::vector<std::pair<double, int>> v) {
  std::sort(v.begin(), v.end());
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j].first == v[i].first) ++j;
    const double avg_rank = (static_cast<double>(i + j) + 1) / 2;
    for (size_t k = i; k < j; ++k) {
      if (v[k].second) {
        rank_sum += avg_rank;
        ++pos;
      } else {
        ++neg;
      }
    }
    i = j;
  }
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

TEST_F(LendingData, FinancialDriversCarryAUsableSignal) {
  auto auc_of = [&](const std::string& name, double max_clean) {
    const int c = financials_->Col(name), id = financials_->Col("Customer_ID");
    std::vector<std::pair<double, int>> v;
    for (const auto& r : financials_->rows) {
      std::string s = r[c];
      while (!s.empty() && s.back() == '_') s.pop_back();
      if (s.empty()) continue;
      const double x = ToDouble(s);
      if (x < 0 || x > max_clean) continue;
      v.emplace_back(x, labels_->at(r[id]));
    }
    return Auc(std::move(v));
  };
  // data-spec A.5: Interest_Rate 0.72, Outstanding_Debt 0.72, Num_Credit_Inquiries 0.71.
  EXPECT_GT(auc_of("Interest_Rate", 50), 0.62);
  EXPECT_GT(auc_of("Outstanding_Debt", 10000), 0.62);
  EXPECT_GT(auc_of("Num_Credit_Inquiries", 25), 0.62);
  EXPECT_LT(auc_of("Annual_Income", 250000), 0.47);
}

TEST_F(LendingData, ClickstreamCoversEarlyCohortsWithTheLabelShiftAndTheFeedBreak) {
  const int id = clicks_->Col("Customer_ID"), snap = clicks_->Col("snapshot_date");
  const int fe5 = clicks_->Col("fe_5"), fe7 = clicks_->Col("fe_7");
  std::map<std::string, int> months_per_customer;
  double bad_sum = 0, bad_n = 0, good_sum = 0, good_n = 0;
  for (const auto& r : clicks_->rows) {
    ++months_per_customer[r[id]];
    ASSERT_GE(r[snap], "2023-01-01");
    ASSERT_LE(r[snap], "2024-12-01");
    if (r[snap] == "2024-03-01") {
      ASSERT_EQ(r[fe7], "");
    } else {
      ASSERT_FALSE(r[fe7].empty());
    }
    (labels_->at(r[id]) ? bad_sum : good_sum) += ToDouble(r[fe5]);
    (labels_->at(r[id]) ? bad_n : good_n) += 1;
  }
  for (const auto& [customer, months] : months_per_customer) ASSERT_EQ(months, 24) << customer;
  // Customers with clickstream are exactly the applicants of 2023-01..2024-06.
  const int aid = attributes_->Col("Customer_ID"), asnap = attributes_->Col("snapshot_date");
  for (const auto& r : attributes_->rows) {
    EXPECT_EQ(months_per_customer.count(r[aid]) == 1, r[asnap] <= "2024-06-01") << r[aid];
  }
  // fe_5: defaulters' mean is shifted up by 25 (more after application).
  EXPECT_GT(bad_sum / bad_n - good_sum / good_n, 15);
}

TEST(LendingGenerate, OutputIsIdenticalForAnyThreadCountAndChangesWithTheSeed) {
  testing::TempDir one, three, other;
  MustGenerate(one.path(), 3000, 11, 1);
  MustGenerate(three.path(), 3000, 11, 3);
  MustGenerate(other.path(), 3000, 12, 2);
  for (const char* f : {"lms_loan_daily.csv", "feature_clickstream.csv",
                        "features_attributes.csv", "features_financials.csv"}) {
    EXPECT_EQ(testing::ReadAll(one.path() / f), testing::ReadAll(three.path() / f)) << f;
  }
  EXPECT_NE(testing::ReadAll(one.path() / "features_financials.csv"),
            testing::ReadAll(other.path() / "features_financials.csv"));
}

TEST(LendingGenerate, RejectsBadOptionsAndLeavesNoPartialFiles) {
  testing::TempDir dir;
  Options o;
  o.out_dir = dir.path();
  o.show_progress = false;
  o.customers = -1;
  EXPECT_EQ(Generate(o).status().code(), StatusCode::kInvalidArgument);
  o.customers = 10;
  o.threads = 0;
  EXPECT_EQ(Generate(o).status().code(), StatusCode::kInvalidArgument);
  o.threads = 1;
  o.out_dir.clear();
  EXPECT_EQ(Generate(o).status().code(), StatusCode::kInvalidArgument);
  // An output folder that cannot be created (a file is in the way).
  const auto blocker = dir.Write("blocker", "x");
  o.out_dir = blocker / "raw";
  auto result = Generate(o);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("blocker"), std::string::npos)
      << result.status().ToString();
}

TEST(LendingGenerate, ScenarioNamesRoundTrip) {
  EXPECT_EQ(*ParseScenario("kueski"), Scenario::kKueski);
  EXPECT_EQ(ScenarioName(*ParseScenario("lending-datamart")), "lending-datamart");
  auto bad = ParseScenario("lending");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lending-datamart or kueski"), std::string::npos);
}

}  // namespace
}  // namespace riskpipe::synth
