// The Kueski generator (data-spec part B): file shape, determinism, and the distribution targets
// of B.9 on a few thousand users.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "synth/internal.h"
#include "testing/temp_dir.h"

namespace riskpipe::synth {
namespace {

using riskpipe::testing::ReadAll;
using riskpipe::testing::TempDir;

constexpr char kHeader[] =
    "loan_id,id,code_gender,flag_own_car,flag_own_realty,cnt_children,amt_income_total,"
    "name_income_type,name_education_type,name_family_status,name_housing_type,flag_mobil,"
    "flag_work_phone,flag_phone,flag_email,occupation_type,cnt_fam_members,status,birthday,"
    "job_start_date,loan_date,loan_amount";
constexpr size_t kColumns = 22;
// clang-format off
enum Col {
  kLoanId, kId, kGender, kCar, kRealty, kChildren, kIncome, kIncomeType, kEducation, kFamily,
  kHousing, kMobil, kWorkPhone, kPhone, kEmail, kOccupation, kFamMembers, kStatus, kBirthday,
  kJobStart, kLoanDate, kAmount
};
// clang-format on

struct Generated {
  std::string text;
  uint64_t summary_rows = 0;
  std::string summary_file;
};

Generated Write(int64_t users, uint64_t seed, int threads) {
  TempDir dir;
  Options options;
  options.scenario = Scenario::kKueski;
  options.customers = users;
  options.seed = seed;
  options.threads = threads;
  options.out_dir = dir.path();
  options.show_progress = false;
  auto files = internal::WriteKueski(options);
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  if (!files.ok()) return {};
  EXPECT_EQ(files->size(), 1u);
  internal::PendingFile& f = files->front();
  const Status committed = f.writer.Commit();
  EXPECT_TRUE(committed.ok()) << committed.ToString();
  return {ReadAll(dir.path() / "dataset_credit_risk.csv"), f.summary.rows, f.summary.file};
}

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// The data rows of a file, each split into its cells (views into `text`).
std::vector<std::vector<std::string_view>> Rows(const std::string& text) {
  std::vector<std::vector<std::string_view>> rows;
  std::string_view rest(text);
  rest.remove_prefix(std::min(rest.size(), rest.find('\n') + 1));
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    rows.push_back(Split(rest.substr(0, nl)));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  return rows;
}

// One generated sample of 5000 users shared by the distribution tests.
class KueskiSample : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sample_ = new Generated(Write(5000, 7, 2));
    rows_ = new std::vector<std::vector<std::string_view>>(Rows(sample_->text));
  }
  static void TearDownTestSuite() {
    delete rows_;
    delete sample_;
  }
  // Rows grouped by id, in file order.
  static std::map<std::string_view, std::vector<const std::vector<std::string_view>*>> ByUser() {
    std::map<std::string_view, std::vector<const std::vector<std::string_view>*>> users;
    for (const auto& row : *rows_) users[row[kId]].push_back(&row);
    return users;
  }
  static Generated* sample_;
  static std::vector<std::vector<std::string_view>>* rows_;
};
Generated* KueskiSample::sample_ = nullptr;
std::vector<std::vector<std::string_view>>* KueskiSample::rows_ = nullptr;

TEST_F(KueskiSample, HeaderAndTwentyTwoColumnsOnEveryRow) {
  const std::string_view text = sample_->text;
  ASSERT_EQ(text.substr(0, text.find('\n')), kHeader);
  ASSERT_FALSE(rows_->empty());
  for (const auto& row : *rows_) ASSERT_EQ(row.size(), kColumns) << row[0];
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('"'), std::string_view::npos);
}

TEST_F(KueskiSample, SummaryCountsTheDataRows) {
  EXPECT_EQ(sample_->summary_file, "dataset_credit_risk.csv");
  EXPECT_EQ(sample_->summary_rows, rows_->size());
}

TEST_F(KueskiSample, LoansPerUserAreOneToSixtyOneWithMeanNearTwentyOne) {
  const auto users = ByUser();
  ASSERT_EQ(users.size(), 5000u);
  size_t max_loans = 0;
  for (const auto& [id, rows] : users) {
    EXPECT_GE(rows.size(), 1u);
    max_loans = std::max(max_loans, rows.size());
  }
  EXPECT_LE(max_loans, 61u);
  EXPECT_GE(max_loans, 50u);
  const double mean = static_cast<double>(rows_->size()) / static_cast<double>(users.size());
  EXPECT_GT(mean, 20.0);
  EXPECT_LT(mean, 22.7);
}

TEST_F(KueskiSample, IdsAreSevenDigitsIncreasingFromTheKaggleStart) {
  int64_t previous = 0;
  for (const auto& row : *rows_) {
    const int64_t id = std::stoll(std::string(row[kId]));
    EXPECT_GE(id, previous);
    previous = id;
  }
  EXPECT_EQ((*rows_)[0][kId], "5008804");
  EXPECT_EQ(rows_->back()[kId].size(), 7u);
}

