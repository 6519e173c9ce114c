// Publishing packages: staging folders, Register and AddFile. docs/registry.md explains why
// each step is where it is; the short version is in the comments below.

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <system_error>

#include "core/files.h"
#include "core/hash.h"
#include "core/json.h"
#include "registry/internal/fs_util.h"
#include "registry/manifest.h"
#include "registry/recorded_manifest.h"
#include "registry/registry.h"

namespace riskpipe::registry {
namespace fs = std::filesystem;
using internal::FsyncPath;

namespace {

constexpr std::string_view kStagingFolder = ".staging";
constexpr std::string_view kOrphanedFolder = ".orphaned";
constexpr std::string_view kMetadataFile = "metadata.json";
// The files every package has; AddFile may not replace them.
constexpr std::string_view kCoreFiles[] = {"metadata.json", "preprocess.json", "model.ubj",
                                           "model.json"};

bool IsVersionName(const std::string& s) {
  return !s.empty() && s.size() <= 18 && s[0] != '0' &&
         s.find_first_not_of("0123456789") == std::string::npos;
}

// Syncs `dir` and every folder below it, so the names of the files in them are durable.
Status SyncFolders(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> dirs = {dir};
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
  }
  if (ec) return InternalError("cannot list " + dir.string() + ": " + ec.message());
  for (const fs::path& d : dirs) RETURN_IF_ERROR(FsyncPath(d));
  return OkStatus();
}

Status CheckAddedFileName(std::string_view filename) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgumentError("add file '" + std::string(filename) + "': " + std::string(why));
  };
  if (filename.empty() || filename[0] == '.') return bad("needs a name not starting with '.'");
  for (char c : filename) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return bad("may hold only letters, digits, '_', '-' and '.'");
  }
  if (filename == kManifestFile) return bad("the registry writes MANIFEST itself");
  for (std::string_view core : kCoreFiles) {
    if (filename == core) return bad("a package's core files never change after registration");
  }
  return OkStatus();
}

// A folder name unique to this process and moment.
std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return std::to_string(::getpid()) + "-" + std::to_string(ns) + "-" + std::to_string(counter++);
}

// The pid in a staging folder's name "<name>-<pid>-<ns>-<counter>" (UniqueSuffix), 0 if none.
pid_t StagingOwner(const std::string& folder) {
  size_t end = folder.size();
  for (int dashes = 0; dashes < 2; ++dashes) {
    end = folder.rfind('-', end - 1);
    if (end == std::string::npos || end == 0) return 0;
  }
  const size_t begin = folder.rfind('-', end - 1);
  if (begin == std::string::npos) return 0;
  const std::string digits = folder.substr(begin + 1, end - begin - 1);
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return static_cast<pid_t>(std::stol(digits));
}

// The folders AddFile builds beside the package `model` ("<name>/.<version>.tmp-..."), which
// only one that died leaves behind: before its swap they hold the new package, after it the
// old one.
std::vector<fs::path> AddFileLeftovers(const ModelRecord& model) {
  const std::string prefix = "." + std::to_string(model.version) + ".tmp-";
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::directory_iterator(model.path.parent_path(), ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) == 0) found.push_back(it->path());
  }
  return found;
}

}  // namespace

Status Registry::RestoreInterruptedAddFile(const ModelRecord& model) {
  // An AddFile swaps the new package in before its event commits; one that died in between
  // left a live package whose MANIFEST the history never recorded, and the recorded package in
  // its sibling folder. Under the write lock that AddFile is surely dead, so putting the
  // recorded package back only undoes what never committed.
  const std::vector<fs::path> leftovers = AddFileLeftovers(model);
  if (leftovers.empty()) return OkStatus();
  ASSIGN_OR_RETURN(const std::vector<Event> history, History("", model.id));
  ASSIGN_OR_RETURN(const RecordedManifest recorded, ReplayManifest(history, model.id));
  const StatusOr<std::string> live = ReadManifest(model.path, model.id);
  if (live.ok() && Sha256Hex(*live) == recorded.sha256) return OkStatus();
  for (const fs::path& leftover : leftovers) {
    const StatusOr<std::string> kept = ReadManifest(leftover, leftover.string());
    if (!kept.ok() || Sha256Hex(*kept) != recorded.sha256 ||
        !VerifyManifestText(leftover, *kept, leftover.string()).ok()) {
      continue;
    }
    RETURN_IF_ERROR(internal::ExchangeFolders(leftover, model.path));
    RETURN_IF_ERROR(FsyncPath(model.path.parent_path()));
    Warn(model.id + ": its MANIFEST was not the one recorded at " + recorded.recorded_at +
         " (an add-file stopped before it committed); put back the recorded package from " +
         leftover.filename().string());
    if (!internal::RemoveTree(leftover)) Warn("cannot remove " + leftover.string());
    return OkStatus();
  }
  return OkStatus();
}

