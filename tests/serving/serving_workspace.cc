#include "serving_workspace.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/files.h"
#include "core/hash.h"
#include "registry/registry.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe::testing {

namespace fs = std::filesystem;

namespace {

// The example's Kueski project, with a model section small enough to train in a second:
// one candidate per training run so each run registers that family.
std::string ProjectYaml(const std::string& candidate) {
  std::string yaml = ReadAll(fs::path(RISKPIPE_SOURCE_DIR) / "examples/kueski/riskpipe.yaml");
  yaml.replace(yaml.find("workspace: workspace"), 20, "workspace: ws");
  const size_t begin = yaml.find("  candidates:");
  const size_t end = yaml.find("  selection:");
  yaml.replace(begin, end - begin, "  candidates:\n    - " + candidate + "\n");
  const size_t sel = yaml.find("  selection: {metric: auc, max_oot_drop: 0.05}");
  if (sel != std::string::npos) {
    yaml.replace(sel, 46, "  selection: {metric: auc, max_oot_drop: 1.0}");
  }
  return yaml;
}

// The lending example's project with its model section replaced by `model` (everything up to
// the next top-level key, the comments before it included).
std::string LendingYaml(const std::string& model) {
  std::string yaml =
      ReadAll(fs::path(RISKPIPE_SOURCE_DIR) / "examples/lending-datamart/riskpipe.yaml");
  const size_t begin = yaml.find("\nmodel:\n") + 1;
  size_t end = yaml.find('\n', begin);
  while (end != std::string::npos && end + 1 < yaml.size() &&
         !std::isalpha(static_cast<unsigned char>(yaml[end + 1]))) {
    end = yaml.find('\n', end + 1);
  }
  return yaml.replace(begin, end == std::string::npos ? std::string::npos : end + 1 - begin, model);
}

// A model section that trains in a fraction of a second on 1,000 customers (about 40
// applications a month), without the clickstream features (the demo's production model leaves
// them out too: docs/pipeline.md, "Inputs no current application has are left out").
std::string LendingModel(const std::string& candidate) {
  std::string exclude;
  for (int i = 1; i <= 20; ++i) {
    exclude += (i > 1 ? ", " : "") + std::string("fe_") + std::to_string(i) + "_mean_3m";
  }
  return "model:\n"
         "  name: lending_pd\n"
         "  cutoff: 2024-08-01\n"
         "  splits:\n"
         "    train: {from: 2023-01, to: 2023-10}\n"
         "    validation: {from: 2023-11, to: 2023-12}\n"
         "    oot: {from: 2024-01, to: 2024-02}\n"
         "  min_train_rows: 200\n"
         "  seed: 42\n"
         "  exclude: [" +
         exclude +
         "]\n"
         "  candidates:\n"
         "    - " +
         candidate +
         "\n"
         "  selection: {metric: auc, max_oot_drop: 1.0}\n"
         "  calibration: platt\n"
         "  threshold: {policy: approval_rate, value: 0.7}\n";
}

void Run(const fs::path& dir, const std::string& args) {
  const CliResult r = RunRiskpipe(args, dir);
  ASSERT_EQ(r.exit_code, 0) << "riskpipe " << args << "\n" << r.output;
}

// Approves the ids of `approve`, then promotes those of `promote` in order (with an override:
// the tests run no validation gate), so the last is in production and the others before it
// are in its history.
void ApproveAndPromote(const fs::path& workspace, const std::vector<std::string>& approve,
                       const std::vector<std::string>& promote) {
  auto reg = registry::Registry::Open(workspace);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  for (const std::string& id : approve) {
    auto a = reg->Approve(id, "test", "serving tests");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
  }
  for (const std::string& id : promote) {
    auto p = reg->Promote(id, "test", "test override");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
  }
}

fs::path BuildKueski() {
  static TempDir* holder = new TempDir();  // lives for the whole test binary
  const fs::path dir = holder->path() / "kueski";
  fs::create_directories(dir);
  holder->Write("kueski/riskpipe.yaml",
                ProjectYaml("{family: xgboost, params: {rounds: 60, max_depth: 3, eta: 0.1}}"));
  Run(dir, "-q synth --scenario kueski --customers 1500 --seed 7");
  Run(dir, "-q ingest");
  Run(dir, "-q features build");
  Run(dir, "-q materialize");
  Run(dir, "-q train");
  holder->Write("kueski/riskpipe.yaml", ProjectYaml("{family: logistic}"));
  Run(dir, "-q train");
  // Back to the first project file (the tests' serving settings are set in code).
  holder->Write("kueski/riskpipe.yaml",
                ProjectYaml("{family: xgboost, params: {rounds: 60, max_depth: 3, eta: 0.1}}"));
  ApproveAndPromote(dir / "ws", {"kueski_pd/1", "kueski_pd/2"}, {"kueski_pd/1"});
  return dir;
}

fs::path BuildLending() {
  static TempDir* holder = new TempDir();  // lives for the whole test binary
  const fs::path dir = holder->path() / "lending-datamart";
  fs::create_directories(dir);
  const std::string xgboost = "{family: xgboost, params: {rounds: 30, max_depth: 3, eta: 0.2}}";
  holder->Write("lending-datamart/riskpipe.yaml",
                LendingYaml(LendingModel("{family: logistic, params: {l2: 0.001}}")));
  Run(dir, "-q synth --scenario lending-datamart --customers 1000 --seed 42");
  Run(dir, "-q ingest");
  Run(dir, "-q features build");
  Run(dir, "-q materialize");
  Run(dir, "-q train");
  holder->Write("lending-datamart/riskpipe.yaml", LendingYaml(LendingModel(xgboost)));
  Run(dir, "-q train");
  ApproveAndPromote(dir / "workspace", {"lending_pd/1", "lending_pd/2"},
                    {"lending_pd/1", "lending_pd/2"});
  return dir;
}

}  // namespace

const fs::path& ServingWorkspace::Shared(Scenario scenario) {
  if (scenario == Scenario::kLending) {
    static const fs::path lending = BuildLending();
    return lending;
  }
  static const fs::path kueski = BuildKueski();
  return kueski;
}

fs::path ServingWorkspace::Copy(const fs::path& dir, Scenario scenario) {
  const fs::path& from = Shared(scenario);
  const fs::path to = dir / from.filename();
  fs::create_directories(dir);
  fs::copy(from, to, fs::copy_options::recursive);
  return to;
}

config::Project ServingWorkspace::Project(const fs::path& folder) {
  auto project = config::LoadProject(folder / "riskpipe.yaml");
  EXPECT_TRUE(project.ok()) << project.status().ToString();
  config::Project p = *project;
  p.serving.port = 0;
  p.serving.threads = 2;
  p.serving.reload_poll_ms = 3'600'000;
  return p;
}

std::string ManifestSha(const fs::path& package) {
  return Sha256Hex(ReadAll(package / "MANIFEST"));
}

std::string RewritePackageFile(const fs::path& package, const std::string& file,
                               const std::string& bytes) {
  std::string manifest = ReadAll(package / "MANIFEST");
  const std::string before = Sha256Hex(manifest);
  const size_t at = manifest.find("  " + file + "\n");
  EXPECT_TRUE(at != std::string::npos && at >= 64) << file << " is not in its MANIFEST";
  if (at == std::string::npos || at < 64) return before;
  EXPECT_TRUE(WriteFileAtomic(package / file, bytes).ok());
  manifest.replace(at - 64, 64, Sha256Hex(bytes));
  EXPECT_TRUE(WriteFileAtomic(package / "MANIFEST", manifest).ok());
  return before;
}

}  // namespace riskpipe::testing
