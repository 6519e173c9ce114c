// POST /v1/predict and POST / with inputs at and beyond what the model can encode, against an
// XGBoost and a logistic champion: a number beyond float's range (3.41e38, 1e39, a JSON number
// too large for a double), or "Infinity"/"NaN" spelled as text, is a 422 naming the field and
// the value, never a decision; the bare tokens Infinity and NaN are not JSON (400); float's
// edge (3.40e38) scores as the top of the training range; -0 scores as 0. A customer whose
// online features hold such a value (ingested as loan_amount 1e300) is a 422 by id too.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/json.h"
#include "http_client.h"
#include "registry/registry.h"
#include "serving/server.h"
#include "serving_workspace.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe::serving {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::HttpPost;
using testing::ServingWorkspace;

// Splits one CSV line on commas outside double quotes (fields keep their quotes).
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (const char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// Sets loan_amount to `value` on the earliest loan of a customer with at least three loans in
// the Kueski source CSV of `folder`; returns that customer's id.
std::string PoisonOneCustomer(const fs::path& folder, const std::string& value) {
  const fs::path csv = folder / "ws" / "raw" / "dataset_credit_risk.csv";
  std::ifstream in(csv);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_GT(lines.size(), 10u) << csv;
  const std::vector<std::string> header = SplitCsv(lines[0]);
  const auto col = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name << " in " << csv;
    return size_t{0};
  };
  const size_t id = col("id"), date = col("loan_date"), amount = col("loan_amount");
  std::map<std::string, std::vector<size_t>> loans;  // customer -> line numbers
  for (size_t i = 1; i < lines.size(); ++i) loans[SplitCsv(lines[i])[id]].push_back(i);
  for (const auto& [customer, at] : loans) {
    if (at.size() < 3) continue;
    size_t first = at[0];
    for (size_t i : at) {
      if (SplitCsv(lines[i])[date] < SplitCsv(lines[first])[date]) first = i;
    }
    std::vector<std::string> fields = SplitCsv(lines[first]);
    fields[amount] = value;
    std::string joined;
    for (size_t f = 0; f < fields.size(); ++f) joined += (f ? "," : "") + fields[f];
    lines[first] = joined;
    std::ofstream out(csv, std::ios::trunc);
    for (const std::string& l : lines) out << l << "\n";
    return customer;
  }
  ADD_FAILURE() << "no customer with three loans";
  return "";
}

ServeOverrides Quiet() {
  ServeOverrides o;
  o.log = [](const std::string&) {};
  return o;
}

// Two servers over one poisoned workspace copy: kueski_pd/1 (XGBoost) in production in one,
// kueski_pd/2 (logistic) in the other's copy.
class NonFiniteServing : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    const fs::path tree = ServingWorkspace::Copy(tmp_->path() / "tree");
    poisoned_ = new std::string(PoisonOneCustomer(tree, "1e300"));
    for (const char* step : {"-q ingest", "-q features build", "-q materialize"}) {
      const testing::CliResult r = testing::RunRiskpipe(step, tree);
      ASSERT_EQ(r.exit_code, 0) << step << "\n" << r.output;
    }
    const fs::path linear = tmp_->path() / "linear" / tree.filename();
    fs::create_directories(linear.parent_path());
    fs::copy(tree, linear, fs::copy_options::recursive);
    {
      auto reg = registry::Registry::Open(linear / "ws");
      ASSERT_TRUE(reg.ok()) << reg.status().ToString();
      auto p = reg->Promote("kueski_pd/2", "test", "test override");
      ASSERT_TRUE(p.ok()) << p.status().ToString();
    }
    for (const auto& [family, folder] : {std::pair{"xgboost", tree}, std::pair{"logistic", linear}}) {
      config::Project project = ServingWorkspace::Project(folder);
      project.serving.prediction_log_dir = "";
      project.serving.access_log_dir = "";
      auto server = Server::Start(project, Quiet());
      ASSERT_TRUE(server.ok()) << server.status().ToString();
      (*servers_)[family] = server->release();
    }
  }
  static void TearDownTestSuite() {
    for (auto& [family, server] : *servers_) delete server;
    servers_->clear();
    delete tmp_;
  }

  int port() const { return servers_->at(GetParam())->port(); }
  std::string model_id() const { return GetParam() == "xgboost" ? "kueski_pd/1" : "kueski_pd/2"; }

  // An ordinary applicant's inline features with avg_amount_loans_previous set to `amount`
  // (raw JSON text, so values JSON libraries would not print can be sent).
  static std::string Body(const std::string& amount) {
    return R"({"features": {"age": 35, "years_on_the_job": 4, "flag_own_car": 1,)"
           R"( "nb_previous_loans": 3, "avg_amount_loans_previous": )" +
           amount + "}}";
  }

  // The 422 of an input the model cannot score: names the field and the value.
  static void Expect422(const testing::HttpReply& r, const std::string& value) {
    EXPECT_EQ(r.status, 422) << r.body;
    const json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"]["code"], "non_finite_input") << r.body;
    const std::string message = j["error"]["message"];
    EXPECT_NE(message.find("features.avg_amount_loans_previous"), std::string::npos) << message;
    EXPECT_NE(message.find(value), std::string::npos) << message;
    EXPECT_NE(message.find("refer"), std::string::npos) << message;
    EXPECT_EQ(r.body.find("\"decision\""), std::string::npos) << r.body;
  }

  static double Pd(const testing::HttpReply& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j["pd"].is_number()) << r.body;
    if (!j.is_object() || !j["pd"].is_number()) return -1;
    const double pd = j["pd"];
    EXPECT_TRUE(pd >= 0 && pd <= 1) << r.body;
    EXPECT_EQ(j["decision"], pd < j["threshold"].get<double>() ? "approve" : "decline");
    return pd;
  }

  static testing::TempDir* tmp_;
  static std::string* poisoned_;
  static std::map<std::string, Server*>* servers_;
};

