#pragma once
// Training: every configured candidate fitted on the training rows, evaluated on train,
// validation and out-of-time rows with credit metrics, one chosen by the selection rule,
// calibrated on validation, and written as a model package (docs/training.md).
//
// Gradient boosting checkpoints every `checkpoint_every` rounds (model + JSON config + the
// validation history) under <workspace>/checkpoints/<model>/<fingerprint>/, so an
// interrupted `riskpipe train --resume` continues where it stopped and ends with the same
// model as an uninterrupted run (exactly, when no row/column subsampling is configured).

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/json.h"
#include "core/status.h"
#include "db/database.h"
#include "model/package.h"
#include "stats/metrics.h"
#include "features/dataset.h"

namespace riskpipe::training {

struct TrainOptions {
  Date cutoff;                 // labels known by this date
  bool resume = false;         // reuse checkpoints of an interrupted run with the same inputs
  std::filesystem::path checkpoint_root;  // <workspace>/checkpoints
  // Informational lines ("candidate xgboost trial 3/8 ...").
  std::function<void(const std::string&)> log = [](const std::string&) {};
};

struct SplitEvaluation {
  stats::BinaryMetrics metrics;  // on calibrated PDs (AUC/KS are the same on margins)
  stats::ConfusionAt at_threshold;
  std::vector<stats::CalibrationBin> calibration;
};

struct CandidateResult {
  std::string name;
  std::string family;
  nlohmann::json params;
  double seconds = 0;
  SplitEvaluation train, validation, oot;
  double oot_drop = 0;     // validation AUC - OOT AUC
  bool eligible = false;   // passes the selection rule's tolerance
  std::string note;
};

struct TrainOutcome {
  std::vector<CandidateResult> leaderboard;  // in config order
  int chosen = -1;                           // index into leaderboard
  std::string selection_rule;
  nlohmann::json metadata;                   // what metadata.json holds (without id/version)
};

// Trains and writes the chosen package into `package_dir` (model file, preprocess.json,
// calibration.json, metadata.json, leaderboard.json). Nothing is written there on failure.
// InvalidArgument/FailedPrecondition for data that cannot be trained on (too few rows, one
// class, constant features), with the reason.
StatusOr<TrainOutcome> Train(const config::Project& project, db::Connection& con,
                             const TrainOptions& options,
                             const std::filesystem::path& package_dir);

// The leaderboard as a fixed-width text table.
std::string FormatLeaderboard(const TrainOutcome& outcome);

}  // namespace riskpipe::training
