#pragma once
// Filesystem helpers with the datamart's write discipline: everything is written under a
// temporary name beside its target and renamed into place, so a reader (or a crash) sees
// the old file or the new one, never half of one. Thread-safe (no shared state).

#include <sys/types.h>

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

// The process that made a temporary name: the pid after ".tmp-" in ".<name>.tmp-<pid>[-...]"
// (TempPathFor's names and every other riskpipe temporary), or 0 when there is none.
pid_t TempFileOwner(std::string_view filename);

// Whether process `pid` exists (kill(pid, 0)); false for pid <= 0.
bool ProcessAlive(pid_t pid);

// Removes leftover temporaries (".*.tmp-<pid>*" files and folders) under `dir` (recursively
// unless told otherwise) whose owner is no longer running (a live owner, such as a concurrent
// reader writing a report, keeps its files); returns how many were removed.
int RemoveStaleTempFiles(const std::filesystem::path& dir, bool recursive = true);

}  // namespace riskpipe
