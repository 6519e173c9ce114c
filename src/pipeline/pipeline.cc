#include "pipeline/pipeline.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/hash.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "features/feature_store.h"
#include "features/label_store.h"
#include "features/materialize.h"
#include "inference/inference.h"
#include "ingest/ingest.h"
#include "metastore/metastore.h"
#include "monitoring/monitoring.h"
#include "quality/quality.h"
#include "registry/registry.h"
#include "report/report.h"
#include "training/trainer.h"
#include "validation/validation.h"

namespace riskpipe::pipeline {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

const std::vector<StepDef>& Steps() {
  static const std::vector<StepDef> steps = {
      {"ingest", {}, "raw CSVs -> bronze, silver, quarantine partitions of the month"},
      {"quality", {"ingest"}, "expectation suites on the month's partitions (may stop the month)"},
      {"labels", {"ingest"}, "loan dpd and the label store of cohorts whose labels change"},
      {"features", {"ingest", "quality"}, "gold feature store partition (point in time)"},
      {"train", {"labels", "features"}, "train and register when the schedule or a trigger says so"},
      {"validate", {"train"}, "the pre-deployment gate on the newly trained model"},
      {"approve", {"validate"}, "approval gate: pauses for a person unless auto_approve"},
      {"predict", {"features"}, "batch scores of the month with the production model"},
      {"monitor", {"predict"}, "stability and matured performance; alerts, retrain trigger"},
      {"materialize", {"features"}, "online snapshot of every customer's latest features"},
      {"report", {}, "dashboard and business report (once, after the last month)"},
  };
  return steps;
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kDone: return "done";
    case Outcome::kUpToDate: return "up-to-date";
    case Outcome::kNotDue: return "not due";
    case Outcome::kFailed: return "FAILED";
    case Outcome::kBlocked: return "blocked";
    case Outcome::kPaused: return "PAUSED";
  }
  return "?";
}

namespace {

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// What a step produced.
struct StepOutput {
  bool not_due = false;
  bool paused = false;
  std::string message;      // one line for the summary
  std::string fingerprint;  // of the output; empty = the inputs hash (a pure function of them)
  int64_t rows_in = 0, rows_out = 0, rows_quarantined = 0;
  json details = json::object();
};

// A step with nothing to do this month, and why.
StepOutput NotDue(std::string why) {
  StepOutput out;
  out.not_due = true;
  out.message = std::move(why);
  return out;
}

bool Transient(const Status& s) { return s.code() == StatusCode::kUnavailable; }

// Test seam (docs/pipeline.md): RISKPIPE_FAULT="step@YYYY-MM:transient:N" fails that step's
// first N attempts with a transient error; "step@YYYY-MM:fail" fails it every time.
Status InjectedFault(std::string_view step, Month month, int attempt) {
  const char* spec = std::getenv("RISKPIPE_FAULT");
  if (spec == nullptr) return OkStatus();
  const std::string s(spec), key = std::string(step) + "@" + month.ToString() + ":";
  const size_t at = s.find(key);
  if (at == std::string::npos) return OkStatus();
  const std::string rest = s.substr(at + key.size());
  if (rest.rfind("fail", 0) == 0) return InternalError("injected failure (RISKPIPE_FAULT)");
  if (rest.rfind("transient", 0) == 0) {
    const int n = rest.size() > 10 ? std::atoi(rest.c_str() + 10) : 1;
    if (attempt < n) return UnavailableError("injected transient failure (RISKPIPE_FAULT)");
  }
  return OkStatus();
}

// Months a label can take to mature after its application month (the label store of these
// cohorts is rebuilt by each month's labels step).
int LabelMaturityMonths(const config::LabelDef& label) {
  if (label.kind == config::LabelKind::kDpd) return label.mob + 1;
  return (label.outcome_window_days + 29) / 30 + 1;
}

// Shared state of one run.
struct Runner {
  const config::Project& project;
  const RunOptions& options;
  datamart::Datamart mart;
  std::string base_hash;  // config file + source files
  int64_t run_id = 0;
  std::mutex mu;          // guards summary and the metastore handle in parallel phases
  metastore::Metastore* meta = nullptr;
  RunSummary summary;
  // Outcome and output fingerprint per (month, step) in this run.
  std::map<std::pair<int, std::string>, std::pair<Outcome, std::string>> done;

  Runner(const config::Project& p, const RunOptions& o)
      : project(p), options(o), mart(p.workspace / "datamart") {}

