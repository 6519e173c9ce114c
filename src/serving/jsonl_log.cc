#include "serving/jsonl_log.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

namespace riskpipe::serving {

namespace fs = std::filesystem;

namespace {

// stdio buffer of the active file: a few hundred prediction lines between flushes.
constexpr size_t kBufferBytes = 256 * 1024;

// UTC time with milliseconds, e.g. 20240601T120000.123Z: rotated names sort by time.
std::string UtcStamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

std::string SeqText(int64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(seq));
  return buf;
}

}  // namespace

StatusOr<std::unique_ptr<JsonlLog>> JsonlLog::Open(const JsonlLogOptions& options) {
  std::unique_ptr<JsonlLog> log(new JsonlLog(options));
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return InternalError(options.dir.string() + ": cannot create: " + ec.message());
  RETURN_IF_ERROR(log->OpenActive());
  return log;
}

Status JsonlLog::OpenActive() {
  const fs::path path = active_path();
  file_ = std::fopen(path.c_str(), "ae");
  if (file_ == nullptr) return InternalError(path.string() + ": cannot open for appending");
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
  std::error_code ec;
  size_ = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) size_ = 0;
  return OkStatus();
}

JsonlLog::~JsonlLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void JsonlLog::Append(std::string_view json) {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) {
    ++errors_;
    return;
  }
  if (std::fwrite(json.data(), 1, json.size(), file_) != json.size() ||
      std::fputc('\n', file_) == EOF) {
    ++errors_;
  }
  size_ += static_cast<int64_t>(json.size()) + 1;
  if (size_ >= options_.rotate_bytes) Rotate();
}

void JsonlLog::Rotate() {
  std::fclose(file_);
  file_ = nullptr;
  const fs::path active = active_path();
  const std::string rotated = options_.prefix + "-" + UtcStamp() + "-" + SeqText(++seq_) + ".jsonl";
  std::error_code ec;
  fs::rename(active, options_.dir / rotated, ec);
  if (ec) ++errors_;
  // Prune the oldest rotated files (their names sort by time, then sequence).
  std::vector<fs::path> old;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(options_.prefix + "-") && name.ends_with(".jsonl")) {
      old.push_back(entry.path());
    }
  }
  std::sort(old.begin(), old.end());
  while (static_cast<int64_t>(old.size()) > options_.keep) {
    fs::remove(old.front(), ec);
    old.erase(old.begin());
  }
  if (!OpenActive().ok()) ++errors_;
}

void JsonlLog::Flush() {
  std::lock_guard lock(mu_);
  if (file_ != nullptr && std::fflush(file_) != 0) ++errors_;
}

int64_t JsonlLog::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

}  // namespace riskpipe::serving
