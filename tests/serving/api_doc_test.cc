// docs/api.md's curl examples, run as written with bash against a real `riskpipe serve` child
// process: issue 7's "the curl examples in docs/api.md work as written". The server runs on a
// small lending-datamart workspace (serving_workspace.h) laid out like the repository, so the
// doc's ../../build/riskpipe resolves; only localhost:8080 is rewritten to the server's port.
// Each example must exit 0, answer the status the doc implies (200, or the Errors table's status
// of the error code its example output shows), carry an X-Request-Id header, and return the
// fields of its example output with their JSON types (not the doc's PD figures, which are the
// demo's).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "serve_process.h"
#include "serving_workspace.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe::serving {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::ServingWorkspace;
using testing::TempDir;

// The address and admin key of docs/api.md's examples (the server's default port, and the key
// its Admin section starts the server with).
constexpr char kDocAddress[] = "localhost:8080";
constexpr char kDocAdminKey[] = "change-me";
// Printed to stderr by the test's curl wrapper once per transfer: status, then X-Request-Id.
constexpr char kStatusMarker[] = "api-doc-test-status:";

struct CurlExample {
  int line = 0;                // of the command's first line in the markdown
  std::string command;         // as written, continuation lines included
  std::optional<json> output;  // the ```json block right after its shell block, if any
};

bool IsShellFence(std::string_view info) {
  return info == "sh" || info == "bash" || info == "shell";
}

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
}

// Every command of a shell code block that runs curl, with the example output shown in a
// ```json block right after the block (attached to the block's last curl command). Lines
// ending in a backslash continue the command; comment lines are skipped.
std::vector<CurlExample> ExtractCurlExamples(std::string_view markdown,
                                             std::string* json_errors = nullptr) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(markdown)};
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<CurlExample> examples;
  // The last curl example of the shell block just closed, or npos.
  size_t attach_to = std::string::npos;
  const std::regex curl_word("(^|[\\s|;&(])curl\\s");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("```", 0) != 0) {
      if (!Trim(lines[i]).empty()) attach_to = std::string::npos;
      continue;
    }
    const std::string info = Trim(std::string_view(lines[i]).substr(3));
    const size_t open = i;
    size_t close = open + 1;
    while (close < lines.size() && lines[close].rfind("```", 0) != 0) ++close;
    if (info == "json" && attach_to != std::string::npos) {
      std::string body;
      for (size_t j = open + 1; j < close; ++j) body += lines[j] + "\n";
      json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded() && json_errors != nullptr) {
        *json_errors += "line " + std::to_string(open + 1) + ": the example output is not JSON\n";
      }
      if (!parsed.is_discarded()) examples[attach_to].output = std::move(parsed);
    }
    attach_to = std::string::npos;
    if (IsShellFence(info)) {
      for (size_t j = open + 1; j < close; ++j) {
        const size_t first = j;
        std::string command = lines[j];
        while (!command.empty() && command.back() == '\\' && j + 1 < close) {
          command += "\n" + lines[++j];
        }
        const std::string trimmed = Trim(command);
        if (trimmed.empty() || trimmed[0] == '#' || !std::regex_search(command, curl_word)) {
          continue;
        }
        examples.push_back({static_cast<int>(first + 1), command, std::nullopt});
        attach_to = examples.size() - 1;
      }
    }
    i = close;
  }
  return examples;
}

// The Errors table of docs/api.md: each error code with its HTTP status.
std::map<std::string, int> ErrorStatuses(std::string_view markdown) {
  std::map<std::string, int> statuses;
  const std::regex row("^\\| ([0-9]{3}) \\| ([^|]*) \\|");
  const std::regex code("`([a-z_]+)`");
  std::istringstream in{std::string(markdown)};
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_search(l, m, row)) continue;
    const int status = std::stoi(m[1]);
    const std::string codes = m[2];
    for (std::sregex_iterator c(codes.begin(), codes.end(), code), end; c != end; ++c) {
      statuses[(*c)[1]] = status;
    }
  }
  return statuses;
}

