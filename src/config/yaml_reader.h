#pragma once
// Internal: strict reading of yaml-cpp nodes into typed values with "<file>:<line>: <path>:"
// errors. Tracks which keys of a map were read so unknown keys can be reported.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace riskpipe::config::internal {

class YamlMap {
 public:
  // `origin` is the file name used in messages; `path` the key path of this map ("sources[0]").
  YamlMap(const YAML::Node& node, std::string origin, std::string path);

  // InvalidArgument unless the node is a map.
  Status CheckIsMap() const;
  // Child node for `key` (null node when absent), marked as read.
  YAML::Node Get(const std::string& key);
  bool Has(const std::string& key) const { return node_[key].IsDefined(); }

  Status ReadString(const std::string& key, std::string& out, bool required);
  Status ReadBool(const std::string& key, bool& out);
  Status ReadDouble(const std::string& key, std::optional<double>& out);
  Status ReadStringList(const std::string& key, std::vector<std::string>& out);
  // A whole number >= `minimum` (and <= 1e12); the key may be absent (out is unchanged).
  Status ReadInt(const std::string& key, int64_t& out, int64_t minimum);
  // Error for the first key that was never read.
  Status CheckNoUnknownKeys() const;

  // "<origin>:<line>: <path>.<key>: <problem>", with the line of `at` (or of this map).
  // Error for a missing required key; when a key that was never read is a likely misspelling
  // of it (edit distance <= 2), the error names that key and its line instead.
  Status Missing(const std::string& key) const;
  Status Error(const std::string& key, const std::string& problem,
               const YAML::Node* at = nullptr) const;
  std::string ChildPath(const std::string& key) const;
  int line() const;
  const std::string& origin() const { return origin_; }

 private:
  YAML::Node node_;
  std::string origin_;
  std::string path_;
  std::set<std::string> read_;
};

// Parses one YAML document; InvalidArgument "<origin>:<line>: not valid YAML: ..." or
// "<origin>: the file is empty".
StatusOr<YAML::Node> LoadYamlDocument(std::string_view text, const std::string& origin);

// Line (1-based) of a node, 0 when unknown.
int LineOf(const YAML::Node& node);

}  // namespace riskpipe::config::internal
