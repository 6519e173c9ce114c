#pragma once
// The steps of the flow (DESIGN.md), one file each (step_<name>.cc), run by the runner through
// the Step interface (runner.h). They share an Env: the project, the registry, the datamart and
// a DuckDB connection per lane. Internal to the pipeline module.
// Thread-safety: Env::Connection and registry reads under registry_mu may be used from the
// parallel phase's threads; everything else runs on the main sequence only.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "datamart/datamart.h"
#include "db/database.h"
#include "pipeline/runner.h"
#include "registry/registry.h"

namespace riskpipe::pipeline {

// What every step of one run works with.
class Env {
 public:
  // `main` is lane 0's connection; all references must outlive the Env.
  Env(const config::Project& project, const RunOptions& options, registry::Registry& registry,
      db::Connection& main)
      : project(project),
        options(options),
        mart(project.workspace.datamart()),
        registry(registry),
        main_(main) {}

  const config::Project& project;
  const RunOptions& options;
  datamart::Datamart mart;
  registry::Registry& registry;
  std::mutex registry_mu;  // one registry reader at a time while lanes run in parallel

  // The DuckDB connection of a lane (StepContext::lane): `main` for lane 0; for each parallel
  // lane its own in-memory database, opened on first use. Errors of opening it.
  StatusOr<db::Connection*> Connection(int lane);

 private:
  struct Lane {
    db::Database database;
    db::Connection connection;
  };
  db::Connection& main_;
  std::mutex lanes_mu_;
  std::map<int, std::unique_ptr<Lane>> lanes_;
};

// A step of the flow: its declaration (Steps() in pipeline.cc) and the run's Env.
class FlowStep : public Step {
 public:
  FlowStep(Env& env, const StepDef& def) : env_(env), def_(def) {}
  const StepDef& def() const final { return def_; }

 protected:
  Env& env_;

 private:
  const StepDef& def_;
};

using StepFactory = std::unique_ptr<Step> (*)(Env& env, const StepDef& def);
std::unique_ptr<Step> NewIngestStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewQualityStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewLabelsStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewFeaturesStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewTrainStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewValidateStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewApproveStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewPredictStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewMonitorStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewMaterializeStep(Env& env, const StepDef& def);
std::unique_ptr<Step> NewReportStep(Env& env, const StepDef& def);

// ---- shared by several steps ----------------------------------------------------------------

// The production model of the project usable in `month` (trained on data known before it) and,
// with pipeline.shadow_challenger, the newest newer version awaiting a decision. nullopt when
// there is none. Registry errors. (step_predict.cc)
struct Arms {
  std::string champion, challenger;
};
StatusOr<std::optional<Arms>> CurrentArms(const config::Project& project,
                                          registry::Registry& registry, Month month);

// The project a training in `month` uses: the model's windows moved to the month's cut-off
// (training::ShiftedProject), and the features no current application carries left out.
// (step_train.cc)
struct TrainingProject {
  config::Project project;
  std::vector<std::string> absent;
};
StatusOr<TrainingProject> ProjectForTraining(Env& env, db::Connection& con, Month month);

// A model version the pipeline trained and registered (or found already registered).
struct Registered {
  std::string id, candidate;
  double oot_auc = 0;
  int64_t rows = 0;
  bool reused = false;
};
// Trains `project`'s model with cut-off = the first day of c.month and registers the chosen
// candidate, recording `inputs_key` with it. A version registered before with the same key (a
// resumed run) is reused, never registered twice. (step_train.cc)
StatusOr<Registered> TrainAndRegister(Env& env, db::Connection& con, const StepContext& c,
                                      const config::Project& project,
                                      const std::string& inputs_key);

}  // namespace riskpipe::pipeline
