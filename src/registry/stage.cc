#include "registry/stage.h"

#include "core/date.h"

namespace riskpipe::registry {
namespace {

constexpr Stage kStages[] = {Stage::kCandidate, Stage::kApproved, Stage::kProduction,
                             Stage::kArchived, Stage::kRejected};

bool ParseDigits(std::string_view s, int& out) {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kCandidate:
      return "candidate";
    case Stage::kApproved:
      return "approved";
    case Stage::kProduction:
      return "production";
    case Stage::kArchived:
      return "archived";
    case Stage::kRejected:
      return "rejected";
  }
  return "unknown";
}

StatusOr<Stage> ParseStage(std::string_view name) {
  for (Stage s : kStages) {
    if (StageName(s) == name) return s;
  }
  return InvalidArgumentError("unknown stage '" + std::string(name) +
                              "' (candidate, approved, production, archived, rejected)");
}

std::optional<size_t> ProductionEntryAt(const std::vector<Event>& events, std::string_view at) {
  const std::string production(StageName(Stage::kProduction));
  std::optional<size_t> current;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (e.at > at) continue;
    if (e.to_stage == production && e.from_stage != production) {
      current = i;
    } else if (e.from_stage == production && e.to_stage != production && current &&
               events[*current].model_id == e.model_id) {
      current.reset();
    }
  }
  return current;
}

std::vector<std::string> ProductionStack(const std::vector<Event>& events) {
  const std::string production(StageName(Stage::kProduction));
  std::vector<std::string> stack;
  for (const Event& e : events) {
    if (e.to_stage == production && e.from_stage != production) {
      if (e.event == kEventRestored) {
        // The rolled-back version was popped by its own event; versions skipped because they
        // were archived or rejected meanwhile go too.
        while (!stack.empty() && stack.back() != e.model_id) stack.pop_back();
        if (stack.empty()) stack.push_back(e.model_id);
      } else {
        stack.push_back(e.model_id);
      }
    } else if (e.from_stage == production && e.to_stage != production && e.event != kEventDemoted &&
               !stack.empty() && stack.back() == e.model_id) {
      // A demoted version stays below the version that replaced it; a rolled-back or
      // archived one leaves.
      stack.pop_back();
    }
  }
  return stack;
}

StatusOr<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  const auto bad = [&] {
    return InvalidArgumentError("timestamp '" + std::string(text) +
                                "': expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z (UTC)");
  };
  const std::optional<Date> date = ParseIsoDate(text.substr(0, 10));
  // system_clock counts nanoseconds in 64 bits: it ends in 2262.
  if (!date || date->civil().year < 1900 || date->civil().year > 2200) return bad();
  const system_clock::time_point day{sys_days{days{date->days()}}};
  if (text.size() == 10) return day + days{1} - milliseconds{1};
  if (text.size() < 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text.back() != 'Z') {
    return bad();
  }
  int h = 0, m = 0, s = 0, ms = 0;
  if (!ParseDigits(text.substr(11, 2), h) || !ParseDigits(text.substr(14, 2), m) ||
      !ParseDigits(text.substr(17, 2), s) || h > 23 || m > 59 || s > 59) {
    return bad();
  }
  const std::string_view frac = text.substr(19, text.size() - 20);
  if (!frac.empty()) {
    if (frac.size() < 2 || frac.size() > 4 || frac[0] != '.' || !ParseDigits(frac.substr(1), ms)) {
      return bad();
    }
    for (size_t digits = frac.size() - 1; digits < 3; ++digits) ms *= 10;
  }
  return day + hours{h} + minutes{m} + seconds{s} + milliseconds{ms};
}

}  // namespace riskpipe::registry