  bool Skipped(const std::string& step) const {
    return std::find(options.skip.begin(), options.skip.end(), step) != options.skip.end();
  }
  void Log(const std::string& line) { options.log(line); }
};

StatusOr<std::string> BaseHash(const config::Project& project) {
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

// ---- steps ----------------------------------------------------------------------------------

struct StepContext {
  Runner& run;
  db::Connection& con;
  registry::Registry& registry;
  Month month;
};

// The production model of the project and, when configured, the newest newer version
// awaiting a decision (scored as a shadow challenger); defined with the predict step.
struct Arms {
  std::string champion, challenger;
};
StatusOr<std::optional<Arms>> CurrentArms(const config::Project& project,
                                          registry::Registry& registry, Month month);

StatusOr<StepOutput> DoIngest(StepContext& c) {
  StepOutput out;
  if (c.run.project.sources.empty()) {
    return NotDue("no sources");
  }
  for (const auto& source : c.run.project.sources) {
    ingest::IngestOptions o;
    o.from = o.to = c.month;
    o.show_progress = false;
    o.threads = c.run.options.parallel > 1 ? 1 : 2;
    ASSIGN_OR_RETURN(ingest::SourceReport r, ingest::IngestSource(c.run.project, source, o));
    out.rows_in += r.records - r.out_of_range;
    out.rows_out += r.silver();
    out.rows_quarantined += r.quarantined();
    out.details[source.name] = {{"silver", r.silver()}, {"quarantined", r.quarantined()}};
  }
  out.message = std::to_string(out.rows_out) + " silver rows, " +
                std::to_string(out.rows_quarantined) + " quarantined";
  return out;
}

StatusOr<StepOutput> DoQuality(StepContext& c) {
  StepOutput out;
  if (!fs::is_directory(c.run.project.expectations_dir)) {
    return NotDue("no expectation suites");
  }
  ASSIGN_OR_RETURN(auto suites, config::LoadExpectationSuites(c.run.project.expectations_dir));
  std::vector<quality::SuiteResult> results;
  std::string failures;
  const quality::RunContext context{c.run.run_id,
                                    metastore::FormatUtcTimestamp(std::chrono::system_clock::now())};
  for (const auto& suite : suites) {
    if (suite.layer != "silver" && suite.layer != "bronze") continue;
    ASSIGN_OR_RETURN(quality::SuiteResult r, quality::EvaluateSuite(c.con, c.run.mart, suite, c.month));
    RETURN_IF_ERROR(quality::WriteReport(c.run.project.workspace, r, context).status());
    out.rows_in += r.rows;
    if (r.failed()) failures += (failures.empty() ? "" : "; ") + r.FailureMessage();
    results.push_back(std::move(r));
  }
  if (results.empty()) {
    return NotDue("no silver or bronze suites");
  }
  RETURN_IF_ERROR(quality::WriteResults(c.con, c.run.mart, c.month, results, context));
  out.rows_out = static_cast<int64_t>(results.size());
  if (!failures.empty()) {
    if (c.run.project.pipeline.quality_gate == config::QualityGate::kStop) {
      // The month stops here, so monitoring never sees it: raise its data-quality alerts now,
      // for the production model whose decisions it would have fed.
      std::string model_id;
      {
        std::lock_guard<std::mutex> lock(c.run.mu);  // parallel phase: one registry reader
        ASSIGN_OR_RETURN(std::optional<Arms> arms, CurrentArms(c.run.project, c.registry, c.month));
        if (arms) model_id = arms->champion;
      }
      RETURN_IF_ERROR(monitoring::RaiseQualityAlerts(c.run.project, c.con, c.month, model_id)
                          .status()
                          .WithPrefix("quality alerts"));
      return FailedPreconditionError("quality gate: " + failures + " (alerts raised)");
    }
    out.message = "warnings (quality_gate: warn): " + failures;
    out.details["failures"] = failures;
    return out;
  }
  out.message = std::to_string(results.size()) + " suites passed";
  return out;
}

StatusOr<StepOutput> DoLabels(StepContext& c) {
  StepOutput out;
  const auto& label = c.run.project.label;
  if (!label) {
    return NotDue("no label section");
  }
  if (label->kind == config::LabelKind::kDpd) {
    features::LoanDpdOptions o;
    o.month = c.month;
    auto dpd = features::BuildLoanDpd(c.run.project, c.con, o);
    if (!dpd.ok() && dpd.status().code() != StatusCode::kNotFound) return dpd.status();
  }
  // Cohorts whose labels can change this month, from the first month the source holds.
  const auto parts = c.run.mart.ListPartitions(datamart::Layer::kSilver, label->source);
  Month first = c.month;
  for (Date d : parts) {
    if (d != datamart::UndatedPartition()) {
      first = std::min(first, Month::Of(d));
      break;
    }
  }
  const Date as_of = c.month.Next().first_day().AddDays(-1);
  for (Month m = std::max(first, c.month.Next(-LabelMaturityMonths(*label))); m <= c.month;
       m = m.Next()) {
    features::LabelBuildOptions o;
    o.month = m;
    o.as_of = as_of;
    auto built = features::BuildLabelStore(c.run.project, c.con, o);
    if (!built.ok() && built.status().code() == StatusCode::kNotFound) {
      out.message = "no label source rows yet";
      continue;
    }
    if (!built.ok()) return built.status();
    out.rows_out += built->rows();
    out.details[m.ToString()] = {{"loans", built->rows()}, {"labelled", built->labelled()}};
  }
  if (out.message.empty()) {
    out.message = std::to_string(out.rows_out) + " loans relabelled as of " + as_of.ToString();
  }
  return out;
}

StatusOr<StepOutput> DoFeatures(StepContext& c) {
  StepOutput out;
  if (!c.run.project.features.defined()) {
    return NotDue("no features section");
  }
  features::FeatureBuildOptions o;
  o.from = o.to = c.month;
  ASSIGN_OR_RETURN(features::FeatureBuildSummary s,
                   features::BuildFeatureStore(c.run.project, c.con, o));
  out.rows_out = s.rows;
  out.message = std::to_string(s.rows) + " applications, " + std::to_string(s.features) + " features";
  return out;
}

// The last month before `month` in which the pipeline trained a model, from the run log.
StatusOr<std::optional<Month>> LastTraining(metastore::Metastore& meta, Month month) {
  metastore::StepFilter f;
  f.step = "train";
  f.limit = 1000;
  ASSIGN_OR_RETURN(auto steps, meta.ListSteps(f));
  std::optional<Month> last;
  for (const auto& s : steps) {
    if (s.status != metastore::RunStatus::kSucceeded || s.details_json.empty()) continue;
    const json d = json::parse(s.details_json, nullptr, false);
    if (!d.is_object() || !d.contains("model_id")) continue;
    auto m = Month::Parse(s.partition);
    if (!m.ok() || !(*m < month)) continue;
    if (!last || *last < *m) last = *m;
  }
  return last;
}

// The project with its model's split windows moved so that the cut-off is `cutoff_month`'s
// first day: every window keeps its length and its distance to the cut-off.
config::Project ShiftedProject(const config::Project& p, Month cutoff_month) {
  config::Project q = p;
  config::ModelDef& m = *q.model;
  const Month anchor = m.cutoff ? Month::Of(*m.cutoff) : cutoff_month;
  const int shift = cutoff_month.index() - anchor.index();
  for (auto* r : {&m.splits.train, &m.splits.validation, &m.splits.oot}) {
    if (r->has_value()) {
      (*r)->from = (*r)->from.Next(shift);
      (*r)->to = (*r)->to.Next(shift);
    }
  }
  m.cutoff = cutoff_month.first_day();
  return q;
}

// The project a training in this month uses: the model's windows moved to the month's cut-off,
// and the features no current application carries left out (a source that stopped covering
// new applicants: a model trained on them would decide everything it scores on imputed values).
struct TrainingProject {
  config::Project project;
  std::vector<std::string> absent;
};
StatusOr<TrainingProject> ProjectForTraining(StepContext& c) {
  TrainingProject tp{ShiftedProject(c.run.project, c.month), {}};
  ASSIGN_OR_RETURN(tp.absent,
                   validation::FeaturesAbsentFromApplications(c.run.project, c.con, c.month));
  auto& exclude = tp.project.model->exclude;
  for (const std::string& f : tp.absent) {
    if (std::find(exclude.begin(), exclude.end(), f) == exclude.end()) exclude.push_back(f);
  }
  return tp;
}

// A model version the runner trained and registered (or found already registered).
struct Registered {
  std::string id, candidate;
  double oot_auc = 0;
  int64_t rows = 0;
  bool reused = false;
};

// Trains `project`'s model with cut-off = the month's first day and registers the chosen
// candidate, recording `inputs_key` with it. A version registered before with the same key
// (a resumed run) is reused, never registered twice.
StatusOr<Registered> TrainAndRegister(StepContext& c, const config::Project& project,
                                      const std::string& inputs_key) {
  const std::string name = project.model->name;
  ASSIGN_OR_RETURN(auto versions, c.registry.List(name));
  for (const auto& v : versions) {
    const json m = json::parse(v.metrics_json, nullptr, false);
    if (m.is_object() && m.value("pipeline_inputs", "") == inputs_key) {
      return Registered{v.id, m.value("candidate", ""), m.value("oot_auc", 0.0), 0, true};
    }
  }
  training::TrainOptions o;
  o.cutoff = c.month.first_day();
  o.checkpoint_root = project.workspace / "checkpoints";
  o.resume = true;  // checkpoints are keyed by inputs: a killed run continues where it stopped
  ASSIGN_OR_RETURN(fs::path staging, c.registry.NewStagingDir(name));
  auto trained = training::Train(project, c.con, o, staging);
  if (!trained.ok()) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    return trained.status();
  }
  const auto& chosen = trained->leaderboard[trained->chosen];
  registry::RegisterInfo info;
  info.run_id = c.run.run_id;
  info.created_by = "riskpipe pipeline";
  info.family = chosen.family;
  info.metrics_json = json{
      {"validation_auc", chosen.validation.metrics.auc},
      {"oot_auc", chosen.oot.metrics.auc},
      {"oot_ks", chosen.oot.metrics.ks},
      {"candidate", chosen.name},
      {"cutoff", o.cutoff.ToString()},
      {"pipeline_inputs",
       inputs_key}}.dump();
  ASSIGN_OR_RETURN(registry::ModelRecord record, c.registry.Register(staging, name, info));
  return Registered{record.id, chosen.name, chosen.oot.metrics.auc,
                    chosen.train.metrics.n + chosen.validation.metrics.n + chosen.oot.metrics.n,
                    false};
}

StatusOr<StepOutput> DoTrain(StepContext& c, const std::string& inputs_hash) {
  StepOutput out;
  const config::Project& project = c.run.project;
  if (!project.model) {
    return NotDue("no model section");
  }
  const config::TrainingSchedule& sched = project.pipeline.training;
  const Month initial = sched.initial ? *sched.initial
                        : project.model->cutoff ? Month::Of(*project.model->cutoff)
                                                : c.run.options.from;
  if (c.month < initial) {
    return NotDue("before the first training month " + initial.ToString());
  }
  std::string why;
  ASSIGN_OR_RETURN(std::optional<Month> last, LastTraining(*c.run.meta, c.month));
  if (!last) {
    why = "initial model (first training month " + initial.ToString() + ")";
  } else {
    const int since = c.month.index() - last->index();
    if (sched.every_months > 0 && since >= sched.every_months) {
      why = "scheduled refresh (" + std::to_string(since) + " months since " + last->ToString() + ")";
    }
    if (why.empty() && sched.on_trigger && since >= sched.min_months_between) {
      ASSIGN_OR_RETURN(std::optional<monitoring::RetrainTrigger> trigger,
                       monitoring::RetrainRecommended(project, project.model->name, c.month.Next(-1)));
      // A drift is answered by a model calibrated on the drifted population: wait until the
      // validation (calibration) window starts at or after the month the drift began.
      const std::optional<config::MonthRange> validation =
          ShiftedProject(project, c.month).model->splits.validation;
      if (trigger && trigger->drift_since && validation &&
          validation->from < *trigger->drift_since) {
        const Month ready = c.month.Next(trigger->drift_since->index() - validation->from.index());
        return NotDue("retraining recommended for " + trigger->model_id + " (drift since " +
                      trigger->drift_since->ToString() + ") waits for the drifted months' " +
                      "labels: a model trained now would be calibrated on " +
                      validation->from.ToString() + ", before the drift; first in " +
                      ready.ToString());
      }
      if (trigger) {
        why = "monitoring trigger on " + trigger->model_id + " (" +
              (trigger->reasons.empty() ? trigger->month.ToString() : trigger->reasons.front()) +
              ")";
      }
    }
  }
  if (why.empty()) {
    return NotDue(last ? "not scheduled (last trained " + last->ToString() + ")" : "not scheduled");
  }
  ASSIGN_OR_RETURN(TrainingProject tp, ProjectForTraining(c));
  ASSIGN_OR_RETURN(Registered r, TrainAndRegister(c, tp.project, inputs_hash));
  out.fingerprint = r.id;
  out.rows_in = r.rows;
  out.rows_out = r.reused ? 0 : 1;
  out.details = {{"model_id", r.id},
                 {"reason", why},
                 {"cutoff", c.month.first_day().ToString()},
                 {"candidate", r.candidate},
                 {"oot_auc", r.oot_auc},
                 {"reused", r.reused},
                 {"absent_features_left_out", tp.absent}};
  if (r.reused) {
    out.message = "reused " + r.id + " trained on the same inputs";
    return out;
  }
  char auc[32];
  std::snprintf(auc, sizeof auc, "%.3f", r.oot_auc);
  out.message = "registered " + r.id + " (" + r.candidate + ", OOT AUC " + auc + "): " + why;
  if (!tp.absent.empty()) {
    out.message += "; left out " + std::to_string(tp.absent.size()) +
                   " features no current application has (" + tp.absent.front() +
                   (tp.absent.size() > 1 ? ", ..." : "") + ")";
  }
  return out;
}

// The model the train step of this month produced, if any.
std::optional<std::string> TrainedThisMonth(Runner& run, Month month) {
  auto it = run.done.find({month.index(), "train"});
  if (it == run.done.end() || it->second.first == Outcome::kNotDue) return std::nullopt;
  if (it->second.second.find('/') == std::string::npos) return std::nullopt;
  return it->second.second;
}

// Checks that fail on what a model's functional form does (not on a sample's statistics): a
// candidate failing only these is replaced by the next one (DoValidate).
bool BehaviouralCheck(const std::string& name) {
  static const std::set<std::string> kBehavioural = {
      "directional_expectations", "perturbation_robustness", "missing_values",
      "protected_not_inputs", "protected_invariance"};
  return kBehavioural.count(name) > 0;
}

// The eligible candidates of a package's leaderboard that were not chosen, best validation
// metric first (the trainer's own order of preference).
std::vector<std::string> RunnersUp(const registry::ModelRecord& record) {
  std::vector<std::pair<double, std::string>> ranked;
  auto text = ReadFile(record.path / "leaderboard.json");
  const json board = text.ok() ? json::parse(*text, nullptr, false) : json();
  if (!board.is_object() || !board.contains("candidates")) return {};
  for (const auto& r : board["candidates"]) {
    if (!r.value("eligible", false) || r.value("chosen", false)) continue;
    const json v = r.value("validation", json::object());
    ranked.push_back({v.value("auc", 0.0), r.value("name", "")});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (const auto& [auc, n] : ranked) out.push_back(n);
  return out;
}

StatusOr<StepOutput> DoValidate(StepContext& c, const std::string& inputs_hash) {
  StepOutput out;
  const auto trained = TrainedThisMonth(c.run, c.month);
  if (!trained) {
    return NotDue("no new model");
  }
  // The gate is part of model selection: when the chosen candidate fails only behavioural
  // checks (it steps or turns the wrong way under small input changes), the next eligible
  // candidate of the same leaderboard is trained alone, registered and validated in turn. A
  // failed statistical check (performance, calibration, fairness) stops here: trying further
  // candidates against the same out-of-time rows would select on them.
  std::string model = *trained;
  json attempts = json::array();
  std::vector<std::string> queue;
  bool first = true;
  while (true) {
    ASSIGN_OR_RETURN(validation::ValidationReport report,
                     validation::ValidateModel(ShiftedProject(c.run.project, c.month), c.con,
                                               c.registry, model));
    std::vector<std::string> failed;
    bool behavioural_only = true;
    for (const auto& check : report.checks) {
      if (check.passed) continue;
      failed.push_back(check.name);
      behavioural_only &= BehaviouralCheck(check.name);
    }
    ASSIGN_OR_RETURN(registry::ModelRecord record, c.registry.Get(model));
    attempts.push_back({{"model_id", model},
                        {"family", record.family},
                        {"passed", report.passed},
                        {"failed_checks", failed}});
    if (first) queue = RunnersUp(record);
    first = false;
    std::string names;
    for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
    out.message +=
        std::string(out.message.empty() ? "" : "; ") +
        (report.passed ? model + ": all " + std::to_string(report.checks.size()) + " checks passed"
                       : model + " (" + record.family + ") FAILED " + names);
    out.rows_out += static_cast<int64_t>(report.checks.size());
    if (report.passed || !behavioural_only || queue.empty()) {
      out.fingerprint = model + (report.passed ? ":passed" : ":failed");
      out.details = {{"model_id", model}, {"passed", report.passed}, {"attempts", attempts}};
      if (!report.passed) out.message += ": it will not be promoted";
      return out;
    }
    const std::string next = queue.front();
    queue.erase(queue.begin());
    ASSIGN_OR_RETURN(TrainingProject tp, ProjectForTraining(c));
    auto& candidates = tp.project.model->candidates;
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](const config::Candidate& k) {
                                      const std::string n =
                                          k.name.empty() ? std::string(config::FamilyName(k.family))
                                                         : k.name;
                                      return n != next;
                                    }),
                     candidates.end());
    if (candidates.empty())
      return InternalError("runner-up candidate \"" + next + "\" not in the config");
    ASSIGN_OR_RETURN(Registered r,
                     TrainAndRegister(c, tp.project, inputs_hash + "|after:" + model + "|" + next));
    out.message += " -> next candidate " + next + " as " + r.id;
    model = r.id;
  }
}

