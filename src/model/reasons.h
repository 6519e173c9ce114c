#pragma once
// Reason codes: why a decision came out as it did, from the model's own attributions
// (Estimator::Contributions: exact TreeSHAP for trees, coefficient x deviation for the linear
// model, points below the best bin for the scorecard), mapped to human-readable texts kept in
// a versioned table (`reason_codes:` in riskpipe.yaml, docs/reason-codes.md). Batch inference
// and serving both use this, so a decision gets the same reasons offline and online.
// A ReasonTable is immutable once built; Top() is thread-safe.

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace riskpipe::model {

struct Reason {
  std::string code;     // the feature's name: stable across table versions
  std::string text;     // the table's text for it
  double contribution;  // margin contribution (> 0: raised the risk)
};

class ReasonTable {
 public:
  // `top` reasons per decision (>= 1); `texts` maps a feature to its reason text.
  ReasonTable(std::string version = "default", int top = 3,
              std::map<std::string, std::string> texts = {});

  const std::string& version() const { return version_; }
  int top() const { return top_; }
  // The text of `feature`: the table's, else "<feature> increases the estimated risk".
  std::string Text(std::string_view feature) const;

  // The at most top() features with the largest positive contributions in `row` (one
  // contribution per feature, in the order of `features`), largest first; ties keep the
  // feature order. Features that lowered the risk are never reasons for a decline.
  std::vector<Reason> Top(std::span<const double> row,
                          std::span<const std::string> features) const;
  // The same as indices into `features` (no allocation of texts): for hot paths. Writes at
  // most top() indices into `out` and returns how many.
  size_t TopIndices(std::span<const double> row, std::span<size_t> out) const;

 private:
  std::string version_;
  int top_;
  std::map<std::string, std::string, std::less<>> texts_;
};

}  // namespace riskpipe::model
