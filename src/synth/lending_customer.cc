// Clean values and the default decision of one lending-datamart customer. Every driver is a
// Gaussian-copula draw: a risk-oriented score z = a * Q + sqrt(1 - a^2) * e, with Q the
// customer's common credit-quality factor, mapped to the driver's marginal distribution of
// data-spec A.4/A.5 by a piecewise-linear quantile function. The latent risk is a weighted
// sum of the drivers' scores plus noise; docs/synthetic-data.md lists the coefficients.

#include <algorithm>
#include <cmath>

#include "synth/drift.h"
#include "synth/lending_model.h"
#include "synth/rng.h"

namespace riskpipe::synth::lending {
namespace {

// Stream tags; each names one independent use of randomness per customer.
constexpr uint64_t kRiskStream = 0x4c454e4452495343;  // "LENDRISC"
constexpr uint64_t kIdStream = 0x4c454e4449444b59;    // "LENDIDKY"

// The drivers that enter the latent risk, in the order of kLoading and kWeight.
enum Driver {
  kInterestRate, kOutstandingDebt, kInquiries, kDelay, kHistoryAge, kCreditCards, kNumLoans,
  kBankAccounts, kIncome, kAge, kCreditMix, kPaysMin, kBehaviour, kDriverCount
};
// Loading of each driver on the common factor Q and its weight in the latent risk. Tuned so
// single strong drivers reach a univariate AUC of about 0.65-0.72 against the MOB-6 label
// (data-spec A.5 table) and the latent risk itself about 0.88.
constexpr double kLoading[kDriverCount] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5,  0.5,
                                           0.5, 0.35, 0.2, 0.5, 0.45, 0.35};
constexpr double kWeight[kDriverCount] = {0.3, 0.3, 0.3, 0.3, 0.3, 0.25, 0.2,
                                          0.2, 0.15, 0.1, 0.3, 0.25, 0.15};
// Sd of the idiosyncratic noise added to the weighted sum before thresholding.
constexpr double kRiskNoise = 1.45;
// Loadings of the drivers that do not enter the risk but correlate with it through Q
// (Num_of_Delayed_Payment AUC 0.64, Changed_Credit_Limit 0.53, utilisation 0.48).
constexpr double kDelayedPaymentsLoading = 0.4;
constexpr double kCreditLimitLoading = 0.1;
constexpr double kUtilizationLoading = -0.05;

struct Knot {
  double p;
  double v;
};

// Piecewise-linear quantile function through the knots (p ascending from 0 to 1).
template <size_t N>
double Quantile(const Knot (&k)[N], double u) {
  for (size_t i = 1; i < N; ++i) {
    if (u <= k[i].p) return k[i - 1].v + (k[i].v - k[i - 1].v) * (u - k[i - 1].p) / (k[i].p - k[i - 1].p);
  }
  return k[N - 1].v;
}

// The first index whose cumulative weight share exceeds u.
template <size_t N>
int FromCdf(const double (&w)[N], double u) {
  double total = 0;
  for (double x : w) total += x;
  double acc = 0;
  for (size_t i = 0; i + 1 < N; ++i) {
    acc += w[i] / total;
    if (u < acc) return static_cast<int>(i);
  }
  return static_cast<int>(N - 1);
}

// Marginals of data-spec A.4/A.5 (knots at p1/p25/p50/p75/p99 where the spec gives them).
constexpr Knot kInterestRateQ[] = {{0, 1}, {0.25, 8}, {0.5, 14}, {0.75, 20.5}, {1, 35}};
constexpr Knot kDebtQ[] = {{0, 0.23}, {0.25, 566}, {0.5, 1166}, {0.75, 1946}, {0.99, 4700}, {1, 4998}};
constexpr Knot kInquiriesQ[] = {{0, 0}, {0.25, 3}, {0.5, 6}, {0.75, 9.5}, {1, 18}};
constexpr Knot kDelayQ[] = {{0, -5}, {0.007, 0}, {0.25, 10}, {0.5, 18}, {0.75, 28}, {0.95, 54}, {1, 68}};
constexpr Knot kHistoryQ[] = {{0, 8}, {0.01, 20}, {0.25, 144}, {0.5, 222}, {0.75, 302}, {0.99, 395}, {1, 405}};
constexpr Knot kIncomeQ[] = {{0, 7000}, {0.01, 7500}, {0.25, 19500}, {0.5, 37600}, {0.75, 72700}, {0.99, 179000}, {1, 181000}};
constexpr Knot kDelayedQ[] = {{0, 0}, {0.25, 9}, {0.5, 14}, {0.75, 18}, {1, 29}};
constexpr Knot kCreditLimitQ[] = {{0, -6.49}, {0.016, 0}, {0.25, 5.3}, {0.5, 9.4}, {0.75, 14.8}, {0.99, 29.5}, {1, 36.97}};
// Weights for the values 0..11 (cards, accounts), 0..9 (other loans; 11.4% zero) and
// ages 14..56 (flat 19..45, half density 46..56, about a quarter at 14..18).
constexpr double kCreditCardW[] = {0.5, 2.2, 2.2, 13, 14, 17, 16.5, 16.5, 5, 5, 4.8, 3.3};
constexpr double kBankAccountW[] = {4.4, 4.4, 4.4, 12, 12, 12, 13, 12.8, 12.8, 5, 5, 2.2};
constexpr double kNumLoansW[] = {11.4, 10.5, 15.5, 17.9, 15.5, 7.5, 8, 7, 3.2, 3.5};
constexpr double kAgeW[] = {0.23, 0.23, 0.23, 0.23, 0.23, 1,   1,   1,   1,   1,   1,
                           1,    1,    1,    1,    1,    1,   1,   1,   1,   1,   1,
                           1,    1,    1,    1,    1,    1,   1,   1,   1,   1,   0.5,
                           0.5,  0.5,  0.5,  0.5,  0.5,  0.5, 0.5, 0.5, 0.5, 0.5};
constexpr double kCreditMixW[] = {24.3, 36.0, 18.9};  // Good, Standard, Bad (spec shares)
constexpr double kBehaviourW[] = {13.5, 17.9, 10.4, 11.1, 13.5, 25.6};  // safest first
constexpr double kPaysMinNoShare = 35.9 / (35.9 + 52.6);

// Shares (in %) of the defaulter payment strings, kPaymentPattern[1..16].
constexpr double kPatternW[] = {6.7, 4.4, 4.2, 3.0, 1.8, 1.6, 1.1, 1.0,
                                1.0, 0.8, 0.7, 0.6, 0.4, 0.4, 0.3, 0.2};

double InverseNormalCdf(double p) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (NormalCdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Thresholds on the latent risk giving the base and the shocked default rate. The risk is a
// centred normal whose variance follows from the loadings, weights and noise.
struct Thresholds {
  double base;
  double shock;
};
const Thresholds& RiskThresholds() {
  static const Thresholds t = [] {
    double var = kRiskNoise * kRiskNoise;
    for (int j = 0; j < kDriverCount; ++j) {
      for (int k = 0; k < kDriverCount; ++k) {
        const double cov = j == k ? 1.0 : kLoading[j] * kLoading[k];
        var += kWeight[j] * kWeight[k] * cov;
      }
    }
    const double sd = std::sqrt(var);
    // The shocked cohorts' risk is centred on the quality shift times sum(weight * loading).
    double shift = 0;
    for (int j = 0; j < kDriverCount; ++j) shift += kWeight[j] * kLoading[j];
    shift *= kShockQualityShift;
    return Thresholds{sd * InverseNormalCdf(1 - kBaseDefaultRate),
                      shift + sd * InverseNormalCdf(1 - kShockDefaultRate)};
  }();
  return t;
}

double Cents(double v) { return std::round(v * 100) / 100; }

uint64_t Permute(uint64_t i, uint64_t n, uint64_t key) {
  int bits = 2;
  while ((uint64_t{1} << bits) < n) bits += 2;
  const int half = bits / 2;
  const uint64_t mask = (uint64_t{1} << half) - 1;
  do {
    uint64_t l = i >> half, r = i & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t next_l = r;
      r = l ^ (Mix64(r ^ key ^ (round << 56)) & mask);
      l = next_l;
    }
    i = (l << half) | r;
  } while (i >= n);
  return i;
}

}  // namespace

