// Servers over their own copies of the test workspace: hot reload under a stream of requests,
// failed loads that leave the old model serving, rollback through the admin API,
// champion/challenger routing (canary proportions and stickiness, shadow logging), slow
// clients, the prediction log, and graceful stop.

#include <gtest/gtest.h>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "core/files.h"
#include "core/json.h"
#include "features/online_snapshot.h"
#include "http_client.h"
#include "registry/registry.h"
#include "serving/server.h"
#include "serving/service.h"
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
using testing::TempDir;

std::vector<std::string> Customers(const fs::path& folder, size_t n) {
  auto snap = features::LoadOnlineSnapshot(folder / "ws" / "online");
  EXPECT_TRUE(snap.ok());
  std::vector<std::string> ids;
  for (size_t i = 0; i < snap->rows() && ids.size() < n; ++i) ids.emplace_back(snap->Entity(i));
  return ids;
}

std::unique_ptr<Server> StartOrDie(const config::Project& project) {
  auto server = Server::Start(project, Quiet());
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

std::string ModelOf(int port, const std::string& id) {
  const auto r = HttpPost(port, "/v1/predict", R"({"id": ")" + id + R"(", "reasons": false})");
  return r.status == 200 ? json::parse(r.body)["model"]["id"].get<std::string>() : "";
}

TEST(Reload, PromotionAndRollbackUnderLoadDropNoRequest) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  auto server = StartOrDie(ServingWorkspace::Project(folder));
  ASSERT_NE(server, nullptr);
  const auto ids = Customers(folder, 200);
  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, failed{0};
  std::atomic<int> saw_v1{0}, saw_v2{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      HttpConnection c(server->port());
      for (size_t i = static_cast<size_t>(t); !done.load(); ++i) {
        const auto r =
            c.Post("/v1/predict", R"({"id": ")" + ids[i % ids.size()] + R"(", "reasons": false})");
        if (r.status != 200) {
          ++failed;
          continue;
        }
        ++ok;
        const std::string model = json::parse(r.body)["model"]["id"];
        (model == "kueski_pd/1" ? saw_v1 : saw_v2)++;
      }
    });
  }
  auto reg = registry::Registry::Open(folder / "ws");
  ASSERT_TRUE(reg.ok());
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(reg->Promote("kueski_pd/2", "test", "test override").ok());
    server->ReloadNow();
    EXPECT_EQ(ModelOf(server->port(), ids[0]), "kueski_pd/2");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto back = reg->Rollback("kueski_pd", "test", "reload test");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    server->ReloadNow();
    EXPECT_EQ(ModelOf(server->port(), ids[0]), "kueski_pd/1");
  }
  done = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(saw_v1.load(), 0);
  EXPECT_GT(saw_v2.load(), 0);
}

TEST(Reload, PollingPicksUpAPromotionWithoutBeingAsked) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  config::Project project = ServingWorkspace::Project(folder);
  project.serving.reload_poll_ms = 100;
  auto server = StartOrDie(project);
  ASSERT_NE(server, nullptr);
  const std::string id = Customers(folder, 1)[0];
  ASSERT_EQ(ModelOf(server->port(), id), "kueski_pd/1");
  auto reg = registry::Registry::Open(folder / "ws");
  ASSERT_TRUE(reg->Promote("kueski_pd/2", "test", "test override").ok());
  std::string model;
  for (int i = 0; i < 200 && model != "kueski_pd/2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    model = ModelOf(server->port(), id);
  }
  EXPECT_EQ(model, "kueski_pd/2");
}

TEST(Reload, ATamperedPackageLeavesTheOldModelServingAndIsCounted) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  auto server = StartOrDie(ServingWorkspace::Project(folder));
  ASSERT_NE(server, nullptr);
  auto reg = registry::Registry::Open(folder / "ws");
  ASSERT_TRUE(reg->Promote("kueski_pd/2", "test", "test override").ok());
  // Changed after promotion: the MANIFEST check at load time catches it.
  const fs::path pkg = folder / "ws" / "model_bank" / "kueski_pd" / "2";
  std::ofstream(pkg / "preprocess.json", std::ios::app) << " ";
  server->ReloadNow();
  const std::string id = Customers(folder, 1)[0];
  EXPECT_EQ(ModelOf(server->port(), id), "kueski_pd/1");
  const auto m = HttpGet(server->port(), "/metrics").body;
  EXPECT_NE(m.find("riskpipe_reloads_total{what=\"model\",result=\"failed\"} 1"), std::string::npos)
      << m;
  // A CURRENT naming a snapshot that does not exist: the old snapshot keeps serving.
  ASSERT_TRUE(WriteFileAtomic(folder / "ws" / "online" / "CURRENT", "no-such-version\n").ok());
  server->ReloadNow();
  EXPECT_EQ(HttpGet(server->port(), "/v1/features/" + id).status, 200);
  EXPECT_NE(HttpGet(server->port(), "/metrics")
                .body.find("riskpipe_reloads_total{what=\"snapshot\",result=\"failed\"} 1"),
            std::string::npos);
}

