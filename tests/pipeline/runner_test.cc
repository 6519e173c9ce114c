// The runner with fake steps and a real run log (a temporary SQLite file): order by
// dependency, skipping by fingerprint, retries, blocking within a month, resume, the fault
// hook, one-pass batches, the parallel phase, pauses and run-log write failures.

#include "pipeline/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "metastore/metastore.h"
#include "testing/temp_dir.h"

namespace riskpipe::pipeline {
namespace {

using riskpipe::testing::TempDir;

const Month kJan = Month::Of(2024, 1), kFeb = Month::Of(2024, 2), kMar = Month::Of(2024, 3);

// A step that records its calls ("2024-01 name") in a log shared by the steps of a test.
class FakeStep : public Step {
 public:
  FakeStep(std::string name, std::vector<std::string> deps, std::vector<std::string>& calls,
           std::mutex& mu)
      : calls_(calls), mu_(mu) {
    def_.name = std::move(name);
    def_.deps = std::move(deps);
    def_.what = "fake " + def_.name;
  }
  const StepDef& def() const override { return def_; }
  StepDef& mutable_def() { return def_; }

  StatusOr<std::string> Inputs(const StepContext&) override { return inputs; }
  StatusOr<StepOutput> Run(const StepContext& c) override {
    int call;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(c.month.ToString() + " " + def_.name);
      call = runs[c.month]++;
      lanes.insert(c.lane);
    }
    if (fail) RETURN_IF_ERROR(fail(c, call));
    StepOutput out;
    out.message = "did " + def_.name;
    out.rows_out = 7;
    out.paused = pause;
    return out;
  }

  bool batches() const override { return batching; }
  StatusOr<BatchOutput> RunBatch(const std::vector<Month>& months, const StepContext&) override {
    batch_calls.push_back(months);
    if (fail_batch) return UnavailableError("source file locked");
    BatchOutput batch;
    for (Month m : months) {
      StepOutput out;
      out.message = "batched " + m.ToString();
      out.details = {{"batched", true}};
      batch.months.push_back(out);
    }
    batch.message = std::to_string(months.size()) + " months in one pass";
    return batch;
  }

  std::string inputs;                                        // what Inputs returns
  std::function<Status(const StepContext&, int call)> fail;  // the call's failure, if any
  bool pause = false;
  bool batching = false, fail_batch = false;
  std::vector<std::vector<Month>> batch_calls;
  std::map<Month, int> runs;  // calls per month
  std::set<int> lanes;

 private:
  StepDef def_;
  std::vector<std::string>& calls_;
  std::mutex& mu_;
};

class RunnerTest : public ::testing::Test {
 protected:
  FakeStep& Add(std::string name, std::vector<std::string> deps = {}) {
    fakes_.push_back(std::make_unique<FakeStep>(std::move(name), std::move(deps), calls_, mu_));
    return *fakes_.back();
  }
  RunOptions Options(Month from, Month to) {
    RunOptions o;
    o.from = from;
    o.to = to;
    o.log = [this](const std::string& line) { log_ += line + "\n"; };
    return o;
  }
  StatusOr<RunSummary> Run(const RunOptions& options) {
    std::vector<Step*> steps;
    for (auto& f : fakes_) steps.push_back(f.get());
    calls_.clear();
    return RunSteps(steps, settings_, options);
  }
  // The run's step records: "2024-01 name status", in the order they were begun.
  std::vector<std::string> RunLog(int64_t run_id) {
    auto meta = metastore::Metastore::Open(settings_.run_log);
    EXPECT_TRUE(meta.ok()) << meta.status().message();
    metastore::StepFilter filter;
    filter.run_id = run_id;
    auto steps = meta->ListSteps(filter);
    EXPECT_TRUE(steps.ok()) << steps.status().message();
    std::vector<std::string> out;
    for (auto it = steps->rbegin(); it != steps->rend(); ++it) {
      out.push_back(it->partition.substr(0, 7) + " " + it->step + " " +
                    std::string(metastore::RunStatusName(it->status)));
    }
    return out;
  }
  static const StepReport* Find(const RunSummary& s, Month month, const std::string& step) {
    for (const auto& r : s.steps) {
      if (r.month == month && r.step == step) return &r;
    }
    return nullptr;
  }
  static Outcome OutcomeOf(const RunSummary& s, Month month, const std::string& step) {
    const StepReport* r = Find(s, month, step);
    EXPECT_NE(r, nullptr) << month.ToString() << " " << step;
    return r ? r->outcome : Outcome::kNotDue;
  }