// The model the validate step of this month ended with (the trained one, or the candidate
// that replaced it), if any.
std::optional<std::string> ValidatedThisMonth(Runner& run, Month month) {
  auto it = run.done.find({month.index(), "validate"});
  if (it == run.done.end() || it->second.first == Outcome::kNotDue) return std::nullopt;
  const std::string& fp = it->second.second;
  const size_t colon = fp.rfind(':');
  if (fp.find('/') == std::string::npos || colon == std::string::npos) return std::nullopt;
  return fp.substr(0, colon);
}

StatusOr<StepOutput> DoApprove(StepContext& c) {
  StepOutput out;
  const auto model = ValidatedThisMonth(c.run, c.month);
  if (!model) {
    return NotDue("no new model");
  }
  ASSIGN_OR_RETURN(registry::ModelRecord record, c.registry.Get(*model));
  const auto& auto_approve = c.run.project.pipeline.auto_approve;
  if (record.stage == registry::Stage::kCandidate && auto_approve.enabled) {
    ASSIGN_OR_RETURN(record, c.registry.Approve(record.id, auto_approve.by,
                                                "auto-approve (pipeline.auto_approve in " +
                                                    c.run.project.config_path.filename().string() +
                                                    "): " + auto_approve.reason));
  }
  switch (record.stage) {
    case registry::Stage::kCandidate:
      out.paused = true;
      out.message = "model " + record.id + " awaits approval: riskpipe models approve " +
                    record.id + " --by NAME --reason TEXT (then run again)";
      return out;
    case registry::Stage::kRejected:
    case registry::Stage::kArchived:
      out.message = record.id + " was " + std::string(registry::StageName(record.stage)) +
                    "; production unchanged";
      out.details = {{"promoted", false}};
      return out;
    case registry::Stage::kApproved: {
      const std::string by = auto_approve.enabled ? auto_approve.by : "riskpipe pipeline";
      auto promoted = c.registry.Promote(record.id, by);
      if (!promoted.ok() && promoted.status().code() == StatusCode::kFailedPrecondition) {
        // The gate refused it (e.g. failed validation): production stays as it was.
        out.message = "not promoted: " + promoted.status().message();
        out.details = {{"promoted", false}, {"reason", promoted.status().message()}};
        return out;
      }
      if (!promoted.ok()) return promoted.status();
      out.fingerprint = promoted->id;
      out.message = "promoted " + promoted->id + " to production";
      out.details = {{"promoted", true}, {"model_id", promoted->id}};
      return out;
    }
    case registry::Stage::kProduction:
      out.fingerprint = record.id;
      out.message = record.id + " is in production";
      return out;
  }
  return out;
}

