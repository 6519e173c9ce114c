#include <cstdio>

#include "cli/commands.h"
#include "core/progress.h"
#include "synth/synth.h"

namespace riskpipe::cli {

void RegisterSynth(CLI::App& app, SynthFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "synth",
      "Write synthetic source CSVs that mirror the real datasets (docs/synthetic-data.md):\n"
      "  lending-datamart  lms_loan_daily, feature_clickstream, features_attributes and\n"
      "                    features_financials, with their dirty values and a drift story\n"
      "  kueski            dataset_credit_risk.csv, one row per loan");
  cmd->add_option("-s,--scenario", flags.scenario, "lending-datamart or kueski")
      ->default_val("lending-datamart");
  cmd->add_option("-n,--customers", flags.customers,
                  "Customers (users for kueski); 0 = the real dataset's size (12500 / 36457)")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", flags.seed, "Random seed; the same seed gives the same bytes")
      ->default_val(42);
  cmd->add_option("-o,--out", flags.out,
                  "Output folder (default: <workspace>/raw of the --config project)");
  cmd->add_option("-j,--threads", flags.threads, "Generation threads (output is identical)")
      ->default_val(2)
      ->check(CLI::Range(1, 64));
}

int RunSynth(const GlobalFlags& global, const SynthFlags& flags) {
  auto scenario = synth::ParseScenario(flags.scenario);
  if (!scenario.ok()) return ReportFailure(scenario.status(), kExitUsage);
  synth::Options options;
  options.scenario = *scenario;
  options.customers = flags.customers;
  options.seed = flags.seed;
  options.threads = flags.threads;
  options.show_progress = ProgressEnabled();
  if (!flags.out.empty()) {
    options.out_dir = flags.out;
  } else {
    auto project = LoadProjectOrReport(global);
    if (!project) {
      std::fprintf(stderr, "riskpipe: pass --out DIR, or a --config whose workspace to use\n");
      return kExitUsage;
    }
    options.out_dir = project->workspace.raw();
  }
  auto summary = synth::Generate(options);
  if (!summary.ok()) {
    return ReportFailure(summary.status(), summary.status().code() == StatusCode::kInvalidArgument
                                               ? kExitUsage
                                               : kExitFailed);
  }
  if (!GetConsoleOptions().quiet) {
    for (const auto& f : summary->files) {
      std::printf("wrote %-28s %10llu rows %12llu bytes\n", f.file.c_str(),
                  static_cast<unsigned long long>(f.rows), static_cast<unsigned long long>(f.bytes));
    }
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
