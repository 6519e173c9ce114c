#pragma once
// Champion/challenger analysis and the unseen-segment drift test (docs/monitoring.md).
//
// Compare: two model versions scored on the same applications in gold/predictions (the
// champion's decisions and the challenger's shadow scores), joined on event_id; AUC difference
// with DeLong's paired confidence interval on matured labels, approval rate and loss rate among
// approved applications under each model's own decisions, and the governance decision rule.
//
// Unseen segment: the months after the model's out-of-time window (never used in training)
// against the development reference, score and every feature. Both are read-only.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "db/database.h"
#include "monitoring/month_stats.h"

namespace riskpipe::monitoring {

struct CompareOptions {
  std::optional<Month> from, to;  // scoring months; unset = every month both were scored in
  // Labels knowable by this date are used; unset = every label known now.
  std::optional<Date> labels_as_of;
};

struct ModelSide {
  std::string model_id;
  double auc = 0;                // on matured labels
  double approval_rate = 0;      // share of the rows it approves (pd < its threshold)
  double bad_rate_approved = 0;  // realised default rate among the rows it approves
  double loss_rate = 0;          // lgd x defaults among its approved / all rows (per application)
  double expected_loss = 0;      // lgd x mean of its own PD over its approved / all rows
};

struct CompareResult {
  ModelSide champion, challenger;
  int64_t rows = 0;      // applications scored by both
  int64_t labelled = 0;  // of which with a matured label
  double auc_diff = 0, auc_diff_se = 0, auc_diff_lower = 0, auc_diff_upper = 0, p_value = 1;
  double confidence = 0.95;
  std::string decision;  // "promote challenger" | "keep champion" | "inconclusive"
  std::string rule;      // the rule, stated with its numbers
};

// FailedPrecondition when gold/predictions is missing or the two ids share no rows;
// InvalidArgument when the ids are equal.
StatusOr<CompareResult> CompareModels(const config::Project& project, db::Connection& con,
                                      const std::string& champion_id,
                                      const std::string& challenger_id,
                                      const CompareOptions& options = {});

struct UnseenResult {
  std::string model_id;
  std::string segment;  // e.g. "decision months 2024-07..2024-12 (after the OOT window)"
  std::string why;      // why this segment is unseen
  int64_t rows = 0;
  std::vector<StabilityRow> rows_by_metric;  // as gold/monitoring_stability
  double score_psi = 0, score_ks_pvalue = 1;
  std::vector<std::string> drifted;  // features with CSI >= governance.csi.act
  bool passed = true;                // score PSI below governance.score_psi.act and nothing drifted
};

// Scores the unseen months' feature rows with the package (so no batch inference is needed)
// and compares them with the reference. `from`/`to` override the segment. FailedPrecondition
// when the model has no out-of-time window (random splits) and no range is given, or when the
// segment has no rows.
StatusOr<UnseenResult> UnseenSegmentCheck(const config::Project& project, db::Connection& con,
                                          const std::string& model_id,
                                          std::optional<Month> from = std::nullopt,
                                          std::optional<Month> to = std::nullopt);

}  // namespace riskpipe::monitoring
