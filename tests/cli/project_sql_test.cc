// Project files are hostile input too: SQL text they carry (feature expressions, the spine's
// `where`, expectation expressions) must be one scalar expression over the source's columns.
// Each reproduction below once crashed riskpipe through its row source or read a local file
// into the feature store; now `check-config` and the step refuse it with exit 2, naming the
// file, line and view or expectation.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

namespace fs = std::filesystem;
using riskpipe::testing::CliResult;
using riskpipe::testing::RunRiskpipe;
using riskpipe::testing::TempDir;

std::string Example() {
  std::ifstream in(std::string(RISKPIPE_SOURCE_DIR) + "/examples/lending-datamart/riskpipe.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The example with `from` replaced by `to` (which must occur once).
std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

const char kIncome[] =
    R"({name: annual_income, expr: "Annual_Income", description: "Annual income (cleaned; entry errors nulled)."})";

struct Bypass {
  const char* expr;
  const char* problem;
};
const Bypass kFeatureBypasses[] = {
    {R"(Annual_Income + length($$'$$ || (SELECT 0 FROM riskpipe_row_source(4242))::VARCHAR || $$'$$))",
     "subquery is not allowed"},
    {R"(Annual_Income + length($$'$$ || (SELECT content FROM read_text($$/etc/hostname$$)) || $$'$$))",
     "subquery is not allowed"},
    {R"(Annual_Income + length($$'$$ || current_setting($$threads$$) || $$'$$))",
     "function current_setting() is not allowed"},
};

TEST(ProjectSql, FeatureExpressionBypassesExitTwoAtCheckConfigAndFeaturesBuild) {
  for (const Bypass& b : kFeatureBypasses) {
    TempDir dir;
    const std::string feature = R"({name: annual_income, expr: ")" + std::string(b.expr) +
                                R"(", description: "income"})";
    const std::string yaml = Replace(Example(), kIncome, feature);
    const fs::path config = dir.Write("riskpipe.yaml", yaml);
    const std::string where = "riskpipe.yaml:" + std::to_string(LineOf(yaml, feature)) +
                              ": feature view \"financials\", feature \"annual_income\": expr: ";
    for (const char* cmd : {"check-config", "features build", "materialize"}) {
      const CliResult r = RunRiskpipe("--config " + config.string() + " " + cmd);
      EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.output;
      EXPECT_NE(r.output.find(where), std::string::npos) << cmd << ": " << r.output;
      EXPECT_NE(r.output.find(b.problem), std::string::npos) << cmd << ": " << r.output;
    }
  }
}

TEST(ProjectSql, SpineWhereIsParsedToo) {
  TempDir dir;
  const std::string yaml =
      Replace(Example(), R"(where: "installment_num = 0")",
              R"x(where: "installment_num = 0 OR length($$'$$ || (SELECT 0 FROM riskpipe_row_source(7))::VARCHAR || $$'$$) > 0")x");
  const fs::path config = dir.Write("riskpipe.yaml", yaml);
  const CliResult r = RunRiskpipe("--config " + config.string() + " check-config");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const int spine = LineOf(yaml, "  spine:\n") + 1;  // the spine block's first key
  EXPECT_NE(r.output.find("riskpipe.yaml:" + std::to_string(spine) +
                          ": features.spine.where: a subquery is not allowed"),
            std::string::npos)
      << r.output;
}

std::string Suite(const std::string& expression) {
  return "table: features_attributes\n"
         "layer: silver\n"
         "expectations:\n"
         "  - name: age_ok\n"
         "    kind: range\n"
         "    column: Age\n"
         "    expression: \"" + expression + "\"\n"
         "    min: 0\n"
         "    max: 10\n"
         "    severity: error\n"
         "    rationale: test\n";
}

TEST(ProjectSql, ExpectationExpressionsAreParsedAtCheckConfigAndQuality) {
  const std::string bypasses[] = {
      "(SELECT count(*) FROM riskpipe_row_source(4242))",
      "(SELECT length(content) FROM read_text($$/etc/hostname$$))",
  };
  for (const std::string& expression : bypasses) {
    TempDir dir;
    const fs::path config = dir.Write("riskpipe.yaml", Example());
    const fs::path suite =
        dir.Write("expectations/silver.features_attributes.yaml", Suite(expression));
    const CliResult r = RunRiskpipe("--config " + config.string() + " check-config");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(suite.string() + ":4: expectation age_ok: expression: a subquery is "
                            "not allowed"),
              std::string::npos)
        << r.output;
  }
  // An expression naming a column the silver table lacks is caught before any data is read.
  TempDir dir;
  const fs::path config = dir.Write("riskpipe.yaml", Example());
  dir.Write("expectations/silver.features_attributes.yaml", Suite("Agee * 2"));
  const CliResult r = RunRiskpipe("--config " + config.string() + " check-config");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("expression: \"Agee\" is not a column of the source"), std::string::npos)
      << r.output;
}

// The quality step runs the same check on real data, and a valid expression still works.
TEST(ProjectSql, QualityRefusesAHostileExpressionAndRunsAValidOne) {
  TempDir dir;
  const fs::path config = dir.Write("riskpipe.yaml", Example());
  const std::string flags = "--config " + config.string() + " --quiet ";
  ASSERT_EQ(RunRiskpipe(flags + "synth --customers 300 --seed 5").exit_code, 0);
  ASSERT_EQ(RunRiskpipe(flags + "ingest --source features_attributes").exit_code, 0);
  const fs::path suite = dir.Write("expectations/silver.features_attributes.yaml",
                                   Suite("(SELECT count(*) FROM riskpipe_row_source(4242))"));
  CliResult r = RunRiskpipe(flags + "quality --table features_attributes --all-months");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("expectation age_ok: expression: a subquery is not allowed"),
            std::string::npos)
      << r.output;
  dir.Write("expectations/silver.features_attributes.yaml", Suite("Age / 10"));
  r = RunRiskpipe(flags + "quality --table features_attributes --all-months");
  EXPECT_NE(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.find("not allowed"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace riskpipe