  TempDir dir_;
  RunnerSettings settings_{dir_.path() / "metastore.sqlite", "base", 2, 0};
  std::vector<std::string> calls_;
  std::string log_;

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<FakeStep>> fakes_;
};

TEST_F(RunnerTest, RunsEachMonthInOrderAndEachStepAfterItsDependencies) {
  Add("score", {"features"});
  Add("features", {"ingest"});
  Add("ingest");
  auto s = Run(Options(kJan, kFeb));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(calls_,
            (std::vector<std::string>{"2024-01 ingest", "2024-01 features", "2024-01 score",
                                      "2024-02 ingest", "2024-02 features", "2024-02 score"}));
  EXPECT_TRUE(s->failed_months.empty());
  EXPECT_EQ(RunLog(s->run_id).size(), 6u);
}

TEST_F(RunnerTest, RejectsAnUnknownDependency) {
  Add("a", {"missing"});
  auto s = Run(Options(kJan, kJan));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "step \"a\" depends on unknown step \"missing\"");
  EXPECT_FALSE(std::filesystem::exists(settings_.run_log)) << "nothing was run";
}

TEST_F(RunnerTest, RejectsStepsThatDependOnEachOther) {
  Add("a");
  Add("b", {"c"});
  Add("c", {"b"});
  auto s = Run(Options(kJan, kJan));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "steps depend on each other in a cycle: b, c");
  EXPECT_TRUE(calls_.empty());
}

TEST_F(RunnerTest, SkipsStepsWhoseInputsAreUnchangedAndRerunsWhatAChangeReaches) {
  Add("a");
  FakeStep& b = Add("b", {"a"});
  Add("c", {"b"});
  Add("d", {"a"});
  ASSERT_TRUE(Run(Options(kJan, kJan)).ok());
  ASSERT_EQ(calls_.size(), 4u);

  auto again = Run(Options(kJan, kJan));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(calls_.empty());
  for (const char* step : {"a", "b", "c", "d"}) {
    EXPECT_EQ(OutcomeOf(*again, kJan, step), Outcome::kUpToDate) << step;
  }
  EXPECT_EQ(Find(*again, kJan, "b")->message, "did b") << "the last success's message";
  EXPECT_TRUE(RunLog(again->run_id).empty()) << "a skipped step is not recorded again";

  b.inputs = "another model";  // b's fingerprint changes; c reads b's output
  auto changed = Run(Options(kJan, kJan));
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_EQ(calls_, (std::vector<std::string>{"2024-01 b", "2024-01 c"}));
  EXPECT_EQ(OutcomeOf(*changed, kJan, "d"), Outcome::kUpToDate);

  RunOptions forced = Options(kJan, kJan);
  forced.force = true;
  ASSERT_TRUE(Run(forced).ok());
  EXPECT_EQ(calls_.size(), 4u) << "--force reruns everything";
}

TEST_F(RunnerTest, RetriesATransientFailureAndRecordsTheAttempts) {
  FakeStep& a = Add("a");
  a.fail = [](const StepContext&, int call) {
    return call == 0 ? UnavailableError("metastore busy") : OkStatus();
  };
  auto s = Run(Options(kJan, kJan));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(a.runs[kJan], 2);
  EXPECT_EQ(OutcomeOf(*s, kJan, "a"), Outcome::kDone);
  EXPECT_EQ(Find(*s, kJan, "a")->attempts, 2);
  EXPECT_NE(log_.find("2024-01 a: transient failure (metastore busy), retry 1"), std::string::npos)
      << log_;
  EXPECT_EQ(RunLog(s->run_id), (std::vector<std::string>{"2024-01 a succeeded"}));
}

