// Parsing of the `label:` and `features:` sections (config/features.h). Column references are
// checked against the silver schema of the named source, and feature expressions get a
// lexical check (balanced quotes and parentheses, every bare identifier a column, a function
// or an SQL keyword), so typos fail at load time with the view and feature named. The
// features module additionally compiles every expression with DuckDB before it runs.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string>

#include "config/config.h"
#include "config/features_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config::internal {
namespace {

// SQL words a feature expression may use that are not columns.
const std::set<std::string>& Keywords() {
  static const std::set<std::string> k = {
      "and", "or", "not", "null", "is", "in", "between", "like", "ilike", "case", "when", "then",
      "else", "end", "cast", "as", "try_cast", "true", "false", "interval", "day", "days",
      "month", "months", "year", "years", "distinct", "filter", "where", "integer", "int",
      "bigint", "double", "float", "varchar", "date", "boolean", "decimal", "over", "partition",
      "by", "order", "asc", "desc", "nulls", "first", "last", "similar", "to", "escape",
      "decision_date"};
  return k;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "" when `expr` passes the lexical check, else the problem.
std::string CheckExpression(const std::string& expr, const std::set<std::string>& columns) {
  if (expr.empty()) return "the expression is empty";
  int depth = 0;
  for (size_t i = 0; i < expr.size();) {
    const char c = expr[i];
    if (c == '\'') {
      const size_t close = expr.find('\'', i + 1);
      if (close == std::string::npos) return "unterminated string literal";
      i = close + 1;
    } else if (c == '"') {
      const size_t close = expr.find('"', i + 1);
      if (close == std::string::npos) return "unterminated quoted identifier";
      const std::string name = expr.substr(i + 1, close - i - 1);
      if (columns.count(name) == 0) return "\"" + name + "\" is not a column of the source";
      i = close + 1;
    } else if (c == '(') {
      ++depth;
      ++i;
    } else if (c == ')') {
      if (--depth < 0) return "unbalanced ')'";
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < expr.size() &&
             (std::isalnum(static_cast<unsigned char>(expr[j])) || expr[j] == '_')) {
        ++j;
      }
      const std::string word = expr.substr(i, j - i);
      size_t k = j;
      while (k < expr.size() && std::isspace(static_cast<unsigned char>(expr[k]))) ++k;
      const bool is_call = k < expr.size() && expr[k] == '(';
      if (!is_call && columns.count(word) == 0 && Keywords().count(Lower(word)) == 0) {
        return "\"" + word + "\" is not a column of the source";
      }
      i = j;
    } else {
      ++i;
    }
  }
  if (depth != 0) return "unbalanced '('";
  return "";
}

// An int field read through YamlMap::ReadInt.
Status ReadInt(YamlMap& m, const std::string& key, int& out, int min_value) {
  int64_t v = out;
  RETURN_IF_ERROR(m.ReadInt(key, v, min_value));
  if (v > 1000000) return m.Error(key, "must be at most 1000000");
  out = static_cast<int>(v);
  return OkStatus();
}

const Source* RequireSource(YamlMap& m, const std::string& key, const std::string& name,
                            const std::vector<Source>& sources, Status& error) {
  for (const Source& s : sources) {
    if (s.name == name) return &s;
  }
  error = m.Error(key, "\"" + name + "\" is not one of the sources");
  return nullptr;
}

Status RequireColumn(YamlMap& m, const std::string& key, const std::string& column,
                     const Source& source, bool must_be_date) {
  const std::set<std::string> cols = SilverColumns(source);
  if (cols.count(column) == 0) {
    return m.Error(key, "\"" + column + "\" is not a column of source " + source.name);
  }
  if (must_be_date && column != "snapshot_date") {
    const Column* c = source.FindColumn(column);
    if (c == nullptr || c->type != ColumnType::kDate) {
      return m.Error(key, "\"" + column + "\" must be a date column");
    }
  }
  return OkStatus();
}

constexpr std::pair<const char*, ViewKind> kViewKinds[] = {
    {"spine", ViewKind::kSpine}, {"latest", ViewKind::kLatest}, {"aggregate", ViewKind::kAggregate}};

Status ParseView(const YAML::Node& node, const std::string& origin, const std::string& path,
                 const std::vector<Source>& sources, const Spine& spine, FeatureView& view,
                 std::set<std::string>& feature_names) {
  YamlMap m(node, origin, path);
  RETURN_IF_ERROR(m.CheckIsMap());
  view.line = m.line();
  RETURN_IF_ERROR(m.ReadString("name", view.name, true));
  RETURN_IF_ERROR(m.ReadString("description", view.description, false));
  std::string kind;
  RETURN_IF_ERROR(m.ReadString("kind", kind, true));
  bool found = false;
  for (const auto& [name, value] : kViewKinds) {
    if (kind == name) {
      view.kind = value;
      found = true;
    }
  }
  if (!found) return m.Error("kind", "\"" + kind + "\" is not one of spine, latest, aggregate");
  Status error;
  const Source* source = nullptr;
  if (view.kind == ViewKind::kSpine) {
    view.source = spine.source;
    view.entity = spine.entity;
    view.event_time = spine.date;
    if (m.Has("source") || m.Has("event_time") || m.Has("entity")) {
      return m.Error("source", "a spine view reads the spine's own row; it takes no source");
    }
    source = RequireSource(m, "source", view.source, sources, error);
  } else {
    RETURN_IF_ERROR(m.ReadString("source", view.source, true));
    source = RequireSource(m, "source", view.source, sources, error);
    if (source == nullptr) return error;
    view.entity = spine.entity;
    RETURN_IF_ERROR(m.ReadString("entity", view.entity, false));
    RETURN_IF_ERROR(RequireColumn(m, "entity", view.entity, *source, false));
    RETURN_IF_ERROR(m.ReadString("event_time", view.event_time, true));
    RETURN_IF_ERROR(RequireColumn(m, "event_time", view.event_time, *source, true));
  }
  if (source == nullptr) return error;
  if (view.kind == ViewKind::kLatest) {
    RETURN_IF_ERROR(ReadInt(m, "max_age_days", view.max_age_days, 0));
  }
  if (view.kind == ViewKind::kAggregate) {
    RETURN_IF_ERROR(ReadInt(m, "window_days", view.window_days, 0));
    RETURN_IF_ERROR(m.ReadBool("strict", view.strict));
  }
  const std::set<std::string> columns = SilverColumns(*source);
  const YAML::Node feats = m.Get("features");
  if (!feats.IsDefined()) return m.Missing("features");
  if (!feats.IsSequence() || feats.size() == 0) {
    return m.Error("features", "expected a non-empty list of features", &feats);
  }
  for (size_t i = 0; i < feats.size(); ++i) {
    YamlMap f(feats[i], origin, m.ChildPath("features[" + std::to_string(i) + "]"));
    RETURN_IF_ERROR(f.CheckIsMap());
    Feature feature;
    feature.line = f.line();
    RETURN_IF_ERROR(f.ReadString("name", feature.name, true));
    RETURN_IF_ERROR(f.ReadString("expr", feature.expr, true));
    RETURN_IF_ERROR(f.ReadString("description", feature.description, false));
    RETURN_IF_ERROR(f.CheckNoUnknownKeys());
    if (!feature_names.insert(feature.name).second) {
      return f.Error("name", "feature \"" + feature.name + "\" is declared twice");
    }
    const std::string problem = CheckExpression(feature.expr, columns);
    if (!problem.empty()) {
      return f.Error("expr", "feature view \"" + view.name + "\", feature \"" + feature.name +
                                 "\": " + problem);
    }
    view.features.push_back(std::move(feature));
  }
  return m.CheckNoUnknownKeys();
}

}  // namespace

}  // namespace riskpipe::config::internal

