#include "config/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

namespace riskpipe::config::internal {

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const YAML::Mark m = node.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

YamlMap::YamlMap(const YAML::Node& node, std::string origin, std::string path)
    : node_(node), origin_(std::move(origin)), path_(std::move(path)) {}

int YamlMap::line() const { return LineOf(node_); }

std::string YamlMap::ChildPath(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

Status YamlMap::Error(const std::string& key, const std::string& problem,
                      const YAML::Node* at) const {
  const int line = at != nullptr && LineOf(*at) > 0 ? LineOf(*at) : this->line();
  const std::string where = key.empty() ? (path_.empty() ? "(top level)" : path_) : ChildPath(key);
  return InvalidArgumentError(origin_ + ":" + std::to_string(line) + ": " + where + ": " + problem);
}

namespace {
// Levenshtein distance, for "did you mean" hints on short keys.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

Status YamlMap::Missing(const std::string& key) const {
  if (node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const std::string other = it->first.Scalar();
      if (read_.count(other) == 0 && EditDistance(other, key) <= 2) {
        return Error(other, "unknown key (did you mean \"" + key + "\"? see docs/config.md)",
                     &it->first);
      }
    }
  }
  return Error(key, "required key is missing");
}

Status YamlMap::CheckIsMap() const {
  if (!node_.IsMap()) return Error("", "expected a mapping of keys to values", &node_);
  return OkStatus();
}

YAML::Node YamlMap::Get(const std::string& key) {
  read_.insert(key);
  return node_[key];
}

Status YamlMap::ReadString(const std::string& key, std::string& out, bool required) {
  const YAML::Node n = Get(key);
  if (!n.IsDefined() || n.IsNull()) {
    if (required) return Missing(key);
    return OkStatus();
  }
  if (!n.IsScalar()) return Error(key, "expected a text value", &n);
  out = n.Scalar();
  return OkStatus();
}

Status YamlMap::ReadBool(const std::string& key, bool& out) {
  const YAML::Node n = Get(key);
  if (!n.IsDefined() || n.IsNull()) return OkStatus();
  const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
  if (s == "true" || s == "yes") {
    out = true;
  } else if (s == "false" || s == "no") {
    out = false;
  } else {
    return Error(key, "expected true or false", &n);
  }
  return OkStatus();
}

Status YamlMap::ReadDouble(const std::string& key, std::optional<double>& out) {
  const YAML::Node n = Get(key);
  if (!n.IsDefined() || n.IsNull()) return OkStatus();
  if (!n.IsScalar()) return Error(key, "expected a number", &n);
  try {
    size_t used = 0;
    const double v = std::stod(n.Scalar(), &used);
    if (used != n.Scalar().size()) throw std::invalid_argument("trailing");
    out = v;
  } catch (const std::exception&) {
    return Error(key, "\"" + n.Scalar() + "\" is not a number", &n);
  }
  return OkStatus();
}

Status YamlMap::ReadStringList(const std::string& key, std::vector<std::string>& out) {
  const YAML::Node n = Get(key);
  if (!n.IsDefined() || n.IsNull()) return OkStatus();
  if (!n.IsSequence()) return Error(key, "expected a list", &n);
  out.clear();
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) {
      return Error(key + "[" + std::to_string(i) + "]", "expected a text value", &n);
    }
    out.push_back(n[i].Scalar());
  }
  return OkStatus();
}

Status YamlMap::ReadInt(const std::string& key, int64_t& out, int64_t minimum) {
  std::optional<double> v;
  RETURN_IF_ERROR(ReadDouble(key, v));
  if (!v) return OkStatus();
  if (*v != std::floor(*v) || *v < static_cast<double>(minimum) || *v > 1e12) {
    const YAML::Node n = node_[key];
    return Error(key, "must be a whole number >= " + std::to_string(minimum), &n);
  }
  out = static_cast<int64_t>(*v);
  return OkStatus();
}

namespace {

// yaml-cpp keeps every entry of a mapping that repeats a key, and lookups then see only one of
// them: a file that says `project:` twice would silently mean one of the two. Refused instead,
// naming both lines.
// `budget` bounds the walk: aliases share nodes, so a small file can expand to billions.
Status CheckNoDuplicateKeys(const YAML::Node& node, const std::string& origin, int depth,
                            int64_t& budget) {
  if (--budget < 0) {
    return InvalidArgumentError(origin + ": more than 1000000 YAML nodes (after aliases)");
  }
  if (depth > 100) {
    return InvalidArgumentError(origin + ":" + std::to_string(node.Mark().line + 1) +
                                ": nested more than 100 levels deep");
  }
  if (node.IsSequence()) {
    for (const YAML::Node& child : node) {
      RETURN_IF_ERROR(CheckNoDuplicateKeys(child, origin, depth + 1, budget));
    }
  } else if (node.IsMap()) {
    std::map<std::string, int> first_line;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const int line = it->first.Mark().line + 1;
      if (it->first.IsScalar()) {
        const auto [seen, inserted] = first_line.emplace(it->first.Scalar(), line);
        if (!inserted) {
          return InvalidArgumentError(origin + ":" + std::to_string(line) + ": key \"" +
                                      Excerpt(it->first.Scalar(), 100) +
                                      "\" is given twice (first on line " +
                                      std::to_string(seen->second) + ")");
        }
      }
      RETURN_IF_ERROR(CheckNoDuplicateKeys(it->second, origin, depth + 1, budget));
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<YAML::Node> LoadYamlDocument(std::string_view text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(origin + ":" + std::to_string(e.mark.line + 1) +
                                ": not valid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) return InvalidArgumentError(origin + ": the file is empty");
  int64_t budget = 1000000;
  RETURN_IF_ERROR(CheckNoDuplicateKeys(root, origin, 0, budget));
  return root;
}

Status YamlMap::CheckNoUnknownKeys() const {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (read_.count(key) == 0) {
      return Error(key, "unknown key (check the spelling; see docs/config.md)", &it->first);
    }
  }
  return OkStatus();
}

}  // namespace riskpipe::config::internal