// nlohmann names every number "number", so the doc's 10000 matches a 10000.0.
std::string TypeName(const json& v) { return v.type_name(); }

// Appends to `problems` how `actual` differs from the doc's example `expected` below `path`: a
// field missing or of another JSON type. A "..." key in the doc stands for more fields; under
// "features" a value may be null (the doc: "Nulls are explicit").
void CompareShape(const json& expected, const json& actual, const std::string& path, bool null_ok,
                  std::vector<std::string>& problems) {
  const std::string where = path.empty() ? "the body" : path;
  if (expected.is_null() || (null_ok && actual.is_null())) return;
  if (TypeName(expected) != TypeName(actual)) {
    problems.push_back(where + ": " + TypeName(actual) + ", the doc shows " + TypeName(expected));
    return;
  }
  if (expected.is_object()) {
    for (const auto& [key, value] : expected.items()) {
      if (key == "...") continue;
      const std::string child = path.empty() ? key : path + "." + key;
      if (!actual.contains(key)) {
        problems.push_back(child + ": missing");
        continue;
      }
      CompareShape(value, actual[key], child, null_ok || key == "features", problems);
    }
  } else if (expected.is_array() && !expected.empty()) {
    if (actual.empty()) problems.push_back(where + ": empty, the doc shows elements");
    for (size_t i = 0; i < actual.size(); ++i) {
      CompareShape(expected[0], actual[i], path + "[" + std::to_string(i) + "]", null_ok, problems);
    }
  }
}

// Fields whose value the doc's example fixes (echoed from the request, named by the error
// table, or set by the project), as opposed to figures of the demo's data.
const std::vector<std::string> kExactFields = {"customer_id", "id",         "arm",
                                               "error.code",  "model.name", "reason_table_version"};
// Fields that are probabilities (or a cut on one).
const std::vector<std::string> kProbabilityFields = {"pd", "probability", "threshold"};
// The fields every prediction has (docs/openapi.yaml, Prediction: required), for the predict
// examples that show no output of their own.
const std::map<std::string, std::string> kPredictionFields = {
    {"request_id", "string"}, {"pd", "number"},    {"score_band", "string"}, {"decision", "string"},
    {"threshold", "number"},  {"model", "object"}, {"arm", "string"}};

const json* At(const json& body, const std::string& dotted) {
  const json* v = &body;
  std::istringstream parts(dotted);
  for (std::string part; std::getline(parts, part, '.');) {
    if (!v->is_object() || !v->contains(part)) return nullptr;
    v = &(*v)[part];
  }
  return v;
}

struct Transfer {
  int status = 0;
  std::string request_id;
};

struct Outcome {
  int exit_code = -1;
  std::string out, err;
  std::vector<Transfer> transfers;  // in the order they finished
};

// Runs `command` with bash in `cwd`. curl is wrapped so each transfer also reports its status
// and X-Request-Id on stderr (stdout, which pipes use, is untouched) and gives up after 10 s.
// (`%header{}` needs curl 7.84; Debian 12 has 7.88.)
Outcome RunExample(const std::string& command, const fs::path& cwd) {
  const std::string preamble =
      "set -o pipefail\n"
      "export no_proxy='*' NO_PROXY='*'\n"
      "curl() { command curl --max-time 10 -w '%{stderr}" +
      std::string(kStatusMarker) + " %{http_code} %header{x-request-id}\\n' \"$@\"; }\n";
  TempDir files;
  const fs::path script = files.Write("example.sh", preamble + command + "\n");
  const fs::path out = files.path() / "out", err = files.path() / "err";
  const std::string shell = "cd '" + cwd.string() + "' && bash '" + script.string() + "' >'" +
                            out.string() + "' 2>'" + err.string() + "'";
  Outcome o;
  const int status = std::system(shell.c_str());
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = testing::ReadAll(out);
  std::istringstream lines(testing::ReadAll(err));
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind(kStatusMarker, 0) != 0) {
      o.err += l + "\n";
      continue;
    }
    std::istringstream fields(l.substr(sizeof kStatusMarker - 1));
    Transfer t;
    fields >> t.status >> t.request_id;
    o.transfers.push_back(t);
  }
  return o;
}

