// An approval is bound to the bytes approved, end to end through the riskpipe binary: in a
// trained workspace, the approved logistic kueski_pd/2 has model.json and its MANIFEST line
// rewritten together, so every file matches the MANIFEST. `models show --verify`, `predict`,
// `validate`, `models promote` and `serve` at start-up each refuse it, naming the MANIFEST's
// hash, the recorded one and the events that recorded it; the untouched kueski_pd/1 still
// verifies, predicts and serves.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "http_client.h"
#include "registry/registry.h"
#include "serve_process.h"
#include "serving_workspace.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe::serving {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::ServingWorkspace;
using testing::TempDir;

#define EXPECT_OUTPUT_HAS(result, text) \
  EXPECT_NE((result).output.find(text), std::string::npos) << (result).output

fs::path Package(const fs::path& folder, int version) {
  return folder / "ws" / "model_bank" / "kueski_pd" / std::to_string(version);
}

// The latest month of the feature store, "YYYY-MM".
std::string LastFeatureMonth(const fs::path& folder) {
  std::vector<std::string> months;
  const fs::path store = folder / "ws" / "datamart" / "gold" / "feature_store";
  for (const auto& entry : fs::directory_iterator(store)) {
    const std::string name = entry.path().filename().string();  // snapshot_date=YYYY-MM-DD
    if (name.rfind("snapshot_date=", 0) == 0) months.push_back(name.substr(14, 7));
  }
  EXPECT_FALSE(months.empty()) << store;
  return months.empty() ? "" : *std::max_element(months.begin(), months.end());
}

// Rewrites kueski_pd/2's model.json with its MANIFEST line; returns what a refusal must say
// up to the events (which the message then lists).
std::string RewriteApprovedLogistic(const fs::path& folder) {
  const fs::path pkg = Package(folder, 2);
  const std::string model = testing::ReadAll(pkg / "model.json");
  const std::string recorded = testing::RewritePackageFile(pkg, "model.json", model + "\n");
  return "model kueski_pd/2: MANIFEST sha256 " + testing::ManifestSha(pkg) + " does not match " +
         recorded + " recorded at ";
}

TEST(ApprovedBytesCli, EveryCommandRefusesARewrittenManifestNamingBothHashes) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  const std::string month = LastFeatureMonth(folder);
  const auto run = [&](const std::string& args) { return testing::RunRiskpipe(args, folder); };

  // Untouched: verifies and scores.
  const CliResult verified = run("models show kueski_pd/1 --verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_OUTPUT_HAS(verified, "manifest     verified: sha256 " +
                                  testing::ManifestSha(Package(folder, 1)) + ", as recorded at ");
  const CliResult scored = run("-q predict --month " + month + " --model kueski_pd/1");
  EXPECT_EQ(scored.exit_code, 0) << scored.output;

  const std::string refused = RewriteApprovedLogistic(folder);
  const std::vector<std::string> commands = {
      "models show kueski_pd/2 --verify", "-q predict --month " + month + " --model kueski_pd/2",
      "-q validate kueski_pd/2",
      "models promote kueski_pd/2 --by bob --override-reason 'urgent fix'"};
  for (const std::string& args : commands) {
    const CliResult r = run(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
    EXPECT_OUTPUT_HAS(r, refused);
    EXPECT_OUTPUT_HAS(r, "approval (event ");
  }
  // Nothing moved: the rewritten version is still approved, no validation.json was added.
  EXPECT_OUTPUT_HAS(run("models show kueski_pd/2"), "stage        approved");
  EXPECT_FALSE(fs::exists(Package(folder, 2) / "validation.json"));
}

TEST(ApprovedBytesCli, ServeRefusesARewrittenProductionPackageAtStartUp) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  {
    auto reg = registry::Registry::Open(folder / "ws");
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    ASSERT_TRUE(reg->Promote("kueski_pd/2", "test", "test override").ok());
  }
  const std::string refused = RewriteApprovedLogistic(folder);
  testing::ServeProcess serve(folder, dir.path() / "serve.log");
  ASSERT_GT(serve.port(), 0) << serve.Log();
  // Up, but with nothing it may serve: not ready, and the log says why.
  EXPECT_EQ(testing::HttpGet(serve.port(), "/readyz").status, 503);
  const std::string log = serve.Log();
  EXPECT_NE(log.find(refused), std::string::npos) << log;
  EXPECT_NE(log.find("promotion (event "), std::string::npos) << log;
  serve.Terminate();

  // The same workspace with the production version untouched serves.
  TempDir clean_dir;
  const fs::path clean = ServingWorkspace::Copy(clean_dir.path());
  testing::ServeProcess good(clean, clean_dir.path() / "serve.log");
  ASSERT_GT(good.port(), 0) << good.Log();
  EXPECT_EQ(testing::HttpGet(good.port(), "/readyz").status, 200) << good.Log();
}

}  // namespace
}  // namespace riskpipe::serving