StatusOr<fs::path> Registry::NewStagingDir(std::string_view name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  const fs::path staging = model_bank_ / kStagingFolder;
  RETURN_IF_ERROR(MakeDirs(staging));
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - options_.stale_staging_age;
  for (auto it = fs::directory_iterator(staging, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::error_code time_ec;
    const auto touched = fs::last_write_time(it->path(), time_ec);
    const bool old = !time_ec && touched < cutoff;
    const pid_t owner = StagingOwner(it->path().filename().string());
    // A folder whose maker is gone (a killed train) is litter at once; one of a live process
    // (a concurrent in-process caller) only when it is old.
    if (!old && (owner == 0 || owner == ::getpid() || ProcessAlive(owner))) continue;
    if (internal::RemoveTree(it->path())) {
      Warn("removed stale staging folder " + it->path().string());
    }
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path dir = staging / (std::string(name) + "-" + UniqueSuffix());
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST) {
      return InternalError("cannot create " + dir.string() + ": " + std::strerror(errno));
    }
  }
  return InternalError("cannot create a unique folder in " + staging.string());
}

Status Registry::MoveAsideOrphans(const std::string& name, int64_t from_version) {
  // Called under the metastore write lock, when `from_version` - 1 is the highest catalogued
  // version: a numbered folder at or above it was renamed into place by a registration that
  // died before its commit. It was never in the catalog, so nothing can refer to it.
  const fs::path name_dir = model_bank_ / name;
  std::error_code ec;
  std::vector<fs::path> orphans;
  for (auto it = fs::directory_iterator(name_dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (IsVersionName(entry) && std::stoll(entry) >= from_version) orphans.push_back(it->path());
  }
  if (ec) return InternalError("cannot list " + name_dir.string() + ": " + ec.message());
  for (const fs::path& orphan : orphans) {
    const fs::path aside = model_bank_ / kOrphanedFolder /
                           (name + "-" + orphan.filename().string() + "-" + UniqueSuffix());
    RETURN_IF_ERROR(MakeDirs(aside.parent_path()));
    RETURN_IF_ERROR(internal::RenameNoReplace(orphan, aside));
    Warn("model_bank/" + name + "/" + orphan.filename().string() +
         " has no catalog row (a registration stopped before it committed); moved to " +
         aside.string());
  }
  return OkStatus();
}

StatusOr<ModelRecord> Registry::Register(const fs::path& staging_dir, std::string_view name,
                                         const RegisterInfo& info) {
  RETURN_IF_ERROR(ValidateModelName(name));
  const std::string what = "register " + std::string(name) + " from " + staging_dir.string();
  // Only folders from NewStagingDir: the rename then stays on one filesystem, and never moves a
  // folder the caller did not mean to give away.
  std::error_code ec, root_ec;
  const fs::path staging = fs::weakly_canonical(staging_dir, ec);
  const fs::path root = fs::weakly_canonical(model_bank_ / kStagingFolder, root_ec);
  if (ec || root_ec || staging.parent_path() != root || fs::is_symlink(staging_dir, ec)) {
    return InvalidArgumentError(what + ": not a folder from NewStagingDir (" + root.string() + ")");
  }
  if (!fs::is_directory(staging, ec)) return NotFoundError(what + ": no such folder");
  StatusOr<std::string> meta_text = ReadFile(staging / kMetadataFile);
  if (!meta_text.ok()) return InvalidArgumentError(what + ": metadata.json missing");
  nlohmann::ordered_json metadata = nlohmann::ordered_json::parse(*meta_text, nullptr, false);
  if (!metadata.is_object()) {
    return InvalidArgumentError(what + ": metadata.json is not a JSON object");
  }
  if (!fs::is_regular_file(staging / "preprocess.json", ec)) {
    return InvalidArgumentError(what + ": preprocess.json missing");
  }
  if (!fs::is_regular_file(staging / "model.ubj", ec) &&
      !fs::is_regular_file(staging / "model.json", ec)) {
    return InvalidArgumentError(what + ": model.ubj or model.json missing");
  }
  fs::remove(staging / kManifestFile, ec);  // A stale one would describe other bytes.
  ASSIGN_OR_RETURN(const std::vector<std::string> files, ListPackageFiles(staging));
  // Hash and sync the big files before taking the write lock, which other registrations wait
  // for; only metadata.json changes under the lock.
  std::vector<ManifestEntry> entries;
  for (const std::string& file : files) {
    if (file == kMetadataFile) continue;
    ASSIGN_OR_RETURN(std::string sha, Sha256File(staging / file));
    RETURN_IF_ERROR(FsyncPath(staging / file));
    entries.push_back({file, std::move(sha)});
  }

  const metastore::NewModel row{std::string(name), info.family, info.run_id, info.created_by,
                                info.metrics_json};
  fs::path published_dir;
  auto publish = [&](int64_t version, const std::string& at) -> StatusOr<std::string> {
    const fs::path name_dir = model_bank_ / std::string(name);
    const bool new_name_dir = !fs::exists(name_dir, ec);
    RETURN_IF_ERROR(MakeDirs(name_dir));
    RETURN_IF_ERROR(MoveAsideOrphans(std::string(name), version));
    metadata["id"] = std::string(name) + "/" + std::to_string(version);
    metadata["name"] = std::string(name);
    metadata["version"] = version;
    metadata["registered_at"] = at;
    const std::string metadata_out = metadata.dump(2) + "\n";
    RETURN_IF_ERROR(WriteFileAtomic(staging / kMetadataFile, metadata_out));
    std::vector<ManifestEntry> all = entries;
    all.push_back({std::string(kMetadataFile), Sha256Hex(metadata_out)});
    const std::string manifest = FormatManifest(all);
    RETURN_IF_ERROR(WriteFileAtomic(staging / kManifestFile, manifest));
    RETURN_IF_ERROR(SyncFolders(staging));
    const fs::path dest = name_dir / std::to_string(version);
    RETURN_IF_ERROR(internal::RenameNoReplace(staging, dest));
    published_dir = dest;
    RETURN_IF_ERROR(FsyncPath(name_dir));
    if (new_name_dir) RETURN_IF_ERROR(FsyncPath(model_bank_));
    CrashPoint("renamed");
    nlohmann::json details = {
        {"manifest_sha256", Sha256Hex(manifest)}, {"files", all.size()}, {"family", info.family}};
    if (info.run_id != 0) details["run_id"] = info.run_id;
    return details.dump();
  };
  StatusOr<metastore::ModelRow> registered = meta_.RegisterModel(row, publish);
  if (!registered.ok()) {
    // Not committed: take the package out of sight again. Should that fail, the next
    // registration of this name moves it to .orphaned (see MoveAsideOrphans).
    if (!published_dir.empty() && ::rename(published_dir.c_str(), staging.c_str()) != 0) {
      Warn(what + ": cannot move " + published_dir.string() +
           " back to staging: " + std::strerror(errno));
    }
    return registered.status();
  }
  return ToRecord(*registered);
}

Status Registry::AddFile(std::string_view id, std::string_view filename, std::string_view bytes,
                         std::string_view actor) {
  RETURN_IF_ERROR(CheckAddedFileName(filename));
  if (actor.empty()) return InvalidArgumentError("add file to " + std::string(id) + ": no actor");
  const std::string file(filename);
  fs::path live, replacement;  // After the swap `replacement` holds the old package.
  auto decide = [&]() -> StatusOr<std::vector<metastore::ModelChange>> {
    ASSIGN_OR_RETURN(const ModelRecord model, Get(id));
    ASSIGN_OR_RETURN(const VerifiedPackage old, RestoreAndVerify(model));
    const std::string& old_manifest_sha = old.manifest_sha256;
    ASSIGN_OR_RETURN(const std::string old_text, ReadFile(model.path / kManifestFile));
    ASSIGN_OR_RETURN(std::vector<ManifestEntry> entries, ParseManifest(old_text, model.id));
    // Under the write lock no other AddFile runs: folders left by a crashed one are stale.
    for (const fs::path& leftover : AddFileLeftovers(model)) internal::RemoveTree(leftover);
    const fs::path tmp = TempPathFor(model.path);
    RETURN_IF_ERROR(MakeDirs(tmp));
    replacement = tmp;
    bool replaced = false;
    std::vector<ManifestEntry> next;
    for (ManifestEntry& e : entries) {
      if (e.path == file) {
        replaced = true;
        continue;
      }
      RETURN_IF_ERROR(internal::LinkOrCopy(model.path / e.path, tmp / e.path));
      next.push_back(std::move(e));
    }
    RETURN_IF_ERROR(WriteFileAtomic(tmp / file, bytes));
    const std::string sha = Sha256Hex(bytes);
    next.push_back({file, sha});
    const std::string manifest = FormatManifest(std::move(next));
    RETURN_IF_ERROR(WriteFileAtomic(tmp / kManifestFile, manifest));
    RETURN_IF_ERROR(SyncFolders(tmp));
    RETURN_IF_ERROR(internal::ExchangeFolders(tmp, model.path));
    live = model.path;
    RETURN_IF_ERROR(FsyncPath(model.path.parent_path()));
    CrashPoint("swapped");
    const nlohmann::json details = {{"file", file},
                                    {"sha256", sha},
                                    {"bytes", bytes.size()},
                                    {"replaced", replaced},
                                    {"manifest_sha256", Sha256Hex(manifest)},
                                    {"previous_manifest_sha256", old_manifest_sha}};
    return std::vector<metastore::ModelChange>{
        {model.id, std::string(kEventFileAdded), "", "", std::string(actor), "", details.dump()}};
  };
  StatusOr<std::vector<Event>> changed = meta_.ChangeModels(decide);
  if (!changed.ok() && !live.empty()) {
    // Not committed: put the old package back, so files and history agree.
    const Status undo = internal::ExchangeFolders(replacement, live);
    if (!undo.ok()) Warn("add file " + file + " to " + std::string(id) + ": " + undo.message());
  }
  if (!replacement.empty() && !internal::RemoveTree(replacement)) {
    Warn("cannot remove " + replacement.string());
  }
  return changed.status();
}

}  // namespace riskpipe::registry
