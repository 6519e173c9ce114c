// riskpipe models list | show | approve | reject | promote | rollback | archive | history: the
// model registry and its governance (docs/registry.md).

#include <cstdio>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "core/files.h"
#include "core/json.h"
#include "registry/registry.h"

namespace riskpipe::cli {
namespace {

using nlohmann::json;
using registry::Event;
using registry::ModelRecord;
using registry::Registry;

// Bad input is a usage error (2); everything else, unknown ids included, a failure (1).
int Report(const Status& status) {
  return ReportFailure(status,
                       status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed);
}

json ParseOr(const std::string& text, json fallback) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? fallback : parsed;
}

json RecordJson(const ModelRecord& m) {
  return {{"id", m.id},
          {"name", m.name},
          {"version", m.version},
          {"stage", registry::StageName(m.stage)},
          {"family", m.family},
          {"run_id", m.run_id},
          {"created_by", m.created_by},
          {"registered_at", m.registered_at},
          {"metrics", ParseOr(m.metrics_json, json::object())},
          {"path", m.path.string()}};
}

json EventJson(const Event& e) {
  return {{"event_id", e.event_id},
          {"model_id", e.model_id},
          {"event", e.event},
          {"from_stage", e.from_stage},
          {"to_stage", e.to_stage},
          {"actor", e.actor},
          {"reason", e.reason},
          {"at", e.at},
          {"details", ParseOr(e.details_json, json::object())}};
}

// "auc=0.87 ks=0.41" from a metrics object.
std::string MetricsText(const std::string& metrics_json) {
  const json metrics = ParseOr(metrics_json, json::object());
  std::string out;
  for (const auto& [key, value] : metrics.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (value.is_number_float()) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.4g", value.get<double>());
      text = buf;
    }
    out += (out.empty() ? "" : " ") + key + "=" + text;
  }
  return out.empty() ? "-" : out;
}

// The number of entries of the first of `keys` that metadata holds as an array or object.
std::string CountOf(const json& meta, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (meta.contains(key) && (meta[key].is_array() || meta[key].is_object())) {
      return std::to_string(meta[key].size());
    }
  }
  return "-";
}

// The entries of every "partitions" array anywhere inside `j` (training data lineage).
size_t CountPartitions(const json& j) {
  size_t n = 0;
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      n += key == "partitions" && value.is_array() ? value.size() : CountPartitions(value);
    }
  } else if (j.is_array()) {
    for (const json& e : j) n += CountPartitions(e);
  }
  return n;
}

// "<source>; N partitions" from metadata's training_data (docs/registry.md lists the keys).
std::string DataText(const json& meta) {
  if (!meta.contains("training_data")) return "-";
  const json& data = meta["training_data"];
  const json* lineage = data.contains("lineage") ? &data["lineage"] : &data;
  std::string out = lineage->contains("source") && (*lineage)["source"].is_string()
                        ? (*lineage)["source"].get<std::string>() + "; "
                        : "";
  const size_t partitions = CountPartitions(data);
  if (partitions == 0 && lineage->contains("file") && (*lineage)["file"].is_string()) {
    return out + (*lineage)["file"].get<std::string>();
  }
  return out + std::to_string(partitions) + " partitions";
}

// A string field at `path` (keys from the top), or "-".
std::string TextAt(const json& meta, std::initializer_list<const char*> path) {
  const json* j = &meta;
  for (const char* key : path) {
    if (!j->is_object() || !j->contains(key)) return "-";
    j = &(*j)[key];
  }
  return j->is_string() ? j->get<std::string>() : j->dump();
}

