#pragma once
// XGBoost through its C API; the only code in riskpipe that includes xgboost/c_api.h.
// DMatrix and Booster own their handles (move-only). Every C call's -1 becomes a Status with
// the first line of XGBGetLastError(). A Booster may be used for prediction from several
// threads at once (XGBoost keeps per-thread output buffers); training is single-caller.
//
// Traps handled here (dependency-notes.md): parameters are validated (validate_parameters=1
// and unknown-parameter warnings are turned into errors); a saved model holds no training
// parameters, so checkpoints keep the JSON config beside the model.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace riskpipe::xgb {

// "1.7.4": the XGBoost library riskpipe runs with.
std::string LibraryVersion();

class DMatrix {
 public:
  // A dense row-major matrix of rows x cols floats; NaN means missing. Copies the data.
  static StatusOr<DMatrix> FromDense(std::span<const float> data, size_t rows, size_t cols,
                                     int threads = 0);
  DMatrix(DMatrix&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  DMatrix& operator=(DMatrix&& other) noexcept;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix();

  Status SetLabels(std::span<const float> labels);
  Status SetWeights(std::span<const float> weights);
  void* handle() const { return handle_; }

 private:
  explicit DMatrix(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

class Booster {
 public:
  // A new booster whose prediction cache covers `cache` (the training and evaluation sets).
  static StatusOr<Booster> Create(std::span<const DMatrix* const> cache = {});
  // A booster from a model saved by SaveModel (UBJSON or JSON, detected by content).
  static StatusOr<Booster> Load(std::string_view model_bytes);
  Booster(Booster&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Booster& operator=(Booster&& other) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster();

  // Replaces this booster's model with one saved by SaveModel (keeps its cache list).
  Status LoadModel(std::string_view model_bytes);
  // Sets one parameter. Unknown names are reported at the next UpdateOneIter.
  Status SetParam(std::string_view name, std::string_view value);
  // One boosting round (iteration number `iter`, from 0) on `train`.
  Status UpdateOneIter(int iter, const DMatrix& train);
  // Rounds boosted so far.
  StatusOr<int> BoostedRounds() const;

  // Raw margins (log-odds for binary:logistic) of each row of a dense row-major matrix.
  // Uses only the first `rounds` rounds when rounds > 0.
  StatusOr<std::vector<float>> PredictMargin(std::span<const float> data, size_t rows,
                                             size_t cols, int rounds = 0) const;
  // Raw margins of a DMatrix that was in this booster's cache list at Create: incremental
  // (only the trees added since the last call are evaluated), for per-round evaluation.
  StatusOr<std::vector<float>> PredictCachedMargin(const DMatrix& m, size_t rows) const;
  // Per-row feature contributions to the margin (exact TreeSHAP): rows x (cols + 1) values,
  // the last of each row being the bias.
  StatusOr<std::vector<float>> Contributions(std::span<const float> data, size_t rows,
                                             size_t cols) const;

  // The model as UBJSON ("ubj") or JSON ("json") bytes.
  StatusOr<std::string> SaveModel(std::string_view format = "ubj") const;
  // The training configuration (parameters) as JSON, and its inverse.
  StatusOr<std::string> SaveConfig() const;
  Status LoadConfig(std::string_view json);
  // Keeps only the first `rounds` rounds (after early stopping).
  StatusOr<Booster> Slice(int rounds) const;
  // Number of features the model was trained on.
  StatusOr<int> NumFeatures() const;

 private:
  explicit Booster(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

}  // namespace riskpipe::xgb
