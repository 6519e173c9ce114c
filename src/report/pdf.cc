// Printing report.html to PDF with headless Chromium (a child process).

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "report/report.h"

namespace riskpipe::report {
namespace {

namespace fs = std::filesystem;

// A render of the ten slides took 14-16 s on 2 busy cores; two minutes means Chromium is stuck.
constexpr auto kRenderTimeout = std::chrono::seconds(120);

std::string Tail(const fs::path& log, size_t max_chars) {
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // Chromium logs D-Bus noise in containers; keep the lines that are not about D-Bus.
  std::string kept;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("dbus") == std::string::npos && !line.empty()) kept += line + "\n";
  }
  return kept.size() > max_chars ? kept.substr(kept.size() - max_chars) : kept;
}

}  // namespace

StatusOr<fs::path> FindChromium() {
  if (const char* env = std::getenv("RISKPIPE_CHROMIUM"); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) == 0) return fs::path(env);
    return FailedPreconditionError(std::string("RISKPIPE_CHROMIUM=") + env +
                                   " is not an executable file");
  }
  std::vector<fs::path> candidates = {"/usr/bin/chromium"};
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      if (dir.empty()) continue;
      candidates.push_back(fs::path(dir) / "chromium");
      candidates.push_back(fs::path(dir) / "chromium-browser");
    }
  }
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return FailedPreconditionError(
      "chromium not found (looked for /usr/bin/chromium and chromium on PATH): install it with "
      "scripts/setup.sh (Debian package chromium), set RISKPIPE_CHROMIUM, or pass --no-pdf");
}

Status RenderPdf(const fs::path& chromium, const fs::path& html, const fs::path& pdf) {
  const fs::path tmp =
      pdf.parent_path() / ("." + pdf.filename().string() + ".tmp-" + std::to_string(::getpid()));
  const fs::path log = tmp.string() + ".log";
  const fs::path profile = tmp.string() + ".profile";
  std::error_code ec;
  fs::remove(tmp, ec);
  const std::string url = "file://" + fs::absolute(html).string();
  // --no-pdf-header-footer drops the browser's date/URL lines; the slides carry their own
  // footer. A private profile folder keeps concurrent renders apart.
  std::vector<std::string> args = {chromium.string(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--no-pdf-header-footer",
                                   "--user-data-dir=" + profile.string(),
                                   "--print-to-pdf=" + tmp.string(),
                                   url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return InternalError("report.pdf: cannot start chromium (fork failed)");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::setpgid(0, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + kRenderTimeout;
  bool timed_out = false;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return InternalError("report.pdf: lost the chromium process");
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string tail = Tail(log, 1500);
  fs::remove(log, ec);
  fs::remove_all(profile, ec);
  const bool exited_ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!exited_ok || !fs::exists(tmp) || fs::file_size(tmp, ec) == 0) {
    fs::remove(tmp, ec);
    std::string why = timed_out           ? "timed out after 120 s"
                      : WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                          : "killed by a signal";
    if (exited_ok) why = "no PDF written";
    return InternalError("report.pdf: " + chromium.string() + " failed (" + why + ")" +
                         (tail.empty() ? "" : ":\n" + tail));
  }
  fs::rename(tmp, pdf, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return InternalError("report.pdf: cannot rename into place: " + ec.message());
  }
  return OkStatus();
}

}  // namespace riskpipe::report