TEST_F(KueskiSample, LoanIdsAreUniqueAndNotChronologicalWithinUsers) {
  std::set<int64_t> seen;
  for (const auto& row : *rows_) {
    EXPECT_TRUE(seen.insert(std::stoll(std::string(row[kLoanId]))).second) << row[kLoanId];
  }
  EXPECT_EQ(*seen.begin(), 1000);
  int users_out_of_order = 0;
  for (const auto& [id, rows] : ByUser()) {
    for (size_t i = 1; i < rows.size(); ++i) {
      if (std::stoll(std::string((*rows[i])[kLoanId])) <
          std::stoll(std::string((*rows[i - 1])[kLoanId]))) {
        ++users_out_of_order;
        break;
      }
    }
  }
  EXPECT_GT(users_out_of_order, 2500);
}

TEST_F(KueskiSample, LoanDatesIncreasePerUserWithSomeSameDayLoans) {
  int same_day = 0;
  for (const auto& [id, rows] : ByUser()) {
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string_view date = (*rows[i])[kLoanDate];
      EXPECT_LE(date, "2021-09-17");
      EXPECT_GE(date, "2014-01-01");
      if (i == 0) continue;
      const std::string_view before = (*rows[i - 1])[kLoanDate];
      EXPECT_LE(before, date) << id;
      if (before == date) ++same_day;
    }
  }
  EXPECT_GT(same_day, 100);
  EXPECT_LT(same_day, static_cast<int>(rows_->size() / 20));
}

TEST_F(KueskiSample, AttributesAreConstantPerUser) {
  for (const auto& [id, rows] : ByUser()) {
    for (const auto* row : rows) {
      for (int c = kGender; c <= kFamMembers; ++c) ASSERT_EQ((*row)[c], (*rows[0])[c]) << id;
      ASSERT_EQ((*row)[kBirthday], (*rows[0])[kBirthday]) << id;
      ASSERT_EQ((*row)[kJobStart], (*rows[0])[kJobStart]) << id;
    }
  }
}

TEST_F(KueskiSample, StatusRateIsAboutOnePointFivePercentAndClustered) {
  int bad = 0;
  int bad_after_bad = 0;
  int users_with_bad = 0;
  for (const auto& [id, rows] : ByUser()) {
    bool any = false;
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string_view s = (*rows[i])[kStatus];
      ASSERT_TRUE(s == "0" || s == "1") << s;
      if (s != "1") continue;
      ++bad;
      any = true;
      if (i > 0 && (*rows[i - 1])[kStatus] == "1") ++bad_after_bad;
    }
    users_with_bad += any;
  }
  const double rate = static_cast<double>(bad) / static_cast<double>(rows_->size());
  EXPECT_GT(rate, 0.010);
  EXPECT_LT(rate, 0.020);
  // A minority of users holds the bad months, and a bad month is often followed by another.
  EXPECT_LT(users_with_bad, 5000 / 4);
  EXPECT_GT(static_cast<double>(bad_after_bad) / bad, 0.3);
}

TEST_F(KueskiSample, AboutSeventeenPercentOfUsersHaveTheFarFutureJobStartAndAreOlder) {
  int sentinel = 0;
  int pensioners = 0;
  double sentinel_birth_year = 0;
  double other_birth_year = 0;
  for (const auto& [id, rows] : ByUser()) {
    const auto& row = *rows[0];
    const int birth_year = std::stoi(std::string(row[kBirthday].substr(0, 4)));
    if (row[kJobStart].substr(0, 4) == "3021") {
      ++sentinel;
      sentinel_birth_year += birth_year;
      pensioners += row[kIncomeType] == "Pensioner";
      EXPECT_EQ(row[kOccupation], "") << id;
    } else {
      EXPECT_LT(row[kJobStart], "2021-09-17") << id;
      // Nobody starts work before 14.
      EXPECT_GE(std::stoi(std::string(row[kJobStart].substr(0, 4))), birth_year + 13) << id;
      other_birth_year += birth_year;
    }
  }
  EXPECT_GT(sentinel, 700);
  EXPECT_LT(sentinel, 1000);
  EXPECT_GT(pensioners, sentinel * 9 / 10);
  EXPECT_LT(sentinel_birth_year / sentinel + 5, other_birth_year / (5000 - sentinel));
}

