// riskpipe monitor | alerts | compare | unseen-check: monthly model monitoring, the alerts it
// raised, champion/challenger analysis and the unseen-segment drift test (docs/monitoring.md).

#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "core/json.h"
#include "core/progress.h"
#include "db/database.h"
#include "metastore/metastore.h"
#include "monitoring/compare.h"
#include "monitoring/monitoring.h"

namespace riskpipe::cli {
namespace {

std::string Num(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// --month, or --from/--to (either alone is one month). InvalidArgument for bad text.
StatusOr<std::pair<Month, Month>> MonthRange(const std::string& month, const std::string& from,
                                             const std::string& to) {
  if (!month.empty()) {
    if (!from.empty() || !to.empty()) return InvalidArgumentError("give --month or --from/--to");
    ASSIGN_OR_RETURN(Month m, Month::Parse(month));
    return std::make_pair(m, m);
  }
  if (from.empty() && to.empty())
    return InvalidArgumentError("give --month YYYY-MM or --from/--to");
  ASSIGN_OR_RETURN(Month a, Month::Parse(from.empty() ? to : from));
  ASSIGN_OR_RETURN(Month b, Month::Parse(to.empty() ? from : to));
  if (b < a) return InvalidArgumentError("--to is before --from");
  return std::make_pair(a, b);
}

StatusOr<db::Connection> Connect(std::optional<db::Database>& holder) {
  ASSIGN_OR_RETURN(db::Database database, db::Database::Open(":memory:"));
  holder.emplace(std::move(database));
  return holder->Connect();
}

int Usage(const Status& s) { return ReportFailure(s, kExitUsage); }

}  // namespace

void RegisterMonitor(CLI::App& app, MonitorFlags& flags) {
  CLI::App* monitor = app.add_subcommand(
      "monitor",
      "Monitor the models scored in gold/predictions for a month: stability against the\n"
      "development sample (PSI, CSI, JS, KS, null rates, approval rate, importance, decile\n"
      "profile), performance of the scoring months whose labels matured (estimates for the\n"
      "others), the governance policy's alerts and the retrain recommendation. Writes\n"
      "gold/monitoring_stability, gold/monitoring_performance, gold/monitoring_alerts and the\n"
      "metastore alerts; re-running a month replaces its results (docs/monitoring.md).");
  monitor->add_option("--month", flags.month, "Monitored month, YYYY-MM");
  monitor->add_option("--from", flags.from, "First month of a range, YYYY-MM");
  monitor->add_option("--to", flags.to, "Last month of a range, YYYY-MM");
  monitor->add_flag("--no-importance", flags.no_importance,
                    "Skip the monthly mean |attribution| per feature (the slowest statistic)");

  CLI::App* alerts = app.add_subcommand(
      "alerts", "List the monitoring alerts in the metastore (docs/monitoring.md, \"Alerts\").");
  alerts->add_option("--month", flags.month, "Only this month, YYYY-MM");
  alerts->add_option("--from", flags.from, "From this month, YYYY-MM");
  alerts->add_option("--to", flags.to, "To this month, YYYY-MM");
  alerts->add_option("--severity", flags.severity, "Only info, warn or act")
      ->check(CLI::IsMember({"info", "warn", "act"}));
  alerts->add_option("--model", flags.model, "Only this model id (NAME/VERSION)");
  alerts->add_flag("--all", flags.all, "Include alerts a later run resolved");
  alerts->add_flag("--json", flags.json, "One JSON object per line");

  CLI::App* compare = app.add_subcommand(
      "compare",
      "Champion/challenger analysis of two model versions scored on the same applications in\n"
      "gold/predictions: AUC difference with its DeLong confidence interval on matured labels,\n"
      "approval-rate and loss differences, and the governance decision rule.");
  compare->add_option("champion", flags.champion, "Champion model id (NAME/VERSION)")->required();
  compare->add_option("challenger", flags.challenger, "Challenger model id (NAME/VERSION)")
      ->required();
  compare->add_option("--from", flags.from, "First scoring month, YYYY-MM");
  compare->add_option("--to", flags.to, "Last scoring month, YYYY-MM");
  compare->add_flag("--json", flags.json, "Print the result as JSON");

  CLI::App* unseen = app.add_subcommand(
      "unseen-check",
      "Drift test on a segment the model never saw: by default the decision months after its\n"
      "out-of-time window. Scores the segment's feature rows and compares score and feature\n"
      "distributions with the development sample (PSI, KS, CSI per feature).");
  unseen->add_option("model", flags.model, "Model id (NAME/VERSION)")->required();
  unseen->add_option("--from", flags.from, "First month of the segment, YYYY-MM");
  unseen->add_option("--to", flags.to, "Last month of the segment, YYYY-MM");
  unseen->add_flag("--json", flags.json, "Print the result as JSON");
}

int RunMonitor(const GlobalFlags& global, const MonitorFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  auto range = MonthRange(flags.month, flags.from, flags.to);
  if (!range.ok()) return Usage(range.status());
  std::optional<db::Database> database;
  auto con = Connect(database);
  if (!con.ok()) return ReportFailure(con.status());
  auto store = metastore::Metastore::Open(project->workspace.metastore());
  if (!store.ok()) return ReportFailure(store.status());
  (void)store->MarkInterrupted();
  auto run =
      store->BeginRun("monitor", flags.month.empty() ? flags.from + ".." + flags.to : flags.month);
  if (!run.ok()) return ReportFailure(run.status());
  monitoring::MonitorOptions options;
  options.importance = !flags.no_importance;
  if (!GetConsoleOptions().quiet)
    options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  for (Month m = range->first; m <= range->second; m = m.Next()) {
    auto step =
        store->BeginStep(*run, "monitor", monitoring::kStabilityTable, m.first_day().ToString());
    auto s = monitoring::MonitorMonth(*project, *con, m, options);
    metastore::StepResult result;
    if (!s.ok()) {
      result.status = metastore::RunStatus::kFailed;
      result.error = s.status().ToString();
      if (step.ok()) (void)store->FinishStep(*step, result);
      (void)store->FinishRun(*run, metastore::RunStatus::kFailed, result.error);
      return ReportFailure(s.status());
    }
    result.rows_in = s->rows;
    result.details_json = nlohmann::json{{"models", s->models},
                                         {"warn", s->alerts_warn},
                                         {"act", s->alerts_act},
                                         {"retrain_recommended", s->retrain_recommended}}
                              .dump();
    if (step.ok()) (void)store->FinishStep(*step, result);
    std::string models;
    for (const auto& id : s->models) models += (models.empty() ? "" : ",") + id;
    std::printf(
        "%s  models %s  rows %lld  performance months %zu  alerts act %d warn %d%s  (%.2f s)\n",
        m.ToString().c_str(), models.c_str(), static_cast<long long>(s->rows),
        s->performance_months.size(), s->alerts_act, s->alerts_warn,
        s->retrain_recommended ? "  RETRAIN RECOMMENDED" : "", s->seconds);
  }
  (void)store->FinishRun(*run, metastore::RunStatus::kSucceeded);
  return kExitOk;
}

int RunAlerts(const GlobalFlags& global, const MonitorFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  metastore::AlertFilter f;
  for (const std::string* text : {&flags.month, &flags.from, &flags.to}) {
    if (!text->empty() && !Month::Parse(*text).ok()) {
      return Usage(InvalidArgumentError("expected YYYY-MM, got \"" + *text + "\""));
    }
  }
  f.from_month = flags.month.empty() ? flags.from : flags.month;
  f.to_month = flags.month.empty() ? flags.to : flags.month;
  f.severity = flags.severity;
  f.model_id = flags.model;
  f.include_resolved = flags.all;
  auto store = metastore::Metastore::Open(project->workspace.metastore());
  if (!store.ok()) return ReportFailure(store.status());
  auto rows = store->ListAlerts(f);
  if (!rows.ok()) return ReportFailure(rows.status());
  for (const auto& a : *rows) {
    if (flags.json) {
      nlohmann::json j = {{"alert_id", a.alert_id}, {"month", a.month},
                          {"model_id", a.model_id}, {"check", a.check_name},
                          {"severity", a.severity}, {"metric", a.metric},
                          {"feature", a.feature},   {"action", a.action},
                          {"message", a.message},   {"resolved_at", a.resolved_at}};
      j["value"] = a.value ? nlohmann::json(*a.value) : nlohmann::json(nullptr);
      j["threshold"] = a.threshold ? nlohmann::json(*a.threshold) : nlohmann::json(nullptr);
      j["evidence"] = nlohmann::json::parse(a.evidence_json, nullptr, false);
      std::printf("%s\n", j.dump().c_str());
      continue;
    }
    std::printf("%s  %-5s %-12s %-16s %-20s %-8s %s%s\n", a.month.c_str(), a.severity.c_str(),
                a.action.c_str(), a.check_name.c_str(), a.feature.empty() ? "-" : a.feature.c_str(),
                a.value ? Num(*a.value).c_str() : "-", a.message.c_str(),
                a.resolved_at.empty() ? "" : "  (resolved)");
  }
  if (!flags.json && rows->empty()) std::printf("no alerts\n");
  return kExitOk;
}

int RunCompare(const GlobalFlags& global, const MonitorFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  monitoring::CompareOptions options;
  if (!flags.from.empty() || !flags.to.empty()) {
    auto range = MonthRange("", flags.from, flags.to);
    if (!range.ok()) return Usage(range.status());
    options.from = range->first;
    options.to = range->second;
  }
  std::optional<db::Database> database;
  auto con = Connect(database);
  if (!con.ok()) return ReportFailure(con.status());
  auto r = monitoring::CompareModels(*project, *con, flags.champion, flags.challenger, options);
  if (!r.ok()) {
    return ReportFailure(
        r.status(), r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed);
  }
  auto side = [](const monitoring::ModelSide& s) {
    return nlohmann::json{
        {"model_id", s.model_id},           {"auc", s.auc},
        {"approval_rate", s.approval_rate}, {"bad_rate_approved", s.bad_rate_approved},
        {"loss_rate", s.loss_rate},         {"expected_loss", s.expected_loss}};
  };
  if (flags.json) {
    nlohmann::json j = {{"champion", side(r->champion)},
                        {"challenger", side(r->challenger)},
                        {"rows", r->rows},
                        {"labelled", r->labelled},
                        {"auc_diff", r->auc_diff},
                        {"auc_diff_se", r->auc_diff_se},
                        {"ci", {r->auc_diff_lower, r->auc_diff_upper}},
                        {"confidence", r->confidence},
                        {"p_value", r->p_value},
                        {"decision", r->decision},
                        {"rule", r->rule}};
    std::printf("%s\n", j.dump(1).c_str());
    return kExitOk;
  }
  std::printf("applications scored by both: %lld (labelled %lld)\n",
              static_cast<long long>(r->rows), static_cast<long long>(r->labelled));
  std::printf("%-12s %-22s %-8s %-9s %-13s %-10s %s\n", "role", "model", "auc", "approval",
              "bad|approved", "loss rate", "expected loss");
  for (const auto* s : {&r->champion, &r->challenger}) {
    std::printf("%-12s %-22s %-8s %-9s %-13s %-10s %s\n",
                s == &r->champion ? "champion" : "challenger", s->model_id.c_str(),
                Num(s->auc).c_str(), Num(s->approval_rate).c_str(),
                Num(s->bad_rate_approved).c_str(), Num(s->loss_rate).c_str(),
                Num(s->expected_loss).c_str());
  }
  std::printf("AUC(challenger) - AUC(champion) = %s, %g%% CI [%s, %s], p = %s\n",
              Num(r->auc_diff).c_str(), r->confidence * 100, Num(r->auc_diff_lower).c_str(),
              Num(r->auc_diff_upper).c_str(), Num(r->p_value).c_str());
  std::printf("decision: %s\nrule: %s\n", r->decision.c_str(), r->rule.c_str());
  return kExitOk;
}

int RunUnseenCheck(const GlobalFlags& global, const MonitorFlags& flags) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  std::optional<Month> from, to;
  if (!flags.from.empty() || !flags.to.empty()) {
    auto range = MonthRange("", flags.from, flags.to);
    if (!range.ok()) return Usage(range.status());
    from = range->first;
    to = range->second;
  }
  std::optional<db::Database> database;
  auto con = Connect(database);
  if (!con.ok()) return ReportFailure(con.status());
  auto r = monitoring::UnseenSegmentCheck(*project, *con, flags.model, from, to);
  if (!r.ok()) return ReportFailure(r.status());
  if (flags.json) {
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& m : r->rows_by_metric) {
      metrics.push_back(
          {{"metric", m.metric},
           {"feature", m.feature},
           {"bucket", m.bucket},
           {"value", std::isnan(m.value) ? nlohmann::json(nullptr) : nlohmann::json(m.value)},
           {"reference", m.reference ? nlohmann::json(*m.reference) : nlohmann::json(nullptr)}});
    }
    std::printf("%s\n", nlohmann::json{{"model_id", r->model_id},
                                       {"segment", r->segment},
                                       {"why", r->why},
                                       {"rows", r->rows},
                                       {"score_psi", r->score_psi},
                                       {"drifted", r->drifted},
                                       {"passed", r->passed},
                                       {"metrics", metrics}}
                            .dump(1)
                            .c_str());
    return r->passed ? kExitOk : kExitFailed;
  }
  std::printf("unseen segment of %s: %s, %lld rows\nwhy: %s\n", r->model_id.c_str(),
              r->segment.c_str(), static_cast<long long>(r->rows), r->why.c_str());
  std::printf("score PSI %s, KS p-value %s\n", Num(r->score_psi).c_str(),
              Num(r->score_ks_pvalue).c_str());
  for (const auto& m : r->rows_by_metric) {
    if (m.metric == "csi") std::printf("  csi %-32s %s\n", m.feature.c_str(), Num(m.value).c_str());
  }
  std::string drifted;
  for (const auto& f : r->drifted) drifted += (drifted.empty() ? "" : ", ") + f;
  std::printf("%s%s\n", r->passed ? "PASSED" : "FAILED: drifted ",
              r->passed ? "" : (drifted.empty() ? "score" : drifted).c_str());
  return r->passed ? kExitOk : kExitFailed;
}

}  // namespace riskpipe::cli
