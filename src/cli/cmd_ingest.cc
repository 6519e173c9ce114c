#include <cstdio>

#include "cli/commands.h"
#include "core/progress.h"
#include "datamart/datamart.h"
#include "ingest/ingest.h"
#include "metastore/metastore.h"

namespace riskpipe::cli {
namespace {

void PrintReport(const ingest::SourceReport& r) {
  int64_t nulled = 0;
  for (const auto& [col, n] : r.nulled) nulled += n;
  std::printf("%-22s %7zu %11lld %11lld %11lld %9lld %8.2f\n", r.source.c_str(),
              r.partitions.size(), static_cast<long long>(r.bronze()),
              static_cast<long long>(r.silver()), static_cast<long long>(r.quarantined()),
              static_cast<long long>(nulled), r.seconds);
}

void PrintDetails(const ingest::SourceReport& r) {
  if (r.blank_lines > 0 || r.out_of_range > 0) {
    std::printf("  %s: %lld blank lines skipped, %lld rows outside the month range left alone\n",
                r.source.c_str(), static_cast<long long>(r.blank_lines),
                static_cast<long long>(r.out_of_range));
  }
  for (const auto& [reason, n] : r.quarantine_reasons) {
    std::printf("  %s: quarantined %lld  %s\n", r.source.c_str(), static_cast<long long>(n),
                reason.c_str());
  }
}

}  // namespace

void RegisterIngest(CLI::App& app, IngestFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Read the configured source CSVs into the datamart: bronze (as received, with file and\n"
      "line), silver (typed, cleaned, PII removed) and quarantine (rows that could not be made\n"
      "valid, with their reason), one Parquet partition per snapshot month. Prints the\n"
      "reconciliation bronze = silver + quarantine per source and records each partition in\n"
      "the run log (riskpipe status).");
  cmd->add_option("--from", flags.from, "First month to ingest, YYYY-MM (default: all)");
  cmd->add_option("--to", flags.to, "Last month to ingest, YYYY-MM, inclusive (default: all)");
  cmd->add_option("--source", flags.sources, "Only these sources (repeatable; default: all)");
  cmd->add_option("--memory-limit", flags.memory_limit,
                  "DuckDB staging memory before spilling to <workspace>/tmp")
      ->default_val("1GB");
}

int RunIngest(const GlobalFlags& global, const IngestFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  ingest::IngestOptions options;
  options.show_progress = ProgressEnabled();
  options.memory_limit = flags.memory_limit;
  for (const auto& [text, target] : {std::pair{&flags.from, &options.from},
                                     std::pair{&flags.to, &options.to}}) {
    if (text->empty()) continue;
    auto m = Month::Parse(*text);
    if (!m.ok()) return ReportFailure(m.status(), kExitUsage);
    *target = *m;
  }
  if (options.from && options.to && *options.to < *options.from) {
    return ReportFailure(InvalidArgumentError("--to is before --from"), kExitUsage);
  }
  std::vector<const config::Source*> sources;
  for (const std::string& name : flags.sources) {
    const config::Source* s = project->FindSource(name);
    if (s == nullptr) {
      return ReportFailure(NotFoundError("no source \"" + name + "\" in " + global.config_path),
                           kExitUsage);
    }
    sources.push_back(s);
  }
  if (sources.empty()) {
    for (const config::Source& s : project->sources) sources.push_back(&s);
  }

  const datamart::Datamart mart(project->workspace.datamart());
  auto meta = metastore::Metastore::Open(project->workspace.metastore());
  if (!meta.ok()) return ReportFailure(meta.status());
  (void)meta->MarkInterrupted();
  std::string args = "{\"from\":\"" + flags.from + "\",\"to\":\"" + flags.to + "\"}";
  auto run_id = meta->BeginRun("ingest", args);
  if (!run_id.ok()) return ReportFailure(run_id.status());

  const bool quiet = GetConsoleOptions().quiet;
  std::vector<ingest::SourceReport> reports;
  Status failure;
  for (const config::Source* source : sources) {
    auto step_id = meta->BeginStep(*run_id, "ingest", source->name, "");
    if (!step_id.ok()) return ReportFailure(step_id.status());
    options.on_partition = [&](const ingest::PartitionCounts& c) {
      auto id = meta->BeginStep(*run_id, "ingest_partition", source->name, c.partition.ToString());
      if (!id.ok()) return;
      metastore::StepResult r;
      r.rows_in = c.bronze;
      r.rows_out = c.silver;
      r.rows_quarantined = c.quarantined;
      (void)meta->FinishStep(*id, r);
    };
    auto report = ingest::IngestSource(*project, *source, options);
    metastore::StepResult result;
    if (report.ok()) {
      result.rows_in = report->bronze();
      result.rows_out = report->silver();
      result.rows_quarantined = report->quarantined();
      result.details_json = "{\"blank_lines\":" + std::to_string(report->blank_lines) +
                            ",\"out_of_range\":" + std::to_string(report->out_of_range) + "}";
      reports.push_back(std::move(report).value());
    } else {
      result.status = metastore::RunStatus::kFailed;
      result.error = report.status().message();
      failure = report.status().WithPrefix("ingest " + source->name);
    }
    (void)meta->FinishStep(*step_id, result);
    if (!failure.ok()) break;
  }
  (void)meta->FinishRun(*run_id, failure.ok() ? metastore::RunStatus::kSucceeded
                                              : metastore::RunStatus::kFailed,
                        failure.message());
  if (!quiet || !failure.ok()) {
    std::printf("ingest %s (run %lld) into %s\n", project->name.c_str(),
                static_cast<long long>(*run_id), mart.root().c_str());
    std::printf("%-22s %7s %11s %11s %11s %9s %8s\n", "source", "months", "bronze", "silver",
                "quarantined", "nulled", "seconds");
    for (const auto& r : reports) PrintReport(r);
    if (failure.ok()) {
      std::printf("reconciliation: bronze = silver + quarantine in every partition: OK\n");
    }
    for (const auto& r : reports) PrintDetails(r);
  }
  if (!failure.ok()) return ReportFailure(failure);
  return kExitOk;
}

}  // namespace riskpipe::cli
