#pragma once
// The workspace: the one folder that holds a project's datamart, metastore, model bank, online
// snapshots, reports and scratch space. This type is the only place that knows the layout
// (docs/architecture.md, "Workspace on disk"); every module asks it for a path instead of
// joining a string literal to the root.
//
// It holds paths only: the handles opened on them (datamart::Datamart, metastore::Metastore,
// registry::Registry) belong to modules above core, so the caller that opens them (a CLI
// command, a pipeline run) owns them and passes them down.
//
// A value type; thread-safe for concurrent reads.

#include <filesystem>
#include <string>
#include <utility>

namespace riskpipe {

class Workspace {
 public:
  Workspace() = default;
  // Not explicit: any path can be taken as a workspace root (tests pass temporary folders).
  Workspace(std::filesystem::path root) : root_(std::move(root)) {}  // NOLINT

  const std::filesystem::path& root() const { return root_; }
  std::string string() const { return root_.string(); }
  bool empty() const { return root_.empty(); }

  // Source CSVs as delivered (`riskpipe synth` writes here).
  std::filesystem::path raw() const { return root_ / "raw"; }
  // The Hive-partitioned Parquet datamart: <layer>/<table>/snapshot_date=YYYY-MM-DD/.
  std::filesystem::path datamart() const { return root_ / "datamart"; }
  // The SQLite metastore: run log, registry catalog, approvals, alerts.
  std::filesystem::path metastore() const { return root_ / "metastore.sqlite"; }
  // Model packages: model_bank/<model_name>/<version>/.
  std::filesystem::path model_bank() const { return root_ / "model_bank"; }
  // Online snapshots and their CURRENT pointer.
  std::filesystem::path online() const { return root_ / "online"; }
  // Dashboard, business report and PDF.
  std::filesystem::path reports() const { return root_ / "reports"; }
  // The Markdown data-quality reports, one per table and month.
  std::filesystem::path quality_reports() const { return reports() / "quality"; }
  // Training checkpoints, one folder per training run.
  std::filesystem::path checkpoints() const { return root_ / "checkpoints"; }
  // Monitoring's cached development reference of each model.
  std::filesystem::path monitoring_reference() const { return root_ / "monitoring" / "reference"; }
  // Scratch space of running commands (ingest's month spill files); never read across runs.
  // Emptied by each writer when it takes the workspace lock.
  std::filesystem::path tmp() const { return root_ / "tmp"; }
  // The file the one writer locks (core/workspace_lock.h); it names the holder.
  std::filesystem::path lock_file() const { return root_ / "riskpipe.lock"; }

  // A path the user gave relative to the workspace (log folders), or an absolute one as is.
  std::filesystem::path Resolve(const std::filesystem::path& p) const {
    return p.is_absolute() ? p : root_ / p;
  }

  friend bool operator==(const Workspace&, const Workspace&) = default;

 private:
  std::filesystem::path root_;
};

}  // namespace riskpipe
