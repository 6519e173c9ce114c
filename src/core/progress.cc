#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace riskpipe {
namespace {

ConsoleOptions g_console;

// Redraw at most every 100 ms: fast enough to look live, cheap enough for hot loops.
constexpr int64_t kRedrawIntervalNs = 100'000'000;

std::string Human(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof(buf), "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof(buf), "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

}  // namespace

void SetConsoleOptions(const ConsoleOptions& options) { g_console = options; }
const ConsoleOptions& GetConsoleOptions() { return g_console; }
bool ProgressEnabled() { return !g_console.quiet && ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      enabled_(ProgressEnabled()),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { Finish(); }

void Progress::Advance(uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (!enabled_) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - start_)
                          .count();
  int64_t last = last_draw_ns_.load(std::memory_order_relaxed);
  if (now - last < kRedrawIntervalNs) return;
  if (!last_draw_ns_.compare_exchange_strong(last, now)) return;
  Draw(false);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) Draw(true);
}

void Progress::Draw(bool final) {
  std::lock_guard<std::mutex> lock(draw_mu_);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double done = static_cast<double>(done_.load());
  const double rate = secs > 0 ? done / secs : 0;
  if (total_ > 0) {
    std::fprintf(stderr, "\r\033[K%s: %5.1f%% %s/%s %s (%s %s/s)", label_.c_str(),
                 100.0 * done / static_cast<double>(total_), Human(done).c_str(),
                 Human(static_cast<double>(total_)).c_str(), unit_.c_str(), Human(rate).c_str(),
                 unit_.c_str());
  } else {
    std::fprintf(stderr, "\r\033[K%s: %s %s (%s %s/s)", label_.c_str(), Human(done).c_str(),
                 unit_.c_str(), Human(rate).c_str(), unit_.c_str());
  }
  if (final) std::fprintf(stderr, " in %.1fs\n", secs);
  std::fflush(stderr);
}

}  // namespace riskpipe
