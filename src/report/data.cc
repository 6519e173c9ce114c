#include "report/data.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "datamart/datamart.h"
#include "db/database.h"
#include "monitoring/run_log.h"
#include "registry/registry.h"
#include "report/queries.h"

namespace riskpipe::report::internal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json CellJson(const db::Value& v) {
  if (std::holds_alternative<bool>(v)) return std::get<bool>(v);
  if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
  if (std::holds_alternative<double>(v)) {
    const double d = std::get<double>(v);
    return std::isfinite(d) ? json(d) : json(nullptr);
  }
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  if (std::holds_alternative<Date>(v)) return std::get<Date>(v).ToString();
  return nullptr;
}

json TableJson(const db::Table& t) {
  json rows = json::array();
  for (const auto& r : t.rows) {
    json row = json::array();
    for (const auto& v : r) row.push_back(CellJson(v));
    rows.push_back(std::move(row));
  }
  return {{"columns", t.columns}, {"rows", std::move(rows)}};
}

json ReadJsonFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(nullptr) : j;
}

// Makes the temp table `name` from a gold table, or empty with the documented schema when the
// table is missing or its layout differs (a note says which).
void LoadTable(db::Connection& con, const datamart::Datamart& mart, const SourceTable& t,
               std::vector<std::string>& notes) {
  auto read = mart.ReadSql(datamart::Layer::kGold, t.gold_table);
  if (read.ok()) {
    Status s = con.Execute("CREATE OR REPLACE TEMP TABLE " + std::string(t.name) + " AS " +
                           std::string(t.select) + " FROM " + *read + " " + std::string(t.tail));
    if (s.ok()) return;
    notes.push_back("gold/" + std::string(t.gold_table) + " could not be read: " + s.message());
  } else {
    notes.push_back("gold/" + std::string(t.gold_table) + " has no partitions yet");
  }
  Status s = con.Execute("CREATE OR REPLACE TEMP TABLE " + std::string(t.name) + " (" +
                         std::string(t.empty_schema) + ")");
  if (!s.ok()) notes.push_back("internal: " + s.message());
}

void LoadRegistry(const Workspace& workspace, ReportData& out) {
  registry::Options options;
  options.warn = [](const std::string&) {};  // orphan clean-up warnings are not the report's
  auto reg = registry::Registry::Open(workspace, std::move(options));
  if (!reg.ok()) {
    out.notes.push_back("model registry could not be opened: " + reg.status().message());
    return;
  }
  auto list = reg->List();
  if (!list.ok() || list->empty()) {
    out.notes.push_back("no model registered");
    out.facts["model"] = nullptr;
    return;
  }
  const registry::ModelRecord* chosen = &list->front();  // most recently registered
  for (const auto& m : *list) {
    out.models.push_back({{"id", m.id},
                          {"stage", std::string(registry::StageName(m.stage))},
                          {"family", m.family},
                          {"registered_at", m.registered_at},
                          {"created_by", m.created_by},
                          {"run_id", m.run_id},
                          {"metrics", json::parse(m.metrics_json, nullptr, false)}});
    if (m.stage == registry::Stage::kProduction && chosen->stage != registry::Stage::kProduction) {
      chosen = &m;
    }
  }
  if (auto verified = reg->VerifiedPath(chosen->id); !verified.ok()) {
    out.notes.push_back("model " + chosen->id +
                        " failed verification: " + verified.status().message());
  }
  json meta = ReadJsonFile(chosen->path / "metadata.json");
  if (meta.is_object() && meta.contains("training_data")) meta["training_data"].erase("lineage");
  json model = {{"id", chosen->id},
                {"stage", std::string(registry::StageName(chosen->stage))},
                {"family", chosen->family},
                {"registered_at", chosen->registered_at},
                {"metadata", meta},
                {"leaderboard", ReadJsonFile(chosen->path / "leaderboard.json")},
                {"validation", ReadJsonFile(chosen->path / "validation.json")}};
  out.facts["model"] = std::move(model);
  if (auto history = reg->History("", ""); history.ok()) {
    for (auto it = history->rbegin(); it != history->rend() && out.events.size() < 60; ++it) {
      out.events.push_back({{"at", it->at},
                            {"model_id", it->model_id},
                            {"event", it->event},
                            {"from", it->from_stage},
                            {"to", it->to_stage},
                            {"actor", it->actor},
                            {"reason", it->reason}});
    }
  }
}