// What is wrong with one example's outcome; empty when it answers as the doc says.
std::vector<std::string> Check(const CurlExample& example, const Outcome& o,
                               const std::map<std::string, int>& error_statuses) {
  std::vector<std::string> problems;
  if (o.exit_code != 0) problems.push_back("exit code " + std::to_string(o.exit_code));
  int expected_status = 200;
  const json* code = example.output ? At(*example.output, "error.code") : nullptr;
  if (code != nullptr && code->is_string()) {
    const auto it = error_statuses.find(code->get<std::string>());
    if (it == error_statuses.end()) {
      problems.push_back("the doc's error code " + code->dump() + " is not in its Errors table");
    } else {
      expected_status = it->second;
    }
  }
  if (o.transfers.empty()) problems.push_back("curl made no request");
  for (size_t i = 0; i < o.transfers.size(); ++i) {
    const bool last = i + 1 == o.transfers.size();
    const int want = last ? expected_status : 200;
    if (o.transfers[i].status != want) {
      problems.push_back("request " + std::to_string(i + 1) + ": HTTP " +
                         std::to_string(o.transfers[i].status) + ", expected " +
                         std::to_string(want));
    }
    if (o.transfers[i].request_id.empty()) {
      problems.push_back("request " + std::to_string(i + 1) + ": no X-Request-Id header");
    }
  }
  const bool predicts = example.command.find("/v1/predict") != std::string::npos;
  if (!example.output && !predicts) return problems;
  const json body = json::parse(o.out, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    problems.push_back("the body is not JSON");
    return problems;
  }
  if (example.output) {
    CompareShape(*example.output, body, "", false, problems);
    for (const std::string& field : kExactFields) {
      const json* want = At(*example.output, field);
      const json* got = At(body, field);
      if (want != nullptr && got != nullptr && *want != *got) {
        problems.push_back(field + ": " + got->dump() + ", the doc shows " + want->dump());
      }
    }
  } else {
    for (const auto& [field, type] : kPredictionFields) {
      if (!body.contains(field) || TypeName(body[field]) != type) {
        problems.push_back(field + ": missing or not of type " + type);
      }
    }
    // The doc: "Without reason codes the call is cheaper".
    const bool no_reasons = example.command.find("\"reasons\": false") != std::string::npos;
    if (no_reasons && body.contains("reason_codes")) {
      problems.push_back("reason_codes: present although the request asked for none");
    }
  }
  for (const std::string& field : kProbabilityFields) {
    const json* v = At(body, field);
    if (v != nullptr && v->is_number() && !(*v >= 0.0 && *v <= 1.0)) {
      problems.push_back(field + ": " + v->dump() + " is not a probability");
    }
  }
  return problems;
}

TEST(ApiDoc, ExtractsTheCurlCommandsOfShellBlocksWithTheirOutput) {
  const std::string markdown =
      "Start it:\n"
      "```sh\n"
      "make demo   # builds the workspace\n"
      "```\n"
      "```sh\n"
      "# curl in a comment\n"
      "curl -s localhost:8080/healthz\n"
      "curl -s -X POST localhost:8080/ \\\n"
      "  -d '{\"id\": 1}'\n"
      "```\n"
      "\n"
      "```json\n"
      "{\"id\": 1,\n"
      " \"probability\": 0.1}\n"
      "```\n"
      "```yaml\n"
      "curl: not a shell block\n"
      "```\n"
      "```bash\n"
      "echo x | curl -s -d @- localhost:8080/v1/predict\n"
      "```\n"
      "Text between.\n"
      "```json\n"
      "{\"not\": \"attached\"}\n"
      "```\n";
  const std::vector<CurlExample> examples = ExtractCurlExamples(markdown);
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].command, "curl -s localhost:8080/healthz");
  EXPECT_EQ(examples[0].line, 7);
  EXPECT_FALSE(examples[0].output.has_value());
  EXPECT_EQ(examples[1].command, "curl -s -X POST localhost:8080/ \\\n  -d '{\"id\": 1}'");
  ASSERT_TRUE(examples[1].output.has_value());
  EXPECT_EQ((*examples[1].output)["id"], 1);
  EXPECT_EQ(examples[2].command, "echo x | curl -s -d @- localhost:8080/v1/predict");
  EXPECT_FALSE(examples[2].output.has_value()) << "prose separates the json block";
}

