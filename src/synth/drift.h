#pragma once
// The drift story of the synthetic datasets, in one place (docs/synthetic-data.md, "Drift").
// Months are month indices (year * 12 + month - 1) so they compare with core's Month::index().
// Plain constants; thread-safe.

namespace riskpipe::synth {

constexpr int MonthIndex(int year, int month) { return year * 12 + month - 1; }

// Lending datamart (a): a macro shock hits the application cohorts from 2024-01 on (early enough
// in the 24 months of data that its labels mature, 6 months later, inside the demo's window:
// docs/synthetic-data.md, "Drift"). Two parts:
//  - the applicants get riskier: their common credit-quality factor Q is drawn around
//    kShockQualityShift instead of 0, so every driver loaded on it (interest rate, debt,
//    enquiries, delays, short histories, ...) worsens a little; a model sees this (score PSI,
//    approval rate) and predicts more defaults for it;
//  - defaults rise beyond what the profiles explain: the latent-risk threshold drops until the
//    default rate reaches kShockDefaultRate. This part only shows when the labels mature
//    (calibration gap), and a model recalibrated on shocked cohorts corrects it.
// Incomes (Annual_Income and everything derived from it) also fall by 12%.
inline constexpr int kShockFirstCohort = MonthIndex(2024, 1);
inline constexpr double kShockIncomeFactor = 0.88;
inline constexpr double kShockQualityShift = 0.4;
inline constexpr double kBaseDefaultRate = 0.289;
inline constexpr double kShockDefaultRate = 0.45;

// Lending datamart (b): a product change from the 2024-10 cohort on: a 15000 loan repaid in
// 10 instalments of 1500 (before: 10000 in 10 of 1000, data-spec A.3).
inline constexpr int kProductChangeFirstCohort = MonthIndex(2024, 10);
inline constexpr int kLoanAmountBefore = 10000;
inline constexpr int kLoanAmountAfter = 15000;
inline constexpr int kTenure = 10;

// Lending datamart (c): an upstream feed break: in snapshot month 2024-03 the clickstream
// column fe_7 arrives empty for every row.
inline constexpr int kFeedBreakMonth = MonthIndex(2024, 3);
inline constexpr int kFeedBreakFeature = 7;

// Not drift but a planted point-in-time trap (data-spec A.8 suggestion): clickstream months
// after a customer's application month carry this many times the label-dependent shifts of
// data-spec A.6, so features taken at MOB 6 look better than application-time features.
inline constexpr double kPostApplicationSignalFactor = 2.0;

// Kueski: loans dated in the last year before the 2021-09-17 anchor (from 2020-09-17 on) have
// amounts 8% higher than the same user's earlier loans.
inline constexpr int kKueskiAmountDriftYear = 2020;
inline constexpr int kKueskiAmountDriftMonth = 9;
inline constexpr int kKueskiAmountDriftDay = 17;
inline constexpr double kKueskiAmountDriftFactor = 1.08;

}  // namespace riskpipe::synth
