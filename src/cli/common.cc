#include <chrono>
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "datamart/datamart.h"
#include "features/feature_query.h"
#include "quality/quality.h"

namespace riskpipe::cli {
namespace {
// Longer messages are cut (core/status.h, Excerpt): input quoted whole must not flood stderr.
constexpr size_t kMaxMessageBytes = 4000;
}  // namespace

std::optional<config::Project> LoadProjectOrReport(const GlobalFlags& flags) {
  auto project = config::LoadProject(flags.config_path);
  if (!project.ok()) {
    std::fprintf(stderr, "riskpipe: %s\n",
                 Excerpt(project.status().message(), kMaxMessageBytes).c_str());
    return std::nullopt;
  }
  return std::move(project).value();
}

int ReportFailure(const Status& status, int code) {
  std::fprintf(stderr, "riskpipe: %s\n", Excerpt(status.message(), kMaxMessageBytes).c_str());
  return code;
}

bool IsWriter(const std::string& command, const std::string& sub) {
  static const std::set<std::string> kWriters = {"synth",   "ingest",   "quality", "materialize",
                                                 "train",   "monitor",  "predict", "run",
                                                 "backfill", "validate"};
  if (kWriters.count(command) != 0) return true;
  if (command == "features") return sub == "build";
  if (command == "models") {
    return sub == "approve" || sub == "reject" || sub == "archive" || sub == "promote" ||
           sub == "rollback";
  }
  return false;
}

std::optional<int> LockWorkspace(const GlobalFlags& flags, const std::string& command,
                                 std::optional<WorkspaceLock>& lock) {
  auto project = config::LoadProject(flags.config_path);
  if (!project.ok()) return std::nullopt;
  WorkspaceLock::Options options;
  options.wait = std::chrono::milliseconds(static_cast<int64_t>(flags.wait_seconds * 1000));
  options.on_wait = [&](const std::string& who) {
    if (!flags.quiet) {
      std::fprintf(stderr, "riskpipe: waiting up to %g s for workspace %s (in use by %s)\n",
                   flags.wait_seconds, project->workspace.string().c_str(), who.c_str());
    }
  };
  // A killed ingest's month publication is completed from its staged files, which the
  // clean-up that follows would otherwise remove.
  options.before_cleanup = [&] {
    return datamart::Datamart(project->workspace.datamart()).RecoverPublishes().status();
  };
  auto taken = WorkspaceLock::Acquire(project->workspace, command, options);
  if (!taken.ok()) return ReportFailure(taken.status(), kExitFailed);
  lock.emplace(std::move(taken).value());
  return std::nullopt;
}

void RegisterCheckConfig(CLI::App& app) {
  app.add_subcommand("check-config",
                     "Validate the project file, its feature SQL and its expectation suites, and "
                     "print what it describes (exit 2 with the file, line and key of the first "
                     "problem)");
}

int RunCheckConfig(const GlobalFlags& global) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  // The same checks the steps run before they use the project's SQL text.
  if (project->features.defined()) {
    if (Status s = features::CheckFeatureSet(*project); !s.ok()) return ReportFailure(s, kExitUsage);
  }
  if (Status s = quality::CheckSuites(*project); !s.ok()) return ReportFailure(s, kExitUsage);
  std::printf("project %s\n  config     %s\n  workspace  %s\n", project->name.c_str(),
              project->config_path.c_str(), project->workspace.root().c_str());
  for (const config::Source& s : project->sources) {
    std::printf("  source %-22s %zu columns, date column %s, file %s\n", s.name.c_str(),
                s.columns.size(), s.date_column.c_str(), s.file.c_str());
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
