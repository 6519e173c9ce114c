#pragma once
// What the server serves: the production model of the project's model name (champion), an
// optional challenger, and the online snapshot, loaded into one immutable ServingState that
// is swapped whole when the registry's production version, the challenger reference or the
// online CURRENT pointer changes (docs/api.md "Hot reload"). Requests keep the state they
// started with (a shared_ptr), so in-flight requests finish on the old models. A model or
// snapshot that fails to load leaves the previous one serving; the failure is logged and
// counted. Thread-safe: Check and Rollback are serialised; state() may be called anywhere.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "features/online_snapshot.h"
#include "model/package.h"
#include "registry/registry.h"
#include "serving/metrics.h"
#include "serving/tree_shap.h"

namespace riskpipe::serving {

// A model package loaded from the registry (MANIFEST verified).
struct LoadedModel {
  uint64_t generation = 0;  // unique per load within this process
  std::string id;           // "kueski_pd/3"
  std::string name;
  int64_t version = 0;
  std::string family;
  std::unique_ptr<model::ModelPackage> package;
  std::vector<std::string> feature_names;  // the input schema's names, in order
  // Margins and exact TreeSHAP on the flattened trees of an XGBoost model (null for other
  // families, and when the model is not supported: those use the package's own path).
  std::unique_ptr<TreeExplainer> explainer;
};

struct ServingState {
  std::shared_ptr<const LoadedModel> champion;    // null until a version is in production
  std::shared_ptr<const LoadedModel> challenger;  // null when none is configured or loaded
  std::shared_ptr<const features::OnlineSnapshot> snapshot;
  // Per input feature of the champion (challenger): its feature index in the snapshot, or -1
  // when the snapshot has no such feature of the right kind (served as missing).
  std::vector<int> champion_columns, challenger_columns;
  bool ready() const { return champion != nullptr && snapshot != nullptr; }
};

struct ModelStoreOptions {
  Workspace workspace;
  std::string model_name;                       // serves "<model_name>/production"
  std::string challenger_ref;                   // a registry reference; empty = no challenger
  std::function<void(const std::string&)> log;  // receives load and failure messages
  Metrics* metrics = nullptr;                   // counts reloads when set
};

struct ReloadReport {
  std::vector<std::string> loaded;  // e.g. "champion kueski_pd/3", "snapshot <version>"
  std::vector<std::string> errors;  // failures (the previous state keeps serving)
};

class ModelStore {
 public:
  explicit ModelStore(ModelStoreOptions options);
  ~ModelStore();

  // Compares the registry and the online CURRENT with what is loaded and loads what changed.
  ReloadReport Check();
  // Rolls the production version of the model back in the registry (recorded with `by` and
  // `reason`), then Check()s. Returns the restored id; FailedPrecondition when there is no
  // earlier production version, other registry errors as they come.
  StatusOr<std::string> Rollback(const std::string& by, const std::string& reason);

  std::shared_ptr<const ServingState> state() const;
  // Increases with every swap: a cheap test for "has the state changed since I looked".
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  const ModelStoreOptions& options() const { return options_; }

 private:
  StatusOr<std::shared_ptr<const LoadedModel>> LoadModel(const registry::ModelRecord& record);
  void Note(ReloadReport& report, const std::string& what, const std::string& key,
            const Status& status);
  registry::Registry* OpenRegistry(ReloadReport& report);

  ModelStoreOptions options_;
  std::mutex check_mu_;  // serialises Check and Rollback
  std::optional<registry::Registry> registry_;
  std::vector<std::string> failed_;  // failure keys already reported (reported once each)
  mutable std::mutex state_mu_;
  std::shared_ptr<const ServingState> state_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace riskpipe::serving
