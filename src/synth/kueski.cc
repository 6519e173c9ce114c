// The Kueski challenge dataset (data-spec part B): dataset_credit_risk.csv, one row per loan,
// with the user's applicant attributes repeated on every row. Each user draws from three
// independent streams (loan count, attributes, loans), so the file depends only on the seed and
// the user count. A first pass over the cheap count stream gives every block of users its first
// row, which numbers loan_id globally; RunOrdered then formats the blocks in parallel.
// docs/synthetic-data.md ("Kueski") explains the model and its constants.

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/atomic_writer.h"
#include "core/date.h"
#include "core/progress.h"
#include "synth/csv_format.h"
#include "synth/drift.h"
#include "synth/internal.h"
#include "synth/parallel.h"
#include "synth/rng.h"

namespace riskpipe::synth::internal {
namespace {

constexpr char kFileName[] = "dataset_credit_risk.csv";
// The 22 named columns of data-spec B.3, in the order examples/kueski/riskpipe.yaml declares.
constexpr char kHeader[] =
    "loan_id,id,code_gender,flag_own_car,flag_own_realty,cnt_children,amt_income_total,"
    "name_income_type,name_education_type,name_family_status,name_housing_type,flag_mobil,"
    "flag_work_phone,flag_phone,flag_email,occupation_type,cnt_fam_members,status,birthday,"
    "job_start_date,loan_date,loan_amount\n";

// Stream tags; each names one independent use of randomness per user.
constexpr uint64_t kCountStream = 0x4b55455343434e54;  // "KUESCCNT"
constexpr uint64_t kUserStream = 0x4b55455355534552;   // "KUESUSER"
constexpr uint64_t kLoanStream = 0x4b5545534c4f414e;   // "KUESLOAN"

// Users at the real size: the distinct Kaggle IDs of the inner join (data-spec B.2).
constexpr int64_t kDefaultUsers = 36457;
// Users per parallel block: about 5.5k rows, 0.9 MB of text.
constexpr int64_t kBlockUsers = 256;
// Kaggle IDs start at 5008804 and cover ~141.7k numbers for 36457 users, ~3.9 per user
// (data-spec B.2): user u gets 5008804 + 4u plus a random 0..3 (0 for the first user).
constexpr int64_t kFirstId = 5008804;
constexpr int64_t kIdStride = 4;
// The first loan_id of the file (data-spec B.2 shows 1000 and 1008 for the first user).
constexpr int64_t kFirstLoanId = 1000;
// Loans per user are 1..61 with weight 63 - k: a decreasing triangle whose mean, 21.3, is
// 777,715 rows / 36,457 users (data-spec B.2, B.9).
constexpr int kMaxLoans = 61;
constexpr int kLoanWeightTop = 63;
// Kaggle's DAYS_BIRTH range and the DAYS_EMPLOYED range and sentinel (data-spec B.6, B.9),
// counted back (or forward, for the sentinel) from the 2021-09-17 anchor; nobody starts a job
// before 14 (5114 days).
constexpr int32_t kMinBirthDays = 7489;
constexpr int32_t kMaxBirthDays = 25152;
constexpr int32_t kMinEmployedDays = 17;
constexpr int32_t kMaxEmployedDays = 15700;
constexpr int32_t kMinWorkAgeDays = 5114;
constexpr int32_t kSentinelDays = 365243;
// Share of users with the sentinel (pensioners and the unemployed, data-spec B.6), and the
// share of them drawn from ages 52+ (19000 days) rather than the whole range.
constexpr double kSentinelShare = 0.17;
constexpr double kSentinelOldShare = 0.9;
constexpr int32_t kOldBirthDays = 19000;
// Loans fall in 2017-01-01 .. 2021-09-17 ("a few years around 2019", data-spec B.3); a user's
// mean gap between loans is U(10, 35) days, and 2% of gaps are same-day loans (B.5), which
// gives ~15k same-day pairs at the real size.
constexpr double kMinMeanGap = 10;
constexpr double kMaxMeanGap = 35;
constexpr double kSameDayShare = 0.02;
// loan_amount: a user level N(130, 15) plus N(0, 24) per loan, so amounts are mostly 100-160
// with mean 130 and sd 28 (data-spec B.3 estimate); drift.h raises the late ones.
constexpr double kAmountMean = 130;
constexpr double kAmountUserSd = 15;
constexpr double kAmountLoanSd = 24;
// status: a user is delinquency-prone when a weak risk score (age, tenure, car, amount level,
// plus unit noise) passes kProneThreshold (~13% of users). Prone users run a two-state chain
// over their loans: they turn bad with kEnterBad (ramping up with the loan index) and stay bad
// with kStayBad, so bad months come in runs. Others turn bad with kBackgroundBad. Tuned on
// seeds 1, 2, 42 at the real size to 1.43-1.48% bad rows (B.4: 1.49%) held by ~8% of users.
constexpr double kProneThreshold = 1.06;
constexpr double kEnterBad = 0.05;
constexpr double kStayBad = 0.62;
constexpr double kBackgroundBad = 0.0008;

struct Level {
  const char* name;
  double weight;
};

// Levels of examples/kueski/riskpipe.yaml with the frequencies of data-spec B.3. Income type,
// family status and children differ between sentinel and employed users; the weights are
// chosen so the totals match B.3.
constexpr Level kEmployedIncome[] = {{"Working", 62.6},
                                     {"Commercial associate", 27.7},
                                     {"State servant", 9.6},
                                     {"Student", 0.06},
                                     {"Pensioner", 0.15}};
constexpr Level kSentinelIncome[] = {
    {"Pensioner", 99.5}, {"Working", 0.3}, {"Commercial associate", 0.2}};
constexpr Level kEducation[] = {{"Secondary / secondary special", 68},
                                {"Higher education", 27},
                                {"Incomplete higher", 4},
                                {"Lower secondary", 1},
                                {"Academic degree", 0.1}};
constexpr Level kEmployedFamily[] = {{"Married", 70.5},
                                     {"Single / not married", 14.5},
                                     {"Civil marriage", 8},
                                     {"Separated", 5.5},
                                     {"Widow", 1.5}};
constexpr Level kSentinelFamily[] = {{"Married", 62},
                                     {"Single / not married", 6},
                                     {"Civil marriage", 7},
                                     {"Separated", 9},
                                     {"Widow", 16}};
constexpr Level kHousing[] = {{"House / apartment", 89.4},  {"With parents", 4.8},
                              {"Municipal apartment", 3.1}, {"Rented apartment", 1.6},
                              {"Office apartment", 0.7},    {"Co-op apartment", 0.4}};
constexpr Level kOccupation[] = {{"Laborers", 17.9},
                                 {"Core staff", 10},
                                 {"Sales staff", 9.6},
                                 {"Managers", 8.3},
                                 {"Drivers", 6},
                                 {"High skill tech staff", 3.9},
                                 {"Accountants", 3.4},
                                 {"Medicine staff", 3.3},
                                 {"Cooking staff", 1.9},
                                 {"Security staff", 1.8},
                                 {"Cleaning staff", 1.5},
                                 {"Private service staff", 0.8},
                                 {"Low-skill Laborers", 0.5},
                                 {"Waiters/barmen staff", 0.4},
                                 {"Secretaries", 0.5},
                                 {"HR staff", 0.2},
                                 {"Realty agents", 0.2},
                                 {"IT staff", 0.2}};
// Children 0, 1, 2, 3, 4, 5, 7, 14, 19 (outliers up to 19, data-spec B.6).
constexpr int kChildren[] = {0, 1, 2, 3, 4, 5, 7, 14, 19};
constexpr double kEmployedChildrenW[] = {63, 25, 10.5, 1.2, 0.15, 0.05, 0.01, 0.005, 0.003};
constexpr double kSentinelChildrenW[] = {97, 2.5, 0.5, 0, 0, 0, 0, 0, 0};
// Employed users without an occupation, so that ~31% of all users have none (B.6).
constexpr double kNoOccupationShare = 0.169;

template <size_t N>
size_t PickIndex(Rng& rng, const Level (&levels)[N]) {
  double w[N];
  for (size_t i = 0; i < N; ++i) w[i] = levels[i].weight;
  return rng.Categorical(w);
}
template <size_t N>
const char* Pick(Rng& rng, const Level (&levels)[N]) {
  return levels[PickIndex(rng, levels)].name;
}

Date Anchor() { return Date::FromCivil(2021, 9, 17); }

int DrawLoanCount(uint64_t seed, int64_t user) {
  Rng rng(seed, kCountStream, static_cast<uint64_t>(user));
  constexpr int kTotal = kMaxLoans * (2 * kLoanWeightTop - kMaxLoans - 1) / 2;
  int64_t x = rng.UniformInt(0, kTotal - 1);
  for (int k = 1; k < kMaxLoans; ++k) {
    x -= kLoanWeightTop - k;
    if (x < 0) return k;
  }
  return kMaxLoans;
}

// The constant part of a user's rows and the inputs of the status and amount model.
struct User {
  std::string after_loan_id;  // ",id,code_gender,...,cnt_fam_members,"
  std::string after_status;   // ",birthday,job_start_date,"
  double amount_level = 0;
  bool prone = false;
};

User DrawUser(uint64_t seed, int64_t index) {
  Rng rng(seed, kUserStream, static_cast<uint64_t>(index));
  User u;
  const bool sentinel = rng.Bernoulli(kSentinelShare);
  const bool old = sentinel && rng.Bernoulli(kSentinelOldShare);
  const int32_t birth_days =
      static_cast<int32_t>(rng.UniformInt(old ? kOldBirthDays : kMinBirthDays, kMaxBirthDays));
  int32_t employed_days = 0;
  if (!sentinel) {
    const int32_t longest = std::min(kMaxEmployedDays, birth_days - kMinWorkAgeDays);
    const double v = rng.Uniform();  // squared: short tenures are the common ones
    employed_days = kMinEmployedDays + static_cast<int32_t>((longest - kMinEmployedDays) * v * v);
  }
  const bool female = rng.Bernoulli(2.0 / 3.0);
  const bool car = rng.Bernoulli(female ? 0.30 : 0.55);
  const bool realty = rng.Bernoulli(sentinel ? 0.75 : 0.65);
  const int children =
      kChildren[rng.Categorical(sentinel ? kSentinelChildrenW : kEmployedChildrenW)];
  const char* income_type = sentinel ? Pick(rng, kSentinelIncome) : Pick(rng, kEmployedIncome);
  const size_t education = PickIndex(rng, kEducation);
  const char* family = sentinel ? Pick(rng, kSentinelFamily) : Pick(rng, kEmployedFamily);
  const char* housing = Pick(rng, kHousing);
  const bool work_phone = !sentinel && rng.Bernoulli(0.265);
  const bool phone = rng.Bernoulli(0.29);
  const bool email = rng.Bernoulli(sentinel ? 0.03 : 0.10);
  const char* occupation =
      sentinel || rng.Bernoulli(kNoOccupationShare) ? "" : Pick(rng, kOccupation);
  const bool couple = family[0] == 'M' || family[0] == 'C';
  const int family_members = std::min(20, children + (couple ? 2 : 1));
  // Income: log-normal around 150k, higher with education and for commercial associates, lower
  // for pensioners; multiples of 2250 like the Kaggle values (data-spec B.3).
  double log_income = std::log(150000.0) + 0.45 * rng.Normal() + 0.2 * (education == 1) +
                      0.3 * (education == 4) - 0.2 * (education == 3) -
                      0.15 * (income_type[0] == 'P') + 0.1 * (income_type[0] == 'C');
  const double income =
      std::clamp(2250.0 * std::round(std::exp(log_income) / 2250.0), 27000.0, 1575000.0);
  u.amount_level = kAmountMean + kAmountUserSd * rng.Normal();

  // Weak risk: younger, shorter tenure, no car and larger loans are riskier.
  const double age = birth_days / 365.25;
  const double tenure = employed_days / 365.25;
  const double risk =
      0.14 * (43 - age) / 12 + (sentinel ? 0 : 0.12 * (3 - std::min(tenure, 15.0)) / 4) +
      (car ? -0.1 : 0.06) + 0.2 * (u.amount_level - kAmountMean) / kAmountUserSd + rng.Normal();
  u.prone = risk > kProneThreshold;

  std::string& a = u.after_loan_id;
  a.push_back(',');
  AppendInt(a, kFirstId + kIdStride * index + (index == 0 ? 0 : rng.UniformInt(0, kIdStride - 1)));
  a.append(female ? ",F," : ",M,").append(car ? "Y," : "N,").append(realty ? "Y," : "N,");
  AppendInt(a, children);
  a.push_back(',');
  AppendFloat(a, income);
  a.append(",").append(income_type).append(",").append(kEducation[education].name);
  a.append(",").append(family).append(",").append(housing).append(",1,");
  a.append(work_phone ? "1," : "0,").append(phone ? "1," : "0,").append(email ? "1," : "0,");
  a.append(occupation).append(",");
  AppendFloat(a, family_members);
  a.push_back(',');

  const Date anchor = Anchor();
  std::string& b = u.after_status;
  b.push_back(',');
  AppendIsoDate(b, anchor.AddDays(-birth_days));
  b.push_back(',');
  AppendIsoDate(b, anchor.AddDays(sentinel ? kSentinelDays : -employed_days));
  b.push_back(',');
  return u;
}

// Writes v rounded to 6 decimals with trailing zeros dropped (at least one decimal): the
// shortest form that reads back to that rounded double, like the notebook's 102.283361.
void AppendMicros(std::string& out, double v) {
  const int64_t micros = std::llround(v * 1e6);
  AppendInt(out, micros / 1000000);
  char frac[7];
  int64_t rest = micros % 1000000;
  for (int i = 5; i >= 0; --i, rest /= 10) frac[i] = static_cast<char>('0' + rest % 10);
  int len = 6;
  while (len > 1 && frac[len - 1] == '0') --len;
  out.push_back('.');
  out.append(frac, static_cast<size_t>(len));
}

struct Block {
  std::string text;
  uint64_t rows = 0;
  std::vector<int32_t> days;  // scratch: loan dates of one user
  std::vector<int32_t> ids;   // scratch: loan_id offsets of one user
};

// Appends user `index`'s rows in loan_date order; its loan_ids are first_loan_id plus a
// shuffle of 0..n-1, so they are unique in the file but not chronological within the user.
void AppendUserRows(uint64_t seed, int64_t index, int64_t first_loan_id, Block& block) {
  const int n = DrawLoanCount(seed, index);
  const User user = DrawUser(seed, index);
  Rng rng(seed, kLoanStream, static_cast<uint64_t>(index));

  // Dates: gaps of 1 + Exp(mean - 1) days or 0, squeezed into the window when too long, and
  // the whole sequence placed uniformly inside the window.
  const Date anchor = Anchor();
  const int32_t window_start = Date::FromCivil(2017, 1, 1).days();
  const int32_t window = anchor.days() - window_start;
  const double mean_gap = rng.Uniform(kMinMeanGap, kMaxMeanGap);
  block.days.assign(static_cast<size_t>(n), 0);
  int64_t span = 0;
  for (int i = 1; i < n; ++i) {
    if (rng.Bernoulli(kSameDayShare)) continue;
    block.days[i] = 1 + static_cast<int32_t>(-(mean_gap - 1) * std::log1p(-rng.Uniform()));
    span += block.days[i];
  }
  const double squeeze = span > window ? static_cast<double>(window) / span : 1.0;
  int32_t day = 0;
  for (int i = 1; i < n; ++i) {
    if (block.days[i] > 0) day += std::max(1, static_cast<int>(block.days[i] * squeeze));
    block.days[i] = day;
  }
  const int32_t first = day <= window
                            ? window_start + static_cast<int32_t>(rng.UniformInt(0, window - day))
                            : anchor.days() - day;
  block.ids.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) block.ids[i] = i;
  for (int i = n - 1; i > 0; --i) std::swap(block.ids[i], block.ids[rng.UniformInt(0, i)]);

