// The order of a run's steps within a month, the checks of its options, and the dry-run plan.

#include <algorithm>
#include <set>

#include "pipeline/runner.h"

namespace riskpipe::pipeline {

StatusOr<std::vector<const StepDef*>> ExecutionOrder(const std::vector<const StepDef*>& defs) {
  std::set<std::string> names;
  for (const StepDef* def : defs) {
    if (!names.insert(def->name).second) {
      return InvalidArgumentError("step \"" + def->name + "\" is declared twice");
    }
  }
  for (const StepDef* def : defs) {
    for (const std::string& d : def->deps) {
      if (!names.count(d)) {
        return InvalidArgumentError("step \"" + def->name + "\" depends on unknown step \"" + d +
                                    "\"");
      }
    }
  }
  // Stable: each round places the first declared step whose dependencies are all placed, so a
  // declaration already in dependency order is kept as it is.
  std::vector<const StepDef*> order;
  std::set<std::string> placed;
  while (order.size() < defs.size()) {
    auto ready = std::find_if(defs.begin(), defs.end(), [&](const StepDef* def) {
      return !placed.count(def->name) &&
             std::all_of(def->deps.begin(), def->deps.end(),
                         [&](const std::string& d) { return placed.count(d) > 0; });
    });
    if (ready == defs.end()) {
      std::string cycle;
      for (const StepDef* def : defs) {
        if (!placed.count(def->name)) cycle += (cycle.empty() ? "" : ", ") + def->name;
      }
      return InvalidArgumentError("steps depend on each other in a cycle: " + cycle);
    }
    order.push_back(*ready);
    placed.insert((*ready)->name);
  }
  return order;
}

Status CheckOptions(const std::vector<const StepDef*>& defs, const RunOptions& options) {
  if (options.to < options.from) return InvalidArgumentError("the range ends before it starts");
  if (options.parallel < 1 || options.parallel > 64) {
    return InvalidArgumentError("--parallel: expected 1..64");
  }
  for (const std::string& s : options.skip) {
    if (std::none_of(defs.begin(), defs.end(), [&](const StepDef* d) { return d->name == s; })) {
      return InvalidArgumentError("--skip: unknown step \"" + s + "\"");
    }
  }
  return ExecutionOrder(defs).status();
}

StatusOr<RunSummary> Plan(const std::vector<const StepDef*>& defs, const RunOptions& options) {
  RETURN_IF_ERROR(CheckOptions(defs, options));
  ASSIGN_OR_RETURN(std::vector<const StepDef*> order, ExecutionOrder(defs));
  auto skipped = [&](const StepDef* def) {
    return std::find(options.skip.begin(), options.skip.end(), def->name) != options.skip.end();
  };
  RunSummary plan;
  for (Month m = options.from; m <= options.to; m = m.Next()) {
    for (const StepDef* def : order) {
      if (def->once || skipped(def)) continue;
      plan.steps.push_back({m, def->name, Outcome::kNotDue, def->what, 0, 0, 0});
    }
  }
  for (const StepDef* def : order) {
    if (def->once && !skipped(def)) {
      plan.steps.push_back({options.to, def->name, Outcome::kNotDue, def->what, 0, 0, 0});
    }
  }
  return plan;
}

}  // namespace riskpipe::pipeline