void LoadRuns(const Workspace& workspace, ReportData& out) {
  // The 40 most recent runs: enough for a month of daily pipeline runs on one screen.
  auto runs = monitoring::RecentRuns(workspace, 40);
  if (!runs.ok()) {
    out.notes.push_back("run log could not be read: " + runs.status().message());
    return;
  }
  for (const auto& r : *runs) {
    out.runs.push_back({{"run_id", r.run_id},
                        {"command", r.command},
                        {"args", r.args},
                        {"status", r.status},
                        {"started_at", r.started_at},
                        {"finished_at", r.finished_at},
                        {"error", r.error},
                        {"steps", r.steps},
                        {"failed_steps", r.failed_steps},
                        {"rows_out", r.rows_out},
                        {"rows_quarantined", r.rows_quarantined},
                        {"step_seconds", r.step_seconds}});
  }
}

void LoadGovernanceDoc(const config::Project& project, ReportData& out) {
  const fs::path candidates[] = {project.config_path.parent_path() / "docs" / "governance.md",
                                 fs::path(RISKPIPE_DOCS_DIR) / "governance.md"};
  for (const auto& p : candidates) {
    std::ifstream in(p);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    out.governance_md = ss.str();
    out.governance_path = fs::absolute(p).lexically_normal().string();
    return;
  }
  out.notes.push_back("docs/governance.md not found: the report shows the built-in SOP summary");
}

}  // namespace

StatusOr<ReportData> LoadReportData(const config::Project& project, int threads,
                                    const std::string& generated_at) {
  ReportData out;
  out.project = project.name;
  out.workspace = project.workspace.string();
  out.generated_at = generated_at;
  out.facts["psi_warn"] = kDefaultPsiWarn;
  out.facts["psi_act"] = kDefaultPsiAct;
  out.facts["psi_thresholds_from"] = "policy defaults";
  out.facts["calib_warn"] = project.governance.calibration_gap.warn;
  out.facts["calib_act"] = project.governance.calibration_gap.act;

  db::Options db_options;
  db_options.threads = threads;
  ASSIGN_OR_RETURN(auto database, db::Database::Open(":memory:", db_options));
  ASSIGN_OR_RETURN(auto con, database.Connect());
  const datamart::Datamart mart(project.workspace.datamart());
  for (const auto& t : SourceTables()) LoadTable(con, mart, t, out.notes);
  for (const auto& q : SetupStatements()) {
    if (Status s = con.Execute(q); !s.ok()) return InternalError("report setup: " + s.message());
  }
  for (const auto& d : Datasets()) {
    auto t = con.Query(d.sql);
    if (!t.ok()) {
      out.notes.push_back("dataset " + std::string(d.name) + ": " + t.status().message());
      out.datasets[std::string(d.name)] = {{"columns", json::array()}, {"rows", json::array()}};
      continue;
    }
    out.datasets[std::string(d.name)] = TableJson(*t);
  }
  for (const auto& f : Facts()) {
    auto t = con.Query(f.sql);
    if (!t.ok() || t->rows.empty()) continue;
    for (size_t c = 0; c < t->columns.size(); ++c) {
      json v = CellJson(t->rows[0][c]);
      if (!v.is_null()) out.facts[t->columns[c]] = std::move(v);
    }
  }

  if (fs::exists(project.workspace.metastore())) {
    LoadRegistry(project.workspace, out);
    LoadRuns(project.workspace, out);
  } else {
    out.notes.push_back("no model registered (no metastore.sqlite in the workspace yet)");
    out.facts["model"] = nullptr;
  }
  LoadGovernanceDoc(project, out);
  return out;
}

}  // namespace riskpipe::report::internal