TEST_F(RunnerTest, GivesUpAfterTheRetriesAndNeverRetriesAPermanentFailure) {
  settings_.retries = 1;
  FakeStep& flaky = Add("flaky");
  flaky.fail = [](const StepContext&, int) { return UnavailableError("down"); };
  FakeStep& broken = Add("broken");
  broken.fail = [](const StepContext&, int) { return InternalError("bad data"); };
  auto s = Run(Options(kJan, kJan));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(flaky.runs[kJan], 2);
  EXPECT_EQ(broken.runs[kJan], 1);
  EXPECT_EQ(Find(*s, kJan, "broken")->message, "bad data");
  EXPECT_EQ(s->failed_months, std::vector<Month>{kJan});
  EXPECT_EQ(RunLog(s->run_id),
            (std::vector<std::string>{"2024-01 flaky failed", "2024-01 broken failed"}));
}

TEST_F(RunnerTest, AFailedStepBlocksItsDependentsInItsMonthOnly) {
  Add("a");
  FakeStep& b = Add("b", {"a"});
  Add("c", {"b"});
  Add("d", {"a"});
  b.fail = [](const StepContext& c, int) {
    return c.month == kFeb ? InternalError("bad February") : OkStatus();
  };
  auto s = Run(Options(kJan, kMar));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(OutcomeOf(*s, kFeb, "b"), Outcome::kFailed);
  EXPECT_EQ(OutcomeOf(*s, kFeb, "c"), Outcome::kBlocked);
  EXPECT_EQ(Find(*s, kFeb, "c")->message, "waits for b");
  EXPECT_EQ(OutcomeOf(*s, kFeb, "d"), Outcome::kDone);
  for (Month m : {kJan, kMar}) {
    for (const char* step : {"a", "b", "c", "d"}) {
      EXPECT_EQ(OutcomeOf(*s, m, step), Outcome::kDone) << m.ToString() << " " << step;
    }
  }
  EXPECT_EQ(s->failed_months, std::vector<Month>{kFeb});
  EXPECT_EQ(
      RunLog(s->run_id),
      (std::vector<std::string>{"2024-01 a succeeded", "2024-01 b succeeded", "2024-01 c succeeded",
                                "2024-01 d succeeded", "2024-02 a succeeded", "2024-02 b failed",
                                "2024-02 d succeeded", "2024-03 a succeeded", "2024-03 b succeeded",
                                "2024-03 c succeeded", "2024-03 d succeeded"}))
      << "a blocked step is not begun";
}

TEST_F(RunnerTest, ARunAfterAFailureRedoesOnlyTheFailedMonthsUnfinishedSteps) {
  Add("a");
  FakeStep& b = Add("b", {"a"});
  Add("c", {"b"});
  b.fail = [](const StepContext& c, int) {
    return c.month == kFeb ? InternalError("bad February") : OkStatus();
  };
  ASSERT_TRUE(Run(Options(kJan, kMar)).ok());
  b.fail = nullptr;
  auto resumed = Run(Options(kJan, kMar));
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(calls_, (std::vector<std::string>{"2024-02 b", "2024-02 c"}));
  EXPECT_TRUE(resumed->failed_months.empty());
  EXPECT_EQ(RunLog(resumed->run_id),
            (std::vector<std::string>{"2024-02 b succeeded", "2024-02 c succeeded"}));
}

