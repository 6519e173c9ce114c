// The pipeline of DESIGN.md's flow: the declared steps with their implementations, the run's
// base fingerprint, and Run, which opens what the steps share and hands them to the runner.

#include "pipeline/pipeline.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/hash.h"
#include "pipeline/runner.h"
#include "pipeline/steps.h"
#include "registry/registry.h"

namespace riskpipe::pipeline {
namespace fs = std::filesystem;

namespace {

// Every step's SQL (project SQL among it) runs on databases that may touch the project's
// folders only.
db::Options ProjectSqlOptions(const config::Project& project) {
  db::Options options;
  options.allowed_directories = project.DataDirectories();
  return options;
}

struct Declared {
  StepDef def;
  StepFactory make;
};

// The steps of the flow in execution order within a month.
const std::vector<Declared>& Declarations() {
  static const std::vector<Declared> steps = {
      {{"ingest",
        {},
        "raw CSVs -> bronze, silver, quarantine partitions of the month",
        false,
        true},
       NewIngestStep},
      {{"quality",
        {"ingest"},
        "expectation suites on the month's partitions (may stop the month)",
        false,
        true},
       NewQualityStep},
      {{"labels", {"ingest"}, "loan dpd and the label store of cohorts whose labels change"},
       NewLabelsStep},
      {{"features", {"ingest", "quality"}, "gold feature store partition (point in time)"},
       NewFeaturesStep},
      {{"train",
        {"labels", "features"},
        "train and register when the schedule or a trigger says so"},
       NewTrainStep},
      {{"validate", {"train"}, "the pre-deployment gate on the newly trained model"},
       NewValidateStep},
      {{"approve", {"validate"}, "approval gate: pauses for a person unless auto_approve"},
       NewApproveStep},
      {{"predict", {"features"}, "batch scores of the month with the production model"},
       NewPredictStep},
      {{"monitor", {"predict"}, "stability and matured performance; alerts, retrain trigger"},
       NewMonitorStep},
      {{"materialize", {"features"}, "online snapshot of every customer's latest features"},
       NewMaterializeStep},
      {{"report", {}, "dashboard and business report (once, after the last month)", true},
       NewReportStep},
  };
  return steps;
}

// What every step's inputs share: the config file, the expectation suites and the source files.
StatusOr<std::string> BaseFingerprint(const config::Project& project) {
  std::string h;
  ASSIGN_OR_RETURN(std::string config_hash, Sha256File(project.config_path));
  h += config_hash;
  for (const auto& s : project.sources) {
    std::error_code ec;
    const auto size = fs::file_size(s.file, ec);
    const auto mtime = fs::last_write_time(s.file, ec);
    // Size and modification time stand for the content: hashing every source file on every
    // run would cost more than most steps (docs/pipeline.md).
    h += s.name + ":" + std::to_string(ec ? 0 : size) + ":" +
         std::to_string(ec ? 0 : mtime.time_since_epoch().count()) + ";";
  }
  if (fs::is_directory(project.expectations_dir)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(project.expectations_dir)) {
      files.push_back(e.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto fh = Sha256File(project.expectations_dir / f);
      h += f + ":" + (fh.ok() ? *fh : "") + ";";
    }
  }
  return Sha256Hex(h);
}

}  // namespace

const std::vector<StepDef>& Steps() {
  static const std::vector<StepDef> defs = [] {
    std::vector<StepDef> d;
    for (const Declared& s : Declarations()) d.push_back(s.def);
    return d;
  }();
  return defs;
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kDone:
      return "done";
    case Outcome::kUpToDate:
      return "up-to-date";
    case Outcome::kNotDue:
      return "not due";
    case Outcome::kFailed:
      return "FAILED";
    case Outcome::kBlocked:
      return "blocked";
    case Outcome::kPaused:
      return "PAUSED";
  }
  return "?";
}

StatusOr<db::Connection*> Env::Connection(int lane) {
  if (lane == 0) return &main_;
  std::lock_guard<std::mutex> lock(lanes_mu_);
  auto it = lanes_.find(lane);
  if (it == lanes_.end()) {
    ASSIGN_OR_RETURN(db::Database database, db::Database::Open(":memory:", ProjectSqlOptions(project)));
    ASSIGN_OR_RETURN(db::Connection connection, database.Connect());
    it =
        lanes_
            .emplace(lane, std::make_unique<Lane>(Lane{std::move(database), std::move(connection)}))
            .first;
  }
  return &it->second->connection;
}

StatusOr<RunSummary> Run(const config::Project& project, const RunOptions& options) {
  std::vector<const StepDef*> defs;
  for (const StepDef& d : Steps()) defs.push_back(&d);
  RETURN_IF_ERROR(CheckOptions(defs, options));
  if (options.dry_run) return Plan(defs, options);

  RunnerSettings settings;
  ASSIGN_OR_RETURN(settings.base_fingerprint, BaseFingerprint(project));
  settings.run_log = project.workspace.metastore();
  settings.retries = project.pipeline.retries;
  settings.backoff_seconds = project.pipeline.backoff_seconds;
  ASSIGN_OR_RETURN(registry::Registry registry, registry::Registry::Open(project.workspace));
  ASSIGN_OR_RETURN(db::Database database, db::Database::Open(":memory:", ProjectSqlOptions(project)));
  ASSIGN_OR_RETURN(db::Connection con, database.Connect());
  Env env(project, options, registry, con);
  // Temporaries a killed run left behind: litter only, since every write renames into place.
  env.mart.RemoveStaleTemporaries();

  std::vector<std::unique_ptr<Step>> owned;
  std::vector<Step*> steps;
  for (size_t i = 0; i < Declarations().size(); ++i) {
    owned.push_back(Declarations()[i].make(env, Steps()[i]));
    steps.push_back(owned.back().get());
  }
  return RunSteps(steps, settings, options);
}

std::string FormatSummary(const RunSummary& summary) {
  std::vector<std::string> steps;
  for (const StepDef& d : Steps()) steps.push_back(d.name);
  std::map<int, std::map<std::string, Outcome>> grid;
  for (const auto& r : summary.steps) grid[r.month.index()][r.step] = r.outcome;
  std::string out = "month   ";
  for (const auto& s : steps) {
    std::string h = s.substr(0, 9);
    out += " " + h + std::string(11 - h.size(), ' ');
  }
  out += "\n";
  for (const auto& [index, row] : grid) {
    Month m = Month::Of(Date::FromCivil(index / 12, index % 12 + 1, 1));
    out += m.ToString() + " ";
    for (const auto& s : steps) {
      auto it = row.find(s);
      std::string cell = it == row.end() ? "-" : std::string(OutcomeName(it->second));
      out += " " + cell + std::string(cell.size() < 11 ? 11 - cell.size() : 1, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace riskpipe::pipeline
