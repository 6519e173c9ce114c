#include "xgb/xgb.h"

#include <xgboost/c_api.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>

namespace riskpipe::xgb {
namespace {

// The first line of XGBoost's last error (the rest is a stack trace).
Status LastError(std::string_view call) {
  std::string message = XGBGetLastError();
  // "[10:11:12] /build/...c_api.cc:123: message" -> "message"
  if (size_t nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  if (message.starts_with("[")) {
    if (size_t pos = message.find(": "); pos != std::string::npos) {
      if (size_t pos2 = message.find(": ", pos + 2); pos2 != std::string::npos &&
                                                      message.find(".cc:") < pos2) {
        message = message.substr(pos2 + 2);
      }
    }
  }
  return InternalError("XGBoost " + std::string(call) + ": " + message);
}

#define XGB_CALL(call, name) \
  do {                       \
    if ((call) != 0) return LastError(name); \
  } while (0)

// XGBoost reports unknown parameters only as a log warning; collect them per thread so
// UpdateOneIter can fail on them.
thread_local std::string* g_warnings = nullptr;

void LogCallback(const char* message) {
  std::string_view text(message);
  if (g_warnings != nullptr && text.find("not used") != std::string_view::npos) {
    g_warnings->append(text);
  }
}

void InstallLogCallback() {
  static std::once_flag once;
  std::call_once(once, [] { XGBRegisterLogCallback(&LogCallback); });
}

std::string ArrayInterface(const float* data, size_t rows, size_t cols) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                R"({"data": [%llu, true], "shape": [%zu, %zu], "typestr": "<f4", "version": 3})",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)), rows, cols);
  return buf;
}

}  // namespace

std::string LibraryVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

// ---- DMatrix ----

StatusOr<DMatrix> DMatrix::FromDense(std::span<const float> data, size_t rows, size_t cols,
                                     int threads) {
  if (data.size() != rows * cols) {
    return InvalidArgumentError("DMatrix: " + std::to_string(data.size()) + " values for " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  }
  DMatrixHandle handle = nullptr;
  XGB_CALL(XGDMatrixCreateFromMat_omp(data.data(), rows, cols, std::numeric_limits<float>::quiet_NaN(),
                                      &handle, threads),
           "DMatrix");
  return DMatrix(handle);
}

DMatrix& DMatrix::operator=(DMatrix&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

DMatrix::~DMatrix() {
  if (handle_ != nullptr) XGDMatrixFree(handle_);
}

Status DMatrix::SetLabels(std::span<const float> labels) {
  XGB_CALL(XGDMatrixSetFloatInfo(handle_, "label", labels.data(), labels.size()), "labels");
  return OkStatus();
}

Status DMatrix::SetWeights(std::span<const float> weights) {
  XGB_CALL(XGDMatrixSetFloatInfo(handle_, "weight", weights.data(), weights.size()), "weights");
  return OkStatus();
}

// ---- Booster ----

StatusOr<Booster> Booster::Create(std::span<const DMatrix* const> cache) {
  InstallLogCallback();
  std::vector<DMatrixHandle> handles;
  for (const DMatrix* m : cache) handles.push_back(m->handle());
  BoosterHandle handle = nullptr;
  XGB_CALL(XGBoosterCreate(handles.data(), handles.size(), &handle), "create booster");
  Booster booster(handle);
  RETURN_IF_ERROR(booster.SetParam("validate_parameters", "1"));
  return booster;
}

StatusOr<Booster> Booster::Load(std::string_view model_bytes) {
  InstallLogCallback();
  BoosterHandle handle = nullptr;
  XGB_CALL(XGBoosterCreate(nullptr, 0, &handle), "create booster");
  Booster booster(handle);
  XGB_CALL(XGBoosterLoadModelFromBuffer(handle, model_bytes.data(), model_bytes.size()),
           "load model");
  return booster;
}

Status Booster::LoadModel(std::string_view model_bytes) {
  XGB_CALL(XGBoosterLoadModelFromBuffer(handle_, model_bytes.data(), model_bytes.size()),
           "load model");
  return OkStatus();
}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Booster::~Booster() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Status Booster::SetParam(std::string_view name, std::string_view value) {
  const std::string n(name), v(value);
  XGB_CALL(XGBoosterSetParam(handle_, n.c_str(), v.c_str()), "parameter " + n);
  return OkStatus();
}

Status Booster::UpdateOneIter(int iter, const DMatrix& train) {
  std::string warnings;
  g_warnings = &warnings;
  const int rc = XGBoosterUpdateOneIter(handle_, iter, train.handle());
  g_warnings = nullptr;
  if (rc != 0) return LastError("training round " + std::to_string(iter));
  if (!warnings.empty()) {
    // "[time] WARNING: file:line: \nParameters: { "max_dpeth" } might not be used..."
    std::string names;
    if (size_t open = warnings.find('{'); open != std::string::npos) {
      const size_t close = warnings.find('}', open);
      names = warnings.substr(open, close == std::string::npos ? std::string::npos : close - open + 1);
    }
    for (char& c : names) {
      if (c == '\n') c = ' ';
    }
    return InvalidArgumentError("XGBoost parameters not used (misspelt?): " +
                                (names.empty() ? warnings : names));
  }
  return OkStatus();
}

StatusOr<int> Booster::BoostedRounds() const {
  int rounds = 0;
  XGB_CALL(XGBoosterBoostedRounds(handle_, &rounds), "boosted rounds");
  return rounds;
}

StatusOr<std::vector<float>> Booster::PredictMargin(std::span<const float> data, size_t rows,
                                                    size_t cols, int rounds) const {
  if (data.size() != rows * cols) return InvalidArgumentError("predict: matrix size mismatch");
  if (rows == 0) return std::vector<float>{};
  const std::string values = ArrayInterface(data.data(), rows, cols);
  const std::string config =
      R"({"type": 1, "training": false, "iteration_begin": 0, "iteration_end": )" +
      std::to_string(rounds) + R"(, "strict_shape": false, "cache_id": 0, "missing": NaN})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  XGB_CALL(XGBoosterPredictFromDense(handle_, values.c_str(), config.c_str(), nullptr, &shape,
                                     &dim, &out),
           "predict");
  return std::vector<float>(out, out + rows);
}

