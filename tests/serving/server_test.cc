// A real server on a loopback port, in-process, over a small trained Kueski workspace: every
// endpoint and every error code, reason codes against the model's own explainer, admin keys.

#include <gtest/gtest.h>
#include <cmath>
#include <cstdlib>
#include <set>

#include "core/json.h"
#include "features/online_snapshot.h"
#include "http_client.h"
#include "model/package.h"
#include "model/reasons.h"
#include "serving/server.h"
#include "serving_workspace.h"
#include "testing/temp_dir.h"

namespace riskpipe::serving {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

ServeOverrides Quiet() {
  ServeOverrides o;
  o.log = [](const std::string&) {};
  return o;
}
using testing::HttpConnection;
using testing::HttpGet;
using testing::HttpPost;
using testing::ServingWorkspace;

constexpr char kAdminKeyEnv[] = "RISKPIPE_TEST_ADMIN_KEY";
constexpr char kAdminKey[] = "s3cret-test-key";

// One server over the shared workspace for the read-only tests of this file.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv(kAdminKeyEnv, kAdminKey, 1);
    config::Project project = ServingWorkspace::Project(ServingWorkspace::Shared());
    project.serving.admin_key_env = kAdminKeyEnv;
    project.serving.body_limit_bytes = 4096;
    project.serving.header_limit_bytes = 2048;
    project.serving.prediction_log_dir = "";  // read-only tests leave the workspace as it is
    project.serving.access_log_dir = "";
    project.reason_codes.version = "test-1";
    project.reason_codes.top = 3;
    project.reason_codes.texts["age"] = "Age band carries more risk";
    auto server = Server::Start(project, Quiet());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = server->release();
    auto snap = features::LoadOnlineSnapshot(ServingWorkspace::Shared() / "ws" / "online");
    ASSERT_TRUE(snap.ok());
    snapshot_ = new features::OnlineSnapshot(std::move(*snap));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete snapshot_;
  }
  static int port() { return server_->port(); }
  static std::string SomeCustomer(size_t i = 0) {
    return std::string(snapshot_->Entity(i % snapshot_->rows()));
  }
  static void ExpectError(const testing::HttpReply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_EQ(j["error"]["request_id"], r.headers.at("x-request-id"));
  }

  static Server* server_;
  static features::OnlineSnapshot* snapshot_;
};

Server* ServerTest::server_ = nullptr;
features::OnlineSnapshot* ServerTest::snapshot_ = nullptr;