// The labels-known-by date a model was trained with (metadata.json), or nullopt.
std::optional<Date> TrainingCutoff(const registry::ModelRecord& record) {
  auto text = ReadFile(record.path / "metadata.json");
  if (!text.ok()) return std::nullopt;
  const json meta = json::parse(*text, nullptr, false);
  const json::json_pointer at("/training_data/lineage/cutoff");
  if (!meta.is_object() || !meta.contains(at) || !meta.at(at).is_string()) return std::nullopt;
  return ParseIsoDate(meta.at(at).get<std::string>());
}

// A model may score a month only when it was trained on data known before that month: a
// model trained later would score applications it may have trained on (a replay must not
// use the future).
bool UsableIn(const registry::ModelRecord& record, Month month) {
  const std::optional<Date> cutoff = TrainingCutoff(record);
  return !cutoff || *cutoff <= month.first_day();
}

StatusOr<std::optional<Arms>> CurrentArms(const config::Project& project,
                                          registry::Registry& registry, Month month) {
  if (!project.model) return std::optional<Arms>();
  auto prod = registry.Get(project.model->name + "/production");
  if (!prod.ok() && prod.status().code() == StatusCode::kNotFound) return std::optional<Arms>();
  if (!prod.ok()) return prod.status();
  if (!UsableIn(*prod, month)) return std::optional<Arms>();
  Arms arms{prod->id, ""};
  if (project.pipeline.shadow_challenger) {
    ASSIGN_OR_RETURN(auto versions, registry.List(project.model->name));
    for (const auto& v : versions) {  // newest first
      if (v.version > prod->version && UsableIn(v, month) &&
          (v.stage == registry::Stage::kCandidate || v.stage == registry::Stage::kApproved)) {
        arms.challenger = v.id;
        break;
      }
    }
  }
  return std::optional<Arms>(arms);
}

