// The registry's lifecycle, references and loading. Publishing is in register.cc, the stage
// machine in stages.cc.

#include "registry/registry.h"

#include <cstdio>
#include <system_error>

#include "core/files.h"
#include "core/hash.h"
#include "core/json.h"
#include "registry/manifest.h"
#include "registry/recorded_manifest.h"

namespace riskpipe::registry {
namespace fs = std::filesystem;

namespace {

// The most characters a model name may have: it is a folder name and part of every id.
constexpr size_t kMaxNameLength = 64;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

Status BadReference(std::string_view ref) {
  return InvalidArgumentError("model reference '" + std::string(ref) +
                              "': expected NAME/VERSION, NAME/latest, NAME/production, latest "
                              "or production");
}

StatusOr<ModelRecord> Single(StatusOr<std::vector<ModelRecord>> found, const std::string& none) {
  if (!found.ok()) return found.status();
  if (found->empty()) return NotFoundError(none);
  return std::move(found->front());
}

}  // namespace

Status ValidateModelName(std::string_view name) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgumentError("model name '" + std::string(name) + "': " + std::string(why));
  };
  if (name.empty() || name.size() > kMaxNameLength) return bad("must have 1 to 64 characters");
  if (!IsAlnum(name[0])) return bad("must start with a letter or digit");
  for (char c : name) {
    if (!IsAlnum(c) && c != '_' && c != '-' && c != '.') {
      return bad("may hold only letters, digits, '_', '-' and '.'");
    }
  }
  if (name == "latest" || name == "production") return bad("is a reserved word");
  return OkStatus();
}

StatusOr<Registry> Registry::Open(const Workspace& workspace, Options options) {
  if (!options.clock) return InvalidArgumentError("registry " + workspace.string() + ": no clock");
  std::error_code ec;
  const Workspace root(fs::absolute(workspace.root(), ec));
  if (ec) return InternalError("registry " + workspace.string() + ": " + ec.message());
  metastore::Options meta_options;
  meta_options.clock = options.clock;
  ASSIGN_OR_RETURN(metastore::Metastore meta,
                   metastore::Metastore::Open(root.metastore(), meta_options));
  RETURN_IF_ERROR(MakeDirs(root.model_bank()));
  return Registry(root, std::move(meta), std::move(options));
}

Registry::Registry(Workspace workspace, metastore::Metastore meta, Options options)
    : workspace_(std::move(workspace)),
      model_bank_(workspace_.model_bank()),
      meta_(std::move(meta)),
      options_(std::move(options)) {}
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;
Registry::~Registry() = default;

void Registry::Warn(const std::string& message) const {
  if (options_.warn) {
    options_.warn(message);
  } else {
    std::fprintf(stderr, "riskpipe: warning: %s\n", message.c_str());
  }
}

void Registry::CrashPoint(std::string_view point) const {
  if (options_.crash_point) options_.crash_point(point);
}

ModelRecord Registry::ToRecord(const metastore::ModelRow& row) const {
  ModelRecord r;
  r.id = row.model_id;
  r.name = row.name;
  r.version = row.version;
  // The stage column has a CHECK constraint listing exactly the names ParseStage accepts.
  StatusOr<Stage> stage = ParseStage(row.stage);
  r.stage = stage.ok() ? *stage : Stage::kCandidate;
  r.family = row.family;
  r.run_id = row.run_id;
  r.created_by = row.created_by;
  r.registered_at = row.registered_at;
  r.metrics_json = row.metrics_json;
  r.path = model_bank_ / row.name / std::to_string(row.version);
  return r;
}

StatusOr<std::vector<ModelRecord>> Registry::List(std::string_view name,
                                                  std::optional<Stage> stage) {
  metastore::ModelFilter filter;
  filter.name = std::string(name);
  if (stage) filter.stage = std::string(StageName(*stage));
  filter.limit = 1 << 30;
  ASSIGN_OR_RETURN(const std::vector<metastore::ModelRow> rows, meta_.ListModels(filter));
  std::vector<ModelRecord> out;
  out.reserve(rows.size());
  for (const metastore::ModelRow& row : rows) out.push_back(ToRecord(row));
  return out;
}

