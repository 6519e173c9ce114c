#pragma once
// The riskpipe subcommands. Each Register* adds a subcommand and its flags to the CLI11 app;
// Run* executes it and returns the process exit code (see docs/cli.md):
//   0 ok, 1 a step failed, 2 usage or configuration error.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/status.h"
#include "core/workspace_lock.h"

namespace riskpipe::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPaused = 3;  // the pipeline waits for a person (model approval)

struct GlobalFlags {
  std::string config_path = "riskpipe.yaml";
  bool quiet = false;
  double wait_seconds = 0;  // --wait: how long a writer waits for the workspace lock
};

// Whether `command` (with its subcommand, e.g. "models approve") writes to the workspace and
// so must hold the workspace lock (core/workspace_lock.h).
bool IsWriter(const std::string& command, const std::string& sub);
// Takes the workspace lock of the project named by --config into `lock`. Returns an exit code
// when the command must stop (1: another writer holds it); nullopt to go on, also when the
// project does not load (the command then reports that itself).
std::optional<int> LockWorkspace(const GlobalFlags& flags, const std::string& command,
                                 std::optional<WorkspaceLock>& lock);

// Loads the project named by --config; prints the error and returns nullopt on failure.
std::optional<config::Project> LoadProjectOrReport(const GlobalFlags& flags);
// Prints "riskpipe: <status>" to stderr and returns the exit code for it.
int ReportFailure(const Status& status, int code = kExitFailed);

struct SynthFlags {
  std::string scenario = "lending-datamart";
  int64_t customers = 0;
  uint64_t seed = 42;
  std::string out;
  int threads = 2;
};
void RegisterSynth(CLI::App& app, SynthFlags& flags);
int RunSynth(const GlobalFlags& global, const SynthFlags& flags);

struct IngestFlags {
  std::string from, to;
  std::vector<std::string> sources;
  std::string memory_limit = "1GB";
};
void RegisterIngest(CLI::App& app, IngestFlags& flags);
int RunIngest(const GlobalFlags& global, const IngestFlags& flags);

struct StatusFlags {
  int limit = 10;
  int64_t run_id = 0;
};
void RegisterStatus(CLI::App& app, StatusFlags& flags);
int RunStatus(const GlobalFlags& global, const StatusFlags& flags);

struct QualityFlags {
  std::string table;
  std::string layer = "silver";
  std::string month;
  bool all_months = false;
};
void RegisterQuality(CLI::App& app, QualityFlags& flags);
int RunQuality(const GlobalFlags& global, const QualityFlags& flags);

struct FeaturesFlags {
  std::string from, to, as_of, cutoff, events, out;
  bool keep_unlabelled = false;
};
void RegisterFeatures(CLI::App& app, FeaturesFlags& flags);
// `sub` is the subcommand: "build" or "training-set".
int RunFeatures(const GlobalFlags& global, const FeaturesFlags& flags, const std::string& sub);

struct MaterializeFlags {
  std::string as_of;
  int keep = 5;
  std::string format = "binary";
};
void RegisterMaterialize(CLI::App& app, MaterializeFlags& flags);
int RunMaterialize(const GlobalFlags& global, const MaterializeFlags& flags);

struct TrainFlags {
  std::string cutoff;
  bool resume = false;
  bool no_register = false;
  std::string out;
};
void RegisterTrain(CLI::App& app, TrainFlags& flags);
int RunTrain(const GlobalFlags& global, const TrainFlags& flags);

struct InitFlags {
  std::string source, target, positive = "1", name, date;
  bool force = false;
};
void RegisterInit(CLI::App& app, InitFlags& flags);
int RunInit(const GlobalFlags& global, const InitFlags& flags);

// ---- models (cmd_models.cc): the model registry (docs/registry.md) ----
struct ModelsFlags {
  std::string ref;  // ID, NAME/latest, latest, NAME/production or production
  std::string name, stage, by, reason, override_reason, at;
  std::string promote_stage = "production";
  bool json = false;
  bool verify = false;
  bool reject_current = false;
};
void RegisterModels(CLI::App& app, ModelsFlags& flags);
// `sub` is the subcommand: list, show, approve, reject, promote, rollback, archive or history.
int RunModels(const GlobalFlags& global, const ModelsFlags& flags, const std::string& sub);

// ---- predict (cmd_predict.cc): batch inference into gold/predictions (docs/inference.md) ----
struct PredictFlags {
  std::string month, from, to;
  std::string model;  // registry reference; default <model.name>/production
  std::string challenger;
  bool no_reasons = false;
};
void RegisterPredict(CLI::App& app, PredictFlags& flags);
int RunPredict(const GlobalFlags& global, const PredictFlags& flags);

// ---- validate (cmd_validate.cc): the pre-deployment gate (docs/validation.md) ----
struct ValidateFlags {
  std::string ref;  // ID, NAME/latest, latest or NAME/production
  bool json = false;
};
void RegisterValidate(CLI::App& app, ValidateFlags& flags);
int RunValidate(const GlobalFlags& global, const ValidateFlags& flags);

// ---- serve (cmd_serve.cc): the online feature and prediction API (docs/api.md) ----
struct ServeFlags {
  std::string host;  // empty: serving.host
  int port = -1;     // -1: serving.port
  int threads = 0;   // 0: serving.threads
};
void RegisterServe(CLI::App& app, ServeFlags& flags);
int RunServe(const GlobalFlags& global, const ServeFlags& flags);

// ---- report (cmd_report.cc): dashboard and business report (docs/report.md) ----
struct ReportFlags {
  std::string out;  // empty: <workspace>/reports
  bool no_pdf = false;
};
void RegisterReport(CLI::App& app, ReportFlags& flags);
int RunReport(const GlobalFlags& global, const ReportFlags& flags);

// ---- run / backfill (cmd_run.cc): the pipeline runner (docs/pipeline.md) ----
struct RunFlags {
  std::string month, from, to;
  bool force = false, dry_run = false;
  int parallel = 1;
  std::vector<std::string> skip;
};
void RegisterRun(CLI::App& app, RunFlags& flags);
// `command` is "run" or "backfill".
int RunPipeline(const GlobalFlags& global, const RunFlags& flags, const std::string& command);

// ---- monitor, alerts, compare, unseen-check (cmd_monitor.cc): docs/monitoring.md ----
struct MonitorFlags {
  std::string month, from, to;
  bool no_importance = false;
  std::string severity, model;  // alerts filters; model: the unseen-check's model id
  bool all = false, json = false;
  std::string champion, challenger;
};
void RegisterMonitor(CLI::App& app, MonitorFlags& flags);
int RunMonitor(const GlobalFlags& global, const MonitorFlags& flags);
int RunAlerts(const GlobalFlags& global, const MonitorFlags& flags);
int RunCompare(const GlobalFlags& global, const MonitorFlags& flags);
int RunUnseenCheck(const GlobalFlags& global, const MonitorFlags& flags);

void RegisterCheckConfig(CLI::App& app);
int RunCheckConfig(const GlobalFlags& global);

}  // namespace riskpipe::cli