StatusOr<StepOutput> DoPredict(StepContext& c) {
  StepOutput out;
  ASSIGN_OR_RETURN(std::optional<Arms> arms, CurrentArms(c.run.project, c.registry, c.month));
  if (!arms) {
    return NotDue("no production model trained before this month");
  }
  inference::PredictOptions o;
  o.month = c.month;
  o.model_ref = arms->champion;
  o.challenger_ref = arms->challenger;
  ASSIGN_OR_RETURN(inference::PredictSummary s,
                   inference::PredictMonth(c.run.project, c.con, c.registry, o));
  out.rows_in = s.rows;
  out.rows_out = s.rows * (s.challenger_id.empty() ? 1 : 2);
  char line[160];
  std::snprintf(line, sizeof line, "%lld scored by %s%s%s, %.1f%% declined",
                static_cast<long long>(s.rows), s.model_id.c_str(),
                s.challenger_id.empty() ? "" : ", shadow ", s.challenger_id.c_str(),
                s.rows ? 100.0 * s.declined / s.rows : 0.0);
  out.message = line;
  out.details = {{"model_id", s.model_id}, {"challenger_id", s.challenger_id},
                 {"declined", s.declined}, {"mean_pd", s.mean_pd}};
  return out;
}

StatusOr<StepOutput> DoMonitor(StepContext& c) {
  StepOutput out;
  const fs::path predictions = c.run.mart.PartitionFile(
      datamart::Layer::kGold, inference::kPredictionsTable, c.month.first_day());
  if (!fs::exists(predictions)) {
    return NotDue("no predictions this month");
  }
  ASSIGN_OR_RETURN(monitoring::MonitorSummary s,
                   monitoring::MonitorMonth(c.run.project, c.con, c.month));
  out.rows_in = s.rows;
  out.rows_out = s.alerts_warn + s.alerts_act;
  out.details = {{"alerts_warn", s.alerts_warn}, {"alerts_act", s.alerts_act},
                 {"retrain_recommended", s.retrain_recommended}};
  out.message = std::to_string(s.alerts_act) + " act / " + std::to_string(s.alerts_warn) +
                " warn alerts" + (s.retrain_recommended ? "; retraining recommended" : "");
  return out;
}

