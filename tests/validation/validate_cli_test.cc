// `riskpipe validate` through the built binary: the table and exit codes, --json, and the
// road from train to production through the gate.

#include <gtest/gtest.h>

#include "core/json.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"
#include "validation_data.h"

namespace riskpipe::validation {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::CliResult;
using riskpipe::testing::TempDir;

#define EXPECT_OUTPUT_HAS(result, text) \
  EXPECT_NE((result).output.find(text), std::string::npos) << (result).output

class ValidateCli : public ::testing::Test {
 protected:
  void Setup(const std::string& candidates, const std::string& tail = "") {
    dir_.Write("loans.csv", test::LoansCsv(test::LoansSpec{}));
    dir_.Write("riskpipe.yaml", test::ProjectYaml(candidates, "", tail));
  }
  CliResult Run(const std::string& args) { return riskpipe::testing::RunRiskpipe(args, dir_.path()); }
  TempDir dir_;
};

TEST_F(ValidateCli, GateThenPromotion) {
  Setup(test::kLogistic);
  ASSERT_EQ(Run("train").exit_code, 0);
  ASSERT_EQ(Run("models approve loans_pd/1 --by ana --reason reviewed").exit_code, 0);
  const CliResult refused = Run("models promote loans_pd/1 --by ana");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_OUTPUT_HAS(refused, "riskpipe validate loans_pd/1");

  const CliResult validated = Run("validate loans_pd/latest");
  ASSERT_EQ(validated.exit_code, 0) << validated.output;
  for (const char* text : {"oot_auc_floor", "calibration", "fairness_four_fifths", "min_auc",
                           "loans_pd/1: validation PASSED"}) {
    EXPECT_OUTPUT_HAS(validated, text);
  }
  const CliResult json = Run("validate loans_pd/1 --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto parsed = nlohmann::json::parse(json.output);
  EXPECT_EQ(parsed["passed"], true);
  EXPECT_EQ(parsed["checks"].size(), 13u);

  const CliResult promoted = Run("models promote loans_pd/1 --by ana");
  EXPECT_EQ(promoted.exit_code, 0) << promoted.output;
  EXPECT_OUTPUT_HAS(Run("models history loans_pd/1"), "validated");
}

TEST_F(ValidateCli, FailingGateExitsOneAndBlocksPromotionUntilOverridden) {
  Setup(test::kLogistic, "validation:\n  min_auc: 0.99\n");
  ASSERT_EQ(Run("train").exit_code, 0);
  const CliResult failed = Run("validate loans_pd/1");
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_OUTPUT_HAS(failed, "validation FAILED");
  EXPECT_TRUE(fs::exists(dir_.path() / "ws" / "model_bank" / "loans_pd" / "1" / "validation.json"));
  ASSERT_EQ(Run("models approve loans_pd/1 --by ana --reason reviewed").exit_code, 0);
  EXPECT_EQ(Run("models promote loans_pd/1 --by ana").exit_code, 1);
  const CliResult forced =
      Run("models promote loans_pd/1 --by ana --override-reason 'floor meant for cards'");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_OUTPUT_HAS(Run("models history loans_pd/1"), "floor meant for cards");
}

TEST_F(ValidateCli, UsageAndConfigErrorsExitTwo) {
  Setup(test::kLogistic, "validation:\n  min_acu: 0.7\n");
  const CliResult typo = Run("validate loans_pd/1");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_OUTPUT_HAS(typo, "min_acu");
  Setup(test::kLogistic);
  EXPECT_EQ(Run("validate").exit_code, 2);
  const CliResult unknown = Run("validate loans_pd/7");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_OUTPUT_HAS(unknown, "loans_pd/7");
}

}  // namespace
}  // namespace riskpipe::validation
