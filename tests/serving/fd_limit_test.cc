// The connection cap and the accept loop under a low descriptor limit: a real server on a
// loopback port in this process, its RLIMIT_NOFILE lowered here (gtest_discover_tests runs
// each test in a process of its own, and every test restores the limit). Idle connections
// come from a forked child, whose descriptors do not count against this process's limit.
// "Not spinning" is measured as this process's CPU time over an idle second.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "core/files.h"
#include "core/json.h"
#include "features/online_snapshot.h"
#include "http_client.h"
#include "registry/registry.h"
#include "serving/connection_budget.h"
#include "serving/server.h"
#include "serving_workspace.h"
#include "testing/temp_dir.h"

namespace riskpipe::serving {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::HttpConnection;
using testing::HttpGet;
using testing::HttpPost;
using testing::ServingWorkspace;
using testing::TempDir;

// An idle server wakes for timers only (measured: under a millisecond of CPU per idle
// second); a spinning accept loop takes what the scheduler gives it (measured: half a core on
// two cores shared with builds). A tenth of a core separates the two.
constexpr double kIdleCpuSeconds = 0.1;

// Lowers this process's soft RLIMIT_NOFILE for the scope.
class DescriptorLimit {
 public:
  explicit DescriptorLimit(rlim_t soft) {
    EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  }
  ~DescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

// Child side of IdleClients: async-signal-safe calls only (the parent runs threads).
[[noreturn]] void RunIdleClients(int port, int n, int go, int done) {
  // Keep only stdio and the two pipes: copies of the server's sockets would keep connections
  // alive that the server closes.
  const unsigned lo = static_cast<unsigned>(std::min(go, done));
  const unsigned hi = static_cast<unsigned>(std::max(go, done));
  ::close_range(3, lo - 1, 0);
  ::close_range(lo + 1, hi - 1, 0);
  ::close_range(hi + 1, ~0U, 0);
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  char c = 0;
  if (::read(go, &c, 1) != 1) ::_exit(1);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int connected = 0;
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      ++connected;
    }
  }
  if (::write(done, &connected, sizeof connected) != sizeof connected) ::_exit(1);
  while (::read(go, &c, 1) > 0) {
  }
  ::_exit(0);
}

// `n` connections to 127.0.0.1:port that never send a byte, held by a child process from
// Go() until destruction.
class IdleClients {
 public:
  IdleClients(int port, int n) {
    int go[2], done[2];
    if (::pipe(go) != 0 || ::pipe(done) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) RunIdleClients(port, n, go[0], done[1]);
    ::close(go[0]);
    ::close(done[1]);
    go_ = go[1];
    done_ = done[0];
  }
  ~IdleClients() {
    if (go_ >= 0) ::close(go_);  // the child sees EOF and exits, closing its connections
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
    if (done_ >= 0) ::close(done_);
  }
  // Lets the child connect; returns how many of the connections it made.
  int Go() {
    const char c = 'g';
    int connected = 0;
    if (::write(go_, &c, 1) != 1) return 0;
    if (::read(done_, &connected, sizeof connected) != sizeof connected) return 0;
    return connected;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1, done_ = -1;
};

double ProcessCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// This process's CPU time (every thread, the server's included) over `wall` of sleep.
double CpuSecondsOver(std::chrono::milliseconds wall) {
  const double before = ProcessCpuSeconds();
  std::this_thread::sleep_for(wall);
  return ProcessCpuSeconds() - before;
}

// One GET on a fresh connection, given `timeout` to answer (status 0 when it did not).
testing::HttpReply GetWithin(int port, const std::string& path, std::chrono::milliseconds timeout) {
  HttpConnection c(port);
  if (!c.connected() || !c.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")) return {};
  return c.Read(timeout);
}

// The value of one sample line of /metrics ("name{labels}"), or -1.
double Metric(const std::string& text, const std::string& sample) {
  const size_t at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + sample.size() + 2));
}

ServeOverrides Quiet(std::string* log = nullptr) {
  ServeOverrides o;
  o.log = [log](const std::string& line) {
    if (log != nullptr) *log += line + "\n";
  };
  return o;
}

std::unique_ptr<Server> StartOrDie(const config::Project& project, std::string* log = nullptr) {
  auto server = Server::Start(project, Quiet(log));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

// Publishes a copy of the CURRENT snapshot under a new version and points CURRENT at it.
std::string PublishSnapshotCopy(const fs::path& online) {
  std::string current = testing::ReadAll(online / "CURRENT");
  while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) current.pop_back();
  const std::string next = current + "-copy";
  const fs::path dir = online / "snapshots" / next;
  fs::copy(online / "snapshots" / current, dir, fs::copy_options::recursive);
  json manifest = json::parse(testing::ReadAll(dir / "manifest.json"));
  manifest["version"] = next;
  EXPECT_TRUE(WriteFileAtomic(dir / "manifest.json", manifest.dump()).ok());
  EXPECT_TRUE(WriteFileAtomic(online / "CURRENT", next + "\n").ok());
  return next;
}

