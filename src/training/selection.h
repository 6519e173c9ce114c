#pragma once
// Model selection beyond one training: the windows a training at another cut-off uses, and the
// candidates a package's leaderboard holds in reserve when the chosen one is turned down later
// (the pipeline's validate step, docs/pipeline.md). Pure functions; thread-safe.

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"

namespace riskpipe::training {

// The project with its model's split windows moved so that the cut-off is `cutoff_month`'s
// first day: every window keeps its length and its distance to `model.cutoff` (windows of a
// model without a cut-off are taken as relative to `cutoff_month` and stay where they are).
// `project` must have a model section.
config::Project ShiftedProject(const config::Project& project, Month cutoff_month);

// The eligible candidates of the package in `package_dir` that were not chosen, by name, best
// validation AUC first (the trainer's own order of preference; ties keep leaderboard order).
// Empty when the package has no readable leaderboard.json: it then has nothing in reserve.
std::vector<std::string> RunnersUp(const std::filesystem::path& package_dir);

}  // namespace riskpipe::training
