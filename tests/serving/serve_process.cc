#include "serve_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include "testing/run_cli.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace riskpipe::testing {

namespace fs = std::filesystem;

namespace {

// The test's environment with `extra` set on top (a later value wins over an earlier one).
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : extra) replaced |= entry.rfind(name + "=", 0) == 0;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (std::string& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

}  // namespace

ServeProcess::ServeProcess(const fs::path& folder, const fs::path& log, const Options& options)
    : log_(log) {
  // Everything the child needs is built before fork: after it, the child only calls
  // async-signal-safe functions.
  std::vector<std::string> argv = {RiskpipeBinary(), "serve", "--port", "0"};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env = ChildEnvironment(options.env);
  std::vector<char*> argv_p = Pointers(argv), env_p = Pointers(env);
  const std::string dir = folder.string(), out_path = log.string();
  pid_ = ::fork();
  if (pid_ < 0) return;
  if (pid_ == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(argv_p[0], argv_p.data(), env_p.data());
    ::_exit(127);
  }
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  constexpr int kPollMs = 50;
  for (int waited = 0; waited < options.start_timeout_ms && port_ == 0; waited += kPollMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
    std::smatch m;
    const std::string text = Log();
    if (std::regex_search(text, m, listening)) port_ = std::stoi(m[1]);
    if (port_ == 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;  // exited before listening
      return;
    }
  }
}

ServeProcess::~ServeProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string ServeProcess::Log() const { return fs::exists(log_) ? ReadAll(log_) : ""; }

int ServeProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const pid_t waited = ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return waited > 0 ? status : -1;
}

}  // namespace riskpipe::testing
