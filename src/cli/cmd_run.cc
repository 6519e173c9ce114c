// riskpipe run / backfill: the pipeline runner (docs/pipeline.md).

#include <cstdio>

#include "cli/commands.h"
#include "core/progress.h"
#include "pipeline/pipeline.h"

namespace riskpipe::cli {
namespace {

std::string StepList() {
  std::string s;
  for (const auto& d : pipeline::Steps()) {
    s += "  " + d.name + std::string(d.name.size() < 12 ? 12 - d.name.size() : 1, ' ') + d.what;
    if (!d.deps.empty()) {
      s += " (after ";
      for (size_t i = 0; i < d.deps.size(); ++i) s += (i ? ", " : "") + d.deps[i];
      s += ")";
    }
    s += "\n";
  }
  return s;
}

void AddCommon(CLI::App* cmd, RunFlags& flags) {
  cmd->add_flag("--force", flags.force, "Redo steps even when their inputs are unchanged");
  cmd->add_flag("--dry-run", flags.dry_run, "Print the plan (months x steps) and change nothing");
  cmd->add_option("--skip", flags.skip, "Steps not to run (repeatable), e.g. --skip report");
}

}  // namespace

void RegisterRun(CLI::App& app, RunFlags& flags) {
  CLI::App* run = app.add_subcommand(
      "run",
      "Run every pipeline step for one month, in dependency order, skipping steps whose\n"
      "inputs are unchanged since their last success, retrying transient failures and\n"
      "resuming after a crash from the first unfinished step. Steps:\n" + StepList());
  run->add_option("--month", flags.month, "Month to run, YYYY-MM")->required();
  AddCommon(run, flags);
  CLI::App* backfill = app.add_subcommand(
      "backfill",
      "Run the pipeline for every month of a range, oldest first (see `riskpipe run --help`).\n"
      "A failing step marks only its month failed and stops that month's dependents; later\n"
      "months carry on. The approval gate pauses the whole run until a person approves.");
  backfill->add_option("--from", flags.from, "First month, YYYY-MM (default: pipeline.from)");
  backfill->add_option("--to", flags.to, "Last month, YYYY-MM (default: pipeline.to)");
  backfill->add_option("--parallel", flags.parallel,
                       "Months whose ingest and quality steps run at once (default 1)");
  AddCommon(backfill, flags);
}

int RunPipeline(const GlobalFlags& global, const RunFlags& flags, const std::string& command) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  pipeline::RunOptions options;
  options.command = command;
  if (command == "run") {
    auto m = Month::Parse(flags.month);
    if (!m.ok()) return ReportFailure(m.status().WithPrefix("--month"), kExitUsage);
    options.from = options.to = *m;
  } else {
    auto parse = [&](const std::string& text, const std::optional<Month>& fallback,
                     const char* flag) -> StatusOr<Month> {
      if (text.empty()) {
        if (fallback) return *fallback;
        return InvalidArgumentError(std::string(flag) + ": give it or set pipeline." +
                                    (flag[2] == 'f' ? "from" : "to") + " in the config");
      }
      return Month::Parse(text);
    };
    auto from = parse(flags.from, project->pipeline.from, "--from");
    if (!from.ok()) return ReportFailure(from.status(), kExitUsage);
    auto to = parse(flags.to, project->pipeline.to, "--to");
    if (!to.ok()) return ReportFailure(to.status(), kExitUsage);
    options.from = *from;
    options.to = *to;
  }
  options.force = flags.force;
  options.dry_run = flags.dry_run;
  options.parallel = flags.parallel;
  options.skip = flags.skip;
  const bool quiet = GetConsoleOptions().quiet;
  options.log = [quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
  };
  if (!quiet && !flags.dry_run) {
    std::fprintf(stderr, "%s %s..%s\n", command.c_str(), options.from.ToString().c_str(),
                 options.to.ToString().c_str());
  }
  auto summary = pipeline::Run(*project, options);
  if (!summary.ok()) {
    const bool usage = summary.status().code() == StatusCode::kInvalidArgument;
    return ReportFailure(summary.status(), usage ? kExitUsage : kExitFailed);
  }
  if (flags.dry_run) {
    std::printf("plan (%s..%s; nothing is changed):\n", options.from.ToString().c_str(),
                options.to.ToString().c_str());
    for (const auto& r : summary->steps) {
      std::printf("  %s %-12s %s\n", r.month.ToString().c_str(), r.step.c_str(), r.message.c_str());
    }
    return kExitOk;
  }
  std::printf("%s", pipeline::FormatSummary(*summary).c_str());
  std::printf("run %lld: %.1f s", static_cast<long long>(summary->run_id), summary->seconds);
  if (summary->paused) {
    std::printf("; PAUSED: %s\n", summary->pause_message.c_str());
    return kExitPaused;
  }
  if (!summary->failed_months.empty()) {
    std::string months;
    for (Month m : summary->failed_months) months += (months.empty() ? "" : ", ") + m.ToString();
    std::printf("; failed months: %s (riskpipe status shows why)\n", months.c_str());
    return kExitFailed;
  }
  std::printf("; every month done\n");
  return kExitOk;
}

}  // namespace riskpipe::cli
