#pragma once
// Internal to report: everything the two pages show, read once from the datamart (DuckDB over
// the gold Parquet tables), the registry and the run log into JSON. The pages embed the
// datasets as JSON and draw them with ECharts; the text is written from `facts`.

#include <string>
#include <vector>

#include "config/config.h"
#include "core/json.h"
#include "core/status.h"

namespace riskpipe::report::internal {

// Governance policy defaults for the score PSI (docs/governance.md: 0.10 warn, 0.25 act), used
// when no PSI alert in gold/monitoring_alerts carries the configured thresholds.
inline constexpr double kDefaultPsiWarn = 0.10;
inline constexpr double kDefaultPsiAct = 0.25;

struct ReportData {
  std::string project;
  std::string workspace;
  std::string generated_at;  // UTC ISO-8601
  // Chart datasets by name, each {"columns": [...], "rows": [[...], ...]} (docs/report.md).
  nlohmann::json datasets = nlohmann::json::object();
  // Scalars and small lists the text is written from (psi_warn, psi_act, months, counts,
  // the production model, its leaderboard and validation, ...).
  nlohmann::json facts = nlohmann::json::object();
  // Registry catalog rows and history events, newest first.
  nlohmann::json models = nlohmann::json::array();
  nlohmann::json events = nlohmann::json::array();
  // The run log: recent runs with their step counts.
  nlohmann::json runs = nlohmann::json::array();
  // docs/governance.md (empty when not found) and where it was found.
  std::string governance_md;
  std::string governance_path;
  // What is missing or failed to load, for the pages and the CLI.
  std::vector<std::string> notes;
};

// Reads every dataset. A missing table, registry or run log is a note, as is a query that
// fails on an unexpected table layout (its dataset is then empty); Internal only when DuckDB
// itself cannot start.
StatusOr<ReportData> LoadReportData(const config::Project& project, int threads,
                                    const std::string& generated_at);

}  // namespace riskpipe::report::internal
