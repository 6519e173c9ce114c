// The `pipeline:` and `reason_codes:` sections (config/pipeline.h, config/reason_codes.h):
// defaults when absent, every key read, and errors that name the key and its line.

#include <gtest/gtest.h>

#include "config/config.h"

namespace riskpipe::config {
namespace {

constexpr char kBase[] = R"(project: p
workspace: ws
sources:
  - name: t
    file: raw/t.csv
    date_column: d
    columns:
      - {name: id, type: string}
      - {name: d, type: date}
)";

StatusOr<Project> Parse(const std::string& extra) {
  return ParseProject(std::string(kBase) + extra, "/tmp/proj/riskpipe.yaml");
}

TEST(PipelineParse, DefaultsWhenAbsent) {
  auto p = Parse("");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->pipeline.present);
  EXPECT_FALSE(p->pipeline.auto_approve.enabled);
  EXPECT_EQ(p->pipeline.retries, 2);
  EXPECT_EQ(p->pipeline.quality_gate, QualityGate::kStop);
  EXPECT_FALSE(p->reason_codes.present);
  EXPECT_EQ(p->reason_codes.version, "default");
  EXPECT_EQ(p->reason_codes.top, 3);
}

TEST(PipelineParse, ReadsEveryKey) {
  auto p = Parse(R"(pipeline:
  from: 2023-01
  to: 2024-12
  training: {initial: 2024-02, every_months: 6, on_trigger: false, min_months_between: 2}
  auto_approve: {by: demo, reason: unattended}
  retries: 4
  backoff_seconds: 0.25
  quality_gate: warn
  shadow_challenger: false
reason_codes:
  version: "7"
  top: 2
  texts: {debt: "High debt"}
)");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const PipelineDef& d = p->pipeline;
  EXPECT_EQ(d.from->ToString(), "2023-01");
  EXPECT_EQ(d.to->ToString(), "2024-12");
  EXPECT_EQ(d.training.initial->ToString(), "2024-02");
  EXPECT_EQ(d.training.every_months, 6);
  EXPECT_FALSE(d.training.on_trigger);
  EXPECT_EQ(d.training.min_months_between, 2);
  EXPECT_TRUE(d.auto_approve.enabled);
  EXPECT_EQ(d.auto_approve.by, "demo");
  EXPECT_EQ(d.retries, 4);
  EXPECT_DOUBLE_EQ(d.backoff_seconds, 0.25);
  EXPECT_EQ(d.quality_gate, QualityGate::kWarn);
  EXPECT_FALSE(d.shadow_challenger);
  EXPECT_EQ(p->reason_codes.version, "7");
  EXPECT_EQ(p->reason_codes.top, 2);
  EXPECT_EQ(p->reason_codes.texts.at("debt"), "High debt");
}

TEST(PipelineParse, ErrorsNameTheKeyAndLine) {
  struct Case {
    const char* yaml;
    const char* expected;
  } cases[] = {
      {"pipeline:\n  from: 2024-05\n  to: 2024-01\n", "pipeline.to"},
      {"pipeline:\n  from: May\n", "pipeline.from"},
      {"pipeline:\n  quality_gate: maybe\n", "pipeline.quality_gate"},
      {"pipeline:\n  auto_approve: {by: demo}\n", "reason"},
      {"pipeline:\n  retriez: 3\n", "retriez"},
      {"pipeline:\n  training: {every: 3}\n", "every"},
      {"reason_codes:\n  top: 3\n", "reason_codes.version"},
      {"reason_codes:\n  version: \"1\"\n  top: 50\n", "reason_codes.top"},
      {"reason_codes:\n  version: \"1\"\n  texts: [a, b]\n", "reason_codes.texts"},
  };
  for (const Case& c : cases) {
    auto p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_NE(p.status().message().find(c.expected), std::string::npos)
        << c.yaml << " -> " << p.status().message();
    EXPECT_NE(p.status().message().find("riskpipe.yaml:1"), std::string::npos)
        << "names the line: " << p.status().message();
  }
}

}  // namespace
}  // namespace riskpipe::config
