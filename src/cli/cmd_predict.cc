// riskpipe predict: batch inference of one month or a range into gold/predictions
// (docs/inference.md).

#include <cstdio>

#include "cli/commands.h"
#include "core/progress.h"
#include "db/database.h"
#include "inference/inference.h"
#include "metastore/metastore.h"
#include "registry/registry.h"

namespace riskpipe::cli {

void RegisterPredict(CLI::App& app, PredictFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "predict",
      "Score every application of a month with a registered model (MANIFEST verified) and\n"
      "write gold/predictions for that month: PD, score band, decision at the policy\n"
      "threshold and the top reason codes. Re-running a month replaces exactly its partition.");
  cmd->add_option("--month", flags.month, "Month to score, YYYY-MM");
  cmd->add_option("--from", flags.from, "First month of a range, YYYY-MM (with --to)");
  cmd->add_option("--to", flags.to, "Last month of a range, YYYY-MM (with --from)");
  cmd->add_option("--model", flags.model,
                  "Model reference: NAME/VERSION, NAME/latest, NAME/production, production\n"
                  "(default: <model.name>/production)");
  cmd->add_option("--stage", flags.model,
                  "Same as --model; `--stage production` scores with the production version")
      ->transform([](std::string s) { return s == "production" ? std::string("production") : s; });
  cmd->add_option("--challenger", flags.challenger,
                  "Also score this version on the same rows as a shadow (role challenger)");
  cmd->add_flag("--no-reasons", flags.no_reasons, "Skip reason codes (faster)");
}

int RunPredict(const GlobalFlags& global, const PredictFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  Month from, to;
  if (!flags.month.empty()) {
    if (!flags.from.empty() || !flags.to.empty()) {
      return ReportFailure(InvalidArgumentError("give --month or --from/--to, not both"), kExitUsage);
    }
    auto m = Month::Parse(flags.month);
    if (!m.ok()) return ReportFailure(m.status().WithPrefix("--month"), kExitUsage);
    from = to = *m;
  } else {
    auto f = Month::Parse(flags.from), t = Month::Parse(flags.to);
    if (flags.from.empty() || flags.to.empty()) {
      return ReportFailure(InvalidArgumentError("give --month YYYY-MM (or --from and --to)"), kExitUsage);
    }
    if (!f.ok()) return ReportFailure(f.status().WithPrefix("--from"), kExitUsage);
    if (!t.ok()) return ReportFailure(t.status().WithPrefix("--to"), kExitUsage);
    if (*t < *f) return ReportFailure(InvalidArgumentError("--to is before --from"), kExitUsage);
    from = *f;
    to = *t;
  }
  auto reg = registry::Registry::Open(project->workspace);
  if (!reg.ok()) return ReportFailure(reg.status());
  auto meta = metastore::Metastore::Open(project->workspace.metastore());
  if (!meta.ok()) return ReportFailure(meta.status());
  (void)meta->MarkInterrupted();
  auto run_id = meta->BeginRun("predict", "{\"from\":\"" + from.ToString() + "\",\"to\":\"" +
                                              to.ToString() + "\"}");
  if (!run_id.ok()) return ReportFailure(run_id.status());
  auto database = db::Database::Open(":memory:");
  if (!database.ok()) return ReportFailure(database.status());
  auto con = database->Connect();
  if (!con.ok()) return ReportFailure(con.status());

  for (Month m = from; m <= to; m = m.Next()) {
    auto step = meta->BeginStep(*run_id, "predict", inference::kPredictionsTable,
                                m.first_day().ToString());
    if (!step.ok()) return ReportFailure(step.status());
    inference::PredictOptions options;
    options.month = m;
    options.model_ref = flags.model;
    options.challenger_ref = flags.challenger;
    options.reasons = !flags.no_reasons;
    auto summary = inference::PredictMonth(*project, *con, *reg, options);
    metastore::StepResult result;
    if (!summary.ok()) {
      result.status = metastore::RunStatus::kFailed;
      result.error = summary.status().message();
      (void)meta->FinishStep(*step, result);
      (void)meta->FinishRun(*run_id, metastore::RunStatus::kFailed, result.error);
      const bool usage = summary.status().code() == StatusCode::kInvalidArgument ||
                         summary.status().code() == StatusCode::kNotFound;
      return ReportFailure(summary.status().WithPrefix("predict " + m.ToString()),
                           usage ? kExitUsage : kExitFailed);
    }
    result.rows_in = summary->rows;
    result.rows_out = summary->rows * (summary->challenger_id.empty() ? 1 : 2);
    result.details_json = nlohmann::json{{"model_id", summary->model_id},
                                         {"challenger_id", summary->challenger_id},
                                         {"declined", summary->declined},
                                         {"referred", summary->referred},
                                         {"mean_pd", summary->mean_pd},
                                         {"seconds", summary->seconds}}
                              .dump();
    (void)meta->FinishStep(*step, result);
    const double rate = summary->rows > 0 ? 100.0 * summary->declined / summary->rows : 0;
    // Rows without a decision (refer: an input the model cannot score) are named, never hidden.
    const std::string referred =
        summary->referred > 0 ? ", " + std::to_string(summary->referred) +
                                    " referred to manual review (an input the model cannot score)"
                              : "";
    std::printf("%s: %lld applications scored with %s%s; %.1f%% declined%s, mean PD %.4f "
                "(%.2f s) -> %s\n",
                m.ToString().c_str(), static_cast<long long>(summary->rows),
                summary->model_id.c_str(),
                summary->challenger_id.empty() ? "" : (" (shadow: " + summary->challenger_id + ")").c_str(),
                rate, referred.c_str(), summary->mean_pd, summary->seconds,
                summary->partition.string().c_str());
  }
  (void)meta->FinishRun(*run_id, metastore::RunStatus::kSucceeded);
  return kExitOk;
}

}  // namespace riskpipe::cli