TEST(Reload, ARewrittenManifestIsRefusedAtReloadNamingBothHashes) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  std::mutex mu;
  std::string log;
  ServeOverrides overrides;
  overrides.log = [&](const std::string& line) {
    std::lock_guard lock(mu);
    log += line + "\n";
  };
  auto started = Server::Start(ServingWorkspace::Project(folder), overrides);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  Server& server = **started;
  auto reg = registry::Registry::Open(folder / "ws");
  ASSERT_TRUE(reg->Promote("kueski_pd/2", "test", "test override").ok());
  // model.json and its MANIFEST line rewritten together after the promotion: every file
  // matches the MANIFEST, but the MANIFEST is not the one the approval and promotion recorded.
  const fs::path pkg = folder / "ws" / "model_bank" / "kueski_pd" / "2";
  const std::string model = testing::ReadAll(pkg / "model.json");
  const std::string manifest = testing::ReadAll(pkg / "MANIFEST");
  const std::string recorded = testing::RewritePackageFile(pkg, "model.json", model + " ");
  server.ReloadNow();
  const std::string id = Customers(folder, 1)[0];
  EXPECT_EQ(ModelOf(server.port(), id), "kueski_pd/1");
  {
    std::lock_guard lock(mu);
    EXPECT_NE(log.find("model kueski_pd/2: MANIFEST sha256 " + testing::ManifestSha(pkg) +
                       " does not match " + recorded + " recorded at "),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("approval (event "), std::string::npos) << log;
    EXPECT_NE(log.find("promotion (event "), std::string::npos) << log;
  }
  // The recorded bytes back in place: the next reload serves the promoted version.
  ASSERT_TRUE(WriteFileAtomic(pkg / "model.json", model).ok());
  ASSERT_TRUE(WriteFileAtomic(pkg / "MANIFEST", manifest).ok());
  server.ReloadNow();
  EXPECT_EQ(ModelOf(server.port(), id), "kueski_pd/2");
}

TEST(Reload, AdminRollbackRestoresThePreviousProductionVersion) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  ::setenv("RISKPIPE_TEST_ROLLBACK_KEY", "k-rollback", 1);
  config::Project project = ServingWorkspace::Project(folder);
  project.serving.admin_key_env = "RISKPIPE_TEST_ROLLBACK_KEY";
  auto server = StartOrDie(project);
  ASSERT_NE(server, nullptr);
  const std::string key = "X-API-Key: k-rollback\r\n";
  // Nothing to roll back to yet.
  EXPECT_EQ(HttpPost(server->port(), "/admin/rollback", "", key).status, 409);
  auto reg = registry::Registry::Open(folder / "ws");
  ASSERT_TRUE(reg->Promote("kueski_pd/2", "test", "test override").ok());
  const auto reload = HttpPost(server->port(), "/admin/reload", "", key);
  ASSERT_EQ(reload.status, 200);
  EXPECT_EQ(json::parse(reload.body)["champion"]["id"], "kueski_pd/2");
  const auto r = HttpPost(server->port(), "/admin/rollback",
                          R"({"by": "on-call", "reason": "bad canary"})", key);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["restored"], "kueski_pd/1");
  EXPECT_EQ(ModelOf(server->port(), Customers(folder, 1)[0]), "kueski_pd/1");
  auto history = reg->History("kueski_pd", "kueski_pd/1");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->back().actor, "on-call");
}

TEST(Routing, CanaryShareIsNearItsPercentAndStable) {
  int in = 0;
  for (int i = 0; i < 20000; ++i) in += InCanary(std::to_string(5000000 + i), 10.0) ? 1 : 0;
  EXPECT_GT(in, 1700);
  EXPECT_LT(in, 2300);
  EXPECT_FALSE(InCanary("5008804", 0));
  EXPECT_TRUE(InCanary("5008804", 100));
  EXPECT_EQ(InCanary("5008804", 37.5), InCanary("5008804", 37.5));
}