const char* const kPaymentPattern[kPaymentPatterns] = {
    "1111111111", "1100000000", "1000000000", "1110000000", "1020000000", "0200000000",
    "1102000000", "1003000000", "0000000000", "0210000000", "1111000000", "1021000000",
    "0030000000", "0202000000", "0004000000", "0211000000", "0031000000"};

int FirstCohortMonthIndex() { return MonthIndex(2023, 1); }

Layout::Layout(int64_t customers)
    : customers_(customers), base_(customers / kCohorts), remainder_(customers % kCohorts) {}

int64_t Layout::Start(int cohort) const {
  return cohort * base_ + std::min<int64_t>(cohort, remainder_);
}

int Layout::CohortOf(int64_t index) const {
  const int64_t big = remainder_ * (base_ + 1);
  if (index < big) return static_cast<int>(index / (base_ + 1));
  return static_cast<int>(remainder_ + (index - big) / base_);
}

uint32_t CustomerHex(uint64_t seed, int64_t index, int64_t customers) {
  const uint64_t key = StreamKey(seed, kIdStream, 0);
  const uint64_t slot = Permute(static_cast<uint64_t>(index), static_cast<uint64_t>(customers), key);
  // 0x3ee is the smallest ID of the real file (data-spec A.2); four slots per customer.
  return static_cast<uint32_t>(0x3ee + 4 * slot + (Mix64(key ^ slot) & 3));
}

