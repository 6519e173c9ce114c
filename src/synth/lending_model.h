#pragma once
// Internal to synth: the per-customer model of the lending datamart. DrawCustomer() draws a
// customer's clean application-time values and decides default from a latent risk built from
// them; the Append*Row functions then write the attributes and financials rows and inject the
// dirt of data-spec A.4/A.5 from separate random streams. Pure functions; thread-safe.

#include <cstdint>
#include <string>

#include "core/date.h"

namespace riskpipe::synth::lending {

// 25 monthly application cohorts, 2023-01 .. 2025-01 (data-spec A.2).
inline constexpr int kCohorts = 25;
int FirstCohortMonthIndex();

// Customers are numbered cohort by cohort: cohort c holds indices [Start(c), Start(c + 1)).
class Layout {
 public:
  explicit Layout(int64_t customers);
  int64_t customers() const { return customers_; }
  int64_t Start(int cohort) const;
  int CohortOf(int64_t index) const;

 private:
  int64_t customers_;
  int64_t base_;
  int64_t remainder_;
};

// The hex number of a customer's ID (`CUS_0x<hex>`): a keyed permutation of the index spread
// over 4 slots per customer, so IDs are sparse, unique and unrelated to the cohort.
uint32_t CustomerHex(uint64_t seed, int64_t index, int64_t customers);
void AppendCustomerId(std::string& out, uint32_t hex);

// Clean application-time values (before dirt) and the default decision of one customer.
struct Customer {
  int64_t index = 0;
  int cohort = 0;
  uint32_t hex = 0;
  Date application_date;
  int age = 0;
  double annual_income = 0;
  double monthly_salary = 0;
  int bank_accounts = 0;
  int credit_cards = 0;
  int interest_rate = 0;
  int num_loans = 0;
  uint8_t loan_types[9] = {};
  int delay_days = 0;
  int delayed_payments = 0;
  double changed_credit_limit = 0;
  int credit_inquiries = 0;
  int credit_mix = 0;  // 0 Good, 1 Standard, 2 Bad
  double outstanding_debt = 0;
  double utilization = 0;
  int history_months = 0;
  bool pays_min_amount = false;
  double total_emi = 0;
  double amount_invested = 0;
  int payment_behaviour = 0;  // index into the behaviour names, safest first
  double monthly_balance = 0;
  double latent_risk = 0;
  bool defaulted = false;
  // 0 = the never-miss string; 1..16 = a defaulter string of data-spec A.3.1.
  int payment_pattern = 0;
};

Customer DrawCustomer(uint64_t seed, int64_t index, int cohort, uint32_t hex);

// Writes one data row (with trailing newline) in the column order of the header constants.
void AppendAttributesRow(std::string& out, const Customer& c, uint64_t seed);
void AppendFinancialsRow(std::string& out, const Customer& c, uint64_t seed);

extern const char kAttributesHeader[];
extern const char kFinancialsHeader[];

// Payment strings of data-spec A.3.1: digit k = instalments paid at instalment k + 1.
inline constexpr int kPaymentPatterns = 17;
extern const char* const kPaymentPattern[kPaymentPatterns];

}  // namespace riskpipe::synth::lending
