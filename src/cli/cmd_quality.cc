// riskpipe quality: evaluates the data-quality expectation suites for one month or every
// month of a table, writes gold/data_quality and the Markdown reports, and records the run.

#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "config/expectations.h"
#include "core/json.h"
#include "core/progress.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "metastore/metastore.h"
#include "quality/quality.h"

namespace riskpipe::cli {
namespace {

using quality::Outcome;
using quality::SuiteResult;

// The suites the flags select: one table's suite, or every suite of the layer.
StatusOr<std::vector<config::ExpectationSuite>> SelectSuites(const config::Project& project,
                                                             const QualityFlags& flags) {
  if (!flags.table.empty()) {
    const auto file = config::SuiteFile(project.expectations_dir, flags.layer, flags.table);
    auto suite = config::LoadExpectationSuite(file);
    if (!suite.ok() && suite.status().code() == StatusCode::kNotFound) {
      return NotFoundError("no expectation suite for " + flags.layer + "/" + flags.table +
                           ": expected " + file.string());
    }
    if (!suite.ok()) return suite.status();
    return std::vector<config::ExpectationSuite>{std::move(suite).value()};
  }
  ASSIGN_OR_RETURN(auto all, config::LoadExpectationSuites(project.expectations_dir));
  std::vector<config::ExpectationSuite> out;
  for (auto& s : all) {
    if (s.layer == flags.layer) out.push_back(std::move(s));
  }
  if (out.empty()) {
    return NotFoundError("no " + flags.layer + " expectation suites in " +
                         project.expectations_dir.string());
  }
  return out;
}

// Every month from a table's first partition to its last, so a gap in between is evaluated
// (and caught by freshness) rather than silently skipped.
std::vector<Month> AllMonths(const datamart::Datamart& mart, const config::ExpectationSuite& s) {
  std::vector<Month> out;
  auto layer = quality::ParseLayer(s.layer);
  if (!layer.ok()) return out;
  std::vector<Date> parts = mart.ListPartitions(*layer, s.table);
  std::erase(parts, datamart::UndatedPartition());
  if (parts.empty()) return out;
  for (Month m = Month::Of(parts.front()); m <= Month::Of(parts.back()); m = m.Next()) {
    out.push_back(m);
  }
  return out;
}

void PrintSuite(const SuiteResult& r, const std::filesystem::path& report) {
  std::printf("%s/%s %s  %lld rows  %d pass  %d fail  %d skip  %.2fs  %s\n", r.layer.c_str(),
              r.table.c_str(), r.month.ToString().c_str(), static_cast<long long>(r.rows),
              r.Count(Outcome::kPass), r.Count(Outcome::kFail), r.Count(Outcome::kSkip), r.seconds,
              report.c_str());
  for (const auto& e : r.results) {
    if (e.outcome != Outcome::kFail) continue;
    std::printf("  %s %s: observed %s, threshold %s\n", e.severity == "error" ? "FAIL" : "warn",
                e.name.c_str(), e.observed_text.c_str(), e.threshold.c_str());
  }
}

std::string StepDetails(const SuiteResult& r, const std::filesystem::path& report) {
  int error_fails = 0, warn_fails = 0;
  for (const auto& e : r.results) {
    if (e.outcome == Outcome::kFail) (e.severity == "error" ? error_fails : warn_fails) += 1;
  }
  return nlohmann::json{{"layer", r.layer},           {"passed", r.Count(Outcome::kPass)},
                        {"failed_error", error_fails}, {"failed_warn", warn_fails},
                        {"skipped", r.Count(Outcome::kSkip)}, {"report", report.string()}}
      .dump();
}

}  // namespace

void RegisterQuality(CLI::App& app, QualityFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "quality",
      "Evaluate the data-quality expectation suites (<expectations>/<layer>.<table>.yaml) for\n"
      "a month: results go to gold/data_quality and <workspace>/reports/quality/. Exits 1 when\n"
      "an expectation of severity error fails, naming it, the observed value and the threshold.");
  cmd->add_option("--table", flags.table, "Table to check (default: every suite of the layer)");
  cmd->add_option("--layer", flags.layer, "Datamart layer of the table")->default_val("silver");
  auto* month = cmd->add_option("--month", flags.month, "Snapshot month, YYYY-MM");
  auto* all = cmd->add_flag("--all-months", flags.all_months,
                            "Every month from the table's first partition to its last");
  month->excludes(all);
}