StatusOr<StepOutput> DoMaterialize(StepContext& c) {
  StepOutput out;
  if (!c.run.project.features.defined()) {
    return NotDue("no features section");
  }
  features::MaterializeOptions o;
  o.as_of = c.month.Next().first_day().AddDays(-1);
  auto s = features::Materialize(c.run.project, c.con, o);
  if (!s.ok() && s.status().code() == StatusCode::kFailedPrecondition &&
      s.status().message().find("no spine event") != std::string::npos) {
    out.not_due = true;
    out.message = "no applications yet";
    return out;
  }
  if (!s.ok()) return s.status();
  out.rows_out = s->rows;
  out.fingerprint = s->version;
  out.message = "snapshot " + s->version + " (" + std::to_string(s->rows) + " customers)";
  return out;
}

StatusOr<StepOutput> DoReport(StepContext& c) {
  StepOutput out;
  (void)c;
  report::Options o;
  o.pdf = report::FindChromium().ok();
  ASSIGN_OR_RETURN(report::Outputs r, report::WriteReports(c.run.project, o));
  out.rows_out = r.dashboard_charts + r.report_charts;
  out.fingerprint = "report";
  out.message = r.dashboard.string() + ", " + r.report_html.string() +
                (r.report_pdf.empty() ? " (no PDF: chromium not found)" : ", " + r.report_pdf.string());
  return out;
}

// The inputs fingerprint of a step: the run's base hash, the month, the step and the output
// fingerprints of its dependencies in this month; predict and monitor add the models used.
StatusOr<std::string> InputsHash(StepContext& c, const StepDef& def) {
  std::string h = c.run.base_hash + "|" + def.name + "|" + c.month.ToString();
  for (const std::string& d : def.deps) {
    auto it = c.run.done.find({c.month.index(), d});
    h += "|" + d + "=" + (it == c.run.done.end() ? "" : it->second.second);
  }
  if (def.name == "predict" || def.name == "monitor") {
    ASSIGN_OR_RETURN(std::optional<Arms> arms, CurrentArms(c.run.project, c.registry, c.month));
    if (arms) h += "|arms=" + arms->champion + "," + arms->challenger;
  }
  if (def.name == "train") {
    // Training reads every earlier month: chain the previous month's features.
    auto it = c.run.done.find({c.month.index() - 1, "features"});
    if (it != c.run.done.end()) h += "|prev=" + it->second.second;
  }
  // approve needs nothing more: a paused gate is recorded as failed, so it runs again.
  return Sha256Hex(h);
}

StatusOr<StepOutput> Execute(StepContext& c, const StepDef& def, const std::string& inputs_hash) {
  if (def.name == "ingest") return DoIngest(c);
  if (def.name == "quality") return DoQuality(c);
  if (def.name == "labels") return DoLabels(c);
  if (def.name == "features") return DoFeatures(c);
  if (def.name == "train") return DoTrain(c, inputs_hash);
  if (def.name == "validate") return DoValidate(c, inputs_hash);
  if (def.name == "approve") return DoApprove(c);
  if (def.name == "predict") return DoPredict(c);
  if (def.name == "monitor") return DoMonitor(c);
  if (def.name == "materialize") return DoMaterialize(c);
  if (def.name == "report") return DoReport(c);
  return InternalError("unknown step " + def.name);
}