TEST_F(RunnerTest, TheFaultHookFailsAttemptsWithoutRunningTheStep) {
  FakeStep& a = Add("a");
  FakeStep& b = Add("b", {"a"});
  RunOptions o = Options(kJan, kFeb);
  std::vector<std::string> asked;
  o.fault_hook = [&](std::string_view step, Month month, int attempt) {
    asked.push_back(std::string(step) + " " + month.ToString() + " " + std::to_string(attempt));
    if (step == "a" && month == kJan) return InternalError("injected failure");
    if (step == "b" && month == kFeb && attempt == 0) return UnavailableError("injected blip");
    return OkStatus();
  };
  auto s = Run(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(a.runs.count(kJan), 0u) << "a failed attempt does not run the step";
  EXPECT_EQ(OutcomeOf(*s, kJan, "a"), Outcome::kFailed);
  EXPECT_EQ(Find(*s, kJan, "a")->message, "injected failure");
  EXPECT_EQ(OutcomeOf(*s, kJan, "b"), Outcome::kBlocked);
  EXPECT_EQ(b.runs[kFeb], 1);
  EXPECT_EQ(Find(*s, kFeb, "b")->attempts, 2);
  EXPECT_EQ(asked,
            (std::vector<std::string>{"a 2024-01 0", "a 2024-02 0", "b 2024-02 0", "b 2024-02 1"}));
}

TEST_F(RunnerTest, APausedStepStopsTheRunAndRunsAgainNextTime) {
  FakeStep& gate = Add("gate");
  FakeStep& report = Add("report");
  report.mutable_def().once = true;
  gate.pause = true;
  auto s = Run(Options(kJan, kFeb));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->paused);
  EXPECT_EQ(s->pause_message, "did gate");
  EXPECT_EQ(calls_, std::vector<std::string>{"2024-01 gate"}) << "nothing after the pause";
  EXPECT_EQ(RunLog(s->run_id), std::vector<std::string>{"2024-01 gate failed"});

  gate.pause = false;
  auto resumed = Run(Options(kJan, kFeb));
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(calls_, (std::vector<std::string>{"2024-01 gate", "2024-02 gate", "2024-02 report"}))
      << "the once-step runs last, as the range's last month";
}

// A step whose own record cannot be finished: something else ended it meanwhile.
TEST_F(RunnerTest, ARunLogWriteThatFailsFailsTheStepAndBlocksItsDependents) {
  FakeStep& a = Add("a");
  Add("b", {"a"});
  a.fail = [](const StepContext& c, int) -> Status {
    metastore::StepFilter mine;
    mine.run_id = c.run_id;
    mine.step = "a";
    ASSIGN_OR_RETURN(auto steps, c.run_log->ListSteps(mine));
    return c.run_log->FinishStep(steps.front().step_id, metastore::StepResult{});
  };
  auto s = Run(Options(kJan, kJan));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(OutcomeOf(*s, kJan, "a"), Outcome::kFailed);
  const std::string& message = Find(*s, kJan, "a")->message;
  EXPECT_EQ(message.rfind("run log: a 2024-01: cannot record the success: ", 0), 0u) << message;
  EXPECT_NE(message.find("has already ended"), std::string::npos) << message;
  EXPECT_EQ(OutcomeOf(*s, kJan, "b"), Outcome::kBlocked);
  EXPECT_EQ(s->failed_months, std::vector<Month>{kJan});
}

TEST_F(RunnerTest, ARunThatCannotBeRecordedAsFinishedIsAnError) {
  FakeStep& a = Add("a");
  Add("b");
  a.fail = [](const StepContext& c, int) {
    return c.run_log->FinishRun(c.run_id, metastore::RunStatus::kFailed, "ended elsewhere");
  };
  auto s = Run(Options(kJan, kJan));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.status().message().rfind("run log: cannot finish run 1: ", 0), 0u)
      << s.status().message();
  EXPECT_NE(log_.find("2024-01 b: FAILED - run log: b 2024-01: cannot begin it"), std::string::npos)
      << log_;
}

