#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace riskpipe::config {
namespace {

constexpr char kMinimal[] = R"(project: p
workspace: ws
sources:
  - name: t
    file: raw/t.csv
    date_column: d
    columns:
      - {name: id, type: string}
      - {name: d, type: date}
)";

StatusOr<Project> Parse(const std::string& text) {
  return ParseProject(text, "/tmp/proj/riskpipe.yaml");
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST(Config, ParsesAndResolvesPaths) {
  auto p = Parse(kMinimal);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->workspace.root(), "/tmp/proj/ws");
  ASSERT_EQ(p->sources.size(), 1u);
  EXPECT_EQ(p->sources[0].file, "/tmp/proj/ws/raw/t.csv");
  EXPECT_EQ(p->sources[0].columns[1].type, ColumnType::kDate);
  EXPECT_EQ(p->sources[0].columns[1].line, 9);
}

TEST(Config, UnknownKeyNamesKeyAndLine) {
  auto p = Parse(Replace(kMinimal, "      - {name: id, type: string}",
                         "      - {name: id, type: string, requird: true}"));
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("riskpipe.yaml:8: sources[0].columns[0].requird: unknown key"),
            std::string::npos)
      << p.status().message();
}

TEST(Config, ADuplicatedKeyNamesBothLines) {
  auto p = Parse(std::string(kMinimal) + "project: q\n");
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find(
                "riskpipe.yaml:10: key \"project\" is given twice (first on line 1)"),
            std::string::npos)
      << p.status().message();
  // Nested mappings too.
  p = Parse(Replace(kMinimal, "      - {name: id, type: string}",
                    "      - {name: id, type: string, type: int}"));
  EXPECT_NE(p.status().message().find(":8: key \"type\" is given twice (first on line 8)"),
            std::string::npos)
      << p.status().message();
}

TEST(Config, AliasBombsAreBounded) {
  std::string text = std::string(kMinimal) + "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    text += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev + ", " + prev +
            ", " + prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev +
            ", " + prev + ", " + prev + "]\n";
  }
  auto p = Parse(text);
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("more than 1000000 YAML nodes"), std::string::npos)
      << p.status().message();
}

TEST(Config, WrongTypeNamesAllowedValues) {
  auto p = Parse(Replace(kMinimal, "type: string", "type: integr"));
  EXPECT_NE(p.status().message().find(
                ":8: sources[0].columns[0].type: \"integr\" is not one of string, int, float"),
            std::string::npos)
      << p.status().message();
}

TEST(Config, MissingRequiredKeyIsNamed) {
  auto p = Parse(Replace(kMinimal, "    date_column: d\n", ""));
  EXPECT_NE(p.status().message().find("sources[0].date_column: required key is missing"),
            std::string::npos)
      << p.status().message();
}

TEST(Config, NonNumericBoundIsAnError) {
  auto p = Parse(Replace(kMinimal, "{name: id, type: string}", "{name: id, type: int, min: ten}"));
  EXPECT_NE(p.status().message().find("sources[0].columns[0].min: \"ten\" is not a number"),
            std::string::npos)
      << p.status().message();
}

TEST(Config, DateColumnMustExistAndBeADate) {
  auto p = Parse(Replace(kMinimal, "date_column: d", "date_column: id"));
  EXPECT_NE(p.status().message().find("\"id\" must have type date"), std::string::npos);
}

TEST(Config, BadYamlReportsLine) {
  auto p = Parse("project: p\nworkspace: [unclosed\n");
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("not valid YAML"), std::string::npos);
}

TEST(Config, MissingFileIsNotFound) {
  EXPECT_EQ(LoadProject("/nonexistent/riskpipe.yaml").status().code(), StatusCode::kNotFound);
}

TEST(Config, SaltComesFromTheNamedEnvironmentVariable) {
  ::setenv("RISKPIPE_TEST_SALT", "s3cret", 1);
  auto p = Parse(std::string(kMinimal) + "pii_salt_env: RISKPIPE_TEST_SALT\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->pii_salt, "s3cret");
}

TEST(Config, ShippedExamplesLoad) {
  for (const char* example : {"lending-datamart", "kueski"}) {
    auto p = LoadProject(std::string(RISKPIPE_SOURCE_DIR) + "/examples/" + example +
                         "/riskpipe.yaml");
    ASSERT_TRUE(p.ok()) << example << ": " << p.status().ToString();
    EXPECT_EQ(p->name, example);
  }
}

}  // namespace
}  // namespace riskpipe::config
