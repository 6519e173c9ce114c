// The trainer on a user's own table: every family trains and is evaluated, the package is
// complete and scores by itself as it did in training, the same inputs give byte-identical
// model files, and data that cannot give an honest model is refused with its reason.

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/files.h"
#include "db/database.h"
#include "model/package.h"
#include "testing/temp_dir.h"
#include "training/synthetic_csv.h"
#include "training/trainer.h"

namespace riskpipe::training {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::TempDir;

constexpr char kCandidates[] = R"(
  candidates:
    - {family: logistic}
    - {family: scorecard, params: {bins: 6}}
    - {family: decision_tree, params: {max_depth: 4}}
    - {family: random_forest, params: {trees: 20, max_depth: 6}}
    - family: xgboost
      params: {rounds: 60, max_depth: 3, eta: 0.2}
      early_stopping_rounds: 10
)";

config::Project Project(const TempDir& dir, const std::string& extra = "",
                        const std::string& candidates = kCandidates) {
  const std::string yaml = "project: t\nworkspace: ws\nmodel:\n  name: byod\n"
                           "  dataset: {file: loans.csv, target: defaulted, positive: \"1\"}\n"
                           "  min_train_rows: 200\n  threads: 2\n" + extra + candidates;
  auto p = config::ParseProject(yaml, dir.path() / "riskpipe.yaml");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

StatusOr<TrainOutcome> RunTrain(const config::Project& p, const fs::path& out) {
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  TrainOptions o;
  o.cutoff = Date::FromCivil(2026, 1, 1);
  o.checkpoint_root = p.workspace.checkpoints();
  fs::create_directories(out);
  return Train(p, *con, o, out);
}

TEST(Trainer, TrainsEveryFamilyAndWritesACompletePackage) {
  TempDir dir;
  dir.Write("loans.csv", riskpipe::testing::SyntheticLoansCsv(4000, 1));
  const config::Project p = Project(dir);
  const fs::path out = dir.path() / "pkg";
  auto outcome = RunTrain(p, out);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->leaderboard.size(), 5u);
  for (const auto& r : outcome->leaderboard) {
    EXPECT_GT(r.validation.metrics.auc, 0.6) << r.name;
    EXPECT_NEAR(r.oot.metrics.gini, 2 * r.oot.metrics.auc - 1, 1e-12);
    EXPECT_EQ(r.oot.calibration.size(), 10u);
  }
  ASSERT_GE(outcome->chosen, 0);
  for (const char* f : {"preprocess.json", "calibration.json", "metadata.json", "leaderboard.json"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
  const auto& meta = outcome->metadata;
  EXPECT_FALSE(meta["training_data"]["out_of_time"].get<bool>());
  EXPECT_EQ(meta["training_data"]["lineage"]["source"], "file");
  EXPECT_EQ(meta["training_data"]["lineage"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(meta["input_schema"].size(), 5u);  // income, debt_ratio, delays, job, branch
  EXPECT_TRUE(meta["software"].contains("xgboost"));
  EXPECT_TRUE(meta["software"].contains("duckdb"));
  bool warned = false;
  for (const auto& w : meta["warnings"]) warned |= w.get<std::string>().find("out-of-time") != std::string::npos;
  EXPECT_TRUE(warned);
  // The package alone reproduces the test metrics of the chosen candidate.
  auto pkg = model::ModelPackage::Load(out);
  ASSERT_TRUE(pkg.ok()) << pkg.status().ToString();
  auto database = db::Database::Open(":memory:");
  auto con = database->Connect();
  auto data = features::LoadTrainingData(p, *con, Date::FromCivil(2026, 1, 1));
  ASSERT_TRUE(data.ok());
  auto splits = features::MakeSplits(*data, *p.model);
  auto scores = pkg->Score(data->frame, splits->oot);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  std::vector<uint8_t> y;
  for (uint32_t r : splits->oot) y.push_back(data->labels[r]);
  const auto& chosen = outcome->leaderboard[outcome->chosen];
  EXPECT_DOUBLE_EQ(stats::Auc(scores->margin, y), chosen.oot.metrics.auc);
  EXPECT_DOUBLE_EQ(stats::Brier(scores->pd, y), chosen.oot.metrics.brier);
}

TEST(Trainer, SameDataConfigAndSeedGiveByteIdenticalModelFiles) {
  TempDir dir;
  dir.Write("loans.csv", riskpipe::testing::SyntheticLoansCsv(3000, 2));
  const std::string only_boost = R"(
  candidates:
    - family: xgboost
      params: {rounds: 40, max_depth: 3, eta: 0.2, subsample: 0.8, colsample_bytree: 0.8}
)";
  const config::Project p = Project(dir, "", only_boost);
  auto a = RunTrain(p, dir.path() / "a");
  auto b = RunTrain(p, dir.path() / "b");
  ASSERT_TRUE(a.ok() && b.ok());
  // leaderboard.json and metadata.json carry timings and the creation time, so they differ.
  for (const char* f : {"model.ubj", "preprocess.json", "calibration.json"}) {
    EXPECT_EQ(riskpipe::testing::ReadAll(dir.path() / "a" / f),
              riskpipe::testing::ReadAll(dir.path() / "b" / f)) << f;
  }
  // A different seed gives a different model.
  const config::Project q = Project(dir, "  seed: 7\n", only_boost);
  auto c = RunTrain(q, dir.path() / "c");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(riskpipe::testing::ReadAll(dir.path() / "a" / "model.ubj"),
            riskpipe::testing::ReadAll(dir.path() / "c" / "model.ubj"));
}

TEST(Trainer, RefusesTooFewRowsOneClassAndConstantFeatures) {
  {
    TempDir dir;
    dir.Write("loans.csv", riskpipe::testing::SyntheticLoansCsv(150, 3));
    auto r = RunTrain(Project(dir), dir.path() / "pkg");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("min_train_rows"), std::string::npos) << r.status().message();
    EXPECT_FALSE(fs::exists(dir.path() / "pkg" / "metadata.json"));
  }
  {
    TempDir dir;
    dir.Write("loans.csv", riskpipe::testing::SyntheticLoansCsv(2000, 4, /*single_class=*/true));
    // positive "1" never occurs: every split holds one class.
    auto r = RunTrain(Project(dir), dir.path() / "pkg");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("single class"), std::string::npos) << r.status().message();
  }
  {
    TempDir dir;
    std::string csv = "a,b,defaulted\n";
    for (int i = 0; i < 2000; ++i) csv += "1,x," + std::to_string(i % 5 == 0) + "\n";
    dir.Write("loans.csv", csv);
    auto r = RunTrain(Project(dir), dir.path() / "pkg");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("constant"), std::string::npos) << r.status().message();
  }
}

TEST(Trainer, ConfigErrorsNameTheKey) {
  TempDir dir;
  const std::string bad = "project: t\nworkspace: ws\nmodel:\n  name: m\n"
                          "  dataset: {file: x.csv, target: y}\n  candidates:\n"
                          "    - {family: xgboost, params: {max_dpeth: 3}}\n";
  auto p = config::ParseProject(bad, dir.path() / "riskpipe.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("max_dpeth"), std::string::npos);
  EXPECT_NE(p.status().message().find(":7:"), std::string::npos) << p.status().message();
  const std::string family = "project: t\nworkspace: ws\nmodel:\n  name: m\n"
                             "  dataset: {file: x.csv, target: y}\n  candidates:\n"
                             "    - {family: svm}\n";
  auto q = config::ParseProject(family, dir.path() / "riskpipe.yaml");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("svm"), std::string::npos);
}

}  // namespace
}  // namespace riskpipe::training
