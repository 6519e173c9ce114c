#include "monitoring/run_log.h"

#include <filesystem>

#include "metastore/metastore.h"

namespace riskpipe::monitoring {

StatusOr<std::vector<RunSummary>> RecentRuns(const Workspace& workspace, int limit) {
  std::error_code ec;
  if (!std::filesystem::exists(workspace.metastore(), ec)) {
    return NotFoundError(workspace.metastore().string() + ": no run log yet");
  }
  ASSIGN_OR_RETURN(metastore::Metastore meta, metastore::Metastore::Open(workspace.metastore()));
  ASSIGN_OR_RETURN(std::vector<metastore::RunRecord> runs, meta.ListRuns(limit));
  std::vector<RunSummary> out;
  out.reserve(runs.size());
  for (const auto& r : runs) {
    RunSummary s;
    s.run_id = r.run_id;
    s.command = r.command;
    s.args = r.args;
    s.status = std::string(metastore::RunStatusName(r.status));
    s.started_at = r.started_at;
    s.finished_at = r.finished_at;
    s.error = r.error;
    metastore::StepFilter filter;
    filter.run_id = r.run_id;
    filter.limit = 100000;
    ASSIGN_OR_RETURN(std::vector<metastore::StepRecord> steps, meta.ListSteps(filter));
    for (const auto& st : steps) {
      ++s.steps;
      s.failed_steps += st.status == metastore::RunStatus::kFailed;
      s.rows_out += st.rows_out;
      s.rows_quarantined += st.rows_quarantined;
      s.step_seconds += st.seconds;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace riskpipe::monitoring
