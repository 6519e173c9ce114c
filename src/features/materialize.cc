#include "features/materialize.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "core/files.h"
#include "core/json.h"
#include "datamart/datamart.h"
#include "features/feature_query.h"
#include "features/internal/online_rows.h"
#include "features/internal/online_sql.h"
#include "features/snapshot_file.h"

namespace riskpipe::features {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Temporary snapshot folders start with this prefix (never a version: versions start with a
// digit); ones older than kStaleTempAge were left by a crashed run and are removed. An hour is
// far longer than any materialize runs.
constexpr char kTempPrefix[] = ".tmp-";
constexpr auto kStaleTempAge = std::chrono::hours(1);

std::string_view KindName(config::ViewKind kind) {
  switch (kind) {
    case config::ViewKind::kSpine:
      return "spine";
    case config::ViewKind::kLatest:
      return "latest";
    case config::ViewKind::kAggregate:
      return "aggregate";
  }
  return "unknown";
}

// "2025-01-31T12:00:00.123456Z" and the version "20250131T120000.123456Z_asof-2024-12-31":
// creation time first, fixed width, so versions sort in creation order.
std::pair<std::string, std::string> CreatedAtAndVersion(Date as_of) {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char frac[8];
  std::snprintf(frac, sizeof(frac), "%06lld", static_cast<long long>(micros % 1'000'000));
  char iso[32], compact[32];
  std::strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
  std::strftime(compact, sizeof(compact), "%Y%m%dT%H%M%S", &tm);
  return {std::string(iso) + "." + frac + "Z",
          std::string(compact) + "." + frac + "Z_asof-" + as_of.ToString()};
}

// fsync a file or folder so a rename that publishes it is durable.
Status Fsync(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InternalError("cannot open " + path.string() + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return InternalError("cannot fsync " + path.string() + ": " + std::strerror(errno));
  return OkStatus();
}

json ManifestJson(const config::Project& project, const MaterializeSummary& s,
                  const std::string& created_at, const internal::OnlineRows& rows,
                  SnapshotFormat format, const SnapshotFileInfo& file) {
  const config::FeatureSet& set = project.features;
  json views = json::array();
  std::unordered_map<std::string, std::string> view_of;
  for (const auto& v : set.views) {
    json names = json::array();
    for (const auto& f : v.features) {
      names.push_back(f.name);
      view_of[f.name] = v.name;
    }
    json view = {{"name", v.name},
                 {"kind", KindName(v.kind)},
                 {"source", v.kind == config::ViewKind::kSpine ? set.spine.source : v.source},
                 {"features", names}};
    if (v.kind != config::ViewKind::kSpine) view["event_time"] = v.event_time;
    if (v.max_age_days > 0) view["max_age_days"] = v.max_age_days;
    if (v.window_days > 0) view["window_days"] = v.window_days;
    if (v.strict) view["strict"] = true;
    views.push_back(view);
  }
  json features = json::array();
  for (size_t i = 0; i < rows.feature_types.size(); ++i) {
    const std::string& name = rows.table.columns[i + 1].name;
    const std::string& type = rows.feature_types[i];
    features.push_back({{"name", name},
                        {"type", type},
                        {"view", view_of[name]},
                        {"numeric", IsNumericType(type)}});
  }
  return {
      {"format", format == SnapshotFormat::kBinary ? kSnapshotFormatBinary : kSnapshotFormatCsv},
      {"version", s.version},
      {"as_of", s.as_of.ToString()},
      {"created_at", created_at},
      {"project", project.name},
      {"feature_set_version", set.version},
      {"spine", {{"source", set.spine.source}, {"key", set.spine.key}, {"date", set.spine.date}}},
      {"entity", {{"name", rows.table.columns[0].name}, {"type", rows.entity_type}}},
      {"views", views},
      {"features", features},
      {"rows", s.rows},
      {"file", format == SnapshotFormat::kBinary ? kSnapshotBin : kSnapshotCsv},
      {"bytes", file.bytes},
      {"sha256", file.sha256},
      {"duckdb", db::LibraryVersion()}};
}

// Writes the data file and manifest.json into `tmp`.
Status WriteSnapshot(const config::Project& project, const internal::OnlineRows& rows,
                     SnapshotFormat format, const fs::path& tmp, const std::string& created_at,
                     const MaterializeSummary& s) {
  StatusOr<SnapshotFileInfo> file =
      format == SnapshotFormat::kBinary
          ? WriteSnapshotBinary(rows.table, tmp / kSnapshotBin)
          : WriteSnapshotCsv(rows.table, !IsNumericType(rows.entity_type), tmp / kSnapshotCsv);
  RETURN_IF_ERROR(file.status());
  const json manifest = ManifestJson(project, s, created_at, rows, format, *file);
  return WriteFileAtomic(tmp / kSnapshotManifest, manifest.dump(2) + "\n");
}

// Deletes snapshots beyond the `keep` newest besides `current`, and stale temporaries.
std::vector<std::string> Prune(const fs::path& snapshots, const std::string& current, int keep) {
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kTempPrefix)) {
      const auto age = fs::file_time_type::clock::now() - entry.last_write_time(ec);
      if (!ec && age > kStaleTempAge) fs::remove_all(entry.path(), ec);
      continue;
    }
    if (entry.is_directory(ec) && name != current && !name.starts_with(".")) {
      versions.push_back(name);
    }
  }
  std::sort(versions.rbegin(), versions.rend());
  std::vector<std::string> pruned;
  for (size_t i = static_cast<size_t>(keep); i < versions.size(); ++i) {
    if (fs::remove_all(snapshots / versions[i], ec) > 0 && !ec) pruned.push_back(versions[i]);
  }
  return pruned;
}

