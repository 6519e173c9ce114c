// predict: the month's applications scored by the production model (and a newer version
// awaiting a decision, as a shadow challenger) into gold/predictions.

#include <cstdio>

#include "core/files.h"
#include "core/json.h"
#include "inference/inference.h"
#include "pipeline/steps.h"

namespace riskpipe::pipeline {
namespace {

using nlohmann::json;

// The labels-known-by date a model was trained with (metadata.json), or nullopt.
std::optional<Date> TrainingCutoff(const registry::ModelRecord& record) {
  auto text = ReadFile(record.path / "metadata.json");
  if (!text.ok()) return std::nullopt;
  const json meta = json::parse(*text, nullptr, false);
  const json::json_pointer at("/training_data/lineage/cutoff");
  if (!meta.is_object() || !meta.contains(at) || !meta.at(at).is_string()) return std::nullopt;
  return ParseIsoDate(meta.at(at).get<std::string>());
}

// A model may score a month only when it was trained on data known before that month: a model
// trained later would score applications it may have trained on (a replay must not use the
// future).
bool UsableIn(const registry::ModelRecord& record, Month month) {
  const std::optional<Date> cutoff = TrainingCutoff(record);
  return !cutoff || *cutoff <= month.first_day();
}

// Its inputs hold the models that will score, so a promotion reruns it.
class PredictStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<std::string> Inputs(const StepContext& c) override {
    ASSIGN_OR_RETURN(std::optional<Arms> arms, CurrentArms(env_.project, env_.registry, c.month));
    return arms ? "arms=" + arms->champion + "," + arms->challenger : std::string();
  }

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    ASSIGN_OR_RETURN(std::optional<Arms> arms, CurrentArms(env_.project, env_.registry, c.month));
    if (!arms) return NotDue("no production model trained before this month");
    ASSIGN_OR_RETURN(db::Connection * con, env_.Connection(c.lane));
    inference::PredictOptions o;
    o.month = c.month;
    o.model_ref = arms->champion;
    o.challenger_ref = arms->challenger;
    ASSIGN_OR_RETURN(inference::PredictSummary s,
                     inference::PredictMonth(env_.project, *con, env_.registry, o));
    out.rows_in = s.rows;
    out.rows_out = s.rows * (s.challenger_id.empty() ? 1 : 2);
    char line[160];
    std::snprintf(line, sizeof line, "%lld scored by %s%s%s, %.1f%% declined",
                  static_cast<long long>(s.rows), s.model_id.c_str(),
                  s.challenger_id.empty() ? "" : ", shadow ", s.challenger_id.c_str(),
                  s.rows ? 100.0 * s.declined / s.rows : 0.0);
    out.message = line;
    // Applications without a decision (an input the model cannot score) are named in the
    // step's message: they wait for manual review.
    if (s.referred > 0) {
      out.message += ", " + std::to_string(s.referred) + " referred to manual review";
    }
    out.details = {{"model_id", s.model_id},
                   {"challenger_id", s.challenger_id},
                   {"declined", s.declined},
                   {"referred", s.referred},
                   {"mean_pd", s.mean_pd}};
    return out;
  }
};

}  // namespace

StatusOr<std::optional<Arms>> CurrentArms(const config::Project& project,
                                          registry::Registry& registry, Month month) {
  if (!project.model) return std::optional<Arms>();
  auto prod = registry.Get(project.model->name + "/production");
  if (!prod.ok() && prod.status().code() == StatusCode::kNotFound) return std::optional<Arms>();
  if (!prod.ok()) return prod.status();
  if (!UsableIn(*prod, month)) return std::optional<Arms>();
  Arms arms{prod->id, ""};
  if (project.pipeline.shadow_challenger) {
    ASSIGN_OR_RETURN(auto versions, registry.List(project.model->name));
    for (const auto& v : versions) {  // newest first
      if (v.version > prod->version && UsableIn(v, month) &&
          (v.stage == registry::Stage::kCandidate || v.stage == registry::Stage::kApproved)) {
        arms.challenger = v.id;
        break;
      }
    }
  }
  return std::optional<Arms>(arms);
}

std::unique_ptr<Step> NewPredictStep(Env& env, const StepDef& def) {
  return std::make_unique<PredictStep>(env, def);
}

}  // namespace riskpipe::pipeline