TEST(FdLimit, IdleConnectionsPastTheLimitLeaveHealthzAndReloadWorking) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  const std::string customer = [&] {
    auto snap = features::LoadOnlineSnapshot(folder / "ws" / "online");
    EXPECT_TRUE(snap.ok());
    return std::string(snap->Entity(0));
  }();
  // The reproduction: ulimit -n 64 and 80 idle connections.
  DescriptorLimit limit(64);
  auto server = StartOrDie(ServingWorkspace::Project(folder));
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  const double cap = Metric(HttpGet(port, "/metrics").body, "riskpipe_http_max_connections");
  EXPECT_GE(cap, 1);
  EXPECT_LT(cap, 64 - 32) << "the cap leaves the file reserve free";

  IdleClients idle(port, 80);
  ASSERT_EQ(idle.Go(), 80);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server takes them in
  const double cpu = CpuSecondsOver(std::chrono::seconds(1));
  RecordProperty("idle_cpu_seconds", std::to_string(cpu));
  RecordProperty("max_connections", static_cast<int>(cap));
  EXPECT_LT(cpu, kIdleCpuSeconds) << "the accept loop spins";

  const auto health = GetWithin(port, "/healthz", std::chrono::seconds(2));
  EXPECT_EQ(health.status, 200) << "healthz did not answer within 2 s";

  // A reload opens the registry's package files, CURRENT, a manifest and a data file.
  auto reg = registry::Registry::Open(folder / "ws");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  ASSERT_TRUE(reg->Promote("kueski_pd/2", "test", "fd limit test").ok());
  const std::string version = PublishSnapshotCopy(folder / "ws" / "online");
  server->ReloadNow();
  const auto predict = HttpPost(port, "/v1/predict", R"({"id": ")" + customer + R"("})");
  ASSERT_EQ(predict.status, 200) << predict.body;
  EXPECT_EQ(json::parse(predict.body)["model"]["id"], "kueski_pd/2");
  const auto features = HttpGet(port, "/v1/features/" + customer);
  ASSERT_EQ(features.status, 200) << features.body;
  EXPECT_EQ(json::parse(features.body)["snapshot_version"], version);
  const std::string metrics = HttpGet(port, "/metrics").body;
  EXPECT_EQ(Metric(metrics, R"(riskpipe_reloads_total{what="snapshot",result="failed"})"), 0)
      << metrics;
  EXPECT_EQ(Metric(metrics, R"(riskpipe_reloads_total{what="model",result="failed"})"), 0);
  EXPECT_GE(Metric(metrics, "riskpipe_http_idle_connections_closed_total"), 80 - cap);
  // A connection admitted on the strength of another loop's idle one may be counted before
  // that one is closed; the refusal slots bound the difference.
  EXPECT_LE(Metric(metrics, "riskpipe_http_connections"), cap + kRefusalSlots);
}

TEST(FdLimit, AcceptPausesWhileTheProcessHasNoDescriptorLeft) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  DescriptorLimit limit(256);
  auto server = StartOrDie(ServingWorkspace::Project(folder));
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  IdleClients clients(port, 10);
  // Another part of the process takes every descriptor left: accept() fails with EMFILE
  // while the child's connections wait in the listen queue.
  std::vector<int> taken;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) taken.push_back(fd);
  ASSERT_EQ(errno, EMFILE);
  ASSERT_EQ(clients.Go(), 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double cpu = CpuSecondsOver(std::chrono::seconds(1));
  for (int fd : taken) ::close(fd);
  RecordProperty("idle_cpu_seconds", std::to_string(cpu));
  EXPECT_LT(cpu, kIdleCpuSeconds) << "the accept loop spins on EMFILE";
  // Once descriptors are free again the queued connections are taken, within the longest
  // pause (half a second), and new ones answered.
  const auto health = GetWithin(port, "/healthz", std::chrono::seconds(2));
  EXPECT_EQ(health.status, 200);
  // Each event loop takes its share of the queue when its own pause ends: wait for both.
  std::string metrics = HttpGet(port, "/metrics").body;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Metric(metrics, "riskpipe_http_connections") < 10 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    metrics = HttpGet(port, "/metrics").body;
  }
  EXPECT_GE(Metric(metrics, "riskpipe_http_accept_errors_total"), 1) << metrics;
  EXPECT_GE(Metric(metrics, "riskpipe_http_connections"), 10) << metrics;
}

TEST(FdLimit, AConfiguredCapAboveWhatTheLimitAllowsIsLoweredAndLogged) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  config::Project project = ServingWorkspace::Project(folder);
  project.serving.max_connections = 1000;
  DescriptorLimit limit(128);
  std::string log;
  auto server = StartOrDie(project, &log);
  ASSERT_NE(server, nullptr);
  const double cap =
      Metric(HttpGet(server->port(), "/metrics").body, "riskpipe_http_max_connections");
  EXPECT_GE(cap, 1);
  EXPECT_LT(cap, 128 - 32);
  EXPECT_NE(
      log.find("serving.max_connections 1000 lowered to " + std::to_string(static_cast<int>(cap))),
      std::string::npos)
      << log;
}

