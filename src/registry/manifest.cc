#include "registry/manifest.h"

#include <algorithm>
#include <set>
#include <system_error>

#include "core/files.h"
#include "core/hash.h"

namespace riskpipe::registry {
namespace fs = std::filesystem;

namespace {

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

StatusOr<std::vector<std::string>> ListPackageFiles(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFoundError(dir.string() + ": not a folder");
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const fs::path rel = it->path().lexically_relative(dir);
    const std::string name = rel.generic_string();
    const fs::file_status st = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_symlink(st)) {
      return InvalidArgumentError(dir.string() + ": " + name + " is a symbolic link");
    }
    if (fs::is_directory(st)) continue;
    if (!fs::is_regular_file(st)) {
      return InvalidArgumentError(dir.string() + ": " + name + " is not a regular file");
    }
    if (name.find_first_of("\n\\") != std::string::npos) {
      return InvalidArgumentError(dir.string() + ": file name with a newline or backslash");
    }
    if (name == kManifestFile) continue;
    files.push_back(name);
  }
  if (ec) return InternalError(dir.string() + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::string FormatManifest(std::vector<ManifestEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  std::string out;
  for (const ManifestEntry& e : entries) out += e.sha256 + "  " + e.path + "\n";
  return out;
}

StatusOr<std::vector<ManifestEntry>> ParseManifest(std::string_view text, std::string_view what) {
  std::vector<ManifestEntry> entries;
  std::set<std::string> seen;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const auto bad = [&](std::string_view why) {
      return DataLossError(std::string(what) + ": MANIFEST line " + std::to_string(line_no) + ": " +
                           std::string(why));
    };
    if (line.size() < 67 || line.substr(64, 2) != "  " || !IsLowerHex64(line.substr(0, 64))) {
      return bad("expected \"<64 hex digits>  <path>\"");
    }
    std::string path(line.substr(66));
    const fs::path p(path);
    if (p.is_absolute() ||
        std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; })) {
      return bad("path leaves the package");
    }
    if (!seen.insert(path).second) return bad(path + " listed twice");
    entries.push_back({std::move(path), std::string(line.substr(0, 64))});
  }
  return entries;
}

StatusOr<std::string> ReadManifest(const fs::path& dir, std::string_view what) {
  StatusOr<std::string> text = ReadFile(dir / kManifestFile);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    return DataLossError(std::string(what) + ": MANIFEST missing in " + dir.string());
  }
  if (!text.ok()) return text.status().WithPrefix(what);
  return text;
}

StatusOr<std::vector<ManifestEntry>> VerifyManifest(const fs::path& dir, std::string_view what) {
  ASSIGN_OR_RETURN(const std::string text, ReadManifest(dir, what));
  return VerifyManifestText(dir, text, what);
}

StatusOr<std::vector<ManifestEntry>> VerifyManifestText(const fs::path& dir,
                                                        std::string_view manifest_text,
                                                        std::string_view what) {
  const std::string prefix(what);
  ASSIGN_OR_RETURN(std::vector<ManifestEntry> entries, ParseManifest(manifest_text, what));
  ASSIGN_OR_RETURN(const std::vector<std::string> files, ListPackageFiles(dir));
  std::set<std::string> listed;
  for (const ManifestEntry& e : entries) listed.insert(e.path);
  for (const std::string& f : files) {
    if (listed.count(f) == 0) return DataLossError(prefix + ": " + f + ": not listed in MANIFEST");
  }
  for (const ManifestEntry& e : entries) {
    std::error_code ec;
    if (!fs::is_regular_file(dir / e.path, ec)) {
      return DataLossError(prefix + ": " + e.path + ": listed in MANIFEST but missing");
    }
    ASSIGN_OR_RETURN(const std::string actual, Sha256File(dir / e.path));
    if (actual != e.sha256) {
      return DataLossError(prefix + ": " + e.path + ": sha256 mismatch: expected " + e.sha256 +
                           " actual " + actual);
    }
  }
  return entries;
}

}  // namespace riskpipe::registry
