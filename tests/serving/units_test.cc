// The serving section of riskpipe.yaml and the rotated JSON-lines log.

#include <gtest/gtest.h>

#include "config/config.h"
#include "serving/jsonl_log.h"
#include "testing/temp_dir.h"

namespace riskpipe::serving {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

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

StatusOr<config::Project> Parse(const std::string& serving, const TempDir& dir) {
  return config::ParseProject(std::string(kBase) + serving, dir.path() / "riskpipe.yaml");
}

TEST(ServingConfig, DefaultsWithNoSection) {
  TempDir dir;
  auto p = Parse("", dir);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->serving.present);
  EXPECT_EQ(p->serving.host, "127.0.0.1");
  EXPECT_EQ(p->serving.port, 8080);
  EXPECT_EQ(p->serving.admin_key_env, "RISKPIPE_ADMIN_KEY");
  EXPECT_TRUE(p->serving.challenger.model.empty());
  EXPECT_EQ(p->serving.max_connections, 0) << "0: derived from the descriptor limit";
}

TEST(ServingConfig, ReadsEveryField) {
  TempDir dir;
  auto p = Parse(R"(serving:
  host: 0.0.0.0
  port: 9000
  threads: 4
  body_limit_bytes: 8192
  header_limit_bytes: 4096
  request_timeout_ms: 2000
  idle_timeout_ms: 5000
  drain_timeout_ms: 1000
  max_connections: 300
  reload_poll_ms: 500
  admin_key_env: MY_KEY
  access_log_dir: ""
  challenger: {model: m/2, mode: canary, percent: 12.5}
  prediction_log: {dir: /var/log/rp, rotate_bytes: 1048576, keep: 3}
)",
                 dir);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const auto& s = p->serving;
  EXPECT_EQ(s.host, "0.0.0.0");
  EXPECT_EQ(s.port, 9000);
  EXPECT_EQ(s.threads, 4);
  EXPECT_EQ(s.body_limit_bytes, 8192);
  EXPECT_EQ(s.header_limit_bytes, 4096);
  EXPECT_EQ(s.request_timeout_ms, 2000);
  EXPECT_EQ(s.idle_timeout_ms, 5000);
  EXPECT_EQ(s.drain_timeout_ms, 1000);
  EXPECT_EQ(s.max_connections, 300);
  EXPECT_EQ(s.reload_poll_ms, 500);
  EXPECT_EQ(s.admin_key_env, "MY_KEY");
  EXPECT_EQ(s.access_log_dir, "");
  EXPECT_EQ(s.challenger.model, "m/2");
  EXPECT_EQ(s.challenger.mode, config::ChallengerMode::kCanary);
  EXPECT_DOUBLE_EQ(s.challenger.percent, 12.5);
  EXPECT_EQ(s.prediction_log_dir, "/var/log/rp");
  EXPECT_EQ(s.prediction_log_rotate_bytes, 1048576);
  EXPECT_EQ(s.prediction_log_keep, 3);
}

TEST(ServingConfig, RejectsUnknownKeysAndBadValuesNamingThem) {
  TempDir dir;
  const auto error = [&](const std::string& yaml) {
    auto p = Parse(yaml, dir);
    EXPECT_FALSE(p.ok()) << yaml;
    return p.ok() ? std::string() : p.status().message();
  };
  EXPECT_NE(error("serving: {prot: 1}\n").find("prot"), std::string::npos);
  EXPECT_NE(error("serving: {port: 70000}\n").find("serving.port"), std::string::npos);
  EXPECT_NE(error("serving: {max_connections: -1}\n").find("serving.max_connections"),
            std::string::npos);
  EXPECT_NE(error("serving: {max_connections: 2000000}\n").find("serving.max_connections"),
            std::string::npos);
  EXPECT_NE(error("serving: {challenger: {model: m/2, mode: blue, percent: 5}}\n").find("blue"),
            std::string::npos);
  EXPECT_NE(error("serving: {challenger: {model: m/2, percent: 120}}\n").find("percent"),
            std::string::npos);
  EXPECT_NE(error("serving: {challenger: {model: m/2}}\n").find("percent"), std::string::npos);
  EXPECT_NE(error("serving: {challenger: {model: m/2, mode: shadow, percent: 5}}\n")
                .find("canary mode only"),
            std::string::npos);
  EXPECT_NE(error("serving: {admin_key: abc}\n").find("admin_key"), std::string::npos)
      << "the key itself never goes in the file";
}

TEST(JsonlLog, RotatesBySizeAndKeepsTheNewestFiles) {
  TempDir dir;
  JsonlLogOptions o;
  o.dir = dir.path() / "logs";
  o.prefix = "predictions";
  o.rotate_bytes = 4096;
  o.keep = 2;
  auto log = JsonlLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const std::string line = R"({"customer_id":"1","pd":0.01})" + std::string(70, ' ');
  for (int i = 0; i < 400; ++i) (*log)->Append(line);  // about 40 KB: about 10 rotations
  (*log)->Flush();
  int rotated = 0;
  for (const auto& e : fs::directory_iterator(o.dir)) {
    const std::string name = e.path().filename().string();
    if (name != "predictions.jsonl") {
      ++rotated;
      EXPECT_TRUE(name.starts_with("predictions-")) << name;
      EXPECT_GE(fs::file_size(e.path()), 4096u);
    }
  }
  EXPECT_EQ(rotated, 2);
  EXPECT_EQ((*log)->errors(), 0);
  const std::string active = testing::ReadAll(o.dir / "predictions.jsonl");
  EXPECT_EQ(active.size() % (line.size() + 1), 0u) << "whole lines only";
}

}  // namespace
}  // namespace riskpipe::serving