// Runs one step of one month with skipping, retries and the run log. `meta` is the
// metastore handle of the calling thread.
StepReport RunStep(StepContext& c, const StepDef& def, metastore::Metastore& meta) {
  StepReport report;
  report.month = c.month;
  report.step = def.name;
  const auto start = Clock::now();
  auto finish = [&](Outcome o, std::string fingerprint) {
    report.outcome = o;
    report.seconds = Since(start);
    std::lock_guard<std::mutex> lock(c.run.mu);
    c.run.done[{c.month.index(), def.name}] = {o, std::move(fingerprint)};
    c.run.summary.steps.push_back(report);
    return report;
  };
  for (const std::string& d : def.deps) {
    std::lock_guard<std::mutex> lock(c.run.mu);
    auto it = c.run.done.find({c.month.index(), d});
    if (it != c.run.done.end() &&
        (it->second.first == Outcome::kFailed || it->second.first == Outcome::kBlocked ||
         it->second.first == Outcome::kPaused)) {
      report.message = "waits for " + d;
      report.outcome = Outcome::kBlocked;
      c.run.done[{c.month.index(), def.name}] = {Outcome::kBlocked, ""};
      c.run.summary.steps.push_back(report);
      return report;
    }
  }
  auto hash = InputsHash(c, def);
  if (!hash.ok()) {
    report.message = hash.status().message();
    return finish(Outcome::kFailed, "");
  }
  const std::string partition = c.month.first_day().ToString();
  if (!c.run.options.force) {
    auto last = meta.LatestSucceededStep(def.name, "pipeline", partition);
    if (last.ok() && *last && (*last)->inputs_hash == *hash) {
      const json d = json::parse((*last)->details_json, nullptr, false);
      report.message = d.is_object() ? d.value("message", "") : "";
      report.rows = (*last)->rows_out;
      const std::string fp = d.is_object() ? d.value("fingerprint", *hash) : *hash;
      const bool not_due = d.is_object() && d.value("not_due", false);
      return finish(not_due ? Outcome::kNotDue : Outcome::kUpToDate, fp);
    }
  }
  auto step_id = meta.BeginStep(c.run.run_id, def.name, "pipeline", partition, *hash);
  if (!step_id.ok()) {
    report.message = step_id.status().message();
    return finish(Outcome::kFailed, "");
  }
  StatusOr<StepOutput> out = InternalError("not run");
  const int attempts = 1 + c.run.project.pipeline.retries;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    report.attempts = attempt + 1;
    if (Status fault = InjectedFault(def.name, c.month, attempt); !fault.ok()) {
      out = fault;
    } else {
      out = Execute(c, def, *hash);
    }
    if (out.ok() || !Transient(out.status()) || attempt + 1 == attempts) break;
    const double delay = c.run.project.pipeline.backoff_seconds * (1 << attempt);
    c.run.Log("  " + c.month.ToString() + " " + def.name + ": transient failure (" +
              out.status().message() + "), retry " + std::to_string(attempt + 1) + " in " +
              std::to_string(delay).substr(0, 4) + " s");
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
  metastore::StepResult result;
  if (!out.ok()) {
    result.status = metastore::RunStatus::kFailed;
    result.error = out.status().message();
    (void)meta.FinishStep(*step_id, result);
    report.message = out.status().message();
    return finish(Outcome::kFailed, "");
  }
  StepOutput& o = *out;
  const std::string fingerprint = o.fingerprint.empty() ? *hash : o.fingerprint;
  o.details["message"] = o.message;
  o.details["fingerprint"] = fingerprint;
  o.details["attempts"] = report.attempts;
  if (o.not_due) o.details["not_due"] = true;
  result.rows_in = o.rows_in;
  result.rows_out = o.rows_out;
  result.rows_quarantined = o.rows_quarantined;
  result.details_json = o.details.dump();
  if (o.paused) {
    result.status = metastore::RunStatus::kFailed;
    result.error = "paused: " + o.message;
  }
  (void)meta.FinishStep(*step_id, result);
  report.message = o.message;
  report.rows = o.rows_out;
  if (o.paused) return finish(Outcome::kPaused, "");
  return finish(o.not_due ? Outcome::kNotDue : Outcome::kDone, fingerprint);
}

// Phase 0 of a range: every month whose ingest is not up to date is ingested in ONE pass per
// source (reading each file once instead of once per month), then recorded month by month
// exactly as the per-month step would. Months in between that were up to date are rewritten
// with the same rows. Any failure leaves the months unrecorded: the per-month steps then run
// and report it. Skipped when an injected fault targets ingest (the fault tests).
void BatchIngest(Runner& run, registry::Registry& registry, db::Connection& con,
                 metastore::Metastore& meta) {
  if (run.Skipped("ingest") || run.project.sources.empty()) return;
  if (const char* f = std::getenv("RISKPIPE_FAULT"); f != nullptr && std::string(f).find("ingest@") != std::string::npos) return;
  const StepDef& def = Steps().front();
  std::vector<std::pair<Month, std::string>> todo;
  for (Month m = run.options.from; m <= run.options.to; m = m.Next()) {
    StepContext c{run, con, registry, m};
    auto hash = InputsHash(c, def);
    if (!hash.ok()) return;
    if (!run.options.force) {
      auto last = meta.LatestSucceededStep(def.name, "pipeline", m.first_day().ToString());
      if (last.ok() && *last && (*last)->inputs_hash == *hash) continue;
    }
    todo.push_back({m, *hash});
  }
  if (todo.size() < 2) return;
  const auto start = Clock::now();
  std::map<int, std::array<int64_t, 3>> counts;  // month -> bronze, silver, quarantined
  for (const auto& source : run.project.sources) {
    ingest::IngestOptions o;
    o.from = todo.front().first;
    o.to = todo.back().first;
    o.show_progress = false;
    o.threads = 2;
    o.on_partition = [&counts](const ingest::PartitionCounts& pc) {
      if (pc.partition == datamart::UndatedPartition()) return;
      auto& c = counts[Month::Of(pc.partition).index()];
      c[0] += pc.bronze;
      c[1] += pc.silver;
      c[2] += pc.quarantined;
    };
    if (!ingest::IngestSource(run.project, source, o).ok()) return;
  }
  const double each = Since(start) / static_cast<double>(todo.size());
  for (const auto& [m, hash] : todo) {
    auto step_id = meta.BeginStep(run.run_id, def.name, "pipeline", m.first_day().ToString(), hash);
    if (!step_id.ok()) return;
    const auto c = counts[m.index()];
    StepReport report{m, def.name, Outcome::kDone,
                      std::to_string(c[1]) + " silver rows, " + std::to_string(c[2]) +
                          " quarantined (one pass over " + todo.front().first.ToString() + ".." +
                          todo.back().first.ToString() + ")",
                      1, each, c[1]};
    metastore::StepResult result;
    result.rows_in = c[0];
    result.rows_out = c[1];
    result.rows_quarantined = c[2];
    result.details_json = json{{"message", report.message}, {"fingerprint", hash}, {"attempts", 1},
                               {"batched", true}}.dump();
    (void)meta.FinishStep(*step_id, result);
    run.done[{m.index(), def.name}] = {Outcome::kDone, hash};
    run.summary.steps.push_back(report);
  }
  run.Log("  ingest: " + std::to_string(todo.size()) + " months in one pass per source (" +
          std::to_string(Since(start)).substr(0, 5) + " s)");
}

