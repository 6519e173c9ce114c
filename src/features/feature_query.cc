#include "features/feature_query.h"

#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "db/expression_check.h"

namespace riskpipe::features {
namespace {

using config::FeatureView;
using config::ViewKind;
using db::QuoteIdent;
using db::QuoteLiteral;

// Built by append: GCC 12 at -O3 reports a false -Wrestrict on "v" + std::to_string(i).
std::string Cte(size_t i, const char* what) {
  std::string name = "v";
  name += std::to_string(i);
  name += '_';
  name += what;
  return name;
}

std::string AsofColumn(const FeatureView& v) { return "_asof_" + v.name; }

// The entity's source rows with the view's join keys: _e (entity) and _t (event time). Only
// the columns the view's expressions name are read (every column when `all_columns`, for
// validation): joins carry whatever the source relation has, and silver tables also hold
// lineage columns (_source_file, _line) and hashed PII that no feature reads.
StatusOr<std::string> SourceSql(const config::Project& project, const datamart::Datamart& mart,
                                const FeatureView& v, bool all_columns = false) {
  auto read = mart.ReadSql(datamart::Layer::kSilver, v.source);
  if (!read.ok()) {
    return NotFoundError("feature view \"" + v.name + "\": " + read.status().message() +
                         " (run `riskpipe ingest` first)");
  }
  std::string cols = all_columns ? "*, " : "";
  if (!all_columns) {
    for (const std::string& c : ColumnsUsed(project, v.source, v.features)) {
      cols += QuoteIdent(c) + ", ";
    }
  }
  return "SELECT " + cols + QuoteIdent(v.entity) + " AS _e, " + QuoteIdent(v.event_time) +
         " AS _t FROM " + *read + " WHERE " + DatedRowsCondition();
}

std::string FeatureList(const FeatureView& v) {
  std::string out;
  for (const auto& f : v.features) {
    out += ", (" + f.expr + ") AS " + QuoteIdent(f.name);
  }
  return out;
}

// Bare and double-quoted identifiers of an SQL expression (string literals skipped). A superset
// of the columns it references: function names and keywords come along, and are filtered by the
// caller against the real column names.
std::set<std::string> IdentifiersIn(const std::string& expr) {
  std::set<std::string> out;
  for (size_t i = 0; i < expr.size();) {
    const char c = expr[i];
    if (c == '\'') {
      const size_t close = expr.find('\'', i + 1);
      i = close == std::string::npos ? expr.size() : close + 1;
    } else if (c == '"') {
      const size_t close = expr.find('"', i + 1);
      if (close == std::string::npos) break;
      out.insert(expr.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < expr.size() &&
             (std::isalnum(static_cast<unsigned char>(expr[j])) || expr[j] == '_')) {
        ++j;
      }
      out.insert(expr.substr(i, j - i));
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

// The window-function form of an aggregate view applies when the view aggregates the spine's
// own source over the same entity and date, and every feature is one plain aggregate call
// (count/sum/avg/min/max of a column or *): then each spine row's window is a window frame.
bool WindowEligible(const FeatureView& v, const config::Spine& spine) {
  if (v.kind != ViewKind::kAggregate || v.source != spine.source || v.entity != spine.entity ||
      v.event_time != spine.date) {
    return false;
  }
  static const std::regex plain(
      R"(^\s*(count|sum|avg|min|max)\s*\(\s*(\*|[A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$)",
      std::regex::icase);
  for (const auto& f : v.features) {
    if (!std::regex_match(f.expr, plain)) return false;
  }
  return true;
}

// The argument of a plain aggregate call ("loan_amount" of "avg(loan_amount)", "*").
std::string AggregateArgument(const std::string& expr) {
  const size_t open = expr.find('('), close = expr.rfind(')');
  std::string arg = expr.substr(open + 1, close - open - 1);
  arg.erase(0, arg.find_first_not_of(" \t"));
  arg.erase(arg.find_last_not_of(" \t") + 1);
  return arg;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The frame of a window-eligible view, by event time: [D - window, D], or up to the day before
// D when strict. Event times and decision dates are DATEs (the config requires date columns), so
// offsets are whole days: DATE - n stays a DATE, where DATE - INTERVAL would cast every row to
// TIMESTAMP (measured: the Kueski window 17% and the 92-day clickstream join 25% slower).
std::string WindowRange(const FeatureView& v) {
  const std::string lower =
      v.window_days > 0 ? std::to_string(v.window_days) + " PRECEDING" : "UNBOUNDED PRECEDING";
  const std::string upper = v.strict ? "1 PRECEDING" : "CURRENT ROW";
  return " RANGE BETWEEN " + lower + " AND " + upper;
}

std::string WindowFrame(const FeatureView& v) {
  return "PARTITION BY _e ORDER BY _t" + WindowRange(v);
}

// The window columns of a window-eligible view over the named window: _asof_<view> and every
// feature ("count(x)" -> "count(x) OVER w": the expression is one aggregate call).
std::string WindowColumns(const FeatureView& v, const std::string& window) {
  std::string cols = "max(_t) OVER " + window + " AS " + QuoteIdent(AsofColumn(v));
  for (const auto& f : v.features) {
    cols += ", " + f.expr + " OVER " + window + " AS " + QuoteIdent(f.name);
  }
  return cols;
}

}  // namespace

std::vector<std::string> ColumnsUsed(const config::Project& project, const std::string& source,
                                     const std::vector<config::Feature>& features) {
  const config::Source* src = project.FindSource(source);
  if (src == nullptr) return {};
  // DuckDB matches identifiers case-insensitively; the declared spelling is kept.
  std::map<std::string, std::string> by_lower;
  for (const std::string& c : config::SilverColumns(*src)) by_lower.emplace(Lower(c), c);
  std::set<std::string> used;
  for (const auto& f : features) {
    for (const std::string& id : IdentifiersIn(f.expr)) {
      if (auto it = by_lower.find(Lower(id)); it != by_lower.end()) used.insert(it->second);
    }
  }
  return {used.begin(), used.end()};
}

std::vector<std::string> SpineColumnsUsed(const config::Project& project) {
  const config::Spine& spine = project.features.spine;
  std::vector<config::Feature> features;
  for (const FeatureView& v : project.features.views) {
    if (v.kind != ViewKind::kSpine) continue;
    features.insert(features.end(), v.features.begin(), v.features.end());
  }
  std::set<std::string> cols = {spine.key, spine.entity};
  for (const std::string& c : ColumnsUsed(project, spine.source, features)) {
    if (Lower(c) != Lower(spine.key) && Lower(c) != Lower(spine.entity)) cols.insert(c);
  }
  return {cols.begin(), cols.end()};
}

bool UniqueByEntityAndTime(const config::Project& project, const config::FeatureView& v) {
  const config::Source* src = project.FindSource(v.source);
  if (src == nullptr || src->keys.empty()) return false;
  for (const std::string& k : src->keys) {
    if (k != v.entity && k != v.event_time) return false;
  }
  return true;
}

std::string DatedRowsCondition() {
  return std::string(datamart::kPartitionColumn) + " > DATE '" +
         datamart::UndatedPartition().ToString() + "'";
}

FeatureSchema SchemaOf(const config::FeatureSet& set) {
  FeatureSchema s;
  s.key = set.spine.key;
  s.entity = set.spine.entity;
  for (const auto& v : set.views) {
    for (const auto& f : v.features) s.features.push_back(f.name);
    if (v.kind != ViewKind::kSpine) s.audit_columns.push_back(AsofColumn(v));
  }
  return s;
}

Status CheckFeatureSet(const config::Project& project) {
  const config::FeatureSet& set = project.features;
  if (!set.defined()) {
    return FailedPreconditionError(project.config_path.string() +
                                   ": no `features:` section (see docs/features.md)");
  }
  const std::set<std::string> reserved = {set.spine.key, set.spine.entity, kDecisionDate};
  if (!set.spine.where.empty()) {
    const config::Source* src = project.FindSource(set.spine.source);
    if (src == nullptr) {
      return InvalidArgumentError(project.config_path.string() + ": features.spine: unknown source " +
                                  set.spine.source);
    }
    db::ExpressionRules rules;
    rules.columns = config::SilverColumns(*src);
    if (Status s = db::CheckExpression(set.spine.where, rules); !s.ok()) {
      return InvalidArgumentError(project.config_path.string() + ":" +
                                  std::to_string(set.spine.line) +
                                  ": features.spine.where: " + s.message());
    }
  }
  for (const FeatureView& v : set.views) {
    const std::string where = project.config_path.string() + ":" + std::to_string(v.line) +
                              ": feature view \"" + v.name + "\": ";
    for (const auto& f : v.features) {
      if (reserved.count(f.name) != 0 || f.name.rfind("_asof_", 0) == 0) {
        return InvalidArgumentError(where + "feature name \"" + f.name +
                                    "\" is reserved (key, entity, decision_date or _asof_*)");
      }
    }
    const config::Source* src = project.FindSource(v.source);
    if (src == nullptr) return InvalidArgumentError(where + "unknown source " + v.source);
    // Project SQL is parsed, not trusted (db/expression_check.h).
    db::ExpressionRules rules;
    rules.columns = config::SilverColumns(*src);
    rules.columns.insert(kDecisionDate);
    for (const auto& f : v.features) {
      if (Status s = db::CheckExpression(f.expr, rules); !s.ok()) {
        return InvalidArgumentError(project.config_path.string() + ":" + std::to_string(f.line) +
                                    ": feature view \"" + v.name + "\", feature \"" + f.name +
                                    "\": expr: " + s.message());
      }
    }
    if (v.kind == ViewKind::kSpine) continue;
    if (v.event_time == datamart::kPartitionColumn &&
        src->date_column != datamart::kPartitionColumn) {
      return InvalidArgumentError(
          where +
          "event_time snapshot_date is the first day of the partition month, earlier "
          "than the rows' own date (" +
          src->date_column +
          "): rows dated after a decision date in the same month would reach its features. "
          "Use event_time: " +
          src->date_column);
    }
  }
  return OkStatus();
}

StatusOr<std::string> SpineSql(const config::Project& project, const datamart::Datamart& mart,
                               const Date* from, const Date* to) {
  const config::Spine& spine = project.features.spine;
  auto read = mart.ReadSql(datamart::Layer::kSilver, spine.source);
  if (!read.ok()) {
    return NotFoundError("feature spine: " + read.status().message() +
                         " (run `riskpipe ingest` first)");
  }
  std::string sql = "SELECT *, " + QuoteIdent(spine.date) + " AS " + kDecisionDate + " FROM " +
                    *read + " WHERE " + DatedRowsCondition() + " AND " + QuoteIdent(spine.date) +
                    " IS NOT NULL";
  if (!spine.where.empty()) sql += " AND (" + spine.where + ")";
  // The partition filter lets DuckDB skip files; the date filter is the exact bound.
  if (from != nullptr)
    sql += " AND " + QuoteIdent(spine.date) + " >= DATE '" + from->ToString() + "'";
  if (to != nullptr) sql += " AND " + QuoteIdent(spine.date) + " <= DATE '" + to->ToString() + "'";
  return sql;
}

StatusOr<std::string> EventSpineSql(const config::Project& project, const datamart::Datamart& mart,
                                    std::string_view events_sql, bool events_have_key) {
  const config::Spine& spine = project.features.spine;
  ASSIGN_OR_RETURN(std::string all, SpineSql(project, mart, nullptr, nullptr));
  const std::string entity = QuoteIdent(spine.entity);
  const std::string key = QuoteIdent(spine.key);
  std::string exclude = std::string(kDecisionDate) + ", " + entity;
  std::string own = "e." + entity + ", e." + kDecisionDate;
  if (events_have_key && spine.key != spine.entity) {
    exclude += ", " + key;
    own += ", e." + key;
  }
  // ASOF LEFT JOIN: the latest spine row at or before each event's decision date.
  return "SELECT s.* EXCLUDE (" + exclude + "), " + own + " FROM (" + std::string(events_sql) +
         ") e ASOF LEFT JOIN (" + all + ") s ON e." + entity + " = s." + entity + " AND e." +
         kDecisionDate + " >= s." + kDecisionDate;
}

StatusOr<std::string> FeatureSql(const config::Project& project, const datamart::Datamart& mart,
                                 std::string_view spine_sql, bool own_spine_rows,
                                 const Date* last_day) {
  RETURN_IF_ERROR(CheckFeatureSet(project));
  const config::FeatureSet& set = project.features;
  const std::string key = QuoteIdent(set.spine.key);
  const std::string entity = QuoteIdent(set.spine.entity);
  // The base relation is materialized once, so it carries only what is used downstream: the
  // key, the entity, the decision date and the columns the spine views' expressions name.
  std::string base_list;
  for (const std::string& c : SpineColumnsUsed(project)) base_list += QuoteIdent(c) + ", ";
  std::string with = "WITH base AS (SELECT row_number() OVER () AS _rid, " + base_list +
                     kDecisionDate + " FROM (" + std::string(spine_sql) +
                     ")), keys AS (SELECT _rid, " + entity + " AS _k, " + kDecisionDate +
                     " FROM base)";
  std::string select = "SELECT b." + key + ", b." + entity + ", b." + kDecisionDate;
  std::string audit;
  std::string from = " FROM base b";
  for (size_t i = 0; i < set.views.size(); ++i) {
    const FeatureView& v = set.views[i];
    const std::string name = Cte(i, "f");
    if (v.kind == ViewKind::kSpine) {
      with += ", " + name + " AS (SELECT _rid" + FeatureList(v) + " FROM base)";
      for (const auto& f : v.features) select += ", " + name + "." + QuoteIdent(f.name);
      from += " JOIN " + name + " USING (_rid)";
      continue;
    }
    // The window path reads the spine key too (its rows are joined back by it).
    const bool window = own_spine_rows && WindowEligible(v, set.spine);
    ASSIGN_OR_RETURN(std::string source, SourceSql(project, mart, v, /*all_columns=*/window));
    with += ", " + Cte(i, "src") + " AS (" + source + ")";
    const std::string asof = QuoteIdent(AsofColumn(v));
    if (window) {
      std::string bound;
      if (last_day != nullptr) bound = " WHERE _t <= DATE '" + last_day->ToString() + "'";
      // Rows sharing (entity, key, event time) have identical frames. When the source's
      // declared keys make that triple unique (Kueski: id, loan_id) every row is kept;
      // otherwise one row per triple.
      const config::Source* src = project.FindSource(v.source);
      bool unique = src != nullptr && !src->keys.empty();
      if (unique) {
        for (const std::string& k : src->keys) {
          if (k != set.spine.key && k != v.entity && k != v.event_time) unique = false;
        }
      }
      const std::string dedupe =
          unique ? "" : " QUALIFY row_number() OVER (PARTITION BY _e, " + key + ", _t) = 1";
      with += ", " + name + " AS (SELECT _e AS _we, " + key + " AS _wkey, _t AS _wt, " +
              WindowColumns(v, "w") + " FROM " + Cte(i, "src") + bound + " WINDOW w AS (" +
              WindowFrame(v) + ")" + dedupe + ")";
      for (const auto& f : v.features) select += ", " + name + "." + QuoteIdent(f.name);
      audit += ", " + name + "." + asof;
      from += " LEFT JOIN " + name + " ON b." + entity + " = " + name + "._we AND b." + key +
              " = " + name + "._wkey AND b." + kDecisionDate + " = " + name + "._wt";
      continue;
    }
    if (v.kind == ViewKind::kLatest) {
      // The joined row j has the source's columns plus decision_date; expressions see both.
      const std::string dd = kDecisionDate;
      std::string joined;
      if (UniqueByEntityAndTime(project, v)) {
        // (entity, event time) finds one row: the ASOF join matches only those two narrow
        // columns, and the wide row is fetched by hash. An ASOF join of the whole row sorts
        // every column the expressions read (measured on 1M applications: 4.5 s of CPU for
        // the two lending views, the query's largest operators).
        const std::string narrow = "SELECT _e, _t FROM (" + source + ")";
        joined = "SELECT m._rid, m." + dd + ", s.* FROM (SELECT k._rid, k._k, k." + dd +
                 ", n._t AS _mt FROM keys k ASOF LEFT JOIN (" + narrow +
                 ") n ON k._k = n._e AND k." + dd + " >= n._t) m LEFT JOIN " + Cte(i, "src") +
                 " s ON s._e = m._k AND s._t = m._mt";
      } else {
        joined = "SELECT k._rid, k." + dd + ", s.* FROM keys k ASOF LEFT JOIN " + Cte(i, "src") +
                 " s ON k._k = s._e AND k." + dd + " >= s._t";
      }
      std::string keep = "TRUE";
      if (v.max_age_days > 0) {
        keep = "j._t >= j." + std::string(kDecisionDate) + " - " + std::to_string(v.max_age_days);
      }
      std::string cols;
      for (const auto& f : v.features) {
        cols += ", CASE WHEN " + keep + " THEN (" + f.expr + ") END AS " + QuoteIdent(f.name);
      }
      with += ", " + name + " AS (SELECT j._rid, CASE WHEN " + keep + " THEN j._t END AS " + asof +
              cols + " FROM (" + joined + ") j)";
      for (const auto& f : v.features) select += ", " + name + "." + QuoteIdent(f.name);
      audit += ", " + name + "." + asof;
      from += " JOIN " + name + " USING (_rid)";
    } else {
      std::string cond =
          "s._e = k._k AND s._t " + std::string(v.strict ? "<" : "<=") + " k." + kDecisionDate;
      if (v.window_days > 0) {
        cond +=
            " AND s._t >= k." + std::string(kDecisionDate) + " - " + std::to_string(v.window_days);
      }
      const std::string joined = "SELECT k._rid, k." + std::string(kDecisionDate) +
                                 ", s.* FROM keys k JOIN " + Cte(i, "src") + " s ON " + cond;
      with += ", " + name + " AS (SELECT _rid, max(_t) AS " + asof + FeatureList(v) + " FROM (" +
              joined + ") GROUP BY _rid)";
      // The aggregates of an empty window (count -> 0, others -> NULL), for events whose
      // window holds no source row.
      const std::string empty = Cte(i, "empty");
      with += ", " + empty + " AS (SELECT NULL::DATE AS _none" + FeatureList(v) +
              " FROM (SELECT NULL::DATE AS " + kDecisionDate + ", * FROM " + Cte(i, "src") +
              " WHERE FALSE))";
      for (const auto& f : v.features) {
        const std::string col = QuoteIdent(f.name);
        select += ", CASE WHEN " + name + "._rid IS NULL THEN " + empty + "." + col + " ELSE " +
                  name + "." + col + " END AS " + col;
      }
      audit += ", " + name + "." + asof;
      from += " LEFT JOIN " + name + " USING (_rid) CROSS JOIN " + empty;
    }
  }
  // No ORDER BY here: callers that need a stable order sort what they write.
  return with + " " + select + audit + from;
}

StatusOr<std::optional<SpineWindowPlan>> SpineWindowPlanOf(const config::Project& project,
                                                           const datamart::Datamart& mart,
                                                           const Date* from, const Date* to) {
  RETURN_IF_ERROR(CheckFeatureSet(project));
  const config::FeatureSet& set = project.features;
  const config::Spine& spine = set.spine;
  for (const FeatureView& v : set.views) {
    if (v.kind != ViewKind::kSpine && !WindowEligible(v, spine)) {
      return std::optional<SpineWindowPlan>();
    }
  }
  SpineWindowPlan plan;
  // The columns the window aggregates read ("loan_amount" of avg(loan_amount)), by lower-case
  // name -> column index in the inner select.
  std::map<std::string, int> inputs = {{Lower(spine.key), 0}};
  std::string input_list = QuoteIdent(spine.key);
  int columns = 1;
  plan.columns.push_back({0, -1, -1});  // the key
  if (Lower(spine.entity) != Lower(spine.key)) {
    input_list += ", " + QuoteIdent(spine.entity);
    inputs.emplace(Lower(spine.entity), columns);
    plan.columns.push_back({columns++, -1, -1});
  } else {
    plan.columns.push_back({0, -1, -1});
  }
  for (const FeatureView& v : set.views) {
    if (v.kind == ViewKind::kSpine) continue;
    SpineWindowPlan::Window w;
    w.window_days = v.window_days;
    w.strict = v.strict;
    for (const auto& f : v.features) {
      const std::string arg = AggregateArgument(f.expr);
      SpineWindowPlan::Aggregate a;
      a.function = Lower(f.expr.substr(0, f.expr.find('(')));
      a.function.erase(0, a.function.find_first_not_of(" \t"));
      a.function.erase(a.function.find_last_not_of(" \t") + 1);
      if (arg != "*") {
        auto [it, inserted] = inputs.emplace(Lower(arg), columns);
        if (inserted) {
          input_list += ", " + QuoteIdent(arg);
          ++columns;
        }
        a.argument = it->second;
      }
      w.features.push_back(a);
    }
    plan.windows.push_back(std::move(w));
  }
  auto read = mart.ReadSql(datamart::Layer::kSilver, spine.source);
  if (!read.ok()) {
    return NotFoundError("feature spine: " + read.status().message() +
                         " (run `riskpipe ingest` first)");
  }
  // Every latest/aggregate view is a window over the spine source's own rows, so each spine
  // row's features are window frames over that source: one pass, no self-join. The inner
  // select evaluates the spine views' expressions (only on spine rows) and keeps the columns
  // the windows read; the frames range over every dated source row up to `to` (rows outside
  // the spine's filter or before `from` are history too), and the spine's filter and `from`
  // apply after the windows (QUALIFY).
  const std::string date = QuoteIdent(spine.date);
  const std::string is_spine = spine.where.empty() ? "TRUE" : "(" + spine.where + ")";
  std::string inner = "SELECT " + input_list + ", " + kDecisionDate;
  plan.decision_date = columns++;
  plan.columns.push_back({plan.decision_date, -1, -1});
  std::string outer =
      "SELECT " + QuoteIdent(spine.key) + ", " + QuoteIdent(spine.entity) + ", " + kDecisionDate;
  std::string windows, audit;
  size_t spine_cols = 0;
  int window = 0;
  for (size_t i = 0; i < set.views.size(); ++i) {
    const FeatureView& v = set.views[i];
    if (v.kind == ViewKind::kSpine) {
      for (const auto& f : v.features) {
        // Internal names: a feature may be named like a column a window reads.
        const std::string col = "_f" + std::to_string(spine_cols++);
        inner += spine.where.empty() ? ", (" + f.expr + ") AS " + col
                                     : ", CASE WHEN _spine THEN (" + f.expr + ") END AS " + col;
        plan.columns.push_back({columns++, -1, -1});
        outer += ", " + col + " AS " + QuoteIdent(f.name);
      }
      continue;
    }
    const std::string w = "w" + std::to_string(i);
    for (size_t k = 0; k < v.features.size(); ++k) {
      outer += ", " + v.features[k].expr + " OVER " + w + " AS " + QuoteIdent(v.features[k].name);
      plan.columns.push_back({-1, window, static_cast<int>(k)});
    }
    ++window;
    audit +=
        ", max(" + std::string(kDecisionDate) + ") OVER " + w + " AS " + QuoteIdent(AsofColumn(v));
    windows += (windows.empty() ? " WINDOW " : ", ") + w + " AS (PARTITION BY " +
               QuoteIdent(spine.entity) + " ORDER BY " + kDecisionDate + WindowRange(v) + ")";
  }
  std::string rows = "SELECT *, " + date + " AS " + kDecisionDate + ", " + is_spine +
                     " AS _spine FROM " + *read + " WHERE " + DatedRowsCondition() + " AND " +
                     date + " IS NOT NULL";
  if (to != nullptr) rows += " AND " + date + " <= DATE '" + to->ToString() + "'";
  std::string keep = "_spine";
  if (from != nullptr) {
    keep += " AND " + std::string(kDecisionDate) + " >= DATE '" + from->ToString() + "'";
  }
  inner += ", " + keep + " AS _keep FROM (" + rows + ")";
  plan.keep = columns++;
  for (int w = 0; w < window; ++w) plan.columns.push_back({-1, w, -1});
  plan.rows_sql = inner;
  plan.sql = outer + audit + " FROM (" + inner + ")" + windows + " QUALIFY _keep";
  return std::optional<SpineWindowPlan>(std::move(plan));
}

StatusOr<std::string> SpineFeatureSql(const config::Project& project,
                                      const datamart::Datamart& mart, const Date* from,
                                      const Date* to) {
  ASSIGN_OR_RETURN(std::optional<SpineWindowPlan> plan, SpineWindowPlanOf(project, mart, from, to));
  if (plan) return std::move(plan->sql);
  ASSIGN_OR_RETURN(std::string rows, SpineSql(project, mart, from, to));
  return FeatureSql(project, mart, rows, /*own_spine_rows=*/true, to);
}

std::string AuditSql(const config::FeatureSet& set, std::string_view feature_relation) {
  std::string sql = "SELECT 'none' AS view, 0 AS violations";
  for (const FeatureView& v : set.views) {
    if (v.kind == ViewKind::kSpine) continue;
    sql += " UNION ALL SELECT " + QuoteLiteral(v.name) + ", count(*) FROM " +
           std::string(feature_relation) + " WHERE " + QuoteIdent(AsofColumn(v)) +
           (v.kind == ViewKind::kAggregate && v.strict ? " >= " : " > ") + kDecisionDate;
  }
  return sql;
}

Status ValidateFeatures(const config::Project& project, const datamart::Datamart& mart,
                        db::Connection& con) {
  RETURN_IF_ERROR(CheckFeatureSet(project));
  const config::FeatureSet& set = project.features;
  ASSIGN_OR_RETURN(std::string spine, SpineSql(project, mart, nullptr, nullptr));
  for (const FeatureView& v : set.views) {
    std::string rel = "(SELECT * FROM (" + spine + ") LIMIT 0)";
    if (v.kind != ViewKind::kSpine) {
      ASSIGN_OR_RETURN(std::string source, SourceSql(project, mart, v, /*all_columns=*/true));
      rel = "(SELECT NULL::DATE AS " + std::string(kDecisionDate) + ", * FROM (" + source +
            ") LIMIT 0)";
    }
    // Row-level views must not aggregate (mixing with * fails); aggregate views must
    // aggregate (grouping by the decision date fails on a bare column).
    auto check = [&](const std::string& exprs) {
      return con.Execute(v.kind == ViewKind::kAggregate
                             ? "SELECT " + exprs + " FROM " + rel + " t GROUP BY t." + kDecisionDate
                             : "SELECT " + exprs + ", * FROM " + rel + " t");
    };
    // The whole view at once (each statement reads the sources' Parquet metadata: one per
    // feature was most of materialize's set-up), then feature by feature only to name the one
    // that fails.
    std::string all;
    for (const auto& f : v.features) all += (all.empty() ? "(" : ", (") + f.expr + ")";
    if (v.features.empty() || check(all).ok()) continue;
    for (const auto& f : v.features) {
      Status s = check("(" + f.expr + ")");
      if (!s.ok()) {
        return InvalidArgumentError(project.config_path.string() + ":" + std::to_string(f.line) +
                                    ": feature view \"" + v.name + "\", feature \"" + f.name +
                                    "\": " + s.message());
      }
    }
  }
  if (!set.spine.where.empty()) {
    Status s = con.Execute("SELECT * FROM (" + spine + ") LIMIT 0");
    if (!s.ok()) {
      return InvalidArgumentError(project.config_path.string() + ":" +
                                  std::to_string(set.spine.line) +
                                  ": features.spine.where: " + s.message());
    }
  }
  return OkStatus();
}

}  // namespace riskpipe::features