TEST(ApiDoc, ComparesFieldsAndTypesNotValues) {
  const json doc = json::parse(
      R"({"pd": 0.07, "model": {"version": 2}, "features": {"age": 50, "...": "..."},
          "reason_codes": [{"code": "x", "contribution": 0.4}]})");
  std::vector<std::string> problems;
  CompareShape(doc, json::parse(R"({"pd": 0.5, "model": {"version": 3}, "features": {"age": null,
                   "tenure": 10}, "reason_codes": [{"code": "y", "contribution": 1}], "x": 1})"),
               "", false, problems);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  CompareShape(doc, json::parse(R"({"pd": "0.5", "model": {}, "features": {},
                               "reason_codes": [{"code": 1}]})"),
               "", false, problems);
  EXPECT_THAT(problems,
              ::testing::UnorderedElementsAre("pd: string, the doc shows number",
                                              "model.version: missing", "features.age: missing",
                                              "reason_codes[0].code: number, the doc shows string",
                                              "reason_codes[0].contribution: missing"));
}

TEST(ApiDoc, EveryCurlExampleAnswersAsDocumented) {
  const std::string markdown = testing::ReadAll(RISKPIPE_API_DOC);
  std::string json_errors;
  const std::vector<CurlExample> examples = ExtractCurlExamples(markdown, &json_errors);
  EXPECT_EQ(json_errors, "") << "docs/api.md";
  // docs/api.md has 12 curl examples today; fewer means the extraction broke.
  ASSERT_GE(examples.size(), 12u) << "curl examples found in " << RISKPIPE_API_DOC;
  const std::map<std::string, int> error_statuses = ErrorStatuses(markdown);
  ASSERT_EQ(error_statuses.count("invalid_field"), 1u) << "the Errors table was not found";

  // The doc's layout: the project in examples/lending-datamart, the binary at ../../build.
  TempDir dir;
  const fs::path folder =
      ServingWorkspace::Copy(dir.path() / "examples", ServingWorkspace::Scenario::kLending);
  fs::create_directories(dir.path() / "build");
  fs::create_symlink(fs::absolute(testing::RiskpipeBinary()), dir.path() / "build" / "riskpipe");
  testing::ServeProcess::Options options;
  options.env = {{"RISKPIPE_ADMIN_KEY", kDocAdminKey}};
  testing::ServeProcess serve(folder, dir.path() / "serve.log", options);
  ASSERT_GT(serve.port(), 0) << serve.Log();
  const std::string address = "localhost:" + std::to_string(serve.port());

  // In the doc's order: the rollback comes last, as a reader would run it.
  for (const CurlExample& example : examples) {
    std::string command = example.command;
    std::vector<std::string> problems;
    if (command.find(kDocAddress) == std::string::npos) {
      problems.push_back(std::string("does not address ") + kDocAddress);
    }
    for (size_t at; (at = command.find(kDocAddress)) != std::string::npos;) {
      command.replace(at, sizeof kDocAddress - 1, address);
    }
    const Outcome o = RunExample(command, folder);
    for (std::string& p : Check(example, o, error_statuses)) problems.push_back(std::move(p));
    if (problems.empty()) continue;
    std::string statuses;
    for (const Transfer& t : o.transfers) statuses += std::to_string(t.status) + " ";
    ADD_FAILURE() << "docs/api.md:" << example.line << ": this example does not work as written:\n"
                  << example.command << "\n--- problems\n"
                  << ::testing::PrintToString(problems) << "\n--- HTTP statuses: " << statuses
                  << "\n--- stdout\n"
                  << o.out << "\n--- stderr\n"
                  << o.err;
  }
}

}  // namespace
}  // namespace riskpipe::serving