TEST_F(KueskiSample, CategoricalValuesAreTheConfiguredLevels) {
  const std::set<std::string_view> yes_no = {"Y", "N"};
  const std::set<std::string_view> flag = {"0", "1"};
  const std::set<std::string_view> income = {"Working", "Commercial associate", "Pensioner",
                                             "State servant", "Student"};
  const std::set<std::string_view> education = {"Secondary / secondary special", "Higher education",
                                                "Incomplete higher", "Lower secondary",
                                                "Academic degree"};
  const std::set<std::string_view> family = {"Married", "Single / not married", "Civil marriage",
                                             "Separated", "Widow"};
  const std::set<std::string_view> housing = {"House / apartment",   "With parents",
                                              "Municipal apartment", "Rented apartment",
                                              "Office apartment",    "Co-op apartment"};
  const std::set<std::string_view> occupation = {"",
                                                 "Laborers",
                                                 "Core staff",
                                                 "Sales staff",
                                                 "Managers",
                                                 "Drivers",
                                                 "High skill tech staff",
                                                 "Accountants",
                                                 "Medicine staff",
                                                 "Cooking staff",
                                                 "Security staff",
                                                 "Cleaning staff",
                                                 "Private service staff",
                                                 "Low-skill Laborers",
                                                 "Waiters/barmen staff",
                                                 "Secretaries",
                                                 "HR staff",
                                                 "Realty agents",
                                                 "IT staff"};
  int no_occupation = 0;
  for (const auto& row : *rows_) {
    ASSERT_TRUE(row[kGender] == "M" || row[kGender] == "F") << row[kGender];
    ASSERT_TRUE(yes_no.count(row[kCar]) && yes_no.count(row[kRealty]));
    ASSERT_TRUE(income.count(row[kIncomeType])) << row[kIncomeType];
    ASSERT_TRUE(education.count(row[kEducation])) << row[kEducation];
    ASSERT_TRUE(family.count(row[kFamily])) << row[kFamily];
    ASSERT_TRUE(housing.count(row[kHousing])) << row[kHousing];
    ASSERT_TRUE(occupation.count(row[kOccupation])) << row[kOccupation];
    ASSERT_EQ(row[kMobil], "1");
    ASSERT_TRUE(flag.count(row[kWorkPhone]) && flag.count(row[kPhone]) && flag.count(row[kEmail]));
    no_occupation += row[kOccupation].empty();
  }
  const double share = static_cast<double>(no_occupation) / static_cast<double>(rows_->size());
  EXPECT_GT(share, 0.25);
  EXPECT_LT(share, 0.37);
}

TEST_F(KueskiSample, NumbersUseThePythonFloatFormats) {
  for (const auto& row : *rows_) {
    // "2.0" and "427500.0": whole floats with one decimal.
    ASSERT_EQ(row[kFamMembers].substr(row[kFamMembers].size() - 2), ".0") << row[kFamMembers];
    ASSERT_EQ(row[kIncome].substr(row[kIncome].size() - 2), ".0") << row[kIncome];
    const size_t dot = row[kAmount].find('.');
    ASSERT_NE(dot, std::string_view::npos) << row[kAmount];
    ASSERT_LE(row[kAmount].size() - dot - 1, 6u) << row[kAmount];
    ASSERT_GT(std::stod(std::string(row[kAmount])), 0.0);
  }
}

TEST_F(KueskiSample, AmountsRiseByEightPercentFromTheDriftDate) {
  double before = 0, after = 0;
  int n_before = 0, n_after = 0;
  for (const auto& row : *rows_) {
    const double amount = std::stod(std::string(row[kAmount]));
    if (row[kLoanDate] >= "2020-09-17") {
      after += amount;
      ++n_after;
    } else {
      before += amount;
      ++n_before;
    }
  }
  ASSERT_GT(n_after, 1000);
  const double ratio = (after / n_after) / (before / n_before);
  EXPECT_GT(ratio, 1.05);
  EXPECT_LT(ratio, 1.11);
  EXPECT_GT(before / n_before, 115.0);
  EXPECT_LT(before / n_before, 145.0);
}

TEST(Kueski, OutputIsByteIdenticalForOneAndThreeThreads) {
  const Generated one = Write(3000, 11, 1);
  const Generated three = Write(3000, 11, 3);
  ASSERT_GT(one.text.size(), 100000u);
  EXPECT_TRUE(one.text == three.text);
  EXPECT_EQ(one.summary_rows, three.summary_rows);
}

TEST(Kueski, DifferentSeedChangesTheOutput) {
  const Generated a = Write(200, 1, 2);
  const Generated b = Write(200, 2, 2);
  ASSERT_FALSE(a.text.empty());
  EXPECT_NE(a.text, b.text);
}

TEST(Kueski, ZeroCustomersMeansTheRealUserCount) {
  const Generated g = Write(0, 42, 2);
  ASSERT_FALSE(g.text.empty());
  const std::string_view last =
      std::string_view(g.text).substr(g.text.rfind('\n', g.text.size() - 2) + 1);
  // The last of 36457 users has id 5008804 + 4 * 36456 + 0..3.
  const int64_t last_id = std::stoll(std::string(Split(last)[kId]));
  EXPECT_GE(last_id, 5154628);
  EXPECT_LE(last_id, 5154631);
  EXPECT_EQ(static_cast<uint64_t>(std::count(g.text.begin(), g.text.end(), '\n')),
            g.summary_rows + 1);
  EXPECT_GT(g.summary_rows, 740000u);
  EXPECT_LT(g.summary_rows, 815000u);
}

}  // namespace
}  // namespace riskpipe::synth