StatusOr<ModelRecord> Registry::Get(std::string_view ref) {
  if (ref == "latest") {
    metastore::ModelFilter filter;
    filter.limit = 1;
    ASSIGN_OR_RETURN(const std::vector<metastore::ModelRow> rows, meta_.ListModels(filter));
    if (rows.empty()) return NotFoundError("no model registered yet in " + model_bank_.string());
    return ToRecord(rows.front());
  }
  if (ref == "production") {
    ASSIGN_OR_RETURN(const std::vector<ModelRecord> found, List("", Stage::kProduction));
    if (found.empty()) return NotFoundError("no model is in production");
    if (found.size() > 1) {
      std::string names;
      for (const ModelRecord& m : found) names += (names.empty() ? "" : ", ") + m.id;
      return InvalidArgumentError("model reference 'production' is ambiguous: " + names +
                                  " are in production; say NAME/production");
    }
    return found.front();
  }
  const size_t slash = ref.find('/');
  if (slash == std::string_view::npos) return BadReference(ref);
  const std::string name(ref.substr(0, slash));
  const std::string_view rest = ref.substr(slash + 1);
  if (!ValidateModelName(name).ok()) return BadReference(ref);
  if (rest == "latest") {
    return Single(List(name), "no version of model " + name + " is registered");
  }
  if (rest == "production") {
    return Single(List(name, Stage::kProduction), "model " + name + " has no production version");
  }
  if (rest.empty() || rest.size() > 18 || rest[0] == '0' ||
      rest.find_first_not_of("0123456789") != std::string_view::npos) {
    return BadReference(ref);
  }
  ASSIGN_OR_RETURN(const std::optional<metastore::ModelRow> row, meta_.FindModel(ref));
  if (!row) return NotFoundError("model " + std::string(ref) + " not found in the registry");
  return ToRecord(*row);
}

StatusOr<VerifiedPackage> Registry::VerifyPackage(const ModelRecord& model) {
  std::error_code ec;
  if (!fs::is_directory(model.path, ec)) {
    return DataLossError(model.id + ": package folder " + model.path.string() + " is missing");
  }
  // One read of MANIFEST: the bytes whose hash is compared below are the ones the files were
  // checked against.
  ASSIGN_OR_RETURN(const std::string manifest, ReadManifest(model.path, model.id));
  RETURN_IF_ERROR(VerifyManifestText(model.path, manifest, model.id).status());
  ASSIGN_OR_RETURN(const std::string metadata, ReadFile(model.path / "metadata.json"));
  const nlohmann::json meta = nlohmann::json::parse(metadata, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json* id = meta.is_object() && meta.contains("id") ? &meta["id"] : nullptr;
  if (id == nullptr || !id->is_string() || id->get<std::string>() != model.id) {
    return DataLossError(model.id + ": metadata.json does not name this model (\"id\": " +
                         (id == nullptr ? std::string("missing") : id->dump()) + ")");
  }
  // A MANIFEST rewritten together with the files it lists passes the checks above; only the
  // hash the metastore recorded when the registry itself wrote the MANIFEST tells it apart.
  ASSIGN_OR_RETURN(const std::vector<Event> history, History("", model.id));
  ASSIGN_OR_RETURN(const RecordedManifest recorded, ReplayManifest(history, model.id));
  const std::string actual = Sha256Hex(manifest);
  if (actual != recorded.sha256) {
    return DataLossError("model " + model.id + ": MANIFEST sha256 " + actual + " does not match " +
                         recorded.sha256 + " recorded at " + recorded.recorded_at);
  }
  return VerifiedPackage{model, actual, recorded.recorded_at, recorded.approval_event_id};
}

StatusOr<VerifiedPackage> Registry::Verify(std::string_view ref) {
  ASSIGN_OR_RETURN(const ModelRecord model, Get(ref));
  StatusOr<VerifiedPackage> verified = VerifyPackage(model);
  if (verified.ok() || verified.status().code() != StatusCode::kDataLoss) return verified;
  // Loading takes no lock. A package that fails may be in the middle of an AddFile (swapped in,
  // event not yet committed), or left so by one that died: under the write lock the first has
  // committed and the second can be undone, and then the verdict is final.
  auto restore = [&]() -> StatusOr<std::vector<metastore::ModelChange>> {
    RETURN_IF_ERROR(RestoreInterruptedAddFile(model));
    return std::vector<metastore::ModelChange>{};
  };
  if (const auto restored = meta_.ChangeModels(restore); !restored.ok()) {
    Warn(model.id + ": " + restored.status().message());
    return verified;
  }
  return VerifyPackage(model);
}

StatusOr<fs::path> Registry::VerifiedPath(std::string_view ref) {
  ASSIGN_OR_RETURN(const VerifiedPackage verified, Verify(ref));
  return verified.model.path;
}

StatusOr<VerifiedPackage> Registry::RestoreAndVerify(const ModelRecord& model) {
  RETURN_IF_ERROR(RestoreInterruptedAddFile(model));
  return VerifyPackage(model);
}

StatusOr<std::vector<Event>> Registry::History(std::string_view name, std::string_view id) {
  metastore::ModelEventFilter filter;
  filter.name = std::string(name);
  filter.model_id = std::string(id);
  return meta_.ListModelEvents(filter);
}

}  // namespace riskpipe::registry
