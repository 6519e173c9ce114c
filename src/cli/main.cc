// riskpipe: credit-default risk from raw loan data to a governed PD model, in one binary.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <iostream>

#include "cli/commands.h"
#include "core/progress.h"
#include "db/database.h"
#include "xgb/xgb.h"

#ifndef RISKPIPE_VERSION
#define RISKPIPE_VERSION "0.0.0"
#endif
#ifndef RISKPIPE_GIT_COMMIT
#define RISKPIPE_GIT_COMMIT "unknown"
#endif

namespace {

std::string VersionText() {
  return std::string("riskpipe ") + RISKPIPE_VERSION + " (commit " + RISKPIPE_GIT_COMMIT +
         ")\nDuckDB " + riskpipe::db::LibraryVersion() + "\nXGBoost " +
         riskpipe::xgb::LibraryVersion() + "\ncompiler g++ " + __VERSION__;
}

constexpr char kFooter[] = R"(
Exit codes: 0 ok, 1 a step failed, 2 usage or configuration error.
Run 'riskpipe <command> --help' for a command's flags; docs/cli.md has the details.)";

}  // namespace

int main(int argc, char** argv) {
  using namespace riskpipe::cli;
  CLI::App app{
      "riskpipe: ingest raw loan data into a Parquet datamart (bronze, silver, quarantine, gold)\n"
      "and take it to a served, monitored, governed probability-of-default model."};
  app.footer(kFooter);
  app.require_subcommand(1);
  GlobalFlags global;
  app.add_option("-c,--config", global.config_path,
                 "Project file describing the workspace and sources")
      ->default_val("riskpipe.yaml");
  app.add_flag("-q,--quiet", global.quiet,
               "No progress lines or informational output (progress is also off when stderr "
               "is not a terminal)");
  app.add_option("--wait", global.wait_seconds,
                 "A command that writes waits up to SECONDS for another riskpipe command "
                 "writing to the same workspace to finish (default: fail at once, exit 1)")
      ->check(CLI::Range(0.0, 86400.0));
  app.set_version_flag("-V,--version", VersionText(), "Print riskpipe, DuckDB and XGBoost versions");

  SynthFlags synth;
  IngestFlags ingest;
  StatusFlags status;
  RegisterSynth(app, synth);
  RegisterIngest(app, ingest);
  RegisterStatus(app, status);
  QualityFlags quality;
  RegisterQuality(app, quality);
  FeaturesFlags features;
  RegisterFeatures(app, features);
  MaterializeFlags materialize;
  RegisterMaterialize(app, materialize);
  TrainFlags train;
  RegisterTrain(app, train);
  InitFlags init;
  RegisterInit(app, init);
  ModelsFlags models;
  RegisterModels(app, models);
  MonitorFlags monitor;
  RegisterMonitor(app, monitor);
  PredictFlags predict;
  RegisterPredict(app, predict);
  ValidateFlags validate;
  RegisterValidate(app, validate);
  ServeFlags serve;
  RegisterServe(app, serve);
  ReportFlags report;
  RegisterReport(app, report);
  RunFlags run;
  RegisterRun(app, run);
  RegisterCheckConfig(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  riskpipe::SetConsoleOptions({.quiet = global.quiet});

  const std::string cmd = app.get_subcommands().front()->get_name();
  const auto subcommands = app.get_subcommands().front()->get_subcommands();
  const std::string sub = subcommands.empty() ? "" : subcommands.front()->get_name();
  // One writer per workspace: held until this function returns.
  std::optional<riskpipe::WorkspaceLock> lock;
  if (IsWriter(cmd, sub)) {
    if (cmd != "synth" || synth.out.empty()) {
      const std::string what = sub.empty() ? cmd : cmd + " " + sub;
      if (auto code = LockWorkspace(global, what, lock)) return *code;
    }
  }
  if (cmd == "synth") return RunSynth(global, synth);
  if (cmd == "ingest") return RunIngest(global, ingest);
  if (cmd == "status") return RunStatus(global, status);
  if (cmd == "check-config") return RunCheckConfig(global);
  if (cmd == "quality") return RunQuality(global, quality);
  if (cmd == "materialize") return RunMaterialize(global, materialize);
  if (cmd == "train") return RunTrain(global, train);
  if (cmd == "monitor") return RunMonitor(global, monitor);
  if (cmd == "alerts") return RunAlerts(global, monitor);
  if (cmd == "compare") return RunCompare(global, monitor);
  if (cmd == "unseen-check") return RunUnseenCheck(global, monitor);
  if (cmd == "predict") return RunPredict(global, predict);
  if (cmd == "run" || cmd == "backfill") return RunPipeline(global, run, cmd);
  if (cmd == "validate") return RunValidate(global, validate);
  if (cmd == "serve") return RunServe(global, serve);
  if (cmd == "report") return RunReport(global, report);
  if (cmd == "init") return RunInit(global, init);
  if (cmd == "models") return RunModels(global, models, sub);
  if (cmd == "features") return RunFeatures(global, features, sub);
  std::fprintf(stderr, "riskpipe: unknown command %s\n", cmd.c_str());
  return kExitUsage;
}