TEST(Routing, CanaryCustomersAlwaysGetTheChallenger) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  config::Project project = ServingWorkspace::Project(folder);
  project.serving.challenger = {"kueski_pd/2", config::ChallengerMode::kCanary, 30};
  auto server = StartOrDie(project);
  ASSERT_NE(server, nullptr);
  int challenger = 0;
  const auto ids = Customers(folder, 300);
  for (const auto& id : ids) {
    const std::string expected = InCanary(id, 30) ? "kueski_pd/2" : "kueski_pd/1";
    for (int rep = 0; rep < 2; ++rep) {
      const auto r =
          json::parse(HttpPost(server->port(), "/v1/predict", R"({"id": ")" + id + R"("})").body);
      EXPECT_EQ(r["model"]["id"], expected) << id;
      EXPECT_EQ(r["arm"], expected == "kueski_pd/2" ? "challenger" : "champion");
    }
    challenger += InCanary(id, 30) ? 1 : 0;
  }
  EXPECT_GT(challenger, 50);
  EXPECT_LT(challenger, 130);
}

TEST(Routing, ShadowScoresTheChallengerAndLogsItWithoutReturningIt) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  config::Project project = ServingWorkspace::Project(folder);
  project.serving.challenger = {"kueski_pd/2", config::ChallengerMode::kShadow, 0};
  auto server = StartOrDie(project);
  ASSERT_NE(server, nullptr);
  const auto ids = Customers(folder, 20);
  for (const auto& id : ids) {
    const auto r =
        json::parse(HttpPost(server->port(), "/v1/predict", R"({"id": ")" + id + R"("})").body);
    EXPECT_EQ(r["model"]["id"], "kueski_pd/1");
    EXPECT_FALSE(r.contains("shadow"));
  }
  server->FlushLogs();
  const std::string log =
      testing::ReadAll(folder / "ws" / "logs" / "predictions" / "predictions.jsonl");
  size_t lines = 0, pos = 0;
  for (size_t next; (next = log.find('\n', pos)) != std::string::npos; pos = next + 1) {
    const json line = json::parse(log.substr(pos, next - pos));
    EXPECT_EQ(line["model"], "kueski_pd/1");
    EXPECT_EQ(line["shadow"]["model"], "kueski_pd/2");
    EXPECT_TRUE(line["shadow"]["pd"].is_number());
    EXPECT_EQ(line["customer_id"], ids[lines]);
    // Ids, versions and outcomes only: no feature values (and so no PII) in the log.
    static const std::set<std::string> kAllowed = {
        "ts",         "request_id", "customer_id", "source",
        "endpoint",   "arm",        "model",       "champion",
        "challenger", "pd",         "decision",    "score_band",
        "threshold",  "snapshot",   "reasons",     "reason_table_version",
        "shadow",     "latency_us"};
    for (const auto& [key, value] : line.items()) EXPECT_TRUE(kAllowed.count(key)) << key;
    ++lines;
  }
  EXPECT_EQ(lines, ids.size());
}

TEST(Hardening, SlowClientsAreCutOffByTheRequestDeadline) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  config::Project project = ServingWorkspace::Project(folder);
  project.serving.request_timeout_ms = 300;
  project.serving.idle_timeout_ms = 300;
  auto server = StartOrDie(project);
  ASSERT_NE(server, nullptr);
  // Slowloris: one header byte every 50 ms keeps every single read short, but the whole
  // request takes longer than the deadline.
  HttpConnection slow(server->port());
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200, 'a') + "\r\n\r\n";
  bool cut = false;
  for (char ch : request) {
    if (!slow.Send(std::string(1, ch))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (slow.WaitClosed(std::chrono::milliseconds(1))) {
      cut = true;
      break;
    }
  }
  EXPECT_TRUE(cut) << "a request sent over 10 s was still being read";
  // An idle connection is closed too.
  HttpConnection idle(server->port());
  EXPECT_TRUE(idle.WaitClosed(std::chrono::seconds(10)));
  // And the server still answers.
  EXPECT_EQ(HttpGet(server->port(), "/healthz").status, 200);
}

TEST(Hardening, StopDrainsAndRefusesNewConnections) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  auto server = StartOrDie(ServingWorkspace::Project(folder));
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  HttpConnection idle(port);
  ASSERT_EQ(idle.Get("/healthz").status, 200);
  server->Stop();
  server->Wait();
  EXPECT_TRUE(idle.WaitClosed(std::chrono::seconds(5)));
  EXPECT_FALSE(HttpConnection(port).connected()) << "still accepting after Stop";
  // The access log has the requests, without paths (they carry customer ids).
  const std::string access = testing::ReadAll(folder / "ws" / "logs" / "access" / "access.jsonl");
  EXPECT_NE(access.find("\"route\":\"healthz\""), std::string::npos) << access;
}

}  // namespace
}  // namespace riskpipe::serving
