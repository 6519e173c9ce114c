// The stage machine: approve, reject, promote, roll back, archive, and the history query.
// Every decision is taken inside Metastore::ChangeModels, under the write lock, so two
// officers acting at once cannot both promote, and what was checked is what is changed.

#include <algorithm>
#include <cctype>
#include <system_error>

#include "core/files.h"
#include "core/json.h"
#include "registry/registry.h"

namespace riskpipe::registry {
namespace fs = std::filesystem;
using metastore::ModelChange;

namespace {

constexpr std::string_view kValidationFile = "validation.json";

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

Status RequireText(std::string_view action, std::string_view ref, std::string_view field,
                   std::string_view value) {
  if (!Blank(value)) return OkStatus();
  return InvalidArgumentError(std::string(action) + " " + std::string(ref) + ": " +
                              std::string(field) + " must not be empty");
}

std::string StageList(std::initializer_list<Stage> stages) {
  std::string out;
  for (Stage s : stages) out += (out.empty() ? "" : " or ") + std::string(StageName(s));
  return out;
}

ModelChange Change(const ModelRecord& m, std::string_view event, Stage to, std::string_view by,
                   std::string_view reason, const nlohmann::json& details) {
  return ModelChange{m.id,
                     std::string(event),
                     std::string(StageName(m.stage)),
                     std::string(StageName(to)),
                     std::string(by),
                     std::string(reason),
                     details.is_null() ? "{}" : details.dump()};
}

// The validation gate's verdict for a verified package: "absent", "passed" or "failed" (also
// for a validation.json without a boolean top-level "passed").
StatusOr<std::string> GateVerdict(const ModelRecord& m) {
  std::error_code ec;
  if (!fs::exists(m.path / kValidationFile, ec)) return std::string("absent");
  ASSIGN_OR_RETURN(const std::string text, ReadFile(m.path / kValidationFile));
  const nlohmann::json v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_object() && v.contains("passed") && v["passed"].is_boolean()) {
    return std::string(v["passed"].get<bool>() ? "passed" : "failed");
  }
  return std::string("failed");
}

}  // namespace

StatusOr<ModelRecord> Registry::ChangeStage(std::string_view ref, std::string_view by,
                                            std::string_view reason, std::string_view event,
                                            std::initializer_list<Stage> from, Stage to) {
  RETURN_IF_ERROR(RequireText(event, ref, "by", by));
  RETURN_IF_ERROR(RequireText(event, ref, "reason", reason));
  std::string id;
  auto decide = [&]() -> StatusOr<std::vector<ModelChange>> {
    ASSIGN_OR_RETURN(const ModelRecord m, Get(ref));
    id = m.id;
    if (std::find(from.begin(), from.end(), m.stage) == from.end()) {
      return FailedPreconditionError(m.id + " is " + std::string(StageName(m.stage)) + "; " +
                                     std::string(event) + " needs a version that is " +
                                     StageList(from));
    }
    nlohmann::json details;
    if (to == Stage::kApproved) {
      // The approval covers exactly these bytes, the ones the history recorded: record which.
      ASSIGN_OR_RETURN(const VerifiedPackage verified, RestoreAndVerify(m));
      details["manifest_sha256"] = verified.manifest_sha256;
    }
    return std::vector<ModelChange>{Change(m, event, to, by, reason, details)};
  };
  RETURN_IF_ERROR(meta_.ChangeModels(decide).status());
  return Get(id);
}

StatusOr<ModelRecord> Registry::Approve(std::string_view ref, std::string_view by,
                                        std::string_view reason) {
  return ChangeStage(ref, by, reason, kEventApproved, {Stage::kCandidate}, Stage::kApproved);
}

StatusOr<ModelRecord> Registry::Reject(std::string_view ref, std::string_view by,
                                       std::string_view reason) {
  return ChangeStage(ref, by, reason, kEventRejected, {Stage::kCandidate, Stage::kApproved},
                     Stage::kRejected);
}

StatusOr<ModelRecord> Registry::Archive(std::string_view ref, std::string_view by,
                                        std::string_view reason) {
  return ChangeStage(ref, by, reason, kEventArchived,
                     {Stage::kCandidate, Stage::kApproved, Stage::kRejected, Stage::kProduction},
                     Stage::kArchived);
}

