#include "config/expectations.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "config/yaml_reader.h"
#include "core/files.h"

namespace riskpipe::config {
namespace {

using internal::YamlMap;
namespace fs = std::filesystem;

struct KindInfo {
  const char* name;
  ExpectationKind kind;
  bool needs_column;
};
constexpr KindInfo kKinds[] = {
    {"row_count", ExpectationKind::kRowCount, false},
    {"null_rate", ExpectationKind::kNullRate, true},
    {"range", ExpectationKind::kRange, true},
    {"allowed_values", ExpectationKind::kAllowedValues, true},
    {"unique", ExpectationKind::kUnique, false},
    {"freshness", ExpectationKind::kFreshness, false},
    {"distribution", ExpectationKind::kDistribution, true},
};
constexpr const char* kLayers[] = {"bronze", "silver", "quarantine", "gold"};

std::string KindList() {
  std::string out;
  for (const auto& k : kKinds) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

Status ReadFraction(YamlMap& m, const std::string& key, std::optional<double>& out) {
  RETURN_IF_ERROR(m.ReadDouble(key, out));
  if (out && (*out < 0 || *out > 1)) {
    const YAML::Node n = m.Get(key);
    return m.Error(key, "must be a fraction between 0 and 1", &n);
  }
  return OkStatus();
}

Status ReadMonth(YamlMap& m, const std::string& key, Month& out) {
  const YAML::Node n = m.Get(key);
  if (!n.IsDefined() || n.IsNull()) return m.Missing(key);
  auto month = n.IsScalar() ? Month::Parse(n.Scalar()) : StatusOr<Month>(InvalidArgumentError(""));
  if (!month.ok()) return m.Error(key, "expected a month YYYY-MM", &n);
  out = *month;
  return OkStatus();
}

Status ReadReference(YamlMap& parent, const std::string& origin, Expectation& e) {
  const YAML::Node n = parent.Get("reference");
  if (!n.IsDefined() || n.IsNull()) return parent.Missing("reference");
  YamlMap m(n, origin, parent.ChildPath("reference"));
  RETURN_IF_ERROR(m.CheckIsMap());
  RETURN_IF_ERROR(ReadMonth(m, "from", e.reference_from));
  RETURN_IF_ERROR(ReadMonth(m, "to", e.reference_to));
  if (e.reference_to < e.reference_from) return m.Error("to", "is before from");
  return m.CheckNoUnknownKeys();
}

// The parameters each kind takes, beyond name/kind/column/expression/severity/rationale.
Status ReadKindParams(YamlMap& m, const std::string& origin, Expectation& e) {
  switch (e.kind) {
    case ExpectationKind::kRowCount:
      RETURN_IF_ERROR(m.ReadDouble("min", e.min));
      RETURN_IF_ERROR(m.ReadDouble("max", e.max));
      if (!e.min && !e.max) return m.Error("", "row_count needs min, max or both");
      break;
    case ExpectationKind::kNullRate: {
      RETURN_IF_ERROR(ReadFraction(m, "max", e.max));
      if (!e.max) return m.Missing("max");
      RETURN_IF_ERROR(m.ReadString("by", e.by, false));
      RETURN_IF_ERROR(m.ReadInt("min_segment_rows", e.min_segment_rows, 1));
      if (m.Has("min_segment_rows") && e.by.empty()) {
        return m.Error("min_segment_rows", "only applies with by: <segment column>");
      }
      break;
    }
    case ExpectationKind::kRange: {
      RETURN_IF_ERROR(m.ReadDouble("min", e.min));
      RETURN_IF_ERROR(m.ReadDouble("max", e.max));
      if (!e.min && !e.max) return m.Error("", "range needs min, max or both");
      if (e.min && e.max && *e.min > *e.max) return m.Error("min", "min is above max");
      std::optional<double> mostly;
      RETURN_IF_ERROR(ReadFraction(m, "mostly", mostly));
      e.mostly = mostly.value_or(1.0);
      break;
    }
    case ExpectationKind::kAllowedValues: {
      RETURN_IF_ERROR(m.ReadStringList("values", e.values));
      if (e.values.empty()) return m.Error("values", "needs a non-empty list of values");
      std::optional<double> mostly;
      RETURN_IF_ERROR(ReadFraction(m, "mostly", mostly));
      e.mostly = mostly.value_or(1.0);
      break;
    }
    case ExpectationKind::kUnique:
      RETURN_IF_ERROR(m.ReadStringList("columns", e.columns));
      if (e.columns.empty()) return m.Error("columns", "needs the list of key columns");
      break;
    case ExpectationKind::kFreshness:
      break;
    case ExpectationKind::kDistribution: {
      RETURN_IF_ERROR(m.ReadDouble("psi_max", e.psi_max));
      RETURN_IF_ERROR(ReadFraction(m, "ks_pvalue_min", e.ks_pvalue_min));
      RETURN_IF_ERROR(ReadFraction(m, "chi2_pvalue_min", e.chi2_pvalue_min));
      if (!e.psi_max && !e.ks_pvalue_min && !e.chi2_pvalue_min) {
        return m.Error("", "distribution needs psi_max, ks_pvalue_min or chi2_pvalue_min");
      }
      if (e.ks_pvalue_min && e.chi2_pvalue_min) {
        return m.Error("chi2_pvalue_min",
                       "a column is either numeric (ks_pvalue_min) or categorical "
                       "(chi2_pvalue_min), not both");
      }
      if (e.psi_max && *e.psi_max < 0) return m.Error("psi_max", "must not be negative");
      int64_t bins = e.bins;
      RETURN_IF_ERROR(m.ReadInt("bins", bins, 2));
      e.bins = static_cast<int>(std::min<int64_t>(bins, 1000));
      RETURN_IF_ERROR(ReadReference(m, origin, e));
      break;
    }
  }
  return OkStatus();
}

Status ParseExpectation(const YAML::Node& node, const std::string& origin, const std::string& path,
                        Expectation& e) {
  YamlMap m(node, origin, path);
  RETURN_IF_ERROR(m.CheckIsMap());
  e.line = m.line();
  RETURN_IF_ERROR(m.ReadString("name", e.name, true));
  std::string kind;
  RETURN_IF_ERROR(m.ReadString("kind", kind, true));
  const KindInfo* info = nullptr;
  for (const auto& k : kKinds) {
    if (kind == k.name) info = &k;
  }
  if (info == nullptr) {
    const YAML::Node n = m.Get("kind");
    return m.Error("kind", "unknown kind \"" + kind + "\" (one of " + KindList() + ")", &n);
  }
  e.kind = info->kind;
  std::string severity;
  RETURN_IF_ERROR(m.ReadString("severity", severity, true));
  if (severity == "error") {
    e.severity = Severity::kError;
  } else if (severity == "warn") {
    e.severity = Severity::kWarn;
  } else {
    const YAML::Node n = m.Get("severity");
    return m.Error("severity", "\"" + severity + "\" is not one of error, warn", &n);
  }
  RETURN_IF_ERROR(m.ReadString("rationale", e.rationale, true));
  if (e.rationale.find_first_not_of(" \t\n") == std::string::npos) {
    const YAML::Node n = m.Get("rationale");
    return m.Error("rationale", "must say where the threshold comes from", &n);
  }
  RETURN_IF_ERROR(m.ReadString("column", e.column, false));
  RETURN_IF_ERROR(m.ReadString("expression", e.expression, false));
  if (info->needs_column && e.column.empty()) return m.Missing("column");
  if (!info->needs_column && (m.Has("column") || m.Has("expression"))) {
    return m.Error(m.Has("column") ? "column" : "expression",
                   std::string("a ") + info->name + " expectation takes no column");
  }
  RETURN_IF_ERROR(ReadKindParams(m, origin, e));
  // A key the kind did not read: name the kind, so "mostly on a null_rate" reads clearly.
  Status unknown = m.CheckNoUnknownKeys();
  if (!unknown.ok()) {
    return InvalidArgumentError(unknown.message() + " (not a key of kind " + info->name + ")");
  }
  return OkStatus();
}

}  // namespace

std::string_view ExpectationKindName(ExpectationKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

std::string_view SeverityName(Severity severity) {
  return severity == Severity::kError ? "error" : "warn";
}

fs::path SuiteFile(const fs::path& dir, std::string_view layer, std::string_view table) {
  return dir / (std::string(layer) + "." + std::string(table) + ".yaml");
}

StatusOr<ExpectationSuite> ParseExpectationSuite(std::string_view yaml_text,
                                                 const fs::path& origin) {
  const std::string name = origin.string();
  ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYamlDocument(yaml_text, name));
  YamlMap m(root, name, "");
  RETURN_IF_ERROR(m.CheckIsMap());
  ExpectationSuite suite;
  suite.file = origin;
  RETURN_IF_ERROR(m.ReadString("table", suite.table, true));
  RETURN_IF_ERROR(m.ReadString("layer", suite.layer, true));
  if (std::find_if(std::begin(kLayers), std::end(kLayers),
                   [&](const char* l) { return suite.layer == l; }) == std::end(kLayers)) {
    const YAML::Node n = m.Get("layer");
    return m.Error("layer", "\"" + suite.layer + "\" is not one of bronze, silver, quarantine, gold",
                   &n);
  }
  const YAML::Node list = m.Get("expectations");
  if (!list.IsDefined()) return m.Missing("expectations");
  if (!list.IsSequence() || list.size() == 0) {
    return m.Error("expectations", "expected a non-empty list of expectations", &list);
  }
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    Expectation e;
    const std::string path = "expectations[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(ParseExpectation(list[i], name, path, e));
    if (!names.insert(e.name).second) {
      const YAML::Node at = list[i];
      return m.Error(path, "expectation \"" + e.name + "\" is declared twice", &at);
    }
    suite.expectations.push_back(std::move(e));
  }
  RETURN_IF_ERROR(m.CheckNoUnknownKeys());
  return suite;
}

StatusOr<ExpectationSuite> LoadExpectationSuite(const fs::path& file) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  ASSIGN_OR_RETURN(ExpectationSuite suite, ParseExpectationSuite(text, file));
  const std::string expected = suite.layer + "." + suite.table + ".yaml";
  if (file.filename().string() != expected) {
    return InvalidArgumentError(file.string() + ": a suite for " + suite.layer + "/" +
                                suite.table + " must be named " + expected);
  }
  return suite;
}

StatusOr<std::vector<ExpectationSuite>> LoadExpectationSuites(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (it->path().extension() == ".yaml" && it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::vector<ExpectationSuite> suites;
  for (const fs::path& f : files) {
    ASSIGN_OR_RETURN(ExpectationSuite s, LoadExpectationSuite(f));
    suites.push_back(std::move(s));
  }
  return suites;
}

}  // namespace riskpipe::config
