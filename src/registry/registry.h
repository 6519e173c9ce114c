#pragma once
// The model registry: packages on disk under <workspace>/model_bank/<name>/<version>/ and their
// catalog and append-only history in <workspace>/metastore.sqlite. A package is published
// whole (staged, MANIFEST written, fsynced, renamed into place) and verified against its
// MANIFEST whenever it is loaded. docs/registry.md has the stage machine, the file formats and
// the crash-safety argument. Thread-safety: a Registry owns one metastore connection; use one
// per thread. Any number of processes may use one workspace at once: every change takes the
// metastore's write lock.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/workspace.h"
#include "metastore/metastore.h"
#include "registry/stage.h"

namespace riskpipe::registry {

// A registered model version as the catalog holds it.
struct ModelRecord {
  std::string id;  // "<name>/<version>", e.g. "lending_pd/3".
  std::string name;
  int64_t version = 0;
  Stage stage = Stage::kCandidate;
  std::string family;
  int64_t run_id = 0;  // 0 when unknown.
  std::string created_by;
  std::string registered_at;        // UTC ISO-8601 with milliseconds.
  std::string metrics_json = "{}";  // Summary metrics for the catalog, a JSON object.
  std::filesystem::path path;       // The package folder (absolute when the workspace is).
};

// What the trainer knows about a package beyond its files.
struct RegisterInfo {
  int64_t run_id = 0;                   // The riskpipe run that trained it; 0 when none.
  std::string created_by = "riskpipe";  // Actor of the "registered" event; non-empty.
  std::string metrics_json = "{}";      // A JSON object, e.g. {"oot_auc":0.87}.
  std::string family;                   // E.g. "xgboost", "logistic".
};

// Which version of a name was in production at an instant, and on whose approval.
struct ProductionInfo {
  ModelRecord model;              // As catalogued now; its stage may have changed since.
  Event entered;                  // The "promoted" or "restored" event that put it there.
  std::optional<Event> approval;  // The last "approved" event of the version before that.
};

// A package that passed verification: its files match its MANIFEST, and the MANIFEST's own
// bytes hash to the value the metastore recorded for this version (recorded_manifest.h).
struct VerifiedPackage {
  ModelRecord model;
  std::string manifest_sha256;    // sha256 of the MANIFEST file's bytes, as recorded.
  std::string recorded_at;        // E.g. "registration (event 12) and approval (event 17)".
  int64_t approval_event_id = 0;  // The approval of exactly these bytes; 0 when none.
};

struct Options {
  // The source of "now" for event and registration timestamps. Tests inject a fixed clock.
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
  // Receives warnings (an orphaned package moved aside, a stale staging folder removed).
  // Null: print "riskpipe: warning: ..." on stderr.
  std::function<void(const std::string&)> warn;
  // Staging folders untouched for longer than this are removed by NewStagingDir (one day:
  // far longer than writing a package takes).
  std::chrono::hours stale_staging_age{24};
  // Test seam: called at named points ("renamed" after a package is renamed into place and
  // before its catalog row commits; "swapped" likewise in AddFile) to simulate a crash there.
  std::function<void(std::string_view point)> crash_point;
};

class Registry {
 public:
  // Opens (creating when missing) the metastore and model_bank of `workspace`. Errors as
  // metastore::Metastore::Open, Internal when model_bank cannot be created.
  static StatusOr<Registry> Open(const Workspace& workspace, Options options = {});
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  ~Registry();

  const std::filesystem::path& model_bank() const { return model_bank_; }
  // The metastore this registry's catalog lives in, for callers that also read or write the
  // run log or alerts in the same workspace (one open handle instead of a second one).
  metastore::Metastore& metastore() { return meta_; }

  // ---- Publishing (register.cc) ----

  // A new empty folder model_bank/.staging/<name>-<unique>/ for the trainer to write a package
  // into, then pass to Register. Removes the staging folders of processes that are gone (a
  // killed train) and any older than stale_staging_age.
  // InvalidArgument for a bad model name (see Register).
  StatusOr<std::filesystem::path> NewStagingDir(std::string_view name);

  // Publishes the package in `staging_dir` (from NewStagingDir) as the next version of `name`
  // and records it as a candidate. The folder must hold metadata.json (a JSON object),
  // preprocess.json and model.ubj or model.json, and only regular files. Register sets "id",
  // "name", "version" and "registered_at" in metadata.json (other fields are kept), writes the
  // MANIFEST, fsyncs, renames the folder to model_bank/<name>/<version> and commits the
  // catalog row and a "registered" event. InvalidArgument for a name that is not 1-64 of
  // [A-Za-z0-9_.-] starting alphanumeric (or is "latest"/"production"), a folder outside
  // .staging, a missing or malformed file, bad metrics_json; Unavailable when the metastore
  // stayed locked; Internal on I/O errors. On failure nothing is published.
  StatusOr<ModelRecord> Register(const std::filesystem::path& staging_dir, std::string_view name,
                                 const RegisterInfo& info);

  // Adds (or replaces) the file `filename` of a verified package, e.g. validation.json from
  // the validation gate, rewriting its MANIFEST, and records a "file_added" event by `actor`.
  // The package folder is swapped whole, so readers see the old or the new package. Refuses
  // (InvalidArgument) MANIFEST, the files Register requires and names that are not one plain
  // file name; NotFound for an unknown id; DataLoss when the package fails verification.
  Status AddFile(std::string_view id, std::string_view filename, std::string_view bytes,
                 std::string_view actor = "riskpipe");