namespace riskpipe::config {

std::set<std::string> SilverColumns(const Source& source) {
  std::set<std::string> cols = {"snapshot_date"};
  for (const Column& c : source.columns) {
    if (c.pii == Pii::kDrop) continue;
    cols.insert(c.pii == Pii::kHash ? c.name + "_sha256" : c.name);
  }
  return cols;
}

}  // namespace riskpipe::config

namespace riskpipe::config::internal {

Status ParseLabel(const YAML::Node& node, const std::string& origin,
                  const std::vector<Source>& sources, LabelDef& label) {
  YamlMap m(node, origin, "label");
  RETURN_IF_ERROR(m.CheckIsMap());
  label.line = m.line();
  RETURN_IF_ERROR(m.ReadString("name", label.name, true));
  std::string kind;
  RETURN_IF_ERROR(m.ReadString("kind", kind, true));
  if (kind == "dpd") {
    label.kind = LabelKind::kDpd;
  } else if (kind == "outcome") {
    label.kind = LabelKind::kOutcome;
  } else {
    return m.Error("kind", "\"" + kind + "\" is not one of dpd, outcome");
  }
  RETURN_IF_ERROR(m.ReadString("source", label.source, true));
  Status error;
  const Source* source = RequireSource(m, "source", label.source, sources, error);
  if (source == nullptr) return error;
  RETURN_IF_ERROR(m.ReadString("entity", label.entity, true));
  RETURN_IF_ERROR(RequireColumn(m, "entity", label.entity, *source, false));
  RETURN_IF_ERROR(m.ReadString("loan_key", label.loan_key, true));
  RETURN_IF_ERROR(RequireColumn(m, "loan_key", label.loan_key, *source, false));
  RETURN_IF_ERROR(m.ReadString("application_date", label.application_date, true));
  RETURN_IF_ERROR(RequireColumn(m, "application_date", label.application_date, *source, true));
  if (label.kind == LabelKind::kDpd) {
    RETURN_IF_ERROR(ReadInt(m, "mob", label.mob, 1));
    RETURN_IF_ERROR(ReadInt(m, "dpd", label.dpd, 1));
    RETURN_IF_ERROR(m.ReadString("installment_column", label.installment_column, false));
    RETURN_IF_ERROR(m.ReadString("due_column", label.due_column, false));
    RETURN_IF_ERROR(m.ReadString("overdue_column", label.overdue_column, false));
    RETURN_IF_ERROR(RequireColumn(m, "installment_column", label.installment_column, *source, false));
    RETURN_IF_ERROR(RequireColumn(m, "due_column", label.due_column, *source, false));
    RETURN_IF_ERROR(RequireColumn(m, "overdue_column", label.overdue_column, *source, false));
    if (m.Has("outcome_column")) return m.Error("outcome_column", "only for kind: outcome");
  } else {
    RETURN_IF_ERROR(m.ReadString("outcome_column", label.outcome_column, true));
    RETURN_IF_ERROR(RequireColumn(m, "outcome_column", label.outcome_column, *source, false));
    if (!m.Has("outcome_window_days")) return m.Missing("outcome_window_days");
    RETURN_IF_ERROR(ReadInt(m, "outcome_window_days", label.outcome_window_days, 0));
  }
  return m.CheckNoUnknownKeys();
}

Status ParseFeatures(const YAML::Node& node, const std::string& origin,
                     const std::vector<Source>& sources, FeatureSet& features) {
  YamlMap m(node, origin, "features");
  RETURN_IF_ERROR(m.CheckIsMap());
  RETURN_IF_ERROR(m.ReadString("version", features.version, false));
  const YAML::Node spine_node = m.Get("spine");
  if (!spine_node.IsDefined()) return m.Missing("spine");
  {
    YamlMap s(spine_node, origin, "features.spine");
    RETURN_IF_ERROR(s.CheckIsMap());
    Spine& spine = features.spine;
    spine.line = s.line();
    RETURN_IF_ERROR(s.ReadString("source", spine.source, true));
    Status error;
    const Source* source = RequireSource(s, "source", spine.source, sources, error);
    if (source == nullptr) return error;
    RETURN_IF_ERROR(s.ReadString("key", spine.key, true));
    RETURN_IF_ERROR(RequireColumn(s, "key", spine.key, *source, false));
    RETURN_IF_ERROR(s.ReadString("entity", spine.entity, true));
    RETURN_IF_ERROR(RequireColumn(s, "entity", spine.entity, *source, false));
    RETURN_IF_ERROR(s.ReadString("date", spine.date, true));
    RETURN_IF_ERROR(RequireColumn(s, "date", spine.date, *source, true));
    RETURN_IF_ERROR(s.ReadString("where", spine.where, false));
    if (!spine.where.empty()) {
      const std::string problem = CheckExpression(spine.where, SilverColumns(*source));
      if (!problem.empty()) return s.Error("where", problem);
    }
    RETURN_IF_ERROR(s.CheckNoUnknownKeys());
  }
  const YAML::Node views = m.Get("views");
  if (!views.IsDefined()) return m.Missing("views");
  if (!views.IsSequence() || views.size() == 0) {
    return m.Error("views", "expected a non-empty list of feature views", &views);
  }
  std::set<std::string> view_names, feature_names;
  for (size_t i = 0; i < views.size(); ++i) {
    FeatureView view;
    RETURN_IF_ERROR(ParseView(views[i], origin, "features.views[" + std::to_string(i) + "]",
                              sources, features.spine, view, feature_names));
    if (!view_names.insert(view.name).second) {
      const YAML::Node at = views[i];
      return m.Error("views[" + std::to_string(i) + "]",
                     "feature view \"" + view.name + "\" is declared twice", &at);
    }
    features.views.push_back(std::move(view));
  }
  return m.CheckNoUnknownKeys();
}

}  // namespace riskpipe::config::internal
