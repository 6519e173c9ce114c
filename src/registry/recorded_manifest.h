#pragma once
// The MANIFEST hash a model version's history says its package has now. Every event that
// publishes or changes a package records the sha256 of its MANIFEST file ("registered",
// "file_added"), and every event that rests on those bytes records the hash it saw
// ("approved", "promoted", "restored"); replaying them gives the one hash the package on disk
// must have, and the events that vouch for it. docs/registry.md ("What is protected") explains
// the trust chain. A pure function of the events; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/stage.h"

namespace riskpipe::registry {

struct RecordedManifest {
  std::string sha256;  // 64 lowercase hex digits: the sha256 of the MANIFEST file's bytes.
  // The events that recorded this hash, for messages: "registration (event 12) and approval
  // (event 17)".
  std::string recorded_at;
  // The "approved" event that recorded this very hash; 0 when the current bytes were not the
  // ones approved (no approval yet, or a file was added since).
  int64_t approval_event_id = 0;
};

// Replays the events of `model_id` in `events` (oldest first; other models' events are
// skipped). DataLoss naming the model and the events when the history holds no registration
// hash, a file_added whose previous hash is not the one recorded before it, or an approval,
// promotion or restoration that recorded other bytes than the ones the history says the
// package had then.
StatusOr<RecordedManifest> ReplayManifest(const std::vector<Event>& events,
                                          std::string_view model_id);

}  // namespace riskpipe::registry