void AppendCustomerId(std::string& out, uint32_t hex) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[8];
  int n = 0;
  do {
    buf[n++] = kDigits[hex & 15];
    hex >>= 4;
  } while (hex != 0);
  out.append("CUS_0x");
  while (n > 0) out.push_back(buf[--n]);
}

Customer DrawCustomer(uint64_t seed, int64_t index, int cohort, uint32_t hex) {
  Rng rng(seed, kRiskStream, static_cast<uint64_t>(index));
  Customer c;
  c.index = index;
  c.cohort = cohort;
  c.hex = hex;
  const int month = FirstCohortMonthIndex() + cohort;
  c.application_date = Date::FromCivil(month / 12, month % 12 + 1, 1);

  const bool shocked = month >= kShockFirstCohort;
  const double q = rng.Normal() + (shocked ? kShockQualityShift : 0.0);
  double z[kDriverCount];
  double risk = 0;
  for (int j = 0; j < kDriverCount; ++j) {
    z[j] = kLoading[j] * q + std::sqrt(1 - kLoading[j] * kLoading[j]) * rng.Normal();
    risk += kWeight[j] * z[j];
  }
  auto u = [&](int j) { return NormalCdf(z[j]); };
  auto u_safe = [&](int j) { return NormalCdf(-z[j]); };
  auto loaded = [&](double a) { return a * q + std::sqrt(1 - a * a) * rng.Normal(); };

  c.interest_rate = static_cast<int>(Quantile(kInterestRateQ, u(kInterestRate)));
  c.outstanding_debt = Cents(Quantile(kDebtQ, u(kOutstandingDebt)));
  c.credit_inquiries = static_cast<int>(Quantile(kInquiriesQ, u(kInquiries)));
  c.delay_days = static_cast<int>(std::floor(Quantile(kDelayQ, u(kDelay))));
  c.history_months = static_cast<int>(Quantile(kHistoryQ, u_safe(kHistoryAge)));
  c.credit_cards = FromCdf(kCreditCardW, u(kCreditCards));
  c.num_loans = FromCdf(kNumLoansW, u(kNumLoans));
  c.bank_accounts = FromCdf(kBankAccountW, u(kBankAccounts));
  const double income_factor = shocked ? kShockIncomeFactor : 1.0;
  c.annual_income = Cents(Quantile(kIncomeQ, u_safe(kIncome)) * income_factor);
  c.age = 14 + FromCdf(kAgeW, u_safe(kAge));
  c.credit_mix = FromCdf(kCreditMixW, u(kCreditMix));
  c.pays_min_amount = u(kPaysMin) >= kPaysMinNoShare;
  c.payment_behaviour = FromCdf(kBehaviourW, u(kBehaviour));

  const double noise = kRiskNoise * rng.Normal();
  c.latent_risk = risk + noise;
  const Thresholds& t = RiskThresholds();
  c.defaulted = c.latent_risk > (shocked ? t.shock : t.base);
  c.payment_pattern = c.defaulted ? 1 + static_cast<int>(rng.Categorical(kPatternW)) : 0;

  // Values that follow from the drivers or from Q only; they are not in the latent risk.
  c.delayed_payments = static_cast<int>(Quantile(kDelayedQ, NormalCdf(loaded(kDelayedPaymentsLoading))));
  c.changed_credit_limit = Cents(Quantile(kCreditLimitQ, NormalCdf(loaded(kCreditLimitLoading))));
  c.utilization = std::clamp(32.4 - 5.1 * loaded(kUtilizationLoading), 20.0, 50.0);
  c.monthly_salary = Cents(c.annual_income * rng.Uniform(0.84, 1.16)) / 12;
  for (int i = 0; i < c.num_loans; ++i) c.loan_types[i] = static_cast<uint8_t>(rng.UniformInt(0, 8));
  // Monthly EMI: 0 for 90% of customers without other loans (10.2% zeros overall), else
  // proportional to salary and loan count with a lognormal spread (p50 ~73, p95 ~600).
  const double emi_noise = std::exp(0.8 * rng.Normal());
  if (c.num_loans == 0) {
    c.total_emi = rng.Bernoulli(0.9) ? 0.0 : c.monthly_salary * 0.002 * emi_noise;
  } else {
    c.total_emi = c.monthly_salary * c.num_loans * 0.007 * emi_noise;
  }
  c.amount_invested = c.monthly_salary * 0.043 * std::exp(0.5 * rng.Normal());
  c.monthly_balance = c.monthly_salary * 0.11 * std::exp(0.25 * rng.Normal());
  return c;
}

}  // namespace riskpipe::synth::lending
