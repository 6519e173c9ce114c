#pragma once
// An append-only JSON-lines log file, rotated by size: <dir>/<prefix>.jsonl is the active
// file; when it reaches rotate_bytes it is renamed <prefix>-<UTC time>-<seq>.jsonl and a new
// one is started; the oldest rotated files beyond `keep` are deleted. Used for the prediction
// log (read by the monitoring A/B analysis) and the access log. Lines are buffered; Flush()
// pushes them to the file. Thread-safe (one mutex; a line is written whole).

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace riskpipe::serving {

struct JsonlLogOptions {
  std::filesystem::path dir;        // created when missing
  std::string prefix = "log";       // file name stem
  int64_t rotate_bytes = 64 << 20;  // rotate when the active file reaches this size
  int64_t keep = 20;                // rotated files kept
};

class JsonlLog {
 public:
  // Opens (appending to) the active file. Internal naming the path on I/O errors.
  static StatusOr<std::unique_ptr<JsonlLog>> Open(const JsonlLogOptions& options);
  ~JsonlLog();
  JsonlLog(const JsonlLog&) = delete;
  JsonlLog& operator=(const JsonlLog&) = delete;

  // Appends `json` and a newline. A write error is counted (errors()) and otherwise ignored:
  // a full disk must not fail predictions.
  void Append(std::string_view json);
  void Flush();
  int64_t errors() const;
  std::filesystem::path active_path() const { return options_.dir / (options_.prefix + ".jsonl"); }

 private:
  explicit JsonlLog(JsonlLogOptions options) : options_(std::move(options)) {}
  Status OpenActive();
  void Rotate();

  JsonlLogOptions options_;
  mutable std::mutex mu_;
  std::FILE* file_ = nullptr;
  int64_t size_ = 0;
  int64_t errors_ = 0;
  int64_t seq_ = 0;
};

}  // namespace riskpipe::serving
