#pragma once
// Scores one customer's row with a loaded model: PD, score band, decision at the policy
// threshold and, when asked, the top reason codes from the model's own attributions mapped
// through the project's ReasonTable (the same table batch inference uses). A row with an
// input the model cannot encode (beyond float's range, or infinite) or a PD that is not a
// number gets decision refer and no PD, band or reasons. Thread-safe: each thread reuses its
// own one-row Frame.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "model/package.h"
#include "model/reasons.h"
#include "serving/model_store.h"

namespace riskpipe::serving {

// One input feature's value: missing, a number, or a text level (a view valid during the call).
struct RowValue {
  bool missing = true;
  double number = 0;
  std::string_view text;
};

// The most reasons a decision can carry (config/reason_codes.h allows at most 20).
inline constexpr size_t kMaxReasons = 20;

struct RowPrediction {
  double pd = 0;  // NaN when decision is kRefer
  double margin = 0;
  model::Decision decision = model::Decision::kRefer;  // DecisionPolicy::Decide(pd)
  // kRefer because of an input: its index among the model's features (else -1) and value.
  int unscorable_feature = -1;
  double unscorable_value = 0;
  std::string band;  // "" when decision is kRefer
  size_t reason_count = 0;
  std::array<size_t, kMaxReasons> reason_feature{};  // indices into the model's features
  std::array<double, kMaxReasons> reason_contribution{};
};

// Scores `values` (one per input feature of `m`, in order). Reasons are computed when
// `reasons` is non-null. Errors from the model package (Internal) pass through.
Status ScoreRow(const LoadedModel& m, std::span<const RowValue> values,
                const model::ReasonTable* reasons, RowPrediction& out);

// Values of `row` of `snap` for `m`'s input features through `columns` (from ServingState).
void SnapshotRow(const LoadedModel& m, const features::OnlineSnapshot& snap, size_t row,
                 std::span<const int> columns, std::span<RowValue> out);

}  // namespace riskpipe::serving