StatusOr<std::vector<float>> Booster::PredictCachedMargin(const DMatrix& m, size_t rows) const {
  const char* config =
      R"({"type": 1, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  XGB_CALL(XGBoosterPredictFromDMatrix(handle_, m.handle(), config, &shape, &dim, &out), "predict");
  return std::vector<float>(out, out + rows);
}

StatusOr<std::vector<float>> Booster::Contributions(std::span<const float> data, size_t rows,
                                                    size_t cols) const {
  ASSIGN_OR_RETURN(DMatrix m, DMatrix::FromDense(data, rows, cols, 1));
  const char* config =
      R"({"type": 2, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  XGB_CALL(XGBoosterPredictFromDMatrix(handle_, m.handle(), config, &shape, &dim, &out),
           "contributions");
  return std::vector<float>(out, out + rows * (cols + 1));
}

StatusOr<std::string> Booster::SaveModel(std::string_view format) const {
  const std::string config = R"({"format": ")" + std::string(format) + R"("})";
  bst_ulong len = 0;
  const char* out = nullptr;
  XGB_CALL(XGBoosterSaveModelToBuffer(handle_, config.c_str(), &len, &out), "save model");
  return std::string(out, len);
}

StatusOr<std::string> Booster::SaveConfig() const {
  bst_ulong len = 0;
  const char* out = nullptr;
  XGB_CALL(XGBoosterSaveJsonConfig(handle_, &len, &out), "save config");
  return std::string(out, len);
}

Status Booster::LoadConfig(std::string_view json) {
  const std::string text(json);
  XGB_CALL(XGBoosterLoadJsonConfig(handle_, text.c_str()), "load config");
  return OkStatus();
}

StatusOr<Booster> Booster::Slice(int rounds) const {
  BoosterHandle out = nullptr;
  XGB_CALL(XGBoosterSlice(handle_, 0, rounds, 1, &out), "slice");
  return Booster(out);
}

StatusOr<int> Booster::NumFeatures() const {
  bst_ulong n = 0;
  XGB_CALL(XGBoosterGetNumFeature(handle_, &n), "feature count");
  return static_cast<int>(n);
}

}  // namespace riskpipe::xgb
