#pragma once
// Console output policy and a progress line for long work. Progress is drawn on stderr
// only when stderr is a terminal and the user did not pass --quiet; otherwise it is silent.
// Progress is safe to Advance() from several threads; drawing is throttled to ~10 Hz.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace riskpipe {

// Global console settings, set once by the CLI at start-up.
struct ConsoleOptions {
  // --quiet: no progress and no informational messages; errors still print.
  bool quiet = false;
};
void SetConsoleOptions(const ConsoleOptions& options);
const ConsoleOptions& GetConsoleOptions();
// True when progress lines should be drawn (stderr is a TTY and not quiet).
bool ProgressEnabled();

class Progress {
 public:
  // `label` names the work ("synth lms_loan_daily"); `total` is the unit count, 0 if unknown.
  Progress(std::string label, uint64_t total, std::string unit = "rows");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Advance(uint64_t n);
  // Draws the final line (when enabled) and stops drawing.
  void Finish();

 private:
  void Draw(bool final);

  std::string label_;
  uint64_t total_;
  std::string unit_;
  bool enabled_;
  bool finished_ = false;
  std::atomic<uint64_t> done_{0};
  std::chrono::steady_clock::time_point start_;
  std::atomic<int64_t> last_draw_ns_{0};
  std::mutex draw_mu_;
};

}  // namespace riskpipe