void LogReport(Runner& run, const StepReport& r) {
  if (r.outcome == Outcome::kUpToDate || r.outcome == Outcome::kNotDue) return;
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f s", r.seconds);
  run.Log("  " + r.month.ToString() + " " + r.step + ": " + std::string(OutcomeName(r.outcome)) +
          (r.message.empty() ? "" : " - " + r.message) + " (" + secs + ")");
}

}  // namespace

StatusOr<RunSummary> Run(const config::Project& project, const RunOptions& options) {
  if (options.to < options.from) return InvalidArgumentError("the range ends before it starts");
  if (options.parallel < 1 || options.parallel > 64) {
    return InvalidArgumentError("--parallel: expected 1..64");
  }
  for (const std::string& s : options.skip) {
    const auto& steps = Steps();
    if (std::none_of(steps.begin(), steps.end(), [&](const StepDef& d) { return d.name == s; })) {
      return InvalidArgumentError("--skip: unknown step \"" + s + "\"");
    }
  }
  const auto start = Clock::now();
  Runner run(project, options);
  if (options.dry_run) {
    for (Month m = options.from; m <= options.to; m = m.Next()) {
      for (const StepDef& def : Steps()) {
        if (def.name == "report" || run.Skipped(def.name)) continue;
        run.summary.steps.push_back({m, def.name, Outcome::kNotDue, def.what, 0, 0, 0});
      }
    }
    if (!run.Skipped("report")) {
      run.summary.steps.push_back({options.to, "report", Outcome::kNotDue, Steps().back().what, 0, 0, 0});
    }
    return run.summary;
  }
  ASSIGN_OR_RETURN(run.base_hash, BaseHash(project));
  ASSIGN_OR_RETURN(metastore::Metastore meta,
                   metastore::Metastore::Open(project.workspace / "metastore.sqlite"));
  (void)meta.MarkInterrupted();
  run.meta = &meta;
  ASSIGN_OR_RETURN(registry::Registry registry, registry::Registry::Open(project.workspace));
  ASSIGN_OR_RETURN(db::Database database, db::Database::Open(":memory:"));
  ASSIGN_OR_RETURN(db::Connection con, database.Connect());
  (void)run.mart.RemoveStaleTemporaries();
  const json args = {{"from", options.from.ToString()}, {"to", options.to.ToString()},
                     {"force", options.force}, {"parallel", options.parallel}};
  ASSIGN_OR_RETURN(run.run_id, meta.BeginRun(options.command, args.dump()));
  run.summary.run_id = run.run_id;

  if (options.parallel == 1) BatchIngest(run, registry, con, meta);

  // Phase 1 with --parallel K: ingest and quality of K months at once (each reads and writes
  // only its own month), each thread with its own DuckDB connection and metastore handle.
  if (options.parallel > 1) {
    for (Month m = options.from; m <= options.to; m = m.Next(options.parallel)) {
      std::vector<std::thread> threads;
      for (int k = 0; k < options.parallel && m.Next(k) <= options.to; ++k) {
        threads.emplace_back([&run, &registry, m, k] {
          auto db2 = db::Database::Open(":memory:");
          auto con2 = db2.ok() ? db2->Connect() : StatusOr<db::Connection>(db2.status());
          auto meta2 = metastore::Metastore::Open(run.project.workspace / "metastore.sqlite");
          if (!con2.ok() || !meta2.ok()) return;  // phase 2 runs the step again and reports
          StepContext c{run, *con2, registry, m.Next(k)};
          for (const char* name : {"ingest", "quality"}) {
            if (run.Skipped(name)) continue;
            const StepDef& def = *std::find_if(Steps().begin(), Steps().end(),
                                               [&](const StepDef& d) { return d.name == name; });
            StepReport r = RunStep(c, def, *meta2);
            std::lock_guard<std::mutex> lock(run.mu);
            LogReport(run, r);
          }
        });
      }
      for (auto& t : threads) t.join();
    }
  }

  bool paused = false;
  for (Month m = options.from; m <= options.to && !paused; m = m.Next()) {
    StepContext c{run, con, registry, m};
    bool month_failed = false;
    for (const StepDef& def : Steps()) {
      if (def.name == "report" || run.Skipped(def.name)) continue;
      if (run.done.count({m.index(), def.name})) {
        const Outcome o = run.done[{m.index(), def.name}].first;
        month_failed |= o == Outcome::kFailed || o == Outcome::kBlocked;
        continue;  // ran in phase 1
      }
      StepReport r = RunStep(c, def, meta);
      LogReport(run, r);
      month_failed |= r.outcome == Outcome::kFailed || r.outcome == Outcome::kBlocked;
      if (r.outcome == Outcome::kPaused) {
        paused = true;
        run.summary.paused = true;
        run.summary.pause_message = r.message;
        break;
      }
    }
    if (month_failed) run.summary.failed_months.push_back(m);
  }
  if (!paused && !run.Skipped("report")) {
    StepContext c{run, con, registry, options.to};
    StepReport r = RunStep(c, Steps().back(), meta);
    LogReport(run, r);
  }
  run.summary.seconds = Since(start);
  std::string error;
  for (Month m : run.summary.failed_months) error += (error.empty() ? "" : ", ") + m.ToString();
  if (paused) {
    (void)meta.FinishRun(run.run_id, metastore::RunStatus::kFailed, "paused: " + run.summary.pause_message);
  } else {
    (void)meta.FinishRun(run.run_id,
                         error.empty() ? metastore::RunStatus::kSucceeded : metastore::RunStatus::kFailed,
                         error.empty() ? "" : "failed months: " + error);
  }
  return std::move(run.summary);
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
