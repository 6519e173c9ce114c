#pragma once
// A small loan-like CSV for training tests: numeric columns (one with gaps), a text column, a
// constant column and a 0/1 target drawn from a known logistic model. Deterministic per seed.

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

namespace riskpipe::testing {

inline std::string SyntheticLoansCsv(int rows, uint64_t seed, bool single_class = false) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const char* jobs[] = {"clerk", "engineer", "driver", "nurse"};
  const double job_effect[] = {0.3, -0.6, 0.5, -0.2};
  std::string csv = "income,debt_ratio,delays,job,branch,defaulted\n";
  for (int i = 0; i < rows; ++i) {
    const double income = std::exp(10.5 + 0.4 * normal(rng));
    const double debt = std::max(0.0, 0.35 + 0.15 * normal(rng));
    const int delays = static_cast<int>(std::floor(std::max(0.0, 2 + 2 * normal(rng))));
    const int job = static_cast<int>(unit(rng) * 4) % 4;
    const double z = -1.0 - 0.8 * (std::log(income) - 10.5) / 0.4 + 2.5 * (debt - 0.35) / 0.15 * 0.5 +
                     0.35 * delays + job_effect[job];
    const int y = single_class ? 0 : (unit(rng) < 1.0 / (1.0 + std::exp(-z)) ? 1 : 0);
    const bool gap = unit(rng) < 0.05;
    csv += std::to_string(income) + "," + (gap ? "" : std::to_string(debt)) + "," +
           std::to_string(delays) + "," + jobs[job] + ",north," + std::to_string(y) + "\n";
  }
  return csv;
}

}  // namespace riskpipe::testing
