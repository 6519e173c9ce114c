#pragma once
// A model package's MANIFEST: the SHA-256 of every file in the package folder except MANIFEST
// itself, one "<64 lowercase hex>  <relative path>\n" line per file, sorted by path (bytewise),
// exactly the output format of `sha256sum`, so `cd <package> && sha256sum -c MANIFEST` checks a
// package without riskpipe. Free functions; thread-safe.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace riskpipe::registry {

inline constexpr std::string_view kManifestFile = "MANIFEST";

struct ManifestEntry {
  std::string path;    // Relative to the package folder, '/'-separated.
  std::string sha256;  // 64 lowercase hex digits.
  bool operator==(const ManifestEntry&) const = default;
};

// The regular files under `dir`, recursively, except a top-level MANIFEST: relative paths,
// sorted bytewise. InvalidArgument naming the entry for a symbolic link, a special file, or a
// name sha256sum would escape (one holding a newline or a backslash); NotFound when `dir` is
// not a folder.
StatusOr<std::vector<std::string>> ListPackageFiles(const std::filesystem::path& dir);

// The MANIFEST text of `entries`, sorted by path.
std::string FormatManifest(std::vector<ManifestEntry> entries);

// Parses MANIFEST text. DataLoss naming `what` and the line for anything sha256sum would not
// have written, or a path listed twice.
StatusOr<std::vector<ManifestEntry>> ParseManifest(std::string_view text, std::string_view what);

// The bytes of `dir`'s MANIFEST. DataLoss "<what>: MANIFEST missing in <dir>" when there is
// none, other read errors prefixed with `what`.
StatusOr<std::string> ReadManifest(const std::filesystem::path& dir, std::string_view what);

// Checks `dir` against its MANIFEST: every listed file present with that hash and no file
// unlisted. DataLoss naming `what` and the file: "<what>: model.ubj: sha256 mismatch: expected
// <hex> actual <hex>", "... listed in MANIFEST but missing", "... not listed in MANIFEST",
// "MANIFEST missing". Returns the parsed entries.
StatusOr<std::vector<ManifestEntry>> VerifyManifest(const std::filesystem::path& dir,
                                                    std::string_view what);

// VerifyManifest against `manifest_text`, the MANIFEST bytes the caller has already read (so
// the text whose hash the caller checks is the text the files are checked against).
StatusOr<std::vector<ManifestEntry>> VerifyManifestText(const std::filesystem::path& dir,
                                                        std::string_view manifest_text,
                                                        std::string_view what);

}  // namespace riskpipe::registry
