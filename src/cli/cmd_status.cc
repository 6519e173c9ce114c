#include <cstdio>

#include "cli/commands.h"
#include "metastore/metastore.h"

namespace riskpipe::cli {
namespace {

const char* StatusText(metastore::RunStatus s) {
  switch (s) {
    case metastore::RunStatus::kRunning: return "running";
    case metastore::RunStatus::kSucceeded: return "ok";
    case metastore::RunStatus::kFailed: return "FAILED";
  }
  return "?";
}

}  // namespace

void RegisterStatus(CLI::App& app, StatusFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "status", "Show the run log: recent runs, their steps, rows in/out/quarantined, timings "
                "and failures");
  cmd->add_option("-n,--limit", flags.limit, "How many recent runs")->default_val(10);
  cmd->add_option("--run", flags.run_id, "Show every step of this run id");
}

int RunStatus(const GlobalFlags& global, const StatusFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  auto meta = metastore::Metastore::Open(project->workspace.metastore());
  if (!meta.ok()) return ReportFailure(meta.status());
  auto runs = meta->ListRuns(flags.limit);
  if (!runs.ok()) return ReportFailure(runs.status());
  if (runs->empty()) {
    std::printf("no runs recorded yet in %s\n", (project->workspace.metastore()).c_str());
    return kExitOk;
  }
  for (const auto& run : *runs) {
    if (flags.run_id != 0 && run.run_id != flags.run_id) continue;
    std::printf("run %lld  %-8s %-8s started %s  finished %s%s%s\n",
                static_cast<long long>(run.run_id), run.command.c_str(), StatusText(run.status),
                run.started_at.c_str(), run.finished_at.empty() ? "-" : run.finished_at.c_str(),
                run.error.empty() ? "" : "  error: ", run.error.c_str());
    metastore::StepFilter filter;
    filter.run_id = run.run_id;
    if (flags.run_id == 0) filter.step = "ingest";
    auto steps = meta->ListSteps(filter);
    if (!steps.ok()) return ReportFailure(steps.status());
    for (auto it = steps->rbegin(); it != steps->rend(); ++it) {
      std::printf("    %-16s %-22s %-10s %-6s in %9lld out %9lld quarantined %7lld %7.2fs%s%s\n",
                  it->step.c_str(), it->table_name.c_str(),
                  it->partition.empty() ? "(all)" : it->partition.c_str(), StatusText(it->status),
                  static_cast<long long>(it->rows_in), static_cast<long long>(it->rows_out),
                  static_cast<long long>(it->rows_quarantined), it->seconds,
                  it->error.empty() ? "" : "  error: ", it->error.c_str());
    }
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
