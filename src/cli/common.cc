#include <cstdio>

#include "cli/commands.h"

namespace riskpipe::cli {

std::optional<config::Project> LoadProjectOrReport(const GlobalFlags& flags) {
  auto project = config::LoadProject(flags.config_path);
  if (!project.ok()) {
    std::fprintf(stderr, "riskpipe: %s\n", project.status().message().c_str());
    return std::nullopt;
  }
  return std::move(project).value();
}

int ReportFailure(const Status& status, int code) {
  std::fprintf(stderr, "riskpipe: %s\n", status.message().c_str());
  return code;
}

void RegisterCheckConfig(CLI::App& app) {
  app.add_subcommand("check-config",
                     "Validate the project file and print what it describes (exit 2 with the "
                     "key and line of the first problem)");
}

int RunCheckConfig(const GlobalFlags& global) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  std::printf("project %s\n  config     %s\n  workspace  %s\n", project->name.c_str(),
              project->config_path.c_str(), project->workspace.root().c_str());
  for (const config::Source& s : project->sources) {
    std::printf("  source %-22s %zu columns, date column %s, file %s\n", s.name.c_str(),
                s.columns.size(), s.date_column.c_str(), s.file.c_str());
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
