// riskpipe features build | training-set: the gold label and feature stores, and training sets
// by historical retrieval (docs/features.md, docs/labels.md).

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/progress.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "features/feature_query.h"
#include "features/feature_store.h"
#include "features/label_store.h"
#include "features/training_set.h"
#include "metastore/metastore.h"

namespace riskpipe::cli {
namespace {

Status ParseMonthFlag(const std::string& text, const char* flag, std::optional<Month>& out) {
  if (text.empty()) return OkStatus();
  auto m = Month::Parse(text);
  if (!m.ok()) return m.status().WithPrefix(flag);
  out = *m;
  return OkStatus();
}

// Runs `body` as one step of a run in the metastore; returns its status.
template <typename Body>
Status Step(metastore::Metastore& meta, int64_t run_id, const std::string& step,
            const std::string& table, Body&& body) {
  auto id = meta.BeginStep(run_id, step, table, "");
  if (!id.ok()) return id.status();
  metastore::StepResult result;
  Status s = body(result);
  if (!s.ok()) {
    result.status = metastore::RunStatus::kFailed;
    result.error = s.message();
  }
  (void)meta.FinishStep(*id, result);
  return s;
}

}  // namespace

void RegisterFeatures(CLI::App& app, FeaturesFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "features",
      "Build the gold label and feature stores, and export training sets (docs/features.md)");
  cmd->require_subcommand(1);
  CLI::App* build = cmd->add_subcommand(
      "build",
      "Build gold/loan_dpd and gold/label_store from the label definition, then\n"
      "gold/feature_store: one row per decision event (spine) with every feature as of its\n"
      "decision date. A point-in-time audit runs before anything is published.");
  build->add_option("--from", flags.from, "First decision month, YYYY-MM (default: the first)");
  build->add_option("--to", flags.to, "Last decision month, YYYY-MM (default: the last)");
  build->add_option("--as-of", flags.as_of,
                    "Labels known on this date, YYYY-MM-DD (default: the data's latest date)");
  CLI::App* ts = cmd->add_subcommand(
      "training-set",
      "Export a training set: features as of each event's decision date joined with labels\n"
      "that were available on --cutoff (none later). Events default to every spine event.");
  ts->add_option("--cutoff", flags.cutoff, "Training cut-off date, YYYY-MM-DD")->required();
  ts->add_option("--from", flags.from, "First decision month, YYYY-MM");
  ts->add_option("--to", flags.to, "Last decision month, YYYY-MM");
  ts->add_option("--events", flags.events,
                 "CSV of events with columns <entity>,decision_date[,<key>] (default: spine)");
  ts->add_flag("--keep-unlabelled", flags.keep_unlabelled,
               "Keep events whose label is not available by the cut-off (label empty)");
  ts->add_option("-o,--out", flags.out, "Output file, .parquet or .csv")->required();
}

