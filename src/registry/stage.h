#pragma once
// The stages of a registered model version and the event names of its history
// (docs/registry.md draws the machine), plus pure functions that replay a model name's event
// history: which version was in production at an instant, and where a rollback returns to.
// Plain values and free functions; thread-safe.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "metastore/metastore.h"

namespace riskpipe::registry {

// candidate -> approved -> production -> archived; candidate or approved -> rejected.
enum class Stage { kCandidate, kApproved, kProduction, kArchived, kRejected };

// "candidate", "approved", "production", "archived", "rejected".
std::string_view StageName(Stage stage);
// The inverse of StageName; InvalidArgument naming the accepted words otherwise.
StatusOr<Stage> ParseStage(std::string_view name);

// One row of a model's append-only history (see metastore::ModelEventRow).
using Event = metastore::ModelEventRow;

// Event names, as stored in model_events.event.
inline constexpr std::string_view kEventRegistered = "registered";
inline constexpr std::string_view kEventApproved = "approved";
inline constexpr std::string_view kEventRejected = "rejected";
inline constexpr std::string_view kEventPromoted = "promoted";
inline constexpr std::string_view kEventDemoted = "demoted";
inline constexpr std::string_view kEventRolledBack = "rolled_back";
inline constexpr std::string_view kEventRestored = "restored";
inline constexpr std::string_view kEventArchived = "archived";
inline constexpr std::string_view kEventFileAdded = "file_added";
inline constexpr std::string_view kEventValidated = "validated";

// The index in `events` (one name's history, oldest first) of the event that put the version
// in production at instant `at` ("2026-11-23T09:41:02.123Z") into production, or nullopt when
// no version was in production then. Events stamped later than `at` are ignored.
std::optional<size_t> ProductionEntryAt(const std::vector<Event>& events, std::string_view at);

// The versions that have been in production, as a stack replayed from `events` (one name's
// history, oldest first): a promotion pushes, a rollback or an archive of the production
// version pops, so the top is the current production version (when there is one) and the
// entries below it are where successive rollbacks return to.
std::vector<std::string> ProductionStack(const std::vector<Event>& events);

// The instant named by `text`: "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC), or "YYYY-MM-DD", which
// means the last millisecond of that UTC day, so "in production on date D" is the version in
// production at the end of D. Years 1900 to 2200. InvalidArgument otherwise.
StatusOr<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view text);

}  // namespace riskpipe::registry
