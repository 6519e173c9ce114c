// `riskpipe init` + `riskpipe train` end to end on a user's own CSV, training killed with
// SIGKILL and resumed to the same model as an uninterrupted run, and the registry's approve ->
// promote -> rollback road and tamper check on trained packages.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "testing/run_cli.h"
#include "testing/temp_dir.h"
#include "training/synthetic_csv.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::ReadAll;
using riskpipe::testing::TempDir;

using riskpipe::testing::RiskpipeBinary;
using Result = riskpipe::testing::CliResult;

Result RunIn(const fs::path& dir, const std::string& args) {
  return riskpipe::testing::RunRiskpipe(args, dir);
}

TEST(TrainCli, InitThenTrainOnAUsersOwnCsv) {
  TempDir dir;
  dir.Write("my_loans.csv", riskpipe::testing::SyntheticLoansCsv(3000, 11));
  Result bad = RunIn(dir.path(), "init --source my_loans.csv --target nope");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("nope"), std::string::npos);
  Result init = RunIn(dir.path(), "init --source my_loans.csv --target defaulted --positive 1");
  ASSERT_EQ(init.exit_code, 0) << init.output;
  ASSERT_TRUE(fs::exists(dir.path() / "riskpipe.yaml"));
  EXPECT_EQ(RunIn(dir.path(), "init --source my_loans.csv --target defaulted").exit_code, 2)
      << "refuses to overwrite";
  Result train = RunIn(dir.path(), "train");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("leaderboard"), std::string::npos);
  EXPECT_NE(train.output.find("no out-of-time test"), std::string::npos) << train.output;
  for (const char* family : {"logistic", "decision_tree", "random_forest", "xgboost"}) {
    EXPECT_NE(train.output.find(family), std::string::npos) << family;
  }
  EXPECT_NE(train.output.find("registered my_loans_pd/1"), std::string::npos) << train.output;
  const fs::path pkg = dir.path() / "workspace" / "model_bank" / "my_loans_pd" / "1";
  const std::string meta = ReadAll(pkg / "metadata.json");
  EXPECT_NE(meta.find("inferred_schema"), std::string::npos);
  EXPECT_NE(meta.find("\"id\""), std::string::npos);
  EXPECT_TRUE(fs::exists(pkg / "MANIFEST"));
  // The run log records the step.
  Result status = RunIn(dir.path(), "status");
  EXPECT_NE(status.output.find("train"), std::string::npos) << status.output;
}

TEST(TrainCli, TinyDataFailsAndRegistersNothing) {
  TempDir dir;
  dir.Write("small.csv", riskpipe::testing::SyntheticLoansCsv(300, 12));
  ASSERT_EQ(RunIn(dir.path(), "init --source small.csv --target defaulted").exit_code, 0);
  // The starter lowers the minimum to 100 for a small file; ask for more.
  std::string yaml = ReadAll(dir.path() / "riskpipe.yaml");
  yaml.replace(yaml.find("min_train_rows: 100"), 19, "min_train_rows: 1000");
  dir.Write("riskpipe.yaml", yaml);
  Result train = RunIn(dir.path(), "train");
  EXPECT_EQ(train.exit_code, 1) << train.output;
  EXPECT_NE(train.output.find("min_train_rows"), std::string::npos) << train.output;
  EXPECT_FALSE(fs::exists(dir.path() / "workspace" / "model_bank" / "small_pd" / "1"));
  Result status = RunIn(dir.path(), "status");
  EXPECT_NE(status.output.find("FAILED"), std::string::npos) << status.output;
}

constexpr char kBoostProject[] = R"(project: resume
workspace: ws
model:
  name: boost
  dataset: {file: loans.csv, target: defaulted}
  splits: {validation_fraction: 0.2, test_fraction: 0.2}
  threads: 1
  checkpoint_every: 5
  candidates:
    - family: xgboost
      params: {rounds: 400, max_depth: 8, eta: 0.02, min_child_weight: 1}
)";

