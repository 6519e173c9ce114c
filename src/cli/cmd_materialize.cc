// riskpipe materialize: publish the online snapshot of every customer's latest features as of
// a date, for the server to load (docs/online-store.md).

#include <cstdio>

#include "cli/commands.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "features/feature_query.h"
#include "features/materialize.h"
#include "metastore/metastore.h"

namespace riskpipe::cli {

void RegisterMaterialize(CLI::App& app, MaterializeFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "materialize",
      "Write the online snapshot: each customer's features as if they applied on --as-of,\n"
      "published atomically under <workspace>/online with a CURRENT pointer that\n"
      "`riskpipe serve` loads (docs/online-store.md).");
  cmd->add_option("--as-of", flags.as_of,
                  "Decision date, YYYY-MM-DD (default: the latest spine decision date)");
  cmd->add_option("--keep", flags.keep, "Older snapshots to keep besides the new one")
      ->default_val(5)
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--format", flags.format,
                  "Data file of the snapshot: binary (features.bin, loads fastest) or csv\n"
                  "(features.csv, readable text); the server loads either")
      ->default_val("binary")
      ->check(CLI::IsMember({"binary", "csv"}));
}

int RunMaterialize(const GlobalFlags& global, const MaterializeFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  features::MaterializeOptions options;
  options.keep = flags.keep;
  options.format = *features::ParseSnapshotFormat(flags.format);
  if (!flags.as_of.empty()) {
    auto d = ParseIsoDate(flags.as_of);
    if (!d) {
      return ReportFailure(
          InvalidArgumentError("--as-of: expected YYYY-MM-DD, got \"" + flags.as_of + "\""),
          kExitUsage);
    }
    options.as_of = *d;
  }
  if (Status s = features::CheckFeatureSet(*project); !s.ok()) return ReportFailure(s, kExitUsage);

  // Project SQL runs on this database: it may touch the project's folders only.
  db::Options db_options;
  db_options.allowed_directories = project->DataDirectories();
  auto database = db::Database::Open(":memory:", db_options);
  if (!database.ok()) return ReportFailure(database.status());
  auto con = database->Connect();
  if (!con.ok()) return ReportFailure(con.status());
  const datamart::Datamart mart(project->workspace.datamart());
  if (Status s = features::ValidateFeatures(*project, mart, *con); !s.ok()) {
    return ReportFailure(s, s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed);
  }

  auto meta = metastore::Metastore::Open(project->workspace.metastore());
  if (!meta.ok()) return ReportFailure(meta.status());
  (void)meta->MarkInterrupted();
  auto run_id = meta->BeginRun("materialize", "{\"as_of\":\"" + flags.as_of +
                                                  "\",\"keep\":" + std::to_string(flags.keep) +
                                                  ",\"format\":\"" + flags.format + "\"}");
  if (!run_id.ok()) return ReportFailure(run_id.status());
  auto step_id = meta->BeginStep(*run_id, "materialize", features::kOnlineDir, flags.as_of);
  if (!step_id.ok()) return ReportFailure(step_id.status());

  auto summary = features::Materialize(*project, *con, options);
  metastore::StepResult result;
  if (summary.ok()) {
    result.rows_out = summary->rows;
    result.details_json = "{\"version\":\"" + summary->version + "\",\"as_of\":\"" +
                          summary->as_of.ToString() +
                          "\",\"features\":" + std::to_string(summary->features) +
                          ",\"pruned\":" + std::to_string(summary->pruned.size()) + "}";
  } else {
    result.status = metastore::RunStatus::kFailed;
    result.error = summary.status().message();
  }
  (void)meta->FinishStep(*step_id, result);
  (void)meta->FinishRun(*run_id, result.status, result.error);
  if (!summary.ok()) return ReportFailure(summary.status());
  if (!global.quiet) {
    std::printf("online snapshot %s: %lld customers x %zu features as of %s (%.2f s)\n",
                summary->version.c_str(), static_cast<long long>(summary->rows), summary->features,
                summary->as_of.ToString().c_str(), summary->seconds);
    std::printf("  %s, CURRENT updated", summary->dir.c_str());
    if (!summary->pruned.empty())
      std::printf("; pruned %zu old snapshot(s)", summary->pruned.size());
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