testing::TempDir* NonFiniteServing::tmp_ = nullptr;
std::string* NonFiniteServing::poisoned_ = nullptr;
std::map<std::string, Server*>* NonFiniteServing::servers_ = new std::map<std::string, Server*>();

TEST_P(NonFiniteServing, EachServerScoresItsOwnFamily) {
  const json j = json::parse(HttpPost(port(), "/v1/predict", Body("100")).body);
  EXPECT_EQ(j["model"]["id"], model_id());
  EXPECT_EQ(j["model"]["family"], GetParam());
}

TEST_P(NonFiniteServing, NumbersBeyondFloatAre422NamingFieldAndValue) {
  Expect422(HttpPost(port(), "/v1/predict", Body("3.41e38")), "3.41e+38");
  Expect422(HttpPost(port(), "/v1/predict", Body("1e39")), "1e+39");
  Expect422(HttpPost(port(), "/v1/predict", Body("-1e39")), "-1e+39");
}

TEST_P(NonFiniteServing, NonFiniteNumbersSpelledAsTextAre422) {
  for (const char* text : {"Infinity", "-Infinity", "NaN", "inf", "nan"}) {
    Expect422(HttpPost(port(), "/v1/predict", Body(std::string("\"") + text + "\"")),
              std::string("\"") + text + "\"");
  }
}

TEST_P(NonFiniteServing, BareInfinityAndNaNTokensAreNotJson) {
  for (const char* token : {"Infinity", "-Infinity", "NaN"}) {
    const auto r = HttpPost(port(), "/v1/predict", Body(token));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("malformed_json"), std::string::npos) << r.body;
  }
}

TEST_P(NonFiniteServing, ANumberTooLargeForADoubleIsNeverDecided) {
  const auto r = HttpPost(port(), "/v1/predict", Body("1e400"));
  EXPECT_TRUE(r.status == 400 || r.status == 422) << r.status << " " << r.body;
  EXPECT_EQ(r.body.find("\"decision\""), std::string::npos) << r.body;
}

TEST_P(NonFiniteServing, FloatsEdgeScoresAsTheTopOfTheTrainingRange) {
  // Both lie far above any training value: clipped to the training maximum, one PD.
  const double edge = Pd(HttpPost(port(), "/v1/predict", Body("3.40e38")));
  const double large = Pd(HttpPost(port(), "/v1/predict", Body("1e30")));
  EXPECT_EQ(edge, large);
}

TEST_P(NonFiniteServing, NegativeZeroScoresAsZero) {
  EXPECT_EQ(Pd(HttpPost(port(), "/v1/predict", Body("-0"))),
            Pd(HttpPost(port(), "/v1/predict", Body("0"))));
  EXPECT_EQ(Pd(HttpPost(port(), "/v1/predict", Body("-0.0"))),
            Pd(HttpPost(port(), "/v1/predict", Body("0"))));
}

TEST_P(NonFiniteServing, ACustomerWhoseOnlineFeatureIsBeyondFloatIs422ById) {
  ASSERT_FALSE(poisoned_->empty());
  auto r = HttpPost(port(), "/v1/predict", R"({"id": ")" + *poisoned_ + R"("})");
  Expect422(r, "customer " + *poisoned_);
  EXPECT_NE(r.body.find("does not fit the model's float inputs"), std::string::npos) << r.body;
  // The challenge's shape, by the same id.
  r = HttpPost(port(), "/", R"({"id": )" + *poisoned_ + "}");
  Expect422(r, "customer " + *poisoned_);
  EXPECT_EQ(r.body.find("\"prediction\""), std::string::npos) << r.body;
}

INSTANTIATE_TEST_SUITE_P(Families, NonFiniteServing, ::testing::Values("xgboost", "logistic"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace riskpipe::serving
