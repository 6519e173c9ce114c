#include "serving_workspace.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

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

void Run(const fs::path& dir, const std::string& args) {
  const CliResult r = RunRiskpipe(args, dir);
  ASSERT_EQ(r.exit_code, 0) << "riskpipe " << args << "\n" << r.output;
}

fs::path Build() {
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
  auto reg = registry::Registry::Open(dir / "ws");
  EXPECT_TRUE(reg.ok()) << reg.status().ToString();
  for (const char* id : {"kueski_pd/1", "kueski_pd/2"}) {
    auto a = reg->Approve(id, "test", "serving tests");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
  }
  auto p = reg->Promote("kueski_pd/1", "test", "test override");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return dir;
}

}  // namespace

const fs::path& ServingWorkspace::Shared() {
  static const fs::path dir = Build();
  return dir;
}

fs::path ServingWorkspace::Copy(const fs::path& dir) {
  const fs::path to = dir / "kueski";
  fs::copy(Shared(), to, fs::copy_options::recursive);
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

}  // namespace riskpipe::testing
