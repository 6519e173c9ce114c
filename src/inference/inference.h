#pragma once
// Batch inference (docs/inference.md): scores every application of a month with a model
// package loaded through the registry (MANIFEST verified) and writes gold/predictions for that
// month, replacing the partition atomically. The package's own preprocessing is the only
// transformation (DESIGN invariant 4), so a PD here equals the package scored alone, bit for
// bit. Optionally a challenger version is scored on the same rows as a shadow (role
// "challenger"), for the champion/challenger analysis of monitoring.
//
// Columns of gold/predictions: snapshot_date (partition: the scoring month), event_id,
// entity_id, decision_date, model_id, model_name, model_version, role, margin, pd,
// score_band, decision, threshold, reason_1..reason_3, reason_table_version.
// decision is approve (pd < threshold), decline (pd >= threshold) or refer: a row the model
// gives no PD (an input beyond float's range or infinite, model::Preprocessor::UnscorableInput)
// goes to manual review with NULL margin, pd and band, and reason_1 saying why.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "db/database.h"
#include "model/frame.h"
#include "model/package.h"
#include "model/reasons.h"
#include "registry/registry.h"

namespace riskpipe::inference {

inline constexpr char kPredictionsTable[] = "predictions";
inline constexpr int kReasonColumns = 3;

struct PredictOptions {
  Month month;
  // Registry reference of the model (see Registry::Get); empty = "<model.name>/production".
  std::string model_ref;
  // A second version scored on the same rows as a shadow; empty = none.
  std::string challenger_ref;
  // Reason codes (top features raising the risk) per row; off is faster.
  bool reasons = true;
};

struct PredictSummary {
  Month month;
  std::string model_id, challenger_id;
  int64_t rows = 0;      // applications scored (per model)
  int64_t declined = 0;  // champion declines
  int64_t referred = 0;  // champion refers: no PD, manual review (see the header comment)
  double mean_pd = 0;    // over the champion's decided (approve or decline) rows
  std::filesystem::path partition;
  // Wall seconds per phase.
  double read_seconds = 0, score_seconds = 0, reason_seconds = 0, write_seconds = 0,
         seconds = 0;
};

// The rows of one month to score: every input column a package may need plus the ids.
struct MonthRows {
  model::Frame frame;
  std::string event_column, entity_column, date_column;  // columns of `frame`
  std::string source;  // where they came from (a partition file or the dataset file)
};

// Reads the applications decided in `month`: the gold feature-store partition of the month
// for a feature-store project, or the rows of model.dataset whose date falls in the month.
// FailedPrecondition naming the missing partition / a dataset without a date column.
// `columns` limits the read to those columns (plus the ids); empty reads every column. Rows
// keep the source's own order.
StatusOr<MonthRows> ReadMonth(const config::Project& project, db::Connection& con, Month month,
                              const std::vector<std::string>& columns = {});

// The reason table of the project (`reason_codes:`), or the default one.
model::ReasonTable ProjectReasonTable(const config::Project& project);

// Scores `month` and publishes its gold/predictions partition (an empty partition for a month
// without applications). NotFound for an unknown model reference; DataLoss when the package
// fails its MANIFEST; InvalidArgument naming an input feature the rows lack.
StatusOr<PredictSummary> PredictMonth(const config::Project& project, db::Connection& con,
                                      registry::Registry& registry, const PredictOptions& options);

}  // namespace riskpipe::inference