TEST_F(RunnerTest, DoesTheMonthsABatchingStepHasNotDoneInOnePass) {
  FakeStep& ingest = Add("ingest");
  Add("features", {"ingest"});
  ingest.batching = true;
  ASSERT_TRUE(Run(Options(kJan, kJan)).ok());
  EXPECT_EQ(ingest.runs[kJan], 1) << "one month alone is not a batch";

  auto s = Run(Options(kJan, kMar));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(ingest.batch_calls, (std::vector<std::vector<Month>>{{kFeb, kMar}}));
  EXPECT_EQ(ingest.runs.count(kFeb) + ingest.runs.count(kMar), 0u);
  EXPECT_EQ(Find(*s, kMar, "ingest")->message, "batched 2024-03");
  EXPECT_NE(log_.find("ingest: 2 months in one pass"), std::string::npos) << log_;
  EXPECT_EQ(RunLog(s->run_id),
            (std::vector<std::string>{"2024-02 ingest succeeded", "2024-03 ingest succeeded",
                                      "2024-02 features succeeded", "2024-03 features succeeded"}));
}

TEST_F(RunnerTest, AFailedBatchOrAFaultHookLeavesEachMonthToItsOwnStep) {
  FakeStep& ingest = Add("ingest");
  ingest.batching = true;
  ingest.fail_batch = true;
  auto failed = Run(Options(kJan, kFeb));
  ASSERT_TRUE(failed.ok()) << failed.status().message();
  EXPECT_EQ(ingest.batch_calls.size(), 1u);
  EXPECT_EQ(calls_, (std::vector<std::string>{"2024-01 ingest", "2024-02 ingest"}));

  RunOptions hooked = Options(kJan, kMar);
  hooked.fault_hook = [](std::string_view, Month, int) { return OkStatus(); };
  ASSERT_TRUE(Run(hooked).ok());
  EXPECT_EQ(ingest.batch_calls.size(), 1u) << "no batch while a fault hook is set";
  EXPECT_EQ(calls_, std::vector<std::string>{"2024-03 ingest"});
}

TEST_F(RunnerTest, ParallelRunsOwnMonthStepsOfSeveralMonthsAtOnceAndTheRestInOrder) {
  FakeStep& ingest = Add("ingest");
  FakeStep& quality = Add("quality", {"ingest"});
  FakeStep& train = Add("train", {"quality"});
  ingest.mutable_def().own_month = quality.mutable_def().own_month = true;
  RunOptions o = Options(kJan, kMar);
  o.parallel = 2;
  auto s = Run(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  for (Month m : {kJan, kFeb, kMar}) {
    EXPECT_EQ(ingest.runs[m], 1) << m.ToString();
    EXPECT_EQ(quality.runs[m], 1) << m.ToString();
    EXPECT_EQ(OutcomeOf(*s, m, "train"), Outcome::kDone) << m.ToString();
  }
  EXPECT_EQ(ingest.lanes, (std::set<int>{1, 2}));
  EXPECT_EQ(train.lanes, std::set<int>{0});
  std::vector<std::string> trained;
  for (const auto& c : calls_) {
    if (c.ends_with(" train")) trained.push_back(c);
  }
  EXPECT_EQ(trained, (std::vector<std::string>{"2024-01 train", "2024-02 train", "2024-03 train"}));
  EXPECT_EQ(RunLog(s->run_id).size(), 9u);
}

TEST_F(RunnerTest, ADryRunPlansInOrderAndTouchesNothing) {
  FakeStep& report = Add("report");
  Add("b", {"a"});
  Add("a");
  report.mutable_def().once = true;
  RunOptions o = Options(kJan, kFeb);
  o.dry_run = true;
  auto plan = Run(o);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  std::vector<std::string> rows;
  for (const auto& r : plan->steps) rows.push_back(r.month.ToString() + " " + r.step);
  EXPECT_EQ(rows, (std::vector<std::string>{"2024-01 a", "2024-01 b", "2024-02 a", "2024-02 b",
                                            "2024-02 report"}));
  EXPECT_EQ(plan->steps.back().message, "fake report");
  EXPECT_TRUE(calls_.empty());
  EXPECT_FALSE(std::filesystem::exists(settings_.run_log));

  o.skip = {"nope"};
  auto bad = Run(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--skip: unknown step \"nope\"");
}

}  // namespace
}  // namespace riskpipe::pipeline
