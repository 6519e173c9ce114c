#pragma once
// The `label:` and `features:` sections of riskpipe.yaml as typed structs (docs/features.md).
// Feature expressions are DuckDB SQL over the named silver table's columns; they are checked
// against the declared source columns at load time, and compiled by the features module.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace riskpipe::config {

// How the label of an application is decided.
enum class LabelKind {
  // From a loan-management table with one row per loan and month: days past due derived from
  // the overdue amount and the instalment schedule; label = dpd >= `dpd` at month-on-book `mob`.
  // Available on the MOB-`mob` snapshot date.
  kDpd,
  // The source already carries the outcome (a 0/1 column). Available `outcome_window_days`
  // after the application date.
  kOutcome,
};

struct LabelDef {
  std::string name;  // label_def, e.g. "30dpd_6mob"
  LabelKind kind = LabelKind::kDpd;
  std::string source;            // silver table
  std::string entity;            // customer key column
  std::string loan_key;          // loan key column (one label per loan)
  std::string application_date;  // date column: when the loan was applied for / disbursed
  // kDpd
  int mob = 6;
  int dpd = 30;
  std::string installment_column = "installment_num";
  std::string due_column = "due_amt";
  std::string overdue_column = "overdue_amt";
  // kOutcome
  std::string outcome_column;
  int outcome_window_days = 0;
  int line = 0;
};

// The decision events the feature store holds one row for: one row of `source` per event
// (for example each loan at installment 0), keyed by `key`, for customer `entity`, decided on
// `date`. Rows of the feature store and the training set are these events.
struct Spine {
  std::string source;
  std::string key;     // event key column (loan id)
  std::string entity;  // customer key column
  std::string date;    // decision date column (DATE)
  std::string where;   // optional SQL filter over the source's columns
  int line = 0;
};

enum class ViewKind {
  // Columns of the spine row itself (terms of the application): event time = decision date.
  kSpine,
  // The latest source row with event time <= decision date (as-of join), optionally no older
  // than max_age_days.
  kLatest,
  // Aggregates over the source rows in a window ending at the decision date.
  kAggregate,
};

struct Feature {
  std::string name;
  std::string expr;  // SQL expression; `decision_date` names the decision date
  std::string description;
  int line = 0;
};

struct FeatureView {
  std::string name;
  std::string description;
  ViewKind kind = ViewKind::kLatest;
  std::string source;      // silver table (ignored for kSpine: the spine's source)
  std::string entity;      // entity column in the source (defaults to the spine's entity)
  std::string event_time;  // DATE column of the source; "snapshot_date" is the partition date
  // kLatest: rows older than this many days before the decision date are not used (0 = any).
  int max_age_days = 0;
  // kAggregate: window of source rows, by event time relative to decision date D:
  // [D - window_days, D] (0 = unbounded start), and strictly before D when `strict`.
  int window_days = 0;
  bool strict = false;
  std::vector<Feature> features;
  int line = 0;
};

struct FeatureSet {
  Spine spine;
  std::vector<FeatureView> views;
  // Incremented by hand when a view's meaning changes; recorded with every snapshot.
  std::string version = "1";
  bool defined() const { return !views.empty(); }
};

}  // namespace riskpipe::config
