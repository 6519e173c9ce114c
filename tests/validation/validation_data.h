#pragma once
// Test data for the validation gate: a dated loan CSV whose default labels come from a known
// logistic model, with switches that plant each problem a check must catch, and a helper that
// trains and registers a model on it. Deterministic per seed; not thread-safe.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace riskpipe::validation::test {

struct LoansSpec {
  int rows = 6000;
  uint64_t seed = 7;
  double delays_coef = 0.35;        // negative: PD falls as delays rise
  double gender_effect = 0;         // added to the log-odds of gender F
  bool poorer_group_f = false;      // gender F earns much less (legitimately riskier)
  bool random_west = false;         // labels of region "west" are coin flips
  bool random_last_month = false;   // labels of 2023-12 are coin flips
};

// Columns: application_date (2023-01..2023-12), income, debt_ratio, delays, job, region
// (north 40%, south 28%, west 30%, east 2%), gender (F/M), defaulted.
inline std::string LoansCsv(const LoansSpec& s) {
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const char* jobs[] = {"clerk", "engineer", "driver", "nurse"};
  const double job_effect[] = {0.3, -0.6, 0.5, -0.2};
  std::string csv = "application_date,income,debt_ratio,delays,job,region,gender,defaulted\n";
  for (int i = 0; i < s.rows; ++i) {
    const int month = 1 + i * 12 / s.rows;
    const int day = 1 + static_cast<int>(unit(rng) * 28);
    const bool female = unit(rng) < 0.5;
    const double log_income = (s.poorer_group_f && female ? 9.9 : 10.5) + 0.4 * normal(rng);
    const double debt = std::max(0.0, 0.35 + 0.15 * normal(rng));
    const int delays = static_cast<int>(std::floor(std::max(0.0, 2 + 2 * normal(rng))));
    const int job = static_cast<int>(unit(rng) * 4) % 4;
    const double r = unit(rng);
    const char* region = r < 0.40 ? "north" : r < 0.68 ? "south" : r < 0.98 ? "west" : "east";
    const double z = -1.0 - 0.8 * (log_income - 10.5) / 0.4 + 1.25 * (debt - 0.35) / 0.15 +
                     s.delays_coef * delays + job_effect[job] + (female ? s.gender_effect : 0);
    int y = unit(rng) < 1.0 / (1.0 + std::exp(-z)) ? 1 : 0;
    const bool coin = (s.random_west && region[0] == 'w') || (s.random_last_month && month == 12);
    if (coin) y = unit(rng) < 0.3 ? 1 : 0;
    char line[256];
    std::snprintf(line, sizeof line, "2023-%02d-%02d,%.2f,%.4f,%d,%s,%s,%s,%d\n", month, day,
                  std::exp(log_income), debt, delays, jobs[job], region, female ? "F" : "M", y);
    csv += line;
  }
  return csv;
}

// A project on loans.csv with time splits (train 2023-01..06, validation 07..09, OOT 10..12);
// `model_extra` goes inside model:, `tail` after it (e.g. a validation: section).
inline std::string ProjectYaml(const std::string& candidates, const std::string& model_extra = "",
                               const std::string& tail = "") {
  return "project: v\nworkspace: ws\nmodel:\n  name: loans_pd\n"
         "  dataset: {file: loans.csv, target: defaulted, date: application_date}\n"
         "  splits:\n    train: {from: 2023-01, to: 2023-06}\n"
         "    validation: {from: 2023-07, to: 2023-09}\n    oot: {from: 2023-10, to: 2023-12}\n"
         "  min_train_rows: 500\n  threads: 1\n" + model_extra +
         "  candidates:\n" + candidates + tail;
}

inline constexpr char kLogistic[] = "    - {family: logistic}\n";
inline constexpr char kStump[] =
    "    - {family: decision_tree, params: {max_depth: 1, min_child_weight: 20}}\n";

}  // namespace riskpipe::validation::test
