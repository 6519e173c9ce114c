#include "training/selection.h"

#include <algorithm>
#include <utility>

#include "core/files.h"
#include "core/json.h"

namespace riskpipe::training {

using nlohmann::json;

config::Project ShiftedProject(const config::Project& project, Month cutoff_month) {
  config::Project shifted = project;
  config::ModelDef& m = *shifted.model;
  const Month anchor = m.cutoff ? Month::Of(*m.cutoff) : cutoff_month;
  const int shift = cutoff_month.index() - anchor.index();
  for (auto* range : {&m.splits.train, &m.splits.validation, &m.splits.oot}) {
    if (range->has_value()) {
      (*range)->from = (*range)->from.Next(shift);
      (*range)->to = (*range)->to.Next(shift);
    }
  }
  m.cutoff = cutoff_month.first_day();
  return shifted;
}

std::vector<std::string> RunnersUp(const std::filesystem::path& package_dir) {
  auto text = ReadFile(package_dir / "leaderboard.json");
  const json board = text.ok() ? json::parse(*text, nullptr, false) : json();
  if (!board.is_object() || !board.contains("candidates")) return {};
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& candidate : board["candidates"]) {
    if (!candidate.value("eligible", false) || candidate.value("chosen", false)) continue;
    const json validation = candidate.value("validation", json::object());
    ranked.push_back({validation.value("auc", 0.0), candidate.value("name", "")});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> names;
  for (const auto& [auc, name] : ranked) names.push_back(name);
  return names;
}

}  // namespace riskpipe::training
