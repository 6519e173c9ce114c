// `riskpipe models ...` end to end through the built binary: packages are registered with the
// library into the project's workspace, then listed, inspected, approved, promoted, rolled
// back, audited and verified from the command line.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "core/json.h"
#include "registry/registry.h"
#include "registry_test_util.h"
#include "testing/run_cli.h"

namespace riskpipe::registry {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::TempDir;

using riskpipe::testing::RiskpipeBinary;
using Result = riskpipe::testing::CliResult;

Result RunCli(const fs::path& config, const std::string& args) {
  return riskpipe::testing::RunRiskpipe("--config '" + config.string() + "' " + args);
}

constexpr char kProject[] = R"(project: p
workspace: ws
sources:
  - name: clicks
    file: raw/clicks.csv
    keys: [id]
    date_column: snapshot_date
    columns:
      - {name: id, type: string, required: true}
      - {name: snapshot_date, type: date, required: true}
)";

class ModelsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.Write("riskpipe.yaml", kProject);
    Options options;
    options.warn = [](const std::string&) {};
    StatusOr<Registry> registry = Registry::Open(dir_.path() / "ws", options);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    RegisterInfo info;
    info.family = "xgboost";
    info.created_by = "trainer";
    info.metrics_json = R"({"oot_auc":0.87})";
    for (int i = 0; i < 2; ++i)
      test::MustRegister(*registry, "lending_pd",
                         test::PackageFiles({{"validation.json", R"({"passed":true})"}}), info);
  }

  Result Models(const std::string& args) { return RunCli(config_, "models " + args); }

  TempDir dir_;
  fs::path config_;
};

#define EXPECT_OUTPUT_HAS(result, text) \
  EXPECT_NE((result).output.find(text), std::string::npos) << (result).output

TEST_F(ModelsCli, ListAndShow) {
  const Result list = Models("list");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_OUTPUT_HAS(list, "lending_pd/2");
  EXPECT_OUTPUT_HAS(list, "oot_auc=0.87");
  const Result json = Models("list --json --stage candidate");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto parsed = nlohmann::json::parse(json.output);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["id"], "lending_pd/2");
  EXPECT_EQ(Models("list --stage staging").exit_code, 2);

  const Result show = Models("show latest --verify");
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_OUTPUT_HAS(show, "lending_pd/2");
  EXPECT_OUTPUT_HAS(show, "features     2");
  EXPECT_OUTPUT_HAS(show, "data         feature and label stores; 2 partitions");
  EXPECT_OUTPUT_HAS(show, "created      2026-11-23T09:00:00Z");
  EXPECT_OUTPUT_HAS(show, "git commit   abc123");
  EXPECT_OUTPUT_HAS(show, "manifest     verified");
  const Result missing = Models("show lending_pd/9");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_OUTPUT_HAS(missing, "lending_pd/9 not found");
}

TEST_F(ModelsCli, ApproveThenPromoteThenRollBackAndAudit) {
  EXPECT_EQ(Models("approve lending_pd/1 --reason fine").exit_code, 2);  // --by missing
  const Result unapproved = Models("promote lending_pd/1 --by bob");
  EXPECT_EQ(unapproved.exit_code, 1);
  EXPECT_OUTPUT_HAS(unapproved, "no recorded approval");
  EXPECT_EQ(Models("promote lending_pd/1 --stage approved --by bob").exit_code, 2);

  ASSERT_EQ(Models("approve lending_pd/1 --by alice --reason 'OOT AUC within policy'").exit_code,
            0);
  const Result promoted = Models("promote lending_pd/1 --by bob");
  ASSERT_EQ(promoted.exit_code, 0) << promoted.output;
  EXPECT_OUTPUT_HAS(promoted, "lending_pd/1: approved -> production");
  ASSERT_EQ(Models("approve lending_pd/2 --by carol --reason better").exit_code, 0);
  const Result second = Models("promote lending_pd/2 --by bob");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_OUTPUT_HAS(second, "lending_pd/1: production -> approved (demoted)");

  const Result rollback = Models("rollback --by dan --reason 'PSI alert'");
  ASSERT_EQ(rollback.exit_code, 0) << rollback.output;
  EXPECT_OUTPUT_HAS(rollback, "lending_pd/1: approved -> production");
  EXPECT_OUTPUT_HAS(Models("show production"), "stage        production");
  EXPECT_OUTPUT_HAS(Models("show lending_pd/production"), "lending_pd/1");

  const Result history = Models("history --name lending_pd");
  EXPECT_EQ(history.exit_code, 0);
  for (const char* event :
       {"registered", "approved", "promoted", "demoted", "rolled_back", "restored", "PSI alert"}) {
    EXPECT_OUTPUT_HAS(history, event);
  }
  const Result at = Models("history lending_pd/1 --at 2199-01-01");
  EXPECT_EQ(at.exit_code, 0) << at.output;
  EXPECT_OUTPUT_HAS(at, "lending_pd at 2199-01-01T23:59:59.999Z: lending_pd/1");
  EXPECT_OUTPUT_HAS(at, "approved by alice");
  EXPECT_OUTPUT_HAS(Models("history --name lending_pd --at 2000-01-01"),
                    "no version in production");
  EXPECT_EQ(Models("history --name lending_pd --at yesterday").exit_code, 2);
}

TEST_F(ModelsCli, TamperedPackageFailsVerification) {
  test::WriteBytes(dir_.path() / "ws" / "model_bank" / "lending_pd" / "2" / "model.json", "{ }");
  const Result show = Models("show lending_pd/2 --verify");
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_OUTPUT_HAS(show, "lending_pd/2: model.json: sha256 mismatch: expected");
  EXPECT_OUTPUT_HAS(show, " actual ");
  EXPECT_EQ(Models("show lending_pd/2").exit_code, 0);  // Without --verify: the catalog view.
}

TEST_F(ModelsCli, RewrittenManifestIsRefusedByVerifyAndPromoteNamingBothHashes) {
  ASSERT_EQ(Models("approve lending_pd/2 --by alice --reason reviewed").exit_code, 0);
  const fs::path bank = dir_.path() / "ws" / "model_bank" / "lending_pd";
  const std::string approved = test::ManifestSha(bank / "2");
  test::RewriteWithManifest(bank / "2", "model.json", "{\"w\":[9]}");
  const std::string message = "model lending_pd/2: MANIFEST sha256 " +
                              test::ManifestSha(bank / "2") + " does not match " + approved +
                              " recorded at registration (event 2) and approval (event 3)";
  const Result show = Models("show lending_pd/2 --verify");
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_OUTPUT_HAS(show, message);
  const Result promote = Models("promote lending_pd/2 --by bob --override-reason urgent");
  EXPECT_EQ(promote.exit_code, 1);
  EXPECT_OUTPUT_HAS(promote, message);
  EXPECT_OUTPUT_HAS(Models("show lending_pd/2"), "stage        approved");
  // The untouched version verifies, and says which events vouch for its bytes.
  const Result good = Models("show lending_pd/1 --verify");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_OUTPUT_HAS(good, "manifest     verified: sha256 " + test::ManifestSha(bank / "1") +
                              ", as recorded at registration (event 1)");
}

}  // namespace
}  // namespace riskpipe::registry
