#include "registry/recorded_manifest.h"

#include "core/json.h"

namespace riskpipe::registry {
namespace {

constexpr std::string_view kManifestSha = "manifest_sha256";

// The string field `key` of an event's details, or "" when absent or not a string.
std::string DetailText(const nlohmann::json& details, std::string_view key) {
  const auto it = details.find(std::string(key));
  return it != details.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "approval (event 17)": the event as a reader of the history would name it.
std::string Describe(const Event& e, const nlohmann::json& details) {
  std::string what = e.event;
  if (e.event == kEventRegistered) what = "registration";
  if (e.event == kEventApproved) what = "approval";
  if (e.event == kEventPromoted) what = "promotion";
  if (e.event == kEventRestored) what = "restoration by rollback";
  if (e.event == kEventFileAdded) what = "addition of " + DetailText(details, "file");
  return what + " (event " + std::to_string(e.event_id) + ")";
}

// "a", "a and b", "a, b and c".
std::string JoinAnd(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? " and " : ", ";
    out += parts[i];
  }
  return out;
}

}  // namespace

StatusOr<RecordedManifest> ReplayManifest(const std::vector<Event>& events,
                                          std::string_view model_id) {
  const std::string model = "model " + std::string(model_id);
  RecordedManifest recorded;
  std::vector<std::string> vouched;  // The events that recorded recorded.sha256.
  for (const Event& e : events) {
    if (e.model_id != model_id) continue;
    const nlohmann::json details = nlohmann::json::parse(e.details_json, nullptr, false);
    if (!details.is_object()) continue;  // The catalog's CHECK keeps details a JSON object.
    const std::string sha = DetailText(details, kManifestSha);
    if (e.event == kEventRegistered) {
      if (sha.empty()) {
        return DataLossError(model + ": its " + Describe(e, details) +
                             " records no MANIFEST sha256");
      }
      recorded = {sha, "", 0};
      vouched = {Describe(e, details)};
      continue;
    }
    if (sha.empty()) continue;
    if (recorded.sha256.empty()) {
      return DataLossError(model + ": " + Describe(e, details) +
                           " precedes any registration in its history");
    }
    if (e.event == kEventFileAdded) {
      const std::string previous = DetailText(details, "previous_manifest_sha256");
      if (previous != recorded.sha256) {
        return DataLossError(model + ": history is inconsistent: " + Describe(e, details) +
                             " changed MANIFEST sha256 " + previous + ", but " + recorded.sha256 +
                             " was recorded at " + JoinAnd(vouched));
      }
      recorded = {sha, "", 0};
      vouched = {Describe(e, details)};
      continue;
    }
    if (sha != recorded.sha256) {
      return DataLossError(model + ": history is inconsistent: " + Describe(e, details) +
                           " recorded MANIFEST sha256 " + sha + ", but " + recorded.sha256 +
                           " was recorded at " + JoinAnd(vouched));
    }
    vouched.push_back(Describe(e, details));
    if (e.event == kEventApproved) recorded.approval_event_id = e.event_id;
  }
  if (recorded.sha256.empty()) {
    return DataLossError(model + ": no registration with a MANIFEST sha256 in its history");
  }
  recorded.recorded_at = JoinAnd(vouched);
  return recorded;
}

}  // namespace riskpipe::registry
