// The development reference rebuilt from a real trained and registered package: the sample is
// the package's held-out rows, validation + out-of-time (reproduced from metadata.json), its
// features are the package's inputs, its AUC is the package's held-out AUC, its out-of-time
// calibration is recorded, and the result is cached.

#include "monitoring/reference.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "features/dataset.h"
#include "model/package.h"
#include "registry/registry.h"
#include "testing/temp_dir.h"
#include "training/synthetic_csv.h"
#include "training/trainer.h"

namespace riskpipe::monitoring {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::TempDir;

TEST(ReferenceFromPackage, RebuildsTheDevelopmentSampleAndCachesIt) {
  TempDir dir;
  dir.Write("loans.csv", riskpipe::testing::SyntheticLoansCsv(3000, 3));
  auto project = config::ParseProject(
      "project: t\nworkspace: ws\nmodel:\n  name: byod\n"
      "  dataset: {file: loans.csv, target: defaulted, positive: \"1\"}\n"
      "  min_train_rows: 200\n  threads: 1\n  candidates:\n    - {family: logistic}\n",
      dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  auto database = db::Database::Open(":memory:");
  ASSERT_TRUE(database.ok());
  auto con = database->Connect();
  ASSERT_TRUE(con.ok());
  auto reg = registry::Registry::Open(project->workspace);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto staging = reg->NewStagingDir("byod");
  ASSERT_TRUE(staging.ok());
  training::TrainOptions options;
  options.cutoff = Date::FromCivil(2026, 1, 1);
  options.checkpoint_root = project->workspace.checkpoints();
  auto outcome = training::Train(*project, *con, options, *staging);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  registry::RegisterInfo info;
  info.family = "logistic";
  auto record = reg->Register(*staging, "byod", info);
  ASSERT_TRUE(record.ok()) << record.status().ToString();

  auto ref = LoadOrBuildReference(*project, *reg, *con, "byod/1");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  auto data = features::LoadTrainingData(*project, *con, options.cutoff);
  ASSERT_TRUE(data.ok());
  auto splits = features::MakeSplits(*data, *project->model);
  ASSERT_TRUE(splits.ok());
  // Held-out rows only: a model scores its own training rows more extremely than new ones.
  EXPECT_EQ(ref->rows, static_cast<int64_t>(splits->validation.size() + splits->oot.size()));
  EXPECT_NE(ref->sample.find("validation + out-of-time"), std::string::npos) << ref->sample;
  // The out-of-time calibration: the test split's default rate and the package's mean PD.
  double defaults = 0;
  for (uint32_t r : splits->oot) defaults += data->labels[r];
  EXPECT_NEAR(ref->oot_default_rate, defaults / splits->oot.size(), 1e-12);
  EXPECT_GT(ref->oot_mean_pd, 0.0);
  EXPECT_LT(ref->oot_mean_pd, 1.0);
  EXPECT_EQ(ref->model_id, "byod/1");
  ASSERT_EQ(ref->features.size(), 5u);
  EXPECT_EQ(ref->features[0].name, "income");
  EXPECT_GT(ref->features[0].importance, 0.0);
  bool text = false;
  for (const auto& f : ref->features) text |= f.name == "job" && f.text && f.levels.size() == 4;
  EXPECT_TRUE(text);
  EXPECT_DOUBLE_EQ(ref->auc, outcome->metadata["metrics"]["test"]["auc"].get<double>());
  EXPECT_EQ(ref->score_edges.size(), 9u);
  EXPECT_EQ(static_cast<int64_t>(ref->sorted_pd.size()), ref->rows);
  EXPECT_TRUE(fs::exists(ReferenceDir(*project, "byod/1") / "reference.json"));
  // The second call reads the cache: same values, even with the training file gone.
  fs::remove(dir.path() / "loans.csv");
  auto again = LoadOrBuildReference(*project, *reg, *con, "byod/1");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->sorted_pd, ref->sorted_pd);
  EXPECT_DOUBLE_EQ(again->oot_mean_pd, ref->oot_mean_pd);
  EXPECT_EQ(again->features[0].edges, ref->features[0].edges);
}

TEST(ReferenceFromPackage, UnknownModelIsNotFound) {
  TempDir dir;
  auto project = config::ParseProject(
      "project: t\nworkspace: ws\nmodel:\n  name: byod\n"
      "  dataset: {file: loans.csv, target: defaulted}\n  candidates:\n    - {family: logistic}\n",
      dir.path() / "riskpipe.yaml");
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  auto reg = registry::Registry::Open(project->workspace);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(LoadOrBuildReference(*project, *reg, *con, "nope/1").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace riskpipe::monitoring
