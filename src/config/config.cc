#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "config/features_parse.h"
#include "config/model_parse.h"
#include "config/sections_parse.h"
#include "config/yaml_reader.h"
#include "core/files.h"

namespace riskpipe::config {
namespace {

using internal::YamlMap;
namespace fs = std::filesystem;

// Default salt for PII hashing when the project sets none. Documented as unfit for real
// data: a real project must set its own secret salt (pii_salt_env).
constexpr char kDefaultPiiSalt[] = "riskpipe-default-salt";

template <typename E>
struct Choice {
  const char* name;
  E value;
};

template <typename E, size_t N>
Status ParseChoice(YamlMap& m, const std::string& key, const YAML::Node& n,
                   const Choice<E> (&choices)[N], E& out) {
  const std::string s = n.IsScalar() ? n.Scalar() : std::string();
  std::string allowed;
  for (const auto& c : choices) {
    if (s == c.name) {
      out = c.value;
      return OkStatus();
    }
    allowed += (allowed.empty() ? "" : ", ") + std::string(c.name);
  }
  return m.Error(key, "\"" + s + "\" is not one of " + allowed, &n);
}

constexpr Choice<ColumnType> kTypes[] = {
    {"string", ColumnType::kString},     {"int", ColumnType::kInt},
    {"float", ColumnType::kFloat},       {"date", ColumnType::kDate},
    {"category", ColumnType::kCategory}, {"bool", ColumnType::kBool}};
constexpr Choice<Rule> kRules[] = {{"trim", Rule::kTrim},
                                   {"strip_underscores", Rule::kStripUnderscores},
                                   {"years_months_to_months", Rule::kYearsMonthsToMonths}};
constexpr Choice<OnInvalid> kOnInvalid[] = {{"null", OnInvalid::kNull},
                                            {"quarantine", OnInvalid::kQuarantine}};
constexpr Choice<Pii> kPii[] = {{"none", Pii::kNone}, {"drop", Pii::kDrop}, {"hash", Pii::kHash}};
constexpr Choice<DateFormat> kDateFormats[] = {{"iso", DateFormat::kIso},
                                               {"dmy", DateFormat::kDayMonthYear}};
constexpr Choice<ExtraColumns> kExtra[] = {{"error", ExtraColumns::kError},
                                           {"ignore", ExtraColumns::kIgnore}};

Status ReadDateBound(YamlMap& m, const std::string& key, std::optional<Date>& out) {
  const YAML::Node n = m.Get(key);
  if (!n.IsDefined() || n.IsNull()) return OkStatus();
  auto d = n.IsScalar() ? ParseIsoDate(n.Scalar()) : std::nullopt;
  if (!d) return m.Error(key, "expected a date YYYY-MM-DD", &n);
  out = *d;
  return OkStatus();
}

Status ParseColumn(const YAML::Node& node, const std::string& origin, const std::string& path,
                   Column& col) {
  YamlMap m(node, origin, path);
  RETURN_IF_ERROR(m.CheckIsMap());
  col.line = m.line();
  RETURN_IF_ERROR(m.ReadString("name", col.name, true));
  const YAML::Node type = m.Get("type");
  if (!type.IsDefined()) return m.Missing("type");
  RETURN_IF_ERROR(ParseChoice(m, "type", type, kTypes, col.type));
  RETURN_IF_ERROR(m.ReadString("description", col.description, false));
  RETURN_IF_ERROR(m.ReadBool("required", col.required));
  RETURN_IF_ERROR(m.ReadStringList("null_values", col.null_values));
  RETURN_IF_ERROR(m.ReadStringList("levels", col.levels));
  std::vector<std::string> names;
  RETURN_IF_ERROR(m.ReadStringList("rules", names));
  const YAML::Node rules = m.Get("rules");
  for (size_t i = 0; i < names.size(); ++i) {
    Rule r{};
    RETURN_IF_ERROR(ParseChoice(m, "rules[" + std::to_string(i) + "]", rules[i], kRules, r));
    col.rules.push_back(r);
  }
  if (col.type == ColumnType::kDate) {
    RETURN_IF_ERROR(ReadDateBound(m, "min", col.min_date));
    RETURN_IF_ERROR(ReadDateBound(m, "max", col.max_date));
    RETURN_IF_ERROR(m.ReadStringList("formats", names));
    const YAML::Node formats = m.Get("formats");
    if (formats.IsDefined()) {
      col.date_formats.clear();
      for (size_t i = 0; i < names.size(); ++i) {
        DateFormat f{};
        RETURN_IF_ERROR(
            ParseChoice(m, "formats[" + std::to_string(i) + "]", formats[i], kDateFormats, f));
        col.date_formats.push_back(f);
      }
      if (col.date_formats.empty()) return m.Error("formats", "needs at least one format");
    }
  } else {
    RETURN_IF_ERROR(m.ReadDouble("min", col.min));
    RETURN_IF_ERROR(m.ReadDouble("max", col.max));
    if (m.Has("formats")) return m.Error("formats", "only date columns take formats");
  }
  if (const YAML::Node n = m.Get("on_invalid"); n.IsDefined()) {
    RETURN_IF_ERROR(ParseChoice(m, "on_invalid", n, kOnInvalid, col.on_invalid));
  }
  if (const YAML::Node n = m.Get("pii"); n.IsDefined()) {
    RETURN_IF_ERROR(ParseChoice(m, "pii", n, kPii, col.pii));
  }
  if (col.type == ColumnType::kCategory && col.levels.empty()) {
    return m.Error("levels", "a category column needs its list of levels");
  }
  if (col.type != ColumnType::kCategory && !col.levels.empty()) {
    return m.Error("levels", "only category columns take levels");
  }
  if (col.min && col.max && *col.min > *col.max) return m.Error("min", "min is above max");
  return m.CheckNoUnknownKeys();
}

Status ParseSource(const YAML::Node& node, const std::string& origin, const std::string& path,
                   const fs::path& workspace, Source& src) {
  YamlMap m(node, origin, path);
  RETURN_IF_ERROR(m.CheckIsMap());
  src.line = m.line();
  RETURN_IF_ERROR(m.ReadString("name", src.name, true));
  RETURN_IF_ERROR(m.ReadString("description", src.description, false));
  std::string file;
  RETURN_IF_ERROR(m.ReadString("file", file, true));
  src.file = fs::path(file).is_absolute() ? fs::path(file) : workspace / file;
  RETURN_IF_ERROR(m.ReadStringList("keys", src.keys));
  RETURN_IF_ERROR(m.ReadString("date_column", src.date_column, true));
  std::string delimiter = ",";
  RETURN_IF_ERROR(m.ReadString("delimiter", delimiter, false));
  if (delimiter.size() != 1 || delimiter[0] == '"' || delimiter[0] == '\n') {
    return m.Error("delimiter", "must be one character other than a quote or newline");
  }
  src.delimiter = delimiter[0];
  if (const YAML::Node n = m.Get("extra_columns"); n.IsDefined()) {
    RETURN_IF_ERROR(ParseChoice(m, "extra_columns", n, kExtra, src.extra_columns));
  }
  const YAML::Node cols = m.Get("columns");
  if (!cols.IsDefined()) return m.Missing("columns");
  if (!cols.IsSequence() || cols.size() == 0) {
    return m.Error("columns", "expected a non-empty list of columns", &cols);
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < cols.size(); ++i) {
    Column col;
    RETURN_IF_ERROR(
        ParseColumn(cols[i], origin, m.ChildPath("columns[" + std::to_string(i) + "]"), col));
    if (!seen.insert(col.name).second) {
      const YAML::Node at = cols[i];
      return m.Error("columns[" + std::to_string(i) + "]",
                     "column \"" + col.name + "\" is declared twice", &at);
    }
    src.columns.push_back(std::move(col));
  }
  const Column* date_col = src.FindColumn(src.date_column);
  if (date_col == nullptr) {
    return m.Error("date_column", "\"" + src.date_column + "\" is not one of the columns");
  }
  if (date_col->type != ColumnType::kDate) {
    return m.Error("date_column", "\"" + src.date_column + "\" must have type date");
  }
  for (const std::string& k : src.keys) {
    const Column* c = src.FindColumn(k);
    if (c == nullptr) return m.Error("keys", "\"" + k + "\" is not one of the columns");
    if (c->pii == Pii::kDrop) return m.Error("keys", "\"" + k + "\" is dropped as PII");
  }
  return m.CheckNoUnknownKeys();
}

}  // namespace

std::string_view ColumnTypeName(ColumnType t) {
  for (const auto& c : kTypes) {
    if (c.value == t) return c.name;
  }
  return "?";
}

std::string_view RuleName(Rule r) {
  for (const auto& c : kRules) {
    if (c.value == r) return c.name;
  }
  return "?";
}

const Column* Source::FindColumn(std::string_view name) const {
  for (const Column& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const Source* Project::FindSource(std::string_view name) const {
  for (const Source& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<fs::path> Project::DataDirectories() const {
  std::vector<fs::path> dirs = {workspace.root(), config_path.parent_path(), expectations_dir};
  for (const Source& s : sources) dirs.push_back(s.file.parent_path());
  if (model && model->dataset) dirs.push_back(model->dataset->file.parent_path());
  std::vector<fs::path> out;
  for (const fs::path& d : dirs) {
    if (d.empty()) continue;
    const fs::path n = fs::absolute(d).lexically_normal();
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

StatusOr<Project> ParseProject(std::string_view yaml_text, const fs::path& origin) {
  const std::string name = origin.string();
  ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYamlDocument(yaml_text, name));
  YamlMap m(root, name, "");
  RETURN_IF_ERROR(m.CheckIsMap());
  Project p;
  p.config_path = fs::absolute(origin);
  RETURN_IF_ERROR(m.ReadString("project", p.name, true));
  std::string workspace;
  RETURN_IF_ERROR(m.ReadString("workspace", workspace, true));
  const fs::path base = p.config_path.parent_path();
  p.workspace = (fs::path(workspace).is_absolute() ? fs::path(workspace) : base / workspace)
                    .lexically_normal();
  std::string salt = kDefaultPiiSalt, salt_env;
  RETURN_IF_ERROR(m.ReadString("pii_salt", salt, false));
  RETURN_IF_ERROR(m.ReadString("pii_salt_env", salt_env, false));
  if (!salt_env.empty()) {
    if (const char* v = std::getenv(salt_env.c_str()); v != nullptr && *v != '\0') salt = v;
  }
  p.pii_salt = salt;
  std::string expectations = "expectations";
  RETURN_IF_ERROR(m.ReadString("expectations", expectations, false));
  p.expectations_dir =
      (fs::path(expectations).is_absolute() ? fs::path(expectations) : base / expectations)
          .lexically_normal();
  const YAML::Node sources = m.Get("sources");
  // A project that trains from one file (model.dataset) needs no sources.
  const bool dataset_only =
      !sources.IsDefined() && root["model"].IsMap() && root["model"]["dataset"].IsDefined();
  if (!sources.IsDefined() && !dataset_only) return m.Missing("sources");
  if (!dataset_only && (!sources.IsSequence() || sources.size() == 0)) {
    return m.Error("sources", "expected a non-empty list of sources", &sources);
  }
  for (size_t i = 0; !dataset_only && i < sources.size(); ++i) {
    Source s;
    RETURN_IF_ERROR(
        ParseSource(sources[i], name, "sources[" + std::to_string(i) + "]", p.workspace.root(), s));
    if (p.FindSource(s.name) != nullptr) {
      const YAML::Node at = sources[i];
      return m.Error("sources[" + std::to_string(i) + "]",
                     "source \"" + s.name + "\" is declared twice", &at);
    }
    p.sources.push_back(std::move(s));
  }
  if (const YAML::Node n = m.Get("label"); n.IsDefined() && !n.IsNull()) {
    LabelDef label;
    RETURN_IF_ERROR(internal::ParseLabel(n, name, p.sources, label));
    p.label = std::move(label);
  }
  if (const YAML::Node n = m.Get("features"); n.IsDefined() && !n.IsNull()) {
    RETURN_IF_ERROR(internal::ParseFeatures(n, name, p.sources, p.features));
  }
  if (const YAML::Node n = m.Get("model"); n.IsDefined() && !n.IsNull()) {
    ModelDef model;
    RETURN_IF_ERROR(internal::ParseModel(n, name, base, model));
    if (!model.dataset && !p.label) {
      return m.Error("model",
                     "training on the feature store needs a `label:` section "
                     "(or give model.dataset to train from one file)",
                     &n);
    }
    p.model = std::move(model);
  }
  if (const YAML::Node n = m.Get("validation"); n.IsDefined() && !n.IsNull()) {
    RETURN_IF_ERROR(internal::ParseValidation(n, name, p.validation));
  }
  if (const YAML::Node n = m.Get("governance"); n.IsDefined() && !n.IsNull()) {
    RETURN_IF_ERROR(internal::ParseGovernance(n, name, p.governance));
  }
  if (const YAML::Node n = m.Get("serving"); n.IsDefined() && !n.IsNull()) {
    RETURN_IF_ERROR(internal::ParseServing(n, name, p.serving));
  }
  if (const YAML::Node n = m.Get("pipeline"); n.IsDefined() && !n.IsNull()) {
    RETURN_IF_ERROR(internal::ParsePipeline(n, name, p.pipeline));
  }
  if (const YAML::Node n = m.Get("reason_codes"); n.IsDefined() && !n.IsNull()) {
    RETURN_IF_ERROR(internal::ParseReasonCodes(n, name, p.reason_codes));
  }
  RETURN_IF_ERROR(m.CheckNoUnknownKeys());
  return p;
}

StatusOr<Project> LoadProject(const fs::path& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFoundError("config " + path.string() +
                           " not found (pass --config PATH or run from a project folder)");
    }
    return text.status();
  }
  return ParseProject(*text, path);
}

}  // namespace riskpipe::config