TEST(TrainCli, KilledTrainingResumesToTheUninterruptedModel) {
  TempDir dir;
  const std::string csv = riskpipe::testing::SyntheticLoansCsv(30000, 13);
  const fs::path a = dir.path() / "a", b = dir.path() / "b";
  fs::create_directories(a);
  fs::create_directories(b);
  for (const fs::path& d : {a, b}) {
    dir.Write((d / "loans.csv").lexically_relative(dir.path()).string(), csv);
    dir.Write((d / "riskpipe.yaml").lexically_relative(dir.path()).string(), kBoostProject);
  }
  // Uninterrupted run in a.
  Result straight = RunIn(a, "train");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  // Run in b, killed once a few checkpoints exist.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::chdir(b.c_str());
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(RiskpipeBinary().c_str(), RiskpipeBinary().c_str(), "train", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;  // finished before we could kill it
    bool checkpointed = false;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(b / "ws" / "checkpoints", ec);
         !ec && it != fs::recursive_directory_iterator(); ++it) {
      if (it->path().filename() == "c0.state.json") {
        checkpointed = ReadAll(it->path()).find("\"rounds_done\":15") != std::string::npos;
      }
    }
    if (checkpointed) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(killed) << "training ended before it could be interrupted";
  // Nothing half-written is visible, and nothing was registered.
  EXPECT_FALSE(fs::exists(b / "ws" / "model_bank" / "boost" / "1"));
  Result resumed = RunIn(b, "train --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming c0 at round"), std::string::npos) << resumed.output;
  const std::string model_a = ReadAll(a / "ws" / "model_bank" / "boost" / "1" / "model.ubj");
  const std::string model_b = ReadAll(b / "ws" / "model_bank" / "boost" / "1" / "model.ubj");
  EXPECT_FALSE(model_a.empty());
  EXPECT_TRUE(model_a == model_b) << "the resumed model differs from the uninterrupted one";
}

TEST(TrainCli, ApprovePromoteRollbackAndTamperedPackages) {
  TempDir dir;
  dir.Write("loans.csv", riskpipe::testing::SyntheticLoansCsv(2000, 14));
  ASSERT_EQ(RunIn(dir.path(), "init --source loans.csv --target defaulted").exit_code, 0);
  ASSERT_EQ(RunIn(dir.path(), "train").exit_code, 0);
  ASSERT_EQ(RunIn(dir.path(), "train").exit_code, 0);
  EXPECT_EQ(RunIn(dir.path(), "models promote loans_pd/1 --stage production --by ana").exit_code, 1)
      << "promotion without approval is refused";
  ASSERT_EQ(RunIn(dir.path(), "models approve loans_pd/1 --by ana --reason 'validated'").exit_code, 0);
  Result unvalidated = RunIn(dir.path(), "models promote loans_pd/1 --stage production --by ana");
  EXPECT_EQ(unvalidated.exit_code, 1) << "promotion without the validation gate is refused";
  EXPECT_NE(unvalidated.output.find("riskpipe validate loans_pd/1"), std::string::npos)
      << unvalidated.output;
  // The gate's verdict on this small random split is not the point here: promote with a
  // recorded override when it fails (docs/validation.md).
  const std::string override_text =
      RunIn(dir.path(), "validate loans_pd/1").exit_code == 0 ? "" : " --override-reason 'test data'";
  ASSERT_EQ(RunIn(dir.path(), "models promote loans_pd/1 --stage production --by ana" + override_text).exit_code, 0);
  ASSERT_EQ(RunIn(dir.path(), "models approve loans_pd/2 --by bo --reason 'better OOT'").exit_code, 0);
  const int gate2 = RunIn(dir.path(), "validate loans_pd/2").exit_code;
  EXPECT_TRUE(gate2 == 0 || gate2 == 1) << gate2;
  EXPECT_TRUE(fs::exists(dir.path() / "workspace" / "model_bank" / "loans_pd" / "2" / "validation.json"));
  ASSERT_EQ(RunIn(dir.path(), "models promote loans_pd/2 --stage production --by bo --override-reason 'test data'").exit_code, 0);
  Result prod = RunIn(dir.path(), "models show production");
  EXPECT_NE(prod.output.find("loans_pd/2"), std::string::npos) << prod.output;
  Result rb = RunIn(dir.path(), "models rollback --name loans_pd --by ana --reason 'complaints'");
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  prod = RunIn(dir.path(), "models show production");
  EXPECT_NE(prod.output.find("loans_pd/1"), std::string::npos) << prod.output;
  Result history = RunIn(dir.path(), "models history --name loans_pd");
  for (const char* e : {"registered", "approved", "promoted", "rolled"}) {
    EXPECT_NE(history.output.find(e), std::string::npos) << e << "\n" << history.output;
  }
  // One flipped byte in the estimator: --verify and loading refuse the package, naming the file.
  const fs::path model = dir.path() / "workspace" / "model_bank" / "loans_pd" / "1" / "model.ubj";
  const fs::path file = fs::exists(model) ? model : model.parent_path() / "model.json";
  std::string bytes = ReadAll(file);
  bytes[bytes.size() / 2] ^= 0x01;
  fs::permissions(file, fs::perms::owner_write, fs::perm_options::add);
  dir.Write(file.lexically_relative(dir.path()).string(), bytes);
  Result verify = RunIn(dir.path(), "models show loans_pd/1 --verify");
  EXPECT_EQ(verify.exit_code, 1) << verify.output;
  EXPECT_NE(verify.output.find(file.filename().string()), std::string::npos) << verify.output;
}

}  // namespace
}  // namespace riskpipe
