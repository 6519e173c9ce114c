#pragma once
// Helpers shared by the metastore tests: a manual clock for Options.clock, raw SQL access to
// a metastore file through the module's own SQLite wrapper, and forking child processes.
// Not thread-safe; tests are single-threaded (fork requires it).

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "metastore/metastore.h"
#include "metastore/sqlite.h"
#include "testing/status_matchers.h"

namespace riskpipe::metastore::test {

using Clock = std::chrono::system_clock;

// 2026-11-23T09:41:02.123Z, the example instant of metastore.h.
inline Clock::time_point ExampleInstant() {
  using namespace std::chrono;
  return sys_days{year{2026} / November / 23} + hours{9} + minutes{41} + seconds{2} +
         milliseconds{123};
}

// A clock that stands still until the test moves it. Copies of options() share the time.
class ManualClock {
 public:
  explicit ManualClock(Clock::time_point start = ExampleInstant())
      : now_(std::make_shared<Clock::time_point>(start)) {}
  Options options() const {
    Options o;
    o.clock = [now = now_] { return *now; };
    return o;
  }
  void Advance(Clock::duration d) { *now_ += d; }
  Clock::time_point now() const { return *now_; }

 private:
  std::shared_ptr<Clock::time_point> now_;
};

inline StatusCode CodeOf(const Status& s) { return s.code(); }
template <typename T>
StatusCode CodeOf(const StatusOr<T>& s) {
  return s.status().code();
}

// Opens the raw SQLite file (for arranging rows the API cannot write) or aborts the test.
inline Database RawOpen(const std::filesystem::path& path) {
  StatusOr<Database> db = Database::Open(path);
  if (!db.ok()) {
    std::fprintf(stderr, "RawOpen %s: %s\n", path.c_str(), db.status().ToString().c_str());
    std::abort();
  }
  return std::move(db).value();
}

// The single integer a query returns, or -1 when it fails or returns no row.
inline int64_t QueryInt(Database& db, std::string_view sql) {
  StatusOr<Statement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return -1;
  StatusOr<bool> row = stmt->Step();
  if (!row.ok() || !*row) return -1;
  return stmt->ColumnInt64(0);
}

// The single text a query returns, or "<error>" when it fails or returns no row.
inline std::string QueryText(Database& db, std::string_view sql) {
  StatusOr<Statement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return "<error>";
  StatusOr<bool> row = stmt->Step();
  if (!row.ok() || !*row) return "<error>";
  return stmt->ColumnText(0);
}

// Forks a child that runs `body` and exits with its result (125 on an exception). The child
// must not touch a connection the parent had open at fork time, so tests fork before the
// parent opens any Metastore. Returns the child's pid, or -1 when fork fails.
inline pid_t ForkChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  int code = 125;
  try {
    code = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: exception: %s\n", static_cast<int>(::getpid()), e.what());
  } catch (...) {
    std::fprintf(stderr, "child %d: unknown exception\n", static_cast<int>(::getpid()));
  }
  std::fflush(nullptr);
  ::_exit(code);
}

// Waits for `pid`; its exit code, 128 + signal when killed, -1 when waitpid fails.
inline int WaitChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Prints a failing status in a child (gtest assertions do not work there) and returns 1.
inline int ChildFail(std::string_view what, const Status& s) {
  std::fprintf(stderr, "child %d: %.*s: %s\n", static_cast<int>(::getpid()),
               static_cast<int>(what.size()), what.data(), s.ToString().c_str());
  return 1;
}

}  // namespace riskpipe::metastore::test
