// Batch inference of applications whose inputs lie at and beyond what the model can encode,
// on a logistic and an XGBoost package: a value beyond float's range (3.41e38, 1e39, inf) gets
// decision refer with NULL pd and the reason in reason_1, and is counted in the summary and in
// the CLI's message; float's edge (3.40e38) and any value outside the training range score as
// the range's edge; NaN reads as missing; -0 scores as 0. Never an approve without a PD.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "db/database.h"
#include "inference/inference.h"
#include "model/package.h"
#include "registry/registry.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"
#include "training/trainer.h"

namespace riskpipe::inference {
namespace {

namespace fs = std::filesystem;

// The special applications of 2024-01: app id -> the SQL value of feature f1.
const std::map<std::string, std::string> kProbes = {
    {"P_edge", "3.40e38"},          {"P_beyond", "3.41e38"},   {"P_far", "1e39"},
    {"P_inf", "'inf'::DOUBLE"},     {"P_ninf", "'-inf'::DOUBLE"}, {"P_nan", "'nan'::DOUBLE"},
    {"P_negzero", "-0.0::DOUBLE"},  {"P_zero", "0.0::DOUBLE"}, {"P_null", "NULL::DOUBLE"},
    {"P_above", "5.0::DOUBLE"}};

// 3,000 applications in 2023 and 500 in 2024-01, with the probes in 2024-01 when `probes`
// (the file is rewritten with them after training, so they are scored, never trained on);
// four numeric features in [0, 1) with a planted signal on f1 and f2.
fs::path WriteDataset(db::Connection& con, const fs::path& dir, bool with_probes) {
  const fs::path file = dir / "applications.parquet";
  std::string cols;
  for (int j = 0; j < 4; ++j) {
    cols += ", (hash(i * 4 + " + std::to_string(j) + ") % 10000) / 10000.0 AS f" +
            std::to_string(j);
  }
  std::string probes;
  for (const auto& [id, value] : with_probes ? kProbes : std::map<std::string, std::string>{}) {
    probes += " UNION ALL SELECT '" + id + "', DATE '2024-01-15', 0.5, " + value +
              ", 0.5, 0.5, 0";
  }
  const std::string sql =
      "COPY (SELECT app_id, app_date, f0, f1, f2, f3, CASE WHEN (hash(i * 13 + 5) % 10000) / "
      "10000.0 < 1 / (1 + exp(-(-1 + 3 * f1 - 2 * f2))) THEN 1 ELSE 0 END AS label FROM ("
      "SELECT i, 'A' || i AS app_id, CASE WHEN i < 3000 THEN DATE '2023-03-01' + CAST(i % 270 "
      "AS INTEGER) ELSE DATE '2024-01-01' + CAST(i % 28 AS INTEGER) END AS app_date" +
      cols + " FROM range(3500) t(i))" + probes + ") TO '" + file.string() +
      "' (FORMAT parquet)";
  const Status st = con.Execute(sql);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return file;
}

std::string ProjectYaml(const fs::path& data, const std::string& candidate) {
  return "project: t\nworkspace: ws\nmodel:\n  name: t\n"
         "  dataset: {file: \"" +
         data.string() +
         "\", target: label, id: app_id, date: app_date}\n"
         "  splits: {validation_fraction: 0.15, test_fraction: 0.15}\n"
         "  threads: 1\n  exclude: [app_date]\n"
         "  selection: {metric: auc, max_oot_drop: 1.0}\n"
         "  candidates:\n    - " +
         candidate + "\n";
}

struct Written {
  std::string decision, band, reason_1;
  double pd = 0;
  bool pd_null = false, margin_null = false;
};

class NonFiniteBatch : public ::testing::TestWithParam<std::string> {};

TEST_P(NonFiniteBatch, ValuesBeyondFloatAreReferredAndTheRestClipped) {
  testing::TempDir tmp;
  auto database = db::Database::Open(":memory:");
  ASSERT_TRUE(database.ok());
  auto con = database->Connect();
  ASSERT_TRUE(con.ok());
  const fs::path data = WriteDataset(*con, tmp.path(), /*with_probes=*/false);
  const std::string yaml = ProjectYaml(data, GetParam());
  tmp.Write("riskpipe.yaml", yaml);
  auto project = config::ParseProject(yaml, tmp.path() / "riskpipe.yaml");
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

  // The probes are not training rows: f1's training range is that of the ordinary rows.
  auto dir = registry->VerifiedPath(record->id);
  ASSERT_TRUE(dir.ok());
  auto package = model::ModelPackage::Load(*dir);
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  ASSERT_TRUE(package->preprocessor().features()[1].has_range);
  EXPECT_LT(package->preprocessor().features()[1].max, 1.0);

  WriteDataset(*con, tmp.path(), /*with_probes=*/true);
  PredictOptions options;
  options.month = Month::Of(2024, 1);
  options.model_ref = record->id;
  auto summary = PredictMonth(*project, *con, *registry, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 500 + static_cast<int64_t>(kProbes.size()));
  // 3.41e38, 1e39, inf and -inf: no PD, no decision.
  EXPECT_EQ(summary->referred, 4);
  EXPECT_TRUE(std::isfinite(summary->mean_pd));

  auto t = con->Query(
      "SELECT event_id, decision, coalesce(score_band, ''), coalesce(reason_1, ''), "
      "coalesce(pd, -1), pd IS NULL, margin IS NULL FROM read_parquet('" +
      summary->partition.string() + "') WHERE event_id LIKE 'P_%'");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::map<std::string, Written> got;
  for (const auto& row : t->rows) {
    Written w;
    w.decision = std::get<std::string>(row[1]);
    w.band = std::get<std::string>(row[2]);
    w.reason_1 = std::get<std::string>(row[3]);
    w.pd = std::get<double>(row[4]);
    w.pd_null = std::get<bool>(row[5]);
    w.margin_null = std::get<bool>(row[6]);
    got[std::get<std::string>(row[0])] = w;
  }
  ASSERT_EQ(got.size(), kProbes.size());
  for (const char* id : {"P_beyond", "P_far", "P_inf", "P_ninf"}) {
    const Written& w = got[id];
    EXPECT_EQ(w.decision, "refer") << id;
    EXPECT_TRUE(w.pd_null) << id;
    EXPECT_TRUE(w.margin_null) << id;
    EXPECT_EQ(w.band, "") << id;
    EXPECT_NE(w.reason_1.find("refer: f1 = "), std::string::npos) << id << ": " << w.reason_1;
    EXPECT_NE(w.reason_1.find("does not fit the model's float inputs"), std::string::npos) << id;
  }
  EXPECT_NE(got["P_far"].reason_1.find("f1 = 1e+39"), std::string::npos) << got["P_far"].reason_1;
  for (const char* id : {"P_edge", "P_nan", "P_negzero", "P_zero", "P_null", "P_above"}) {
    const Written& w = got[id];
    EXPECT_TRUE(w.decision == "approve" || w.decision == "decline") << id << ": " << w.decision;
    EXPECT_FALSE(w.pd_null) << id;
    EXPECT_TRUE(w.pd >= 0 && w.pd <= 1) << id;
  }
  // Float's edge scores as any other value above the training range: the range's top.
  EXPECT_EQ(got["P_edge"].pd, got["P_above"].pd);
  // NaN is missing, as NULL is; -0 is 0.
  EXPECT_EQ(got["P_nan"].pd, got["P_null"].pd);
  EXPECT_EQ(got["P_negzero"].pd, got["P_zero"].pd);

  // The command names the referred applications and still succeeds.
  const testing::CliResult cli =
      testing::RunRiskpipe("predict --month 2024-01 --model " + record->id, tmp.path());
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("4 referred to manual review"), std::string::npos) << cli.output;
}

INSTANTIATE_TEST_SUITE_P(Families, NonFiniteBatch,
                         ::testing::Values("{family: logistic}",
                                           "{family: xgboost, params: {rounds: 20, max_depth: 3}}"),
                         [](const auto& info) {
                           return info.param.find("xgboost") != std::string::npos
                                      ? std::string("Xgboost")
                                      : std::string("Logistic");
                         });

}  // namespace
}  // namespace riskpipe::inference
