#pragma once
// Internal to the registry: the POSIX file operations a crash-safe package store needs beyond
// core/files.h: fsync of files and folders, an atomic swap of two folders, hard-link copies.
// Thread-safe (no shared state).

#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace riskpipe::registry::internal {

// Flushes a file's or folder's contents and metadata to disk. Internal on failure.
Status FsyncPath(const std::filesystem::path& path);

// Renames the folder `from` to `to`, which must not exist. AlreadyExists when it does,
// Internal on other failures.
Status RenameNoReplace(const std::filesystem::path& from, const std::filesystem::path& to);

// Swaps two folders in one atomic step (renameat2 RENAME_EXCHANGE), so a reader sees either
// whole folder, never neither. Where the filesystem cannot exchange, falls back to two renames
// (a moment in which `live` is missing, never half-written). Afterwards `live` holds what
// `replacement` held and `replacement` holds the old `live`. Internal on failure.
Status ExchangeFolders(const std::filesystem::path& replacement, const std::filesystem::path& live);

// Makes `to` a hard link of `from` (a copy where links are impossible). Internal on failure.
Status LinkOrCopy(const std::filesystem::path& from, const std::filesystem::path& to);

// Removes a folder tree; true when it is gone afterwards.
bool RemoveTree(const std::filesystem::path& path);

}  // namespace riskpipe::registry::internal