  const int32_t drift_start =
      Date::FromCivil(kKueskiAmountDriftYear, kKueskiAmountDriftMonth, kKueskiAmountDriftDay)
          .days();
  bool bad = false;
  std::string& out = block.text;
  for (int i = 0; i < n; ++i) {
    const int32_t loan_day = first + block.days[i];
    const double enter = user.prone ? kEnterBad * (0.7 + i / 60.0) : kBackgroundBad;
    bad = rng.Bernoulli(bad ? kStayBad : enter);
    double amount = user.amount_level + kAmountLoanSd * rng.Normal();
    if (amount < 5) amount = 5 + 10 * rng.Uniform();
    if (loan_day >= drift_start) amount *= kKueskiAmountDriftFactor;
    AppendInt(out, first_loan_id + block.ids[i]);
    out.append(user.after_loan_id);
    out.push_back(bad ? '1' : '0');
    out.append(user.after_status);
    AppendIsoDate(out, Date::FromDays(loan_day));
    out.push_back(',');
    AppendMicros(out, amount);
    out.push_back('\n');
  }
  block.rows += static_cast<uint64_t>(n);
}

}  // namespace

StatusOr<std::vector<PendingFile>> WriteKueski(const Options& options) {
  const int64_t users = options.customers == 0 ? kDefaultUsers : options.customers;
  const size_t blocks = static_cast<size_t>((users + kBlockUsers - 1) / kBlockUsers);
  // First pass: the first row of every block, from the cheap loan-count stream alone.
  std::vector<int64_t> block_first_row(blocks + 1, 0);
  for (int64_t u = 0; u < users; ++u) {
    block_first_row[static_cast<size_t>(u / kBlockUsers) + 1] += DrawLoanCount(options.seed, u);
  }
  for (size_t b = 0; b < blocks; ++b) block_first_row[b + 1] += block_first_row[b];
  const uint64_t total_rows = static_cast<uint64_t>(block_first_row[blocks]);

  ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Open(options.out_dir / kFileName));
  writer.Append(kHeader);
  std::optional<Progress> progress;
  if (options.show_progress) progress.emplace("synth kueski", total_rows);

  uint64_t rows = 0;
  RunOrdered<Block>(
      blocks, options.threads,
      [&](size_t b, Block& block) {
        block.text.clear();
        block.rows = 0;
        const int64_t begin = static_cast<int64_t>(b) * kBlockUsers;
        const int64_t end = std::min(users, begin + kBlockUsers);
        int64_t loan_id = kFirstLoanId + block_first_row[b];
        for (int64_t u = begin; u < end; ++u) {
          const uint64_t before = block.rows;
          AppendUserRows(options.seed, u, loan_id, block);
          loan_id += static_cast<int64_t>(block.rows - before);
        }
      },
      [&](size_t, Block& block) {
        writer.Append(block.text);
        rows += block.rows;
        if (progress) progress->Advance(block.rows);
      });
  if (progress) progress->Finish();

  std::vector<PendingFile> files;
  files.push_back(PendingFile{std::move(writer), FileSummary{kFileName, rows, 0}});
  return files;
}

}  // namespace riskpipe::synth::internal