StatusOr<ModelRecord> Registry::Promote(std::string_view ref, std::string_view by,
                                        std::string_view override_reason) {
  RETURN_IF_ERROR(RequireText("promote", ref, "by", by));
  std::string id;
  auto decide = [&]() -> StatusOr<std::vector<ModelChange>> {
    ASSIGN_OR_RETURN(const ModelRecord m, Get(ref));
    id = m.id;
    if (m.stage == Stage::kCandidate) {
      return FailedPreconditionError(m.id +
                                     " has no recorded approval: approve it first "
                                     "(riskpipe models approve " +
                                     m.id + " --by NAME --reason TEXT)");
    }
    if (m.stage != Stage::kApproved) {
      return FailedPreconditionError(m.id + " is " + std::string(StageName(m.stage)) +
                                     "; only an approved version can be promoted");
    }
    ASSIGN_OR_RETURN(const std::vector<Event> history, History("", m.id));
    auto approval = std::find_if(history.rbegin(), history.rend(),
                                 [](const Event& e) { return e.event == kEventApproved; });
    if (approval == history.rend()) {
      return FailedPreconditionError(m.id + " has no recorded approval event");
    }
    // The bytes promoted are the ones recorded since the approval (VerifyPackage replays the
    // history: approval, then any file added since).
    ASSIGN_OR_RETURN(const VerifiedPackage verified, RestoreAndVerify(m));
    const std::string& manifest_sha = verified.manifest_sha256;
    ASSIGN_OR_RETURN(const std::string verdict, GateVerdict(m));
    if (verdict == "absent" && Blank(override_reason)) {
      return FailedPreconditionError(
          m.id + " has not been through the validation gate (no validation.json): run "
                 "`riskpipe validate " + m.id + "` first, or give an override reason");
    }
    if (verdict == "failed" && Blank(override_reason)) {
      return FailedPreconditionError(
          m.id +
          ": the validation gate did not pass (validation.json has no \"passed\": true; "
          "see `riskpipe validate " + m.id + "`); give an override reason to promote it anyway");
    }
    nlohmann::json details = {{"approval_event_id", approval->event_id},
                              {"approved_by", approval->actor},
                              {"validation", verdict},
                              {"manifest_sha256", manifest_sha}};
    if (!Blank(override_reason)) details["override_reason"] = std::string(override_reason);
    std::vector<ModelChange> changes;
    ASSIGN_OR_RETURN(const std::vector<ModelRecord> current, List(m.name, Stage::kProduction));
    if (!current.empty()) {
      // Demoted first: the catalog allows one production row per name at every statement.
      details["replaces"] = current.front().id;
      changes.push_back(Change(current.front(), kEventDemoted, Stage::kApproved, by,
                               "replaced by " + m.id, {{"replaced_by", m.id}}));
    }
    changes.push_back(Change(m, kEventPromoted, Stage::kProduction, by, override_reason, details));
    return changes;
  };
  RETURN_IF_ERROR(meta_.ChangeModels(decide).status());
  return Get(id);
}

Status Registry::RecordValidation(std::string_view id, bool passed, std::string_view summary,
                                  std::string_view details_json, std::string_view actor) {
  if (Blank(actor)) return InvalidArgumentError("record validation of " + std::string(id) + ": no actor");
  const nlohmann::json details = nlohmann::json::parse(details_json, nullptr, false);
  if (!details.is_object()) {
    return InvalidArgumentError("record validation of " + std::string(id) +
                                ": details are not a JSON object");
  }
  auto decide = [&]() -> StatusOr<std::vector<ModelChange>> {
    ASSIGN_OR_RETURN(const ModelRecord m, Get(id));
    nlohmann::json d = details;
    d["passed"] = passed;
    return std::vector<ModelChange>{{m.id, std::string(kEventValidated), "", "",
                                     std::string(actor), std::string(summary), d.dump()}};
  };
  return meta_.ChangeModels(decide).status();
}

StatusOr<ModelRecord> Registry::Rollback(std::string_view name, std::string_view by,
                                         std::string_view reason, bool reject_current) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(RequireText("rollback", name, "by", by));
  RETURN_IF_ERROR(RequireText("rollback", name, "reason", reason));
  std::string target_id;
  auto decide = [&]() -> StatusOr<std::vector<ModelChange>> {
    ASSIGN_OR_RETURN(const std::vector<ModelRecord> versions, List(name));
    const auto current = std::find_if(versions.begin(), versions.end(), [](const ModelRecord& m) {
      return m.stage == Stage::kProduction;
    });
    if (current == versions.end()) {
      return FailedPreconditionError("rollback " + std::string(name) +
                                     ": no version is in production");
    }
    ASSIGN_OR_RETURN(const std::vector<Event> history, History(name));
    std::vector<std::string> stack = ProductionStack(history);
    while (!stack.empty() && stack.back() == current->id) stack.pop_back();
    const ModelRecord* target = nullptr;
    for (auto it = stack.rbegin(); it != stack.rend() && target == nullptr; ++it) {
      for (const ModelRecord& m : versions) {
        if (m.id == *it && m.stage == Stage::kApproved) target = &m;
      }
    }
    if (target == nullptr) {
      return FailedPreconditionError("rollback " + std::string(name) + ": " + current->id +
                                     " has no earlier production version that is still approved");
    }
    target_id = target->id;
    ASSIGN_OR_RETURN(const VerifiedPackage verified, RestoreAndVerify(*target));
    const Stage after = reject_current ? Stage::kRejected : Stage::kApproved;
    return std::vector<ModelChange>{
        Change(*current, kEventRolledBack, after, by, reason, {{"restored", target->id}}),
        Change(*target, kEventRestored, Stage::kProduction, by, reason,
               {{"rolled_back", current->id}, {"manifest_sha256", verified.manifest_sha256}})};
  };
  RETURN_IF_ERROR(meta_.ChangeModels(decide).status());
  return Get(target_id);
}

StatusOr<std::optional<ProductionInfo>> Registry::ProductionAt(
    std::string_view name, std::chrono::system_clock::time_point at) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(const std::vector<Event> history, History(name));
  const std::optional<size_t> entry = ProductionEntryAt(history, metastore::FormatUtcTimestamp(at));
  if (!entry) return std::optional<ProductionInfo>();
  ProductionInfo info;
  info.entered = history[*entry];
  ASSIGN_OR_RETURN(info.model, Get(info.entered.model_id));
  for (size_t i = *entry; i-- > 0;) {
    if (history[i].model_id == info.entered.model_id && history[i].event == kEventApproved) {
      info.approval = history[i];
      break;
    }
  }
  return std::optional<ProductionInfo>(std::move(info));
}

}  // namespace riskpipe::registry
