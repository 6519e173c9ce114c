#pragma once
// One writer per workspace. Every riskpipe command that writes to a workspace holds this lock
// for its whole run: an flock(2) on <workspace>/riskpipe.lock, which the kernel drops when
// the process dies, so a killed command never leaves a stale lock. The file also names the
// holder (pid, command, start time) for the message a second writer gets. Readers (status,
// models list/show, report, serve) never take it; they read only what writers publish by
// rename. docs/pipeline.md, "One writer per workspace".
//
// The holder is also the only process that removes temporaries: on acquiring, it empties the
// workspace's scratch folder (Workspace::tmp(), where only writers spill) and removes every
// temporary under the workspace whose owner is gone (RemoveStaleTempFiles).
//
// Move-only; the lock is released when the object is destroyed.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/workspace.h"

namespace riskpipe {

class WorkspaceLock {
 public:
  struct Options {
    // How long to wait for another holder; 0 fails at once.
    std::chrono::milliseconds wait{0};
    // Called once, with the holder's description, when a wait begins.
    std::function<void(const std::string& holder)> on_wait;
    // Called once the lock is held, before temporaries are removed: work that still needs
    // a dead writer's staged files (the datamart completing its half-done publications).
    // Its error is returned and nothing is removed.
    std::function<Status()> before_cleanup;
  };

  // Takes the lock for `command` (as the user typed it, e.g. "backfill"). When another
  // process holds it, waits up to options.wait, then fails with Unavailable "workspace <root>
  // is in use by riskpipe <command> (pid N, since <UTC time>)". Creates the workspace folder
  // when missing. Internal when the lock file cannot be opened.
  static StatusOr<WorkspaceLock> Acquire(const Workspace& workspace, std::string_view command,
                                         const Options& options);
  static StatusOr<WorkspaceLock> Acquire(const Workspace& workspace, std::string_view command) {
    return Acquire(workspace, command, Options());
  }

  WorkspaceLock(WorkspaceLock&& other) noexcept;
  WorkspaceLock& operator=(WorkspaceLock&& other) noexcept;
  WorkspaceLock(const WorkspaceLock&) = delete;
  WorkspaceLock& operator=(const WorkspaceLock&) = delete;
  ~WorkspaceLock();

  // Temporaries removed when the lock was taken (scratch entries and stale temp files).
  int removed_temporaries() const { return removed_; }

 private:
  WorkspaceLock(int fd, int removed) : fd_(fd), removed_(removed) {}
  int fd_ = -1;
  int removed_ = 0;
};

}  // namespace riskpipe
