// The attributes and financials rows of one lending-datamart customer, with the dirty tokens
// and rates of data-spec A.4/A.5. The dirt draws come from their own stream per customer, so
// the clean values (and the default decision) do not depend on whether a value is dirtied.

#include <cmath>
#include <string>

#include "synth/csv_format.h"
#include "synth/lending_model.h"
#include "synth/rng.h"

namespace riskpipe::synth::lending {
namespace {

constexpr uint64_t kAttributesDirt = 0x4c454e4441545452;  // "LENDATTR"
constexpr uint64_t kFinancialsDirt = 0x4c454e4446494e41;  // "LENDFINA"

constexpr const char* kFirstNames[] = {
    "Aaron", "Adam", "Alan", "Alice", "Andrew", "Anna", "Ben", "Brian", "Carl", "Clara",
    "Daniel", "David", "Diana", "Emma", "Eric", "Frank", "Grace", "Hannah", "Henry", "Ian",
    "Jack", "James", "Jane", "Jason", "Julia", "Karen", "Kevin", "Laura", "Linda", "Lucas",
    "Maria", "Mark", "Martin", "Mary", "Michael", "Nancy", "Oliver", "Paul", "Peter", "Rachel",
    "Richard", "Robert", "Sarah", "Simon", "Sophie", "Steven", "Thomas", "Victor", "Walter",
    "William"};
constexpr const char* kLastNames[] = {
    "Adams", "Baker", "Brown", "Campbell", "Carter", "Clark", "Collins", "Cowan", "Davis",
    "Edwards", "Evans", "Fischer", "Garcia", "Green", "Hall", "Harris", "Henry", "Hill",
    "Jackson", "Johnson", "Jones", "King", "Lee", "Lewis", "Martin", "Miller", "Moore",
    "Nelson", "Parker", "Phillips", "Roberts", "Robinson", "Scott", "Smith", "Stewart",
    "Taylor", "Thomas", "Thompson", "Turner", "Walker", "White", "Williams", "Wilson",
    "Wright", "Young"};
constexpr const char* kOccupations[] = {
    "Lawyer",   "Architect", "Engineer",     "Accountant", "Scientist",
    "Teacher",  "Mechanic",  "Media_Manager", "Developer", "Entrepreneur",
    "Journalist", "Doctor",  "Musician",     "Manager",    "Writer"};
constexpr const char* kLoanTypes[] = {
    "Payday Loan",  "Credit-Builder Loan", "Not Specified",           "Home Equity Loan",
    "Student Loan", "Mortgage Loan",       "Debt Consolidation Loan", "Personal Loan",
    "Auto Loan"};
constexpr const char* kCreditMix[] = {"Good", "Standard", "Bad"};
// Safest first, matching Customer::payment_behaviour.
constexpr const char* kBehaviours[] = {
    "High_spent_Large_value_payments", "High_spent_Medium_value_payments",
    "Low_spent_Large_value_payments",  "High_spent_Small_value_payments",
    "Low_spent_Medium_value_payments", "Low_spent_Small_value_payments"};

template <size_t N>
const char* Pick(Rng& rng, const char* const (&items)[N]) {
  return items[rng.UniformInt(0, N - 1)];
}

// An absurd entry error: log-uniform between lo and hi, as the spec's ranges are skewed.
int64_t Absurd(Rng& rng, double lo, double hi) {
  return static_cast<int64_t>(std::exp(rng.Uniform(std::log(lo), std::log(hi))));
}

void AppendUnderscoreMaybe(std::string& out, Rng& rng, double rate) {
  if (rng.Bernoulli(rate)) out.push_back('_');
}

}  // namespace

const char kAttributesHeader[] = "Customer_ID,Name,Age,SSN,Occupation,snapshot_date\n";
const char kFinancialsHeader[] =
    "Customer_ID,Annual_Income,Monthly_Inhand_Salary,Num_Bank_Accounts,Num_Credit_Card,"
    "Interest_Rate,Num_of_Loan,Type_of_Loan,Delay_from_due_date,Num_of_Delayed_Payment,"
    "Changed_Credit_Limit,Num_Credit_Inquiries,Credit_Mix,Outstanding_Debt,"
    "Credit_Utilization_Ratio,Credit_History_Age,Payment_of_Min_Amount,Total_EMI_per_month,"
    "Amount_invested_monthly,Payment_Behaviour,Monthly_Balance,snapshot_date\n";

void AppendAttributesRow(std::string& out, const Customer& c, uint64_t seed) {
  Rng rng(seed, kAttributesDirt, static_cast<uint64_t>(c.index));
  AppendCustomerId(out, c.hex);
  out.push_back(',');
  // Kaggle-style names: a first name, often a last name, often a stray trailing letter.
  out.append(Pick(rng, kFirstNames));
  if (rng.Bernoulli(0.6)) {
    out.push_back(' ');
    out.append(Pick(rng, kLastNames));
  }
  if (rng.Bernoulli(0.35)) out.push_back(static_cast<char>('a' + rng.UniformInt(0, 25)));
  out.push_back(',');
  // Age: -500 on 0.83%, absurd 169..8678 on 1.72%, then a trailing '_' on 5.1% of values.
  const double age_dirt = rng.Uniform();
  if (age_dirt < 0.0083) {
    out.append("-500");
  } else if (age_dirt < 0.0083 + 0.0172) {
    AppendInt(out, Absurd(rng, 169, 8678));
  } else {
    AppendInt(out, c.age);
  }
  AppendUnderscoreMaybe(out, rng, 0.051);
  out.push_back(',');
  if (rng.Bernoulli(0.0562)) {
    out.append("#F%$D@*&8");
  } else {
    AppendDigits(out, static_cast<int>(rng.UniformInt(1, 899)), 3);
    out.push_back('-');
    AppendDigits(out, static_cast<int>(rng.UniformInt(1, 99)), 2);
    out.push_back('-');
    AppendDigits(out, static_cast<int>(rng.UniformInt(1, 9999)), 4);
  }
  out.push_back(',');
  const char* occupation = Pick(rng, kOccupations);
  out.append(rng.Bernoulli(0.0704) ? "_______" : occupation);
  out.push_back(',');
  AppendIsoDate(out, c.application_date);
  out.push_back('\n');
}

void AppendFinancialsRow(std::string& out, const Customer& c, uint64_t seed) {
  Rng rng(seed, kFinancialsDirt, static_cast<uint64_t>(c.index));
  AppendCustomerId(out, c.hex);
  out.push_back(',');
  // Annual_Income: absurd 345k..23.8M on 0.91%, trailing '_' on 6.9%.
  if (rng.Bernoulli(0.0091)) {
    AppendFloat(out, static_cast<double>(Absurd(rng, 345e3, 23.8e6)) + 0.5);
  } else {
    AppendFloat(out, c.annual_income);
  }
  AppendUnderscoreMaybe(out, rng, 0.069);
  out.push_back(',');
  AppendFloat(out, c.monthly_salary);
  out.push_back(',');
  // Num_Bank_Accounts: -1 on a handful of rows, absurd 26..1756 on 1.34%.
  const double accounts_dirt = rng.Uniform();
  if (accounts_dirt < 0.0003) {
    out.append("-1");
  } else if (accounts_dirt < 0.0003 + 0.0134) {
    AppendInt(out, Absurd(rng, 26, 1756));
  } else {
    AppendInt(out, c.bank_accounts);
  }
  out.push_back(',');
  AppendInt(out, rng.Bernoulli(0.0237) ? Absurd(rng, 21, 1499) : c.credit_cards);
  out.push_back(',');
  AppendInt(out, rng.Bernoulli(0.0216) ? Absurd(rng, 99, 5789) : c.interest_rate);
  out.push_back(',');
  // Num_of_Loan: -100 on 4.0%, absurd 18..1495 on 0.54%, trailing '_' on 5.0%.
  const double loans_dirt = rng.Uniform();
  if (loans_dirt < 0.04) {
    out.append("-100");
  } else if (loans_dirt < 0.04 + 0.0054) {
    AppendInt(out, Absurd(rng, 18, 1495));
  } else {
    AppendInt(out, c.num_loans);
  }
  AppendUnderscoreMaybe(out, rng, 0.05);
  out.push_back(',');
  // Type_of_Loan: "A", "A, and B", "A, B, and C"; quoted when it holds a comma.
  if (c.num_loans > 0) {
    if (c.num_loans > 1) out.push_back('"');
    for (int i = 0; i < c.num_loans; ++i) {
      if (i > 0) out.append(i + 1 == c.num_loans ? ", and " : ", ");
      out.append(kLoanTypes[c.loan_types[i]]);
    }
    if (c.num_loans > 1) out.push_back('"');
  }
  out.push_back(',');
  AppendInt(out, c.delay_days);
  out.push_back(',');
  // Num_of_Delayed_Payment: -1..-3 on 0.7%, absurd 47..4293 on 0.84%, trailing '_' on 3.0%.
  const double delayed_dirt = rng.Uniform();
  if (delayed_dirt < 0.007) {
    AppendInt(out, -rng.UniformInt(1, 3));
  } else if (delayed_dirt < 0.007 + 0.0084) {
    AppendInt(out, Absurd(rng, 47, 4293));
  } else {
    AppendInt(out, c.delayed_payments);
  }
  AppendUnderscoreMaybe(out, rng, 0.03);
  out.push_back(',');
  if (rng.Bernoulli(0.02)) {
    out.push_back('_');
  } else {
    AppendFloat(out, c.changed_credit_limit);
  }
  out.push_back(',');
  AppendInt(out, rng.Bernoulli(0.0156) ? Absurd(rng, 26, 2554) : c.credit_inquiries);
  out.append(".0,");
  // Credit_Mix '_' on 20.9% regardless of the value (its default rate is the average's).
  out.append(rng.Bernoulli(0.209) ? "_" : kCreditMix[c.credit_mix]);
  out.push_back(',');
  AppendFloat(out, c.outstanding_debt);
  AppendUnderscoreMaybe(out, rng, 0.011);
  out.push_back(',');
  AppendFloat(out, c.utilization);
  out.push_back(',');
  AppendInt(out, c.history_months / 12);
  out.append(" Years and ");
  AppendInt(out, c.history_months % 12);
  out.append(" Months,");
  // NM ("not mentioned") on 11.5%, drawn independently of the value.
  out.append(rng.Bernoulli(0.115) ? "NM" : (c.pays_min_amount ? "Yes" : "No"));
  out.push_back(',');
  if (rng.Bernoulli(0.0326)) {
    AppendFloat(out, static_cast<double>(Absurd(rng, 2004, 81971)));
  } else {
    AppendFloat(out, c.total_emi);
  }
  out.push_back(',');
  if (rng.Bernoulli(0.0446)) {
    out.append("__10000__");
  } else {
    AppendFloat(out, c.amount_invested);
  }
  out.push_back(',');
  out.append(rng.Bernoulli(0.0798) ? "!@9#%8" : kBehaviours[c.payment_behaviour]);
  out.push_back(',');
  if (rng.Bernoulli(0.0001)) {
    out.append("__-333333333333333333333333333__");
  } else {
    AppendFloat(out, c.monthly_balance);
  }
  out.push_back(',');
  AppendIsoDate(out, c.application_date);
  out.push_back('\n');
}

}  // namespace riskpipe::synth::lending