TEST_F(ServerTest, FeaturesReturnTheFiveKueskiFeaturesAsOfTheSnapshot) {
  const std::string id = SomeCustomer(3);
  const auto r = HttpGet(port(), "/v1/features/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["customer_id"], id);
  std::set<std::string> names;
  for (const auto& [k, v] : j["features"].items()) names.insert(k);
  EXPECT_EQ(names, (std::set<std::string>{"nb_previous_loans", "avg_amount_loans_previous", "age",
                                          "years_on_the_job", "flag_own_car"}));
  const size_t row = *snapshot_->Find(id);
  const size_t age = *snapshot_->FeatureIndex("age");
  EXPECT_EQ(j["features"]["age"].get<double>(), *snapshot_->Number(row, age));
  EXPECT_EQ(j["as_of"], snapshot_->as_of().ToString());
  EXPECT_EQ(j["snapshot_version"], snapshot_->version());
}

TEST_F(ServerTest, UnknownCustomerIs404WithTheJsonError) {
  ExpectError(HttpGet(port(), "/v1/features/no-such-customer"), 404, "customer_not_found");
  ExpectError(HttpPost(port(), "/v1/predict", R"({"id": "no-such-customer"})"), 404,
              "customer_not_found");
}

TEST_F(ServerTest, PredictByIdGivesPdBandDecisionAndReasons) {
  const std::string id = SomeCustomer(7);
  const auto r = HttpPost(port(), "/v1/predict", R"({"id": ")" + id + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  const double pd = j["pd"];
  EXPECT_GT(pd, 0.0);
  EXPECT_LT(pd, 1.0);
  EXPECT_EQ(j["decision"], pd >= j["threshold"].get<double>() ? "decline" : "approve");
  EXPECT_FALSE(j["score_band"].get<std::string>().empty());
  EXPECT_EQ(j["model"]["id"], "kueski_pd/1");
  EXPECT_EQ(j["model"]["family"], "xgboost");
  EXPECT_EQ(j["arm"], "champion");
  EXPECT_EQ(j["reason_table_version"], "test-1");
  EXPECT_LE(j["reason_codes"].size(), 3u);
  for (const auto& reason : j["reason_codes"]) EXPECT_GT(reason["contribution"].get<double>(), 0);
  EXPECT_EQ(j["request_id"], r.headers.at("x-request-id"));
  EXPECT_EQ(j["snapshot_version"], snapshot_->version());
}

TEST_F(ServerTest, ReasonsMatchTheBatchPathOnManyCustomers) {
  const fs::path pkg = ServingWorkspace::Shared() / "ws" / "model_bank" / "kueski_pd" / "1";
  auto package = model::ModelPackage::Load(pkg);
  ASSERT_TRUE(package.ok());
  const model::ReasonTable table("test-1", 3, {{"age", "Age band carries more risk"}});
  std::vector<std::string> names;
  for (const auto& f : package->preprocessor().features()) names.push_back(f.name);
  HttpConnection c(port());
  for (size_t i = 0; i < 40; ++i) {
    const std::string id = SomeCustomer(i * 13);
    const auto r = c.Post("/v1/predict", R"({"id": ")" + id + R"("})");
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    // The batch path: a frame of this customer's snapshot row through the package.
    model::Frame frame;
    frame.rows = 1;
    const size_t row = *snapshot_->Find(id);
    for (const auto& f : package->preprocessor().features()) {
      model::FrameColumn col;
      col.name = f.name;
      const auto v = snapshot_->Number(row, *snapshot_->FeatureIndex(f.name));
      col.numbers.push_back(v ? *v : std::nan(""));
      frame.columns.push_back(col);
    }
    const uint32_t rows[1] = {0};
    auto scores = package->Score(frame, rows);
    ASSERT_TRUE(scores.ok());
    EXPECT_NEAR(j["pd"].get<double>(), scores->pd[0], 1e-6);
    auto contrib = package->estimator().Contributions(frame, rows, package->preprocessor());
    ASSERT_TRUE(contrib.ok());
    const auto expected = table.Top(*contrib, names);
    ASSERT_EQ(j["reason_codes"].size(), expected.size()) << r.body;
    for (size_t k = 0; k < expected.size(); ++k) {
      EXPECT_EQ(j["reason_codes"][k]["code"], expected[k].code);
      EXPECT_EQ(j["reason_codes"][k]["text"], expected[k].text);
      EXPECT_NEAR(j["reason_codes"][k]["contribution"].get<double>(), expected[k].contribution,
                  1e-5);
    }
  }
}

TEST_F(ServerTest, InlineFeaturesScoreLikeTheSameFeaturesById) {
  const std::string id = SomeCustomer(11);
  const json features = json::parse(HttpGet(port(), "/v1/features/" + id).body)["features"];
  const auto by_id =
      json::parse(HttpPost(port(), "/v1/predict", R"({"id": ")" + id + R"("})").body);
  const auto r = HttpPost(port(), "/v1/predict", json{{"features", features}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json inline_j = json::parse(r.body);
  EXPECT_EQ(inline_j["pd"], by_id["pd"]);
  EXPECT_EQ(inline_j["reason_codes"], by_id["reason_codes"]);
  EXPECT_FALSE(inline_j.contains("customer_id"));
  // Without reasons.
  const auto plain = json::parse(
      HttpPost(port(), "/v1/predict", json{{"id", id}, {"reasons", false}}.dump()).body);
  EXPECT_EQ(plain["pd"], by_id["pd"]);
  EXPECT_FALSE(plain.contains("reason_codes"));
}

TEST_F(ServerTest, InlineFeaturesAreValidatedAgainstTheInputSchema) {
  json good = {{"age", 30},
               {"years_on_the_job", 2},
               {"flag_own_car", 1},
               {"nb_previous_loans", 3},
               {"avg_amount_loans_previous", 120.5}};
  json missing = good;
  missing.erase("age");
  auto r = HttpPost(port(), "/v1/predict", json{{"features", missing}}.dump());
  ExpectError(r, 400, "invalid_field");
  EXPECT_NE(r.body.find("features.age"), std::string::npos) << r.body;
  json wrong = good;
  wrong["years_on_the_job"] = "two";
  r = HttpPost(port(), "/v1/predict", json{{"features", wrong}}.dump());
  ExpectError(r, 400, "invalid_field");
  EXPECT_NE(r.body.find("features.years_on_the_job"), std::string::npos) << r.body;
  json extra = good;
  extra["income"] = 1;
  r = HttpPost(port(), "/v1/predict", json{{"features", extra}}.dump());
  EXPECT_NE(r.body.find("features.income"), std::string::npos) << r.body;
  json nulls = good;
  nulls["avg_amount_loans_previous"] = nullptr;  // null = unknown: allowed
  EXPECT_EQ(HttpPost(port(), "/v1/predict", json{{"features", nulls}}.dump()).status, 200);
  r = HttpPost(port(), "/v1/predict", R"({"id": 1.5})");
  ExpectError(r, 400, "invalid_field");
  EXPECT_NE(r.body.find("id:"), std::string::npos) << r.body;
  r = HttpPost(port(), "/v1/predict", R"({"id": "1", "debug": true})");
  EXPECT_NE(r.body.find("debug"), std::string::npos) << r.body;
  ExpectError(HttpPost(port(), "/v1/predict", R"({})"), 400, "invalid_field");
  ExpectError(HttpPost(port(), "/v1/predict", R"([1, 2])"), 400, "invalid_field");
  ExpectError(HttpPost(port(), "/v1/predict", R"({"id": )"), 400, "malformed_json");
}

TEST_F(ServerTest, RootAnswersTheChallengeShape) {
  const std::string id = SomeCustomer(5);
  const auto by_id =
      json::parse(HttpPost(port(), "/v1/predict", R"({"id": ")" + id + R"("})").body);
  // Kueski ids are numbers: the challenge clients send them as numbers.
  const auto r = HttpPost(port(), "/", R"({"id": )" + id + "}");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["id"], std::stoll(id));
  EXPECT_EQ(j["probability"], by_id["pd"]);
  EXPECT_EQ(j["prediction"], by_id["decision"] == "decline" ? 1 : 0);
  EXPECT_EQ(j["model_version"], "kueski_pd/1");
  ExpectError(HttpPost(port(), "/", R"({"features": {}})"), 400, "invalid_field");
}

TEST_F(ServerTest, HealthReadinessAndMetrics) {
  EXPECT_EQ(HttpGet(port(), "/healthz").status, 200);
  const auto ready = HttpGet(port(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json::parse(ready.body)["champion"]["id"], "kueski_pd/1");
  HttpGet(port(), "/v1/features/" + SomeCustomer());
  const auto m = HttpGet(port(), "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.headers.at("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find("riskpipe_http_requests_total{route=\"features\",status=\"200\"}"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("riskpipe_http_request_duration_seconds_bucket{route=\"features\""),
            std::string::npos);
  EXPECT_NE(m.body.find("riskpipe_model_info{arm=\"champion\",model=\"kueski_pd\",version=\"1\""),
            std::string::npos);
  EXPECT_NE(m.body.find("riskpipe_snapshot_age_seconds"), std::string::npos);
  EXPECT_NE(m.body.find("riskpipe_ready 1"), std::string::npos);
}

TEST_F(ServerTest, AdminEndpointsNeedTheKey) {
  ExpectError(HttpGet(port(), "/admin/routing"), 401, "unauthorized");
  ExpectError(HttpGet(port(), "/admin/routing", "X-API-Key: wrong\r\n"), 403, "forbidden");
  ExpectError(HttpGet(port(), "/admin/routing", "X-API-Key: s3cret-test-ke\r\n"), 403, "forbidden");
  ExpectError(HttpPost(port(), "/admin/reload", "", "X-API-Key: nope\r\n"), 403, "forbidden");
  ExpectError(HttpPost(port(), "/admin/rollback", "", ""), 401, "unauthorized");
  const auto r = HttpGet(port(), "/admin/routing", std::string("X-API-Key: ") + kAdminKey + "\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["champion"]["id"], "kueski_pd/1");
  const auto bearer =
      HttpGet(port(), "/admin/routing", std::string("Authorization: Bearer ") + kAdminKey + "\r\n");
  EXPECT_EQ(bearer.status, 200);
  const auto reload =
      HttpPost(port(), "/admin/reload", "", std::string("X-API-Key: ") + kAdminKey + "\r\n");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_TRUE(json::parse(reload.body)["loaded"].empty()) << "nothing changed";
}

TEST_F(ServerTest, UnknownPathsAndMethods) {
  ExpectError(HttpGet(port(), "/v2/anything"), 404, "not_found");
  ExpectError(HttpGet(port(), "/v1/predict"), 405, "method_not_allowed");
  ExpectError(HttpPost(port(), "/v1/features/1", "{}"), 405, "method_not_allowed");
  ExpectError(HttpGet(port(), "/v1/features/%zz"), 400, "invalid_customer_id");
}

TEST_F(ServerTest, OversizedBodyIs413BeforeTheBodyIsRead) {
  HttpConnection c(port());
  c.Send("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n");
  const auto r = c.Read();
  ExpectError(r, 413, "body_too_large");
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
  // A body sent whole, above the 4 KiB limit, also gets its 413.
  HttpConnection d(port());
  d.Send("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" +
         std::string(20000, ' '));
  ExpectError(d.Read(), 413, "body_too_large");
}

TEST_F(ServerTest, OversizedHeadersAre431) {
  HttpConnection c(port());
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n");
  ExpectError(c.Read(), 431, "headers_too_large");
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
}

TEST_F(ServerTest, MalformedRequestsAre400AndClosed) {
  for (const std::string& raw :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /healthz HTTP/1.1\r\nNoColonHere\r\n\r\n"),
        std::string("POST /v1/predict HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("G@T /healthz HTTP/1.1\r\n\r\n")}) {
    HttpConnection c(port());
    c.Send(raw);
    ExpectError(c.Read(), 400, "malformed_request");
    EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5))) << raw;
  }
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  HttpConnection c(port());
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(c.Get("/v1/features/" + SomeCustomer(static_cast<size_t>(i))).status, 200);
  }
  // Two pipelined requests in one write get two responses in order.
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.Read().body, R"({"status":"ok"})");
  EXPECT_NE(c.Read().body.find("\"ready\":true"), std::string::npos);
}

}  // namespace
}  // namespace riskpipe::serving