// The latest decision date of the spine in silver.
StatusOr<Date> LatestSpineDate(const config::Project& project, const datamart::Datamart& mart,
                               db::Connection& con) {
  ASSIGN_OR_RETURN(std::string spine, SpineSql(project, mart, nullptr, nullptr));
  ASSIGN_OR_RETURN(db::Table t, con.Query("SELECT max(" + std::string(kDecisionDate) + ") FROM (" +
                                          spine + ")"));
  const auto* latest = std::get_if<Date>(&t.rows[0][0]);
  if (latest == nullptr) {
    return FailedPreconditionError("feature spine " + project.features.spine.source +
                                   " has no dated events; nothing to materialize");
  }
  return *latest;
}

}  // namespace

StatusOr<MaterializeSummary> Materialize(const config::Project& project, db::Connection& con,
                                         const MaterializeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.keep < 0) {
    return InvalidArgumentError("materialize: keep must be >= 0, got " +
                                std::to_string(options.keep));
  }
  const datamart::Datamart mart(project.workspace.datamart());
  RETURN_IF_ERROR(ValidateFeatures(project, mart, con));
  MaterializeSummary s;
  if (options.as_of) {
    s.as_of = *options.as_of;
  } else {
    ASSIGN_OR_RETURN(s.as_of, LatestSpineDate(project, mart, con));
  }
  ASSIGN_OR_RETURN(const internal::OnlineSql sql, internal::OnlineSqlOf(project, mart, s.as_of));
  ASSIGN_OR_RETURN(const internal::OnlineRows rows,
                   internal::QueryOnlineRows(project, con, sql, s.as_of));
  s.rows = static_cast<int64_t>(rows.table.rows);
  if (s.rows == 0) {
    return FailedPreconditionError("feature spine " + project.features.spine.source +
                                   " has no event on or before " + s.as_of.ToString() +
                                   "; nothing to materialize");
  }
  s.features = rows.table.columns.size() - 1;

  const fs::path online = project.workspace.online();
  const fs::path snapshots = online / kSnapshotsDir;
  RETURN_IF_ERROR(MakeDirs(snapshots));
  auto [created_at, version] = CreatedAtAndVersion(s.as_of);
  const std::string base = version;
  for (int n = 1; fs::exists(snapshots / version); ++n) version = base + "-" + std::to_string(n);
  s.version = version;
  s.dir = snapshots / version;
  const fs::path tmp = snapshots / (kTempPrefix + version + "-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  RETURN_IF_ERROR(MakeDirs(tmp));
  Status written = WriteSnapshot(project, rows, options.format, tmp, created_at, s);
  if (written.ok()) written = Fsync(tmp);
  if (written.ok() && ::rename(tmp.c_str(), s.dir.c_str()) != 0) {
    written = InternalError("cannot rename " + tmp.string() + " to " + s.dir.string() + ": " +
                            std::strerror(errno));
  }
  if (!written.ok()) {
    fs::remove_all(tmp, ec);
    return written;
  }
  RETURN_IF_ERROR(Fsync(snapshots));
  RETURN_IF_ERROR(WriteFileAtomic(online / kCurrentFile, version + "\n"));
  s.pruned = Prune(snapshots, version, options.keep);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace riskpipe::features