  // Records the validation gate's verdict on version `id` as a "validated" event by `actor`
  // (no stage change); `summary` becomes the event's reason and `details_json` (a JSON object)
  // its details. NotFound for an unknown id, InvalidArgument for bad JSON or no actor.
  Status RecordValidation(std::string_view id, bool passed, std::string_view summary,
                          std::string_view details_json,
                          std::string_view actor = "riskpipe validate");

  // ---- Finding and loading (registry.cc) ----

  // Resolves a reference: "<name>/<version>"; "<name>/latest" (its highest version);
  // "latest" (the most recently registered version of any name); "<name>/production";
  // "production" (the production version, when exactly one name has one). NotFound when
  // nothing matches, InvalidArgument for a malformed or ambiguous reference.
  StatusOr<ModelRecord> Get(std::string_view ref);
  // Get, then checks the package against its MANIFEST, that metadata.json names the same id,
  // and that the MANIFEST file's sha256 is the one the version's history recorded (at
  // registration, at each added file, at approval and promotion), so a package whose files
  // and MANIFEST were rewritten together is refused too. DataLoss naming the file and the
  // expected/actual hashes for a tampered file; "model <id>: MANIFEST sha256 <actual> does not
  // match <recorded> recorded at approval (event 17)" for a rewritten MANIFEST; DataLoss for
  // a history that contradicts itself. Takes no lock unless the package fails: then it checks
  // again under the metastore write lock, after an AddFile in flight has committed, and after
  // putting back the recorded package an AddFile that died before its commit kept beside it
  // (a warning says so).
  StatusOr<VerifiedPackage> Verify(std::string_view ref);
  // Verify; returns the package folder. Every loader (batch inference, validation,
  // monitoring, reports, serving) goes through here.
  StatusOr<std::filesystem::path> VerifiedPath(std::string_view ref);
  // Catalog rows, most recently registered first; empty name / nullopt stage match all.
  StatusOr<std::vector<ModelRecord>> List(std::string_view name = "",
                                          std::optional<Stage> stage = std::nullopt);
  // The history of one version (`id` non-empty) or of every version of `name` (or of all
  // models when both are empty), oldest first.
  StatusOr<std::vector<Event>> History(std::string_view name, std::string_view id = "");

  // ---- Governance (stages.cc): every change appends events; `by` and `reason` must be
  // non-empty (InvalidArgument). FailedPrecondition when the model's stage does not allow
  // the change; DataLoss when its package fails verification. Each returns the record after.

  // candidate -> approved: the recorded approval promotion requires.
  StatusOr<ModelRecord> Approve(std::string_view ref, std::string_view by, std::string_view reason);
  // candidate or approved -> rejected.
  StatusOr<ModelRecord> Reject(std::string_view ref, std::string_view by, std::string_view reason);
  // approved -> production. Requires a recorded approval and a validation.json (from
  // `riskpipe validate`) whose top-level "passed" is true, unless `override_reason` is given
  // (it is recorded). The previous production version of the name goes back to approved
  // (event "demoted"), so a rollback can return to it.
  StatusOr<ModelRecord> Promote(std::string_view ref, std::string_view by,
                                std::string_view override_reason = "");
  // The current production version of `name` goes back to approved (or to rejected when
  // `reject_current`) and the previous production version, from the history, returns to
  // production; versions archived or rejected since are skipped. Returns the restored one.
  StatusOr<ModelRecord> Rollback(std::string_view name, std::string_view by,
                                 std::string_view reason, bool reject_current = false);
  // Any stage but archived -> archived (a production version leaves production, leaving none).
  StatusOr<ModelRecord> Archive(std::string_view ref, std::string_view by, std::string_view reason);

  // The version of `name` in production at `at`, with its approval, or nullopt for none.
  StatusOr<std::optional<ProductionInfo>> ProductionAt(std::string_view name,
                                                       std::chrono::system_clock::time_point at);

 private:
  Registry(Workspace workspace, metastore::Metastore meta, Options options);
  ModelRecord ToRecord(const metastore::ModelRow& row) const;
  // The checks of Verify on a catalogued package, without any repair (registry.cc).
  StatusOr<VerifiedPackage> VerifyPackage(const ModelRecord& model);
  // Under the metastore write lock (inside ChangeModels): puts back the recorded package an
  // interrupted AddFile left beside `model`, when the live one's MANIFEST is unrecorded
  // (register.cc), then VerifyPackage.
  StatusOr<VerifiedPackage> RestoreAndVerify(const ModelRecord& model);
  Status RestoreInterruptedAddFile(const ModelRecord& model);
  void Warn(const std::string& message) const;
  void CrashPoint(std::string_view point) const;
  Status MoveAsideOrphans(const std::string& name, int64_t from_version);
  StatusOr<ModelRecord> ChangeStage(std::string_view ref, std::string_view by,
                                    std::string_view reason, std::string_view event,
                                    std::initializer_list<Stage> from, Stage to);

  Workspace workspace_;
  std::filesystem::path model_bank_;
  metastore::Metastore meta_;
  Options options_;
};

// InvalidArgument unless `name` can name a model (see Register).
Status ValidateModelName(std::string_view name);

}  // namespace riskpipe::registry
