#pragma once
// The rows a model is trained on, and their split into train / validation / out-of-time.
// Two sources: the gold feature and label stores (historical retrieval as of each decision
// date, labels only when available by the cutoff), or one user file (model.dataset).

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/json.h"
#include "core/status.h"
#include "db/database.h"
#include "model/frame.h"

namespace riskpipe::features {

struct TrainingData {
  model::Frame frame;                  // every column read (ids, dates, features, label)
  std::vector<std::string> features;   // model input columns, in order
  std::vector<uint8_t> labels;         // 1 = default
  std::vector<int32_t> decision_days;  // decision date (days since epoch) per row; empty if none
  std::string id_column;               // row identifier column in `frame`
  Date cutoff;                         // labels known by this date (feature-store projects)
  nlohmann::json lineage;              // sources, partitions and content hashes
  std::vector<std::string> warnings;
  std::string rows_sha256;  // hash of the loaded rows, for reproducibility checks
};

// A query result as a model Frame (moves the columns; dates become days since 1970).
model::Frame ToFrame(db::ColumnarTable table);

// Reads the training rows for the project's model section. InvalidArgument for a config
// problem (unknown column, bad target); FailedPrecondition when the stores are missing.
StatusOr<TrainingData> LoadTrainingData(const config::Project& project, db::Connection& con,
                                        Date cutoff);

struct SplitRows {
  std::vector<uint32_t> train, validation, oot;
  bool out_of_time = true;  // false: the "oot" rows are a random test split
  nlohmann::json description;
};

// The project as it was when a package was trained, from its metadata.json
// (training_config: splits and seed), so LoadTrainingData and MakeSplits give back the rows it
// was trained, validated and tested on (the pipeline shifts windows per training).
// FailedPrecondition without a model section; InvalidArgument for a malformed split.
StatusOr<config::Project> ProjectAsTrained(const config::Project& project,
                                           const nlohmann::json& meta);

// Time splits by decision month from config, or a seeded stratified random split for a
// dataset without dates. Rows outside every window are left out.
StatusOr<SplitRows> MakeSplits(const TrainingData& data, const config::ModelDef& model);

}  // namespace riskpipe::features
