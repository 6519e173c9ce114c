#pragma once
// JSON in riskpipe: nlohmann::json, included here and nowhere else (a third-party library is
// included by exactly one module: docs/architecture.md), plus the two ways riskpipe reads it.
// Free functions; thread-safe.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace riskpipe {

using Json = nlohmann::json;

// Parses `text`. InvalidArgument naming `what` (a file or field) and the parser's byte offset
// when it is not JSON.
StatusOr<Json> ParseJson(std::string_view text, std::string_view what);

// Reads and parses the file at `path`. NotFound when it does not exist, Internal when it cannot
// be read, InvalidArgument (naming the file) when it is not JSON.
StatusOr<Json> ReadJsonFile(const std::filesystem::path& path);

}  // namespace riskpipe
