// riskpipe train: fit every configured candidate, print the leaderboard, and register the
// chosen calibrated model as a candidate in the registry (docs/training.md).

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cli/commands.h"
#include "core/progress.h"
#include "db/database.h"
#include "metastore/metastore.h"
#include "registry/registry.h"
#include "training/trainer.h"

namespace riskpipe::cli {
namespace fs = std::filesystem;

void RegisterTrain(CLI::App& app, TrainFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train the candidates of the model: section on time-split rows (train / validation /\n"
      "out-of-time), print the leaderboard (AUC, Gini, KS, Brier per split), calibrate the\n"
      "chosen model on validation and register it as a candidate (docs/training.md).");
  cmd->add_option("--cutoff", flags.cutoff,
                  "Use labels known on this date, YYYY-MM-DD (default: model.cutoff, else today)");
  cmd->add_flag("--resume", flags.resume,
                "Continue an interrupted run from its checkpoints (same data and config)");
  cmd->add_flag("--no-register", flags.no_register,
                "Train and evaluate only; write the package to --out instead of the registry");
  cmd->add_option("--out", flags.out, "Package folder for --no-register");
}

int RunTrain(const GlobalFlags& global, const TrainFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  if (!project->model) {
    return ReportFailure(InvalidArgumentError(project->config_path.string() +
                                              ": no `model:` section (docs/training.md; "
                                              "`riskpipe init` writes a starter)"),
                         kExitUsage);
  }
  if (flags.no_register && flags.out.empty()) {
    return ReportFailure(InvalidArgumentError("--no-register needs --out FOLDER"), kExitUsage);
  }
  const config::ModelDef& model = *project->model;
  Date cutoff;
  if (!flags.cutoff.empty()) {
    auto d = ParseIsoDate(flags.cutoff);
    if (!d) return ReportFailure(InvalidArgumentError("--cutoff: expected YYYY-MM-DD"), kExitUsage);
    cutoff = *d;
  } else if (model.cutoff) {
    cutoff = *model.cutoff;
  } else {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    cutoff = Date::FromCivil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  }
  const bool quiet = GetConsoleOptions().quiet;

  auto meta = metastore::Metastore::Open(project->workspace.metastore());
  if (!meta.ok()) return ReportFailure(meta.status());
  (void)meta->MarkInterrupted();
  auto run_id = meta->BeginRun("train", "{\"model\":\"" + model.name + "\",\"cutoff\":\"" +
                                            cutoff.ToString() + "\",\"resume\":" +
                                            (flags.resume ? "true" : "false") + "}");
  if (!run_id.ok()) return ReportFailure(run_id.status());
  auto step_id = meta->BeginStep(*run_id, "train", "model_bank/" + model.name, "");
  if (!step_id.ok()) return ReportFailure(step_id.status());
  auto fail = [&](const Status& s) {
    metastore::StepResult r;
    r.status = metastore::RunStatus::kFailed;
    r.error = s.message();
    (void)meta->FinishStep(*step_id, r);
    (void)meta->FinishRun(*run_id, metastore::RunStatus::kFailed, s.message());
    const bool usage = s.code() == StatusCode::kInvalidArgument;
    return ReportFailure(s.WithPrefix("train " + model.name), usage ? kExitUsage : kExitFailed);
  };

  std::optional<registry::Registry> reg;
  fs::path staging;
  if (flags.no_register) {
    staging = fs::absolute(flags.out).string() + ".tmp";
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::create_directories(staging, ec);
    if (ec) return fail(InternalError("cannot create " + staging.string() + ": " + ec.message()));
  } else {
    auto opened = registry::Registry::Open(project->workspace);
    if (!opened.ok()) return fail(opened.status());
    reg.emplace(std::move(*opened));
    auto dir = reg->NewStagingDir(model.name);
    if (!dir.ok()) return fail(dir.status());
    staging = *dir;
  }

  auto database = db::Database::Open(":memory:");
  if (!database.ok()) return fail(database.status());
  auto con = database->Connect();
  if (!con.ok()) return fail(con.status());
  training::TrainOptions options;
  options.cutoff = cutoff;
  options.resume = flags.resume;
  options.checkpoint_root = project->workspace.checkpoints();
  options.log = [quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
  };
  auto outcome = training::Train(*project, *con, options, staging);
  if (!outcome.ok()) {
    std::error_code ec;
    fs::remove_all(staging, ec);  // nothing half-written stays behind
    return fail(outcome.status());
  }
  const auto& chosen = outcome->leaderboard[outcome->chosen];
  std::printf("leaderboard (%s; labels known by %s)\n%s", model.name.c_str(),
              cutoff.ToString().c_str(), training::FormatLeaderboard(*outcome).c_str());

  metastore::StepResult result;
  result.rows_in = chosen.train.metrics.n + chosen.validation.metrics.n + chosen.oot.metrics.n;
  nlohmann::json summary = {{"validation_auc", chosen.validation.metrics.auc},
                            {"oot_auc", chosen.oot.metrics.auc},
                            {"oot_ks", chosen.oot.metrics.ks},
                            {"oot_brier", chosen.oot.metrics.brier},
                            {"candidate", chosen.name}};
  std::string where;
  if (flags.no_register) {
    std::error_code ec;
    fs::remove_all(flags.out, ec);
    fs::rename(staging, flags.out, ec);
    if (ec) return fail(InternalError("cannot move the package to " + flags.out + ": " + ec.message()));
    where = "package written to " + flags.out + " (not registered)";
  } else {
    registry::RegisterInfo info;
    info.run_id = *run_id;
    info.created_by = "riskpipe train";
    info.metrics_json = summary.dump();
    info.family = chosen.family;
    auto record = reg->Register(staging, model.name, info);
    if (!record.ok()) return fail(record.status());
    summary["model_id"] = record->id;
    where = "registered " + record->id + " (" + chosen.family + ") as a candidate: " +
            record->path.string() + "\nnext: riskpipe models approve " + record->id +
            " --by NAME --reason TEXT";
  }
  result.rows_out = 1;
  result.details_json = summary.dump();
  (void)meta->FinishStep(*step_id, result);
  (void)meta->FinishRun(*run_id, metastore::RunStatus::kSucceeded);
  std::printf("%s\n", where.c_str());
  return kExitOk;
}

}  // namespace riskpipe::cli
