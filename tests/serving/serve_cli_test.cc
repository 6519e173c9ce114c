// `riskpipe serve` as a subprocess: it serves, and SIGTERM drains it to a clean exit.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include "http_client.h"
#include "serving_workspace.h"
#include "testing/run_cli.h"
#include "testing/temp_dir.h"

namespace riskpipe::serving {
namespace {

namespace fs = std::filesystem;
using testing::ServingWorkspace;
using testing::TempDir;

TEST(ServeCli, ServesThenExitsCleanlyOnSigterm) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  const fs::path log = dir.path() / "serve.log";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::chdir(folder.c_str());
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    const std::string bin = testing::RiskpipeBinary();
    ::execl(bin.c_str(), bin.c_str(), "serve", "--port", "0", "--threads", "2",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The chosen port is in the "listening on" line.
  int port = 0;
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::smatch m;
    const std::string text = testing::ReadAll(log);
    if (std::regex_search(text, m, listening)) port = std::stoi(m[1]);
  }
  ASSERT_GT(port, 0) << testing::ReadAll(log);
  EXPECT_EQ(testing::HttpGet(port, "/readyz").status, 200);
  const auto r = testing::HttpPost(port, "/", R"({"id": "not-a-customer"})");
  EXPECT_EQ(r.status, 404) << r.body;
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << testing::ReadAll(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << testing::ReadAll(log);
  EXPECT_NE(testing::ReadAll(log).find("stopped"), std::string::npos);
}

TEST(ServeCli, APortInUseIsAClearError) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  // Hold a port with a plain listener, then ask serve for it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto r =
      testing::RunRiskpipe("serve --port " + std::to_string(ntohs(addr.sin_port)), folder);
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot listen"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace riskpipe::serving