TEST(FdLimit, ALimitWithNoRoomForAConnectionStopsStartWithTheNumbers) {
  TempDir dir;
  const fs::path folder = ServingWorkspace::Copy(dir.path());
  // Room for the server's own files, not for its reserve.
  int open = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++open;
  DescriptorLimit limit(static_cast<rlim_t>(open + 24));
  auto server = Server::Start(ServingWorkspace::Project(folder), Quiet());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(server.status().message().find("ulimit -n"), std::string::npos)
      << server.status().ToString();
  EXPECT_NE(server.status().message().find("kept for files"), std::string::npos);
}

// Connections over the cap, without touching the descriptor limit.
std::unique_ptr<Server> CappedServer(const fs::path& folder, int max_connections) {
  config::Project project = ServingWorkspace::Project(folder);
  project.serving.max_connections = max_connections;
  project.serving.threads = 1;  // one loop: which connection is the oldest idle is certain
  return StartOrDie(project);
}

TEST(ConnectionCap, ANewConnectionClosesTheOneIdleTheLongest) {
  TempDir dir;
  auto server = CappedServer(ServingWorkspace::Copy(dir.path()), 2);
  ASSERT_NE(server, nullptr);
  HttpConnection first(server->port()), second(server->port());
  ASSERT_EQ(first.Get("/healthz").status, 200);
  ASSERT_EQ(second.Get("/healthz").status, 200);
  // Both are idle now, `first` the longer: the third connection takes its place.
  HttpConnection third(server->port());
  EXPECT_EQ(third.Get("/healthz").status, 200);
  EXPECT_TRUE(first.WaitClosed(std::chrono::seconds(2)));
  const auto metrics = second.Get("/metrics");
  ASSERT_EQ(metrics.status, 200) << "the newer idle connection was kept";
  EXPECT_EQ(Metric(metrics.body, "riskpipe_http_idle_connections_closed_total"), 1);
  EXPECT_EQ(Metric(metrics.body, "riskpipe_http_max_connections"), 2);
}

TEST(ConnectionCap, WithEveryConnectionBusyANewOneGets503AndIsClosed) {
  TempDir dir;
  auto server = CappedServer(ServingWorkspace::Copy(dir.path()), 2);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  // Two requests in the middle of their headers: busy, not idle.
  HttpConnection a(port), b(port);
  ASSERT_TRUE(a.Send("GET /healthz HTTP/1.1\r\n"));
  ASSERT_TRUE(b.Send("GET /healthz HTTP/1.1\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the loop starts reading both
  HttpConnection c(port);
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto refused = c.Read(std::chrono::seconds(2));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(json::parse(refused.body)["error"]["code"], "over_capacity") << refused.body;
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_EQ(refused.headers["connection"], "close");
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(2)));
  // The busy ones are served as usual.
  ASSERT_TRUE(a.Send("Host: x\r\n\r\n"));
  EXPECT_EQ(a.Read().status, 200);
  const auto metrics = a.Get("/metrics");
  EXPECT_EQ(Metric(metrics.body, R"(riskpipe_http_connections_rejected_total{how="503"})"), 1)
      << metrics.body;
}

TEST(ConnectionCap, PastTheRefusalSlotsConnectionsAreClosedUnanswered) {
  TempDir dir;
  auto server = CappedServer(ServingWorkspace::Copy(dir.path()), 1);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  HttpConnection busy(port);
  ASSERT_TRUE(busy.Send("GET /healthz HTTP/1.1\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Each refusal holds its socket while its answer lingers (these clients never close), so
  // a burst of twelve fills the eight slots and the rest are closed at once.
  constexpr int kBurst = 12;
  std::vector<std::unique_ptr<HttpConnection>> burst;
  for (int i = 0; i < kBurst; ++i) burst.push_back(std::make_unique<HttpConnection>(port));
  int answered = 0, closed = 0;
  for (auto& c : burst) {
    const auto r = c->Read(std::chrono::seconds(2));
    if (r.status == 503) ++answered;
    if (r.status == 0) ++closed;
  }
  EXPECT_EQ(answered + closed, kBurst) << "every connection over the cap is refused";
  EXPECT_GE(answered, 1);
  EXPECT_GE(closed, 1);
  ASSERT_TRUE(busy.Send("Host: x\r\n\r\n"));
  EXPECT_EQ(busy.Read().status, 200);
  const std::string metrics = busy.Get("/metrics").body;
  EXPECT_EQ(Metric(metrics, R"(riskpipe_http_connections_rejected_total{how="503"})"), answered);
  EXPECT_EQ(Metric(metrics, R"(riskpipe_http_connections_rejected_total{how="closed"})"), closed);
}

}  // namespace
}  // namespace riskpipe::serving
