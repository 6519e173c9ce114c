#pragma once
// The `model:` section of riskpipe.yaml (docs/training.md): what to train, on which rows, with
// which candidates, and how to pick and calibrate the winner. Plain values.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/date.h"

namespace riskpipe::config {

// Train straight from one file instead of the feature and label stores ("bring your own
// data"): a CSV (or Parquet) with a target column; every other column is a feature unless
// excluded. Types are inferred (DuckDB's CSV sniffer) and written to the package.
struct DatasetDef {
  std::filesystem::path file;  // absolute after loading
  std::string target;
  std::string positive = "1";  // the target value that means "default"
  std::string id;              // optional id column; row number otherwise
  std::string date;            // optional date column; enables time splits
  int line = 0;
};

struct MonthRange {
  Month from, to;
};

// Time splits by decision (application) month: train < validation < out-of-time. For a
// dataset without a date column, a seeded stratified random split by fractions instead.
struct Splits {
  std::optional<MonthRange> train, validation, oot;
  double validation_fraction = 0.2;  // random splits only
  double test_fraction = 0.2;
  bool random() const { return !train.has_value(); }
};

enum class Family { kLogistic, kScorecard, kDecisionTree, kRandomForest, kXgboost };
std::string_view FamilyName(Family f);

// A search dimension: values drawn uniformly from [low, high] (log-uniform when `log`),
// rounded when `integer`.
struct SearchRange {
  double low = 0, high = 0;
  bool integer = false;
  bool log = false;
};

struct Candidate {
  Family family = Family::kXgboost;
  std::string name;                       // leaderboard label; defaults to the family name
  std::map<std::string, double> params;   // family parameters (docs/training.md lists them)
  std::map<std::string, SearchRange> search;  // random search space (xgboost only)
  int search_budget = 0;                  // trials; 0 = no search
  int early_stopping_rounds = 0;          // xgboost: stop when validation AUC has not improved
  int line = 0;
};

enum class Calibration { kPlatt, kIsotonic };
enum class ThresholdPolicy { kApprovalRate, kCostRatio };

struct ModelDef {
  std::string name;  // registry name
  std::string description;
  std::optional<DatasetDef> dataset;
  std::optional<Date> cutoff;  // labels known by this date; default: today
  Splits splits;
  std::vector<std::string> exclude;        // feature columns never used
  std::vector<std::string> protected_attributes;  // never model inputs unless allowed
  int categorical_max_levels = 20;
  int64_t min_train_rows = 1000;
  uint64_t seed = 42;
  int threads = 0;                          // 0 = all cores
  std::map<std::string, int> monotone;      // feature -> +1 (PD rises with it) / -1
  std::vector<Candidate> candidates;
  std::string selection_metric = "auc";     // validation metric to maximise: auc, ks, gini
  double max_oot_drop = 0.05;               // validation AUC - OOT AUC allowed
  Calibration calibration = Calibration::kPlatt;
  ThresholdPolicy threshold_policy = ThresholdPolicy::kApprovalRate;
  double threshold_value = 0.7;             // approval rate, or cost of a missed default / cost of a wrong decline
  int checkpoint_every = 25;                // boosting rounds between checkpoints
  int line = 0;
};

}  // namespace riskpipe::config
