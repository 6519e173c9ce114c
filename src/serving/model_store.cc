#include "serving/model_store.h"

#include <algorithm>

#include "core/files.h"

namespace riskpipe::serving {

namespace fs = std::filesystem;

namespace {

std::atomic<uint64_t> next_model_generation{1};

// Where each input feature of `m` sits in `snap` (-1: absent or of the other kind).
std::vector<int> MapColumns(const LoadedModel& m, const features::OnlineSnapshot& snap,
                            std::vector<std::string>& warnings) {
  std::vector<int> columns;
  for (const auto& spec : m.package->preprocessor().features()) {
    const auto idx = snap.FeatureIndex(spec.name);
    if (!idx) {
      warnings.push_back(m.id + ": snapshot " + snap.version() + " has no feature \"" + spec.name +
                         "\" (served as missing for requests by id)");
      columns.push_back(-1);
      continue;
    }
    if (snap.features()[*idx].numeric == spec.categorical) {
      warnings.push_back(m.id + ": snapshot feature \"" + spec.name + "\" is " +
                         (spec.categorical ? "numeric" : "text") + " but the model expects " +
                         (spec.categorical ? "text" : "a number") + " (served as missing)");
      columns.push_back(-1);
      continue;
    }
    columns.push_back(static_cast<int>(*idx));
  }
  return columns;
}

StatusOr<std::string> ReadCurrent(const fs::path& online_dir) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(online_dir / features::kCurrentFile));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

ModelStore::ModelStore(ModelStoreOptions options) : options_(std::move(options)) {
  state_ = std::make_shared<ServingState>();
}

ModelStore::~ModelStore() = default;

std::shared_ptr<const ServingState> ModelStore::state() const {
  std::lock_guard lock(state_mu_);
  return state_;
}

void ModelStore::Note(ReloadReport& report, const std::string& what, const std::string& key,
                      const Status& status) {
  const std::string message = what + " " + key +
                              " failed to load; the previous one keeps "
                              "serving: " +
                              status.ToString();
  report.errors.push_back(message);
  // A failure is logged and counted once per distinct cause, not at every poll.
  if (std::find(failed_.begin(), failed_.end(), message) != failed_.end()) return;
  failed_.push_back(message);
  if (options_.metrics != nullptr) options_.metrics->CountReload(what, false);
  if (options_.log) options_.log("error: " + message);
}

registry::Registry* ModelStore::OpenRegistry(ReloadReport& report) {
  if (registry_) return &*registry_;
  registry::Options ro;
  ro.warn = [this](const std::string& w) {
    if (options_.log) options_.log("warning: " + w);
  };
  auto reg = registry::Registry::Open(options_.workspace, ro);
  if (!reg.ok()) {
    Note(report, "model", "registry", reg.status());
    return nullptr;
  }
  registry_.emplace(std::move(*reg));
  return &*registry_;
}

StatusOr<std::shared_ptr<const LoadedModel>> ModelStore::LoadModel(
    const registry::ModelRecord& record) {
  ASSIGN_OR_RETURN(fs::path dir, registry_->VerifiedPath(record.id));
  ASSIGN_OR_RETURN(model::ModelPackage package, model::ModelPackage::Load(dir));
  auto m = std::make_shared<LoadedModel>();
  m->generation = next_model_generation.fetch_add(1);
  m->id = record.id;
  m->name = record.name;
  m->version = record.version;
  m->family = package.estimator().family();
  m->package = std::make_unique<model::ModelPackage>(std::move(package));
  for (const auto& f : m->package->preprocessor().features()) m->feature_names.push_back(f.name);
  if (const auto* trees = dynamic_cast<const model::BoosterEstimator*>(&m->package->estimator())) {
    auto dump = trees->booster().SaveModel("json");
    auto explainer = dump.ok()
                         ? TreeExplainer::FromXgboostJson(*dump, m->package->preprocessor().width())
                         : StatusOr<std::unique_ptr<TreeExplainer>>(dump.status());
    if (explainer.ok()) {
      m->explainer = std::move(*explainer);
    } else if (options_.log) {
      options_.log("note: " + record.id + " is scored through XGBoost (" +
                   explainer.status().message() + ")");
    }
  }
  return std::shared_ptr<const LoadedModel>(std::move(m));
}

ReloadReport ModelStore::Check() {
  std::lock_guard check_lock(check_mu_);
  ReloadReport report;
  const std::shared_ptr<const ServingState> old = state();
  auto next = std::make_shared<ServingState>(*old);
  bool changed = false;

  if (registry::Registry* reg = OpenRegistry(report)) {
    // Champion: whatever is in production now.
    auto prod = reg->Get(options_.model_name + "/production");
    if (prod.ok() && (!old->champion || old->champion->id != prod->id)) {
      auto loaded = LoadModel(*prod);
      if (loaded.ok()) {
        next->champion = *loaded;
        changed = true;
        report.loaded.push_back("champion " + prod->id);
        if (options_.metrics != nullptr) options_.metrics->CountReload("model", true);
      } else {
        Note(report, "model", prod->id, loaded.status());
      }
    } else if (!prod.ok() && prod.status().code() != StatusCode::kNotFound) {
      Note(report, "model", options_.model_name + "/production", prod.status());
    } else if (!prod.ok() && old->champion) {
      report.errors.push_back(options_.model_name + " has no production version now; " +
                              old->champion->id + " keeps serving");
    }
    // Challenger: the configured reference, resolved again (it may be "<name>/latest").
    if (!options_.challenger_ref.empty()) {
      auto rec = reg->Get(options_.challenger_ref);
      if (rec.ok() && (!old->challenger || old->challenger->id != rec->id)) {
        auto loaded = LoadModel(*rec);
        if (loaded.ok()) {
          next->challenger = *loaded;
          changed = true;
          report.loaded.push_back("challenger " + rec->id);
          if (options_.metrics != nullptr) options_.metrics->CountReload("challenger", true);
        } else {
          Note(report, "challenger", rec->id, loaded.status());
        }
      } else if (!rec.ok()) {
        Note(report, "challenger", options_.challenger_ref, rec.status());
      }
    }
  }

  // Snapshot: the version CURRENT names.
  const fs::path online = options_.workspace.online();
  auto current = ReadCurrent(online);
  if (current.ok() && (!old->snapshot || old->snapshot->version() != *current)) {
    auto snap = features::LoadOnlineSnapshot(online);
    if (snap.ok()) {
      report.loaded.push_back("snapshot " + snap->version() + " (" + std::to_string(snap->rows()) +
                              " customers)");
      next->snapshot = std::make_shared<const features::OnlineSnapshot>(std::move(*snap));
      changed = true;
      if (options_.metrics != nullptr) options_.metrics->CountReload("snapshot", true);
    } else {
      Note(report, "snapshot", *current, snap.status());
    }
  } else if (!current.ok() && current.status().code() != StatusCode::kNotFound) {
    Note(report, "snapshot", "CURRENT", current.status());
  }

  if (!changed) return report;
  std::vector<std::string> warnings;
  next->champion_columns.clear();
  next->challenger_columns.clear();
  if (next->snapshot && next->champion) {
    next->champion_columns = MapColumns(*next->champion, *next->snapshot, warnings);
  }
  if (next->snapshot && next->challenger) {
    next->challenger_columns = MapColumns(*next->challenger, *next->snapshot, warnings);
  }
  for (const auto& w : warnings) {
    if (options_.log) options_.log("warning: " + w);
  }
  for (const auto& l : report.loaded) {
    if (options_.log) options_.log("loaded " + l);
  }
  {
    std::lock_guard lock(state_mu_);
    state_ = std::move(next);
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return report;
}

StatusOr<std::string> ModelStore::Rollback(const std::string& by, const std::string& reason) {
  {
    std::lock_guard check_lock(check_mu_);
    ReloadReport ignored;
    registry::Registry* reg = OpenRegistry(ignored);
    if (reg == nullptr) return UnavailableError("the registry could not be opened");
    ASSIGN_OR_RETURN(registry::ModelRecord restored,
                     reg->Rollback(options_.model_name, by, reason));
    if (options_.log) {
      options_.log("rollback of " + options_.model_name + " to " + restored.id + " by " + by);
    }
  }
  Check();
  const auto s = state();
  if (!s->champion) return InternalError("rolled back, but no champion is loaded");
  return s->champion->id;
}

}  // namespace riskpipe::serving
