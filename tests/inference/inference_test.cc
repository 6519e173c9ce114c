// Batch inference on an XGBoost package: margins in gold/predictions equal XGBoost's own
// prediction bit for bit (they come from model::FlatForest), and the reason codes, computed in
// blocks on several threads, equal the top attributions of one call over every row.
#include "inference/inference.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "db/database.h"
#include "model/estimator.h"
#include "model/package.h"
#include "registry/registry.h"
#include "testing/temp_dir.h"
#include "training/trainer.h"

namespace riskpipe::inference {
namespace {

namespace fs = std::filesystem;

// 12,000 applications in 2024-01 (three reason blocks of 4,096 rows and a remainder) and
// 6,000 earlier ones to train on; 8 numeric features with a planted signal and missing values.
fs::path WriteDataset(db::Connection& con, const fs::path& dir) {
  const fs::path file = dir / "applications.parquet";
  std::string cols;
  for (int j = 0; j < 8; ++j) {
    const std::string h = "(hash(i * 8 + " + std::to_string(j) + ") % 10000) / 10000.0";
    cols += ", CASE WHEN " + h + " < 0.05 THEN NULL ELSE " + h + " END AS f" + std::to_string(j);
  }
  const std::string sql =
      "COPY (SELECT *, CASE WHEN (hash(i * 13 + 5) % 10000) / 10000.0 < 1 / (1 + exp(-(-1 + 2 * "
      "coalesce(f1, 0.5) - 1.5 * coalesce(f2, 0.5) + sin(6 * coalesce(f3, 0)))))"
      " THEN 1 ELSE 0 END AS label FROM (SELECT i, 'A' || i AS app_id, CASE WHEN i < 6000 THEN "
      "DATE '2023-06-01' + CAST(i % 150 AS INTEGER) ELSE DATE '2024-01-01' + CAST(i % 28 AS "
      "INTEGER) END AS app_date" +
      cols + " FROM range(18000) t(i))) TO '" + file.string() + "' (FORMAT parquet)";
  EXPECT_TRUE(con.Execute(sql).ok());
  return file;
}

TEST(PredictMonth, TreeMarginsEqualXgboostAndBlockedReasonsEqualOneCall) {
  testing::TempDir tmp;
  auto database = db::Database::Open(":memory:");
  ASSERT_TRUE(database.ok());
  auto con = database->Connect();
  ASSERT_TRUE(con.ok());
  const fs::path data = WriteDataset(*con, tmp.path());
  auto project = config::ParseProject(
      "project: t\nworkspace: ws\nmodel:\n  name: t\n"
      "  dataset: {file: \"" +
          data.string() +
          "\", target: label, id: app_id, date: app_date}\n"
          "  splits: {validation_fraction: 0.15, test_fraction: 0.15}\n"
          "  threads: 2\n  exclude: [app_date, i]\n"
          "  candidates:\n    - {family: xgboost, params: {rounds: 40, max_depth: 5, eta: 0.2}}\n",
      tmp.path() / "riskpipe.yaml");
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  auto registry = registry::Registry::Open(project->workspace);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  training::TrainOptions train;
  train.cutoff = Date::FromCivil(2023, 12, 31);
  train.checkpoint_root = project->workspace.checkpoints();
  auto staging = registry->NewStagingDir("t");
  ASSERT_TRUE(staging.ok());
  auto outcome = training::Train(*project, *con, train, *staging);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  auto record = registry->Register(*staging, "t", registry::RegisterInfo());
  ASSERT_TRUE(record.ok()) << record.status().ToString();

  PredictOptions options;
  options.month = Month::Of(2024, 1);
  options.model_ref = record->id;
  auto summary = PredictMonth(*project, *con, *registry, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->rows, 12000);

  // The package on its own, on the same rows in the same order.
  auto dir = registry->VerifiedPath(record->id);
  ASSERT_TRUE(dir.ok());
  auto package = model::ModelPackage::Load(*dir);
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  const auto* booster = dynamic_cast<const model::BoosterEstimator*>(&package->estimator());
  ASSERT_NE(booster, nullptr) << "expected an XGBoost package";
  ASSERT_NE(booster->forest(package->preprocessor().width()), nullptr)
      << "the package should be scored on flattened trees";
  auto rows = ReadMonth(*project, *con, options.month);
  ASSERT_TRUE(rows.ok());
  std::vector<uint32_t> all(rows->frame.rows);
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<float> x;
  ASSERT_TRUE(package->preprocessor().Encode(rows->frame, all, model::Encoding::kTree, x).ok());
  auto xgb_margins =
      booster->booster().PredictMargin(x, all.size(), package->preprocessor().width());
  ASSERT_TRUE(xgb_margins.ok());
  auto contributions =
      package->estimator().Contributions(rows->frame, all, package->preprocessor());
  ASSERT_TRUE(contributions.ok());
  const model::ReasonTable reasons = ProjectReasonTable(*project);
  const auto& features = package->preprocessor().features();

  auto written =
      con->QueryColumns("SELECT margin, reason_1, reason_2, reason_3 FROM read_parquet('" +
                        summary->partition.string() + "')");
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->rows, all.size());
  const auto& margin = written->columns[0].numbers;
  size_t with_reasons = 0;
  std::vector<size_t> top(kReasonColumns);
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(static_cast<float>(margin[i]), (*xgb_margins)[i]) << "row " << i;
    const std::span<const double> row(contributions->data() + i * features.size(), features.size());
    const size_t k = reasons.TopIndices(row, top);
    for (size_t r = 0; r < kReasonColumns; ++r) {
      const auto& col = written->columns[1 + r];
      const std::string got = col.codes[i] < 0 ? "" : col.dictionary[col.codes[i]];
      const std::string want = r < k ? features[top[r]].name : "";
      ASSERT_EQ(got, want) << "row " << i << " reason " << r + 1;
    }
    with_reasons += k > 0;
  }
  EXPECT_GT(with_reasons, all.size() / 2);
}

}  // namespace
}  // namespace riskpipe::inference
