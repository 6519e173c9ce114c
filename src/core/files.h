#pragma once
// Filesystem helpers with the datamart's write discipline: everything is written under a
// temporary name beside its target and renamed into place, so a reader (or a crash) sees
// the old file or the new one, never half of one. Thread-safe (no shared state).

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace riskpipe {

// A unique temporary name beside `target`: "<dir>/.<name>.tmp-<pid>-<counter>".
std::filesystem::path TempPathFor(const std::filesystem::path& target);

// Writes `contents` to `path` atomically (temp file, fsync, rename). Creates parent folders.
// Returns Internal when the write or rename fails; the target is then untouched.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);

// Renames `from` onto `to`, replacing a file. Returns Internal naming both paths on failure.
Status RenameReplace(const std::filesystem::path& from, const std::filesystem::path& to);

// Reads a whole file. NotFound when missing, Internal on read errors.
StatusOr<std::string> ReadFile(const std::filesystem::path& path);

// Creates `dir` and its parents. Internal on failure.
Status MakeDirs(const std::filesystem::path& dir);

// Removes leftover temporary files (".*.tmp-*") under `dir`, recursively; returns how many.
int RemoveStaleTempFiles(const std::filesystem::path& dir);

}  // namespace riskpipe