int RunFeatures(const GlobalFlags& global, const FeaturesFlags& flags, const std::string& sub) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  std::optional<Month> from, to;
  if (Status s = ParseMonthFlag(flags.from, "--from", from); !s.ok()) return ReportFailure(s, kExitUsage);
  if (Status s = ParseMonthFlag(flags.to, "--to", to); !s.ok()) return ReportFailure(s, kExitUsage);
  if (Status s = features::CheckFeatureSet(*project); !s.ok()) return ReportFailure(s, kExitUsage);

  // Project SQL runs on this database: it may touch the project's folders only.
  db::Options db_options;
  db_options.allowed_directories = project->DataDirectories();
  if (sub == "training-set") {
    // The events file and the output may live outside the project's folders.
    for (const std::string& f : {flags.events, flags.out}) {
      if (!f.empty()) db_options.allowed_directories.push_back(std::filesystem::absolute(f).parent_path());
    }
  }
  auto database = db::Database::Open(":memory:", db_options);
  if (!database.ok()) return ReportFailure(database.status());
  auto con = database->Connect();
  if (!con.ok()) return ReportFailure(con.status());
  const datamart::Datamart mart(project->workspace.datamart());
  // Expressions are compiled against the real silver schemas before any work starts.
  if (Status s = features::ValidateFeatures(*project, mart, *con); !s.ok()) {
    return ReportFailure(s, s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed);
  }
  const bool quiet = GetConsoleOptions().quiet;

  if (sub == "training-set") {
    auto cutoff = ParseIsoDate(flags.cutoff);
    if (!cutoff) {
      return ReportFailure(InvalidArgumentError("--cutoff: expected YYYY-MM-DD, got \"" +
                                                flags.cutoff + "\""), kExitUsage);
    }
    features::TrainingSetRequest request;
    request.cutoff = *cutoff;
    request.from = from;
    request.to = to;
    request.keep_unlabelled = flags.keep_unlabelled;
    if (!flags.events.empty()) {
      request.events_sql = "SELECT * FROM read_csv(" + db::QuoteLiteral(flags.events) +
                           ", header = true, types = {'" + std::string(features::kDecisionDate) +
                           "': 'DATE'})";
    }
    auto summary = features::ExportTrainingSet(*project, *con, request, flags.out);
    if (!summary.ok()) return ReportFailure(summary.status());
    if (!quiet) {
      std::printf("training set %s: %lld rows, %lld labelled, %lld positive (labels known by %s)\n",
                  flags.out.c_str(), static_cast<long long>(summary->rows),
                  static_cast<long long>(summary->labelled),
                  static_cast<long long>(summary->positives), request.cutoff.ToString().c_str());
    }
    return kExitOk;
  }

  // features build
  auto meta = metastore::Metastore::Open(project->workspace.metastore());
  if (!meta.ok()) return ReportFailure(meta.status());
  (void)meta->MarkInterrupted();
  auto run_id = meta->BeginRun("features build", "{\"from\":\"" + flags.from + "\",\"to\":\"" +
                                                     flags.to + "\"}");
  if (!run_id.ok()) return ReportFailure(run_id.status());
  Status failure;
  if (project->label) {
    features::LabelBuildOptions label_options;
    if (!flags.as_of.empty()) {
      auto d = ParseIsoDate(flags.as_of);
      if (!d) return ReportFailure(InvalidArgumentError("--as-of: expected YYYY-MM-DD"), kExitUsage);
      label_options.as_of = *d;
    }
    failure = Step(*meta, *run_id, "loan_dpd", features::kLoanDpdTable, [&](metastore::StepResult& r) {
      auto months = features::BuildLoanDpd(*project, *con, {});
      if (!months.ok()) return months.status();
      for (const auto& m : *months) r.rows_out += m.rows;
      if (!quiet && !months->empty()) {
        std::printf("gold/loan_dpd       %3zu months %10lld loan-months\n", months->size(),
                    static_cast<long long>(r.rows_out));
      }
      return OkStatus();
    });
    if (failure.ok()) {
      failure = Step(*meta, *run_id, "labels", features::kLabelStoreTable, [&](metastore::StepResult& r) {
        auto s = features::BuildLabelStore(*project, *con, label_options);
        if (!s.ok()) return s.status();
        r.rows_out = s->rows();
        if (!quiet) {
          std::printf("gold/label_store    %3zu months %10lld loans, %lld labelled (%s), %lld bad, "
                      "labels known by %s\n",
                      s->months.size(), static_cast<long long>(s->rows()),
                      static_cast<long long>(s->labelled()), s->label_def.c_str(),
                      static_cast<long long>(s->positives()), s->as_of.ToString().c_str());
        }
        return OkStatus();
      });
    }
  }
  if (failure.ok()) {
    failure = Step(*meta, *run_id, "features", features::kFeatureStoreTable, [&](metastore::StepResult& r) {
      features::FeatureBuildOptions options;
      options.from = from;
      options.to = to;
      auto s = features::BuildFeatureStore(*project, *con, options);
      if (!s.ok()) return s.status();
      r.rows_out = s->rows;
      if (!quiet) {
        std::printf("gold/feature_store  %3zu months %10lld events x %zu features (%.2f s: "
                    "compute %.2f%s, write %.2f); point-in-time audit: OK\n",
                    s->months.size(), static_cast<long long>(s->rows), s->features, s->seconds,
                    s->query_seconds, s->frames_in_cpp ? " with frames in C++" : "",
                    s->write_seconds);
      }
      return OkStatus();
    });
  }
  (void)meta->FinishRun(*run_id, failure.ok() ? metastore::RunStatus::kSucceeded
                                              : metastore::RunStatus::kFailed,
                        failure.message());
  if (!failure.ok()) return ReportFailure(failure);
  return kExitOk;
}

}  // namespace riskpipe::cli
