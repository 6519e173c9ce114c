#pragma once
// A fresh temporary folder per test, removed afterwards (kept when RISKPIPE_KEEP_TEMP=1).

#include <filesystem>
#include <string>
#include <string_view>

namespace riskpipe::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to path()/relative (parents created) and returns the full path.
  std::filesystem::path Write(std::string_view relative, std::string_view contents) const;

 private:
  std::filesystem::path path_;
};

// Reads a whole file or fails the test.
std::string ReadAll(const std::filesystem::path& path);

}  // namespace riskpipe::testing
