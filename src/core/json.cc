#include "core/json.h"

#include <fstream>
#include <sstream>
#include <string>

namespace riskpipe {

StatusOr<Json> ParseJson(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return InvalidArgumentError(std::string(what) + ": not valid JSON (byte " +
                                std::to_string(e.byte) + ")");
  }
}

StatusOr<Json> ReadJsonFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError(path.string() + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return InternalError(path.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return InternalError(path.string() + ": read failed");
  return ParseJson(text.str(), path.string());
}

}  // namespace riskpipe
