#pragma once
// A workspace for the report tests: the gold tables monitoring, inference and quality write
// (columns as in docs/monitoring.md), filled by DuckDB SQL for 24 months with a planted story
// (a feed outage in month 6, a score shift in months 9-10 that raises PSI and alerts and a
// calibration gap until the retrain to version 2 from month 13, the last 6 months immature, a
// challenger in the last 3),
// and optionally two registered model versions (version 2 in production).

#include <filesystem>
#include <string>

namespace riskpipe::testing {

// Months of the fixture: 2024-01 .. 2025-12.
inline constexpr int kFixtureMonths = 24;
// The planted events (0-based month index from 2024-01).
inline constexpr int kOutageMonth = 5;  // 2024-06: f3 all null
inline constexpr int kShockMonth = 8;   // 2024-09: score PSI 0.31 (act), 2024-10: 0.18 (warn)
inline constexpr int kRetrainMonth = 12;
inline constexpr int kMaturedMonths = 18;

// The project file for `workspace_dir` (relative workspace "ws").
std::string FixtureProject();

// Writes the gold tables under <workspace>/datamart/gold. Fails the test on error.
void WriteGoldTables(const std::filesystem::path& workspace);

// Registers lending_pd/1 and /2 (metadata, leaderboard, validation.json), promotes /1, then
// /2 (so /1 is demoted). Fails the test on error.
void RegisterModels(const std::filesystem::path& workspace);

}  // namespace riskpipe::testing