int RunQuality(const GlobalFlags& global, const QualityFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  if (flags.month.empty() && !flags.all_months) {
    return ReportFailure(InvalidArgumentError("quality needs --month YYYY-MM or --all-months"),
                         kExitUsage);
  }
  auto suites = SelectSuites(*project, flags);
  if (!suites.ok()) return ReportFailure(suites.status(), kExitUsage);
  // The suites' SQL is checked (as check-config does) before any data is read.
  if (Status s = quality::CheckSuites(*project); !s.ok()) return ReportFailure(s, kExitUsage);
  const datamart::Datamart mart(project->workspace.datamart());
  std::map<Month, std::vector<const config::ExpectationSuite*>> plan;
  for (const auto& s : *suites) {
    std::vector<Month> months;
    if (flags.all_months) {
      months = AllMonths(mart, s);
    } else {
      auto m = Month::Parse(flags.month);
      if (!m.ok()) return ReportFailure(m.status(), kExitUsage);
      months = {*m};
    }
    for (Month m : months) plan[m].push_back(&s);
  }
  if (plan.empty()) {
    return ReportFailure(NotFoundError("no partitions to check (run riskpipe ingest first)"));
  }

  // Project SQL runs on this database: it may touch the project's folders only.
  db::Options db_options;
  db_options.allowed_directories = project->DataDirectories();
  auto database = db::Database::Open(":memory:", db_options);
  if (!database.ok()) return ReportFailure(database.status());
  auto con = database->Connect();
  if (!con.ok()) return ReportFailure(con.status());
  auto meta = metastore::Metastore::Open(project->workspace.metastore());
  if (!meta.ok()) return ReportFailure(meta.status());
  (void)meta->MarkInterrupted();
  const std::string args = nlohmann::json{{"table", flags.table}, {"layer", flags.layer},
                                          {"month", flags.month}, {"all_months", flags.all_months}}
                               .dump();
  auto run_id = meta->BeginRun("quality", args);
  if (!run_id.ok()) return ReportFailure(run_id.status());
  const quality::RunContext context{*run_id, metastore::FormatUtcTimestamp(
                                                 std::chrono::system_clock::now())};
  const bool quiet = GetConsoleOptions().quiet;

  std::vector<std::string> failures;
  Status error;
  for (const auto& [month, month_suites] : plan) {
    std::vector<SuiteResult> results;
    for (const config::ExpectationSuite* s : month_suites) {
      auto step = meta->BeginStep(*run_id, "quality", s->table, month.first_day().ToString());
      if (!step.ok()) return ReportFailure(step.status());
      metastore::StepResult step_result;
      auto r = quality::EvaluateSuite(*con, mart, *s, month);
      StatusOr<std::filesystem::path> report =
          r.ok() ? quality::WriteReport(project->workspace, *r, context)
                 : StatusOr<std::filesystem::path>(r.status());
      if (!report.ok()) {
        error = report.status();
        step_result.status = metastore::RunStatus::kFailed;
        step_result.error = error.message();
        (void)meta->FinishStep(*step, step_result);
        break;
      }
      step_result.rows_in = r->rows;
      step_result.rows_out = static_cast<int64_t>(r->results.size());
      step_result.details_json = StepDetails(*r, *report);
      if (r->failed()) {
        failures.push_back(r->FailureMessage());
        step_result.status = metastore::RunStatus::kFailed;
        step_result.error = failures.back();
      }
      (void)meta->FinishStep(*step, step_result);
      if (!quiet || r->failed()) PrintSuite(*r, *report);
      results.push_back(std::move(r).value());
    }
    if (error.ok()) error = quality::WriteResults(*con, mart, month, results, context);
    if (!error.ok()) break;
  }
  std::string message = error.message();
  for (const std::string& f : failures) message += (message.empty() ? "" : "\n") + f;
  (void)meta->FinishRun(*run_id,
                        message.empty() ? metastore::RunStatus::kSucceeded
                                        : metastore::RunStatus::kFailed,
                        message);
  if (!error.ok()) return ReportFailure(error);
  for (const std::string& f : failures) std::fprintf(stderr, "riskpipe: %s\n", f.c_str());
  return failures.empty() ? kExitOk : kExitFailed;
}

}  // namespace riskpipe::cli