int List(Registry& reg, const ModelsFlags& flags) {
  std::optional<registry::Stage> stage;
  if (!flags.stage.empty()) {
    auto parsed = registry::ParseStage(flags.stage);
    if (!parsed.ok()) return ReportFailure(parsed.status(), kExitUsage);
    stage = *parsed;
  }
  auto models = reg.List(flags.name, stage);
  if (!models.ok()) return Report(models.status());
  if (flags.json) {
    json out = json::array();
    for (const ModelRecord& m : *models) out.push_back(RecordJson(m));
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  if (models->empty()) {
    std::printf("no models registered%s\n",
                flags.name.empty() && flags.stage.empty() ? "" : " matching the filter");
    return kExitOk;
  }
  std::printf("%-24s %-10s %-10s %-24s %-12s %s\n", "ID", "STAGE", "FAMILY", "REGISTERED", "BY",
              "METRICS");
  for (const ModelRecord& m : *models) {
    std::printf("%-24s %-10s %-10s %-24s %-12s %s\n", m.id.c_str(),
                std::string(registry::StageName(m.stage)).c_str(),
                m.family.empty() ? "-" : m.family.c_str(), m.registered_at.c_str(),
                m.created_by.c_str(), MetricsText(m.metrics_json).c_str());
  }
  return kExitOk;
}

int Show(Registry& reg, const ModelsFlags& flags) {
  auto model = reg.Get(flags.ref);
  if (!model.ok()) return Report(model.status());
  std::optional<registry::VerifiedPackage> verified;
  if (flags.verify) {
    auto checked = reg.Verify(model->id);
    if (!checked.ok()) return Report(checked.status());
    verified = std::move(*checked);
  }
  auto text = ReadFile(model->path / "metadata.json");
  if (!text.ok()) return Report(text.status().WithPrefix(model->id));
  const json meta = ParseOr(*text, json::object());
  if (flags.json) {
    json out = RecordJson(*model);
    out["metadata"] = meta;
    if (verified) {
      out["verified"] = true;
      out["manifest_sha256"] = verified->manifest_sha256;
      out["manifest_recorded_at"] = verified->recorded_at;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  const std::string run = model->run_id == 0 ? "" : " (run " + std::to_string(model->run_id) + ")";
  std::printf("model        %s\n", model->id.c_str());
  std::printf("stage        %s\n", std::string(registry::StageName(model->stage)).c_str());
  std::printf("registered   %s by %s%s\n", model->registered_at.c_str(), model->created_by.c_str(),
              run.c_str());
  std::printf("created      %s\n", TextAt(meta, {"created_at"}).c_str());
  std::printf("family       %s\n",
              model->family.empty() ? TextAt(meta, {"family"}).c_str() : model->family.c_str());
  std::printf("metrics      %s\n", MetricsText(model->metrics_json).c_str());
  std::printf("features     %s\n", CountOf(meta, {"input_schema", "features"}).c_str());
  std::printf("data         %s\n", DataText(meta).c_str());
  std::printf("git commit   %s\n", TextAt(meta, {"software", "git_commit"}).c_str());
  std::printf("path         %s\n", model->path.c_str());
  if (verified) {
    std::printf("manifest     verified: sha256 %s, as recorded at %s\n",
                verified->manifest_sha256.c_str(), verified->recorded_at.c_str());
  }
  return kExitOk;
}

int Transition(Registry& reg, const ModelsFlags& flags, const std::string& sub) {
  auto before = reg.Get(flags.ref);
  if (!before.ok()) return Report(before.status());
  if (sub == "promote" && flags.promote_stage != "production") {
    return ReportFailure(InvalidArgumentError("--stage " + flags.promote_stage +
                                              ": promote moves a version to production only; "
                                              "use approve, reject or archive"),
                         kExitUsage);
  }
  const std::string& id = before->id;
  StatusOr<ModelRecord> after = sub == "approve"  ? reg.Approve(id, flags.by, flags.reason)
                                : sub == "reject" ? reg.Reject(id, flags.by, flags.reason)
                                : sub == "archive"
                                    ? reg.Archive(id, flags.by, flags.reason)
                                    : reg.Promote(id, flags.by, flags.override_reason);
  if (!after.ok()) return Report(after.status());
  std::printf("%s: %s -> %s (by %s)\n", after->id.c_str(),
              std::string(registry::StageName(before->stage)).c_str(),
              std::string(registry::StageName(after->stage)).c_str(), flags.by.c_str());
  if (sub == "promote") {
    auto history = reg.History("", after->id);
    if (history.ok() && !history->empty()) {
      const json details = ParseOr(history->back().details_json, json::object());
      if (details.contains("replaces")) {
        std::printf("%s: production -> approved (demoted)\n",
                    details["replaces"].get<std::string>().c_str());
      }
    }
  }
  return kExitOk;
}

// The model name commands default to: the only name with a version in `stage` (any stage when
// null). Usage error when there is none or more than one.
StatusOr<std::string> OnlyName(Registry& reg, std::optional<registry::Stage> stage) {
  ASSIGN_OR_RETURN(const std::vector<ModelRecord> models, reg.List("", stage));
  std::set<std::string> names;
  for (const ModelRecord& m : models) names.insert(m.name);
  if (names.size() == 1) return *names.begin();
  return InvalidArgumentError(names.empty() ? "no model matches; say --name NAME"
                                            : "several models; say --name NAME");
}

int Rollback(Registry& reg, const ModelsFlags& flags) {
  std::string name = flags.name;
  if (name.empty()) {
    auto only = OnlyName(reg, registry::Stage::kProduction);
    if (!only.ok()) return Report(only.status());
    name = *only;
  }
  auto current = reg.Get(name + "/production");
  if (!current.ok()) return Report(current.status());
  auto restored = reg.Rollback(name, flags.by, flags.reason, flags.reject_current);
  if (!restored.ok()) return Report(restored.status());
  std::printf("%s: production -> %s; %s: approved -> production (by %s)\n", current->id.c_str(),
              flags.reject_current ? "rejected" : "approved", restored->id.c_str(),
              flags.by.c_str());
  return kExitOk;
}

int ProductionAt(Registry& reg, const ModelsFlags& flags, const std::string& name) {
  auto at = registry::ParseTimestamp(flags.at);
  if (!at.ok()) return ReportFailure(at.status().WithPrefix("--at"), kExitUsage);
  auto info = reg.ProductionAt(name, *at);
  if (!info.ok()) return Report(info.status());
  const std::string when = metastore::FormatUtcTimestamp(*at);
  if (flags.json) {
    json out = {{"name", name}, {"at", when}, {"production", nullptr}};
    if (info->has_value()) {
      const registry::ProductionInfo& p = **info;
      out["production"] = {{"model", RecordJson(p.model)}, {"entered", EventJson(p.entered)}};
      out["production"]["approval"] = p.approval ? EventJson(*p.approval) : json(nullptr);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  if (!info->has_value()) {
    std::printf("%s at %s: no version in production\n", name.c_str(), when.c_str());
    return kExitOk;
  }
  const registry::ProductionInfo& p = **info;
  std::printf("%s at %s: %s\n", name.c_str(), when.c_str(), p.model.id.c_str());
  std::printf("  in production since %s (%s by %s)\n", p.entered.at.c_str(),
              p.entered.event.c_str(), p.entered.actor.c_str());
  if (p.approval) {
    std::printf("  approved by %s at %s: %s\n", p.approval->actor.c_str(), p.approval->at.c_str(),
                p.approval->reason.c_str());
  } else {
    std::printf("  no approval recorded\n");
  }
  return kExitOk;
}

int History(Registry& reg, const ModelsFlags& flags) {
  std::string name = flags.name, id;
  if (!flags.ref.empty()) {
    auto model = reg.Get(flags.ref);
    if (!model.ok()) return Report(model.status());
    id = model->id;
    name = model->name;
  }
  if (!flags.at.empty()) {
    if (name.empty()) {
      auto only = OnlyName(reg, std::nullopt);
      if (!only.ok()) return Report(only.status());
      name = *only;
    }
    return ProductionAt(reg, flags, name);
  }
  auto events = reg.History(name, id);
  if (!events.ok()) return Report(events.status());
  if (flags.json) {
    json out = json::array();
    for (const Event& e : *events) out.push_back(EventJson(e));
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  for (const Event& e : *events) {
    const std::string move =
        e.from_stage.empty() && e.to_stage.empty()
            ? ""
            : (e.from_stage.empty() ? "-" : e.from_stage) + " -> " + e.to_stage;
    std::printf("%5lld  %s  %-20s %-12s %-26s by %s%s%s\n", static_cast<long long>(e.event_id),
                e.at.c_str(), e.model_id.c_str(), e.event.c_str(), move.c_str(), e.actor.c_str(),
                e.reason.empty() ? "" : ": ", e.reason.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterModels(CLI::App& app, ModelsFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "models",
      "The model registry: list, inspect, approve, promote, roll back and audit model "
      "versions (docs/registry.md)");
  cmd->require_subcommand(1);
  const char* ref_help = "ID (NAME/VERSION), NAME/latest, latest, NAME/production or production";
  CLI::App* list = cmd->add_subcommand("list", "Registered versions, newest first");
  list->add_option("--name", flags.name, "Only this model name");
  list->add_option("--stage", flags.stage,
                   "Only this stage: candidate, approved, production, archived, rejected");
  list->add_flag("--json", flags.json, "JSON instead of a table");
  CLI::App* show = cmd->add_subcommand("show", "One version's catalog entry and metadata summary");
  show->add_option("ref", flags.ref, ref_help)->required();
  show->add_flag("--verify", flags.verify,
                 "Check every file against the MANIFEST (exit 1 naming a tampered file)");
  show->add_flag("--json", flags.json, "JSON: the catalog entry with the whole metadata.json");
  const auto decision = [&](const char* name, const char* help, bool reason_required) {
    CLI::App* sub = cmd->add_subcommand(name, help);
    sub->add_option("ref", flags.ref, ref_help)->required();
    sub->add_option("--by", flags.by, "Who decides (recorded)")->required();
    auto* reason = sub->add_option("--reason", flags.reason, "Why (recorded)");
    if (reason_required) reason->required();
    return sub;
  };
  decision("approve", "candidate -> approved: the recorded approval promotion requires", true);
  decision("reject", "candidate or approved -> rejected", true);
  decision("archive", "Retire a version (from any stage but archived)", true);
  CLI::App* promote = cmd->add_subcommand(
      "promote", "approved -> production; the previous production version goes back to approved");
  promote->add_option("ref", flags.ref, ref_help)->required();
  promote->add_option("--stage", flags.promote_stage, "Target stage (production)")
      ->default_val("production");
  promote->add_option("--by", flags.by, "Who promotes (recorded)")->required();
  promote->add_option("--override-reason", flags.override_reason,
                      "Promote although validation.json says the gate failed (recorded)");
  CLI::App* rollback =
      cmd->add_subcommand("rollback", "Return production to the previous production version");
  rollback->add_option("--name", flags.name,
                       "Model name (default: the only one with a production version)");
  rollback->add_option("--by", flags.by, "Who rolls back (recorded)")->required();
  rollback->add_option("--reason", flags.reason, "Why (recorded)")->required();
  rollback->add_flag("--reject", flags.reject_current,
                     "Move the current version to rejected instead of approved");
  CLI::App* history = cmd->add_subcommand(
      "history",
      "The append-only event history, or with --at which version was in production "
      "at an instant and who approved it");
  history->add_option("ref", flags.ref, "One version's history (" + std::string(ref_help) + ")");
  history->add_option("--name", flags.name, "Every version of this model name");
  history->add_option("--at", flags.at,
                      "YYYY-MM-DD (end of that UTC day) or YYYY-MM-DDTHH:MM:SS[.fff]Z");
  history->add_flag("--json", flags.json, "JSON instead of text");
}

int RunModels(const GlobalFlags& global, const ModelsFlags& flags, const std::string& sub) {
  auto project = LoadProjectOrReport(global);
  if (!project) return kExitUsage;
  auto reg = Registry::Open(project->workspace);
  if (!reg.ok()) return ReportFailure(reg.status());
  if (sub == "list") return List(*reg, flags);
  if (sub == "show") return Show(*reg, flags);
  if (sub == "rollback") return Rollback(*reg, flags);
  if (sub == "history") return History(*reg, flags);
  if (sub == "approve" || sub == "reject" || sub == "archive" || sub == "promote") {
    return Transition(*reg, flags, sub);
  }
  std::fprintf(stderr, "riskpipe: models: unknown subcommand %s\n", sub.c_str());
  return kExitUsage;
}

}  // namespace riskpipe::cli
