#pragma once
// A read view of the run log for readers above monitoring (the report): the most recent runs
// with their steps summed, as plain values, so a reader needs no metastore handle of its own.
// Free functions; each call opens and closes its own metastore connection.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/workspace.h"

namespace riskpipe::monitoring {

struct RunSummary {
  int64_t run_id = 0;
  std::string command;
  std::string args;
  std::string status;  // running | succeeded | failed (metastore::RunStatusName)
  std::string started_at, finished_at;
  std::string error;
  int64_t steps = 0, failed_steps = 0;
  int64_t rows_out = 0, rows_quarantined = 0;
  double step_seconds = 0;
};

// The `limit` most recent runs of the workspace's run log, newest first, each with its steps'
// counts and times summed. NotFound when the workspace has no metastore yet (nothing is
// created); errors of metastore::Metastore::Open otherwise.
StatusOr<std::vector<RunSummary>> RecentRuns(const Workspace& workspace, int limit);

}  // namespace riskpipe::monitoring
