#include "features/online_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <future>
#include <map>
#include <unordered_map>

#include "core/files.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/memory.h"
#include "core/parallel.h"
#include "datamart/datamart.h"
#include "features/dense_codes.h"
#include "features/feature_query.h"
#include "features/snapshot_file.h"

namespace riskpipe::features {
namespace fs = std::filesystem;
using db::QuoteIdent;
using db::QuoteLiteral;
using nlohmann::json;

namespace {

// Temporary snapshot folders start with this prefix (never a version: versions start with a
// digit); ones older than kStaleTempAge were left by a crashed run and are removed.
constexpr char kTempPrefix[] = ".tmp-";
constexpr auto kStaleTempAge = std::chrono::hours(1);

// DuckDB type names whose CSV text is a number (booleans are read as 0/1).
bool IsNumericType(std::string_view type) {
  static constexpr std::string_view kNumeric[] = {
      "TINYINT",  "SMALLINT", "INTEGER",  "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
      "UINTEGER", "UBIGINT",  "UHUGEINT", "FLOAT",  "REAL",    "DOUBLE",   "BOOLEAN"};
  if (type.starts_with("DECIMAL")) return true;
  return std::find(std::begin(kNumeric), std::end(kNumeric), type) != std::end(kNumeric);
}

std::string_view KindName(config::ViewKind kind) {
  switch (kind) {
    case config::ViewKind::kSpine:
      return "spine";
    case config::ViewKind::kLatest:
      return "latest";
    case config::ViewKind::kAggregate:
      return "aggregate";
  }
  return "unknown";
}

// "2025-01-31T12:00:00.123456Z" and the version "20250131T120000.123456Z_asof-2024-12-31":
// creation time first, fixed width, so versions sort in creation order.
std::pair<std::string, std::string> CreatedAtAndVersion(Date as_of) {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char frac[8];
  std::snprintf(frac, sizeof(frac), "%06lld", static_cast<long long>(micros % 1'000'000));
  char iso[32], compact[32];
  std::strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
  std::strftime(compact, sizeof(compact), "%Y%m%dT%H%M%S", &tm);
  return {std::string(iso) + "." + frac + "Z",
          std::string(compact) + "." + frac + "Z_asof-" + as_of.ToString()};
}

// fsync a file or folder so a rename that publishes it is durable.
Status Fsync(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InternalError("cannot open " + path.string() + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return InternalError("cannot fsync " + path.string() + ": " + std::strerror(errno));
  return OkStatus();
}

// Every entity's latest spine row dated on or before `as_of`, with decision_date = as_of: the
// rows EventSpineSql gives for the events (entity, as_of) of every entity with a spine event
// by then. Computed as a narrow aggregate (entity -> its greatest (date, key)) joined back to
// the spine by hash, instead of an ASOF join (or a window) that sorts every spine column: on
// the Kueski data that is about 0.1 s instead of 5 s. Of two spine rows on the latest date the
// greater key wins; two with the same key and date give a duplicate entity, which
// Materialize() refuses.
StatusOr<std::string> LatestSpineSql(const config::Project& project, const datamart::Datamart& mart,
                                     Date as_of) {
  const config::Spine& spine = project.features.spine;
  const std::string entity = QuoteIdent(spine.entity);
  const std::string key = QuoteIdent(spine.key);
  ASSIGN_OR_RETURN(std::string rows, SpineSql(project, mart, nullptr, &as_of));
  const std::string latest =
      "SELECT " + entity + " AS _le, max({'d': " + std::string(kDecisionDate) + ", 'k': " + key +
      "}) AS _lm FROM (" + rows + ") WHERE " + entity + " IS NOT NULL GROUP BY " + entity;
  // Only the columns the spine views use travel on (not the lineage columns and the rest).
  std::string cols;
  for (const std::string& c : SpineColumnsUsed(project)) cols += "s." + QuoteIdent(c) + ", ";
  return "SELECT " + cols + "DATE '" + as_of.ToString() + "' AS " + kDecisionDate + " FROM (" +
         rows + ") s JOIN (" + latest + ") l ON s." + entity + " = l._le AND s." + kDecisionDate +
         " = l._lm.d AND s." + key + " IS NOT DISTINCT FROM l._lm.k";
}

// Every spine row dated on or before `as_of` with a non-null entity: the columns the spine
// views use, the row's own date (_sd) and key (_sk), and decision_date = as_of. Materialize
// picks each entity's latest row from these itself (QueryOnlineRows): on 1M customers DuckDB's
// GROUP BY of every row by entity and the hash join back (LatestSpineSql) took 1.7 s where
// the plain scan takes 0.2 s.
StatusOr<std::string> SpineRowsAsOfSql(const config::Project& project,
                                       const datamart::Datamart& mart, Date as_of) {
  const config::Spine& spine = project.features.spine;
  ASSIGN_OR_RETURN(std::string rows, SpineSql(project, mart, nullptr, &as_of));
  std::string cols;
  for (const std::string& c : SpineColumnsUsed(project)) cols += "s." + QuoteIdent(c) + ", ";
  return "SELECT " + cols + "s." + kDecisionDate + " AS _sd, s." + QuoteIdent(spine.key) +
         " AS _sk, DATE '" + as_of.ToString() + "' AS " + kDecisionDate + " FROM (" + rows +
         ") s WHERE s." + QuoteIdent(spine.entity) + " IS NOT NULL";
}

// A view's source rows with its join keys _e (entity) and _t (event time), as FeatureSql reads
// them (undated rows, partition 1900-01-01, never feed a feature), plus decision_date = as_of.
StatusOr<std::string> OnlineSourceSql(const config::Project& project,
                                      const datamart::Datamart& mart, const config::FeatureView& v,
                                      const std::string& as_of) {
  auto read = mart.ReadSql(datamart::Layer::kSilver, v.source);
  if (!read.ok()) {
    return NotFoundError("feature view \"" + v.name + "\": " + read.status().message() +
                         " (run `riskpipe ingest` first)");
  }
  // Only the columns the view's expressions name.
  std::string cols;
  for (const std::string& c : ColumnsUsed(project, v.source, v.features)) {
    cols += QuoteIdent(c) + ", ";
  }
  return "SELECT " + cols + QuoteIdent(v.entity) + " AS _e, " + QuoteIdent(v.event_time) +
         " AS _t, " + as_of + " AS " + kDecisionDate + " FROM " + *read + " WHERE " +
         DatedRowsCondition() + " AND " + QuoteIdent(v.event_time) + " <= " + as_of;
}

// An aggregate feature that is one plain call of count, sum, avg, min or max over a row
// expression ("avg(fe_1::DOUBLE)" -> {"avg", "fe_1::DOUBLE"}; "count(*)" and "count()" give
// "*"), or nullopt: anything else (two calls, a FILTER or OVER clause, DISTINCT, an ORDER BY
// inside the call) is left to DuckDB. The argument's parentheses and quotes must balance, so
// "sum(a) + sum(b)" is not one call.
std::optional<std::pair<std::string, std::string>> PlainAggregate(const std::string& expr) {
  auto trim = [](std::string t) {
    t.erase(0, t.find_first_not_of(" \t\r\n"));
    t.erase(t.find_last_not_of(" \t\r\n") + 1);
    return t;
  };
  const std::string e = trim(expr);
  const size_t open = e.find('(');
  if (open == std::string::npos || e.back() != ')') return std::nullopt;
  std::string function = trim(e.substr(0, open));
  for (char& c : function) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (function != "count" && function != "sum" && function != "avg" && function != "min" &&
      function != "max") {
    return std::nullopt;
  }
  // The call's own closing parenthesis must be the last character.
  int depth = 0;
  char quote = 0;
  for (size_t i = open; i < e.size(); ++i) {
    const char c = e[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0 && i + 1 != e.size()) {
      return std::nullopt;
    }
  }
  if (depth != 0 || quote != 0) return std::nullopt;
  std::string arg = trim(e.substr(open + 1, e.size() - open - 2));
  std::string head = arg.substr(0, 9);
  for (char& c : head) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (head.starts_with("DISTINCT") || head.starts_with("ALL ") || head.starts_with("ALL\t")) {
    return std::nullopt;
  }
  if (arg.empty()) {
    if (function != "count") return std::nullopt;
    arg = "*";
  }
  if (arg == "*" && function != "count") return std::nullopt;
  return std::make_pair(function, arg);
}

// Every entity's features as of `as_of`, with the columns and semantics of FeatureSql over the
// events (entity, as_of) (a test holds the two equal). Because every event has the same
// decision date, each view is one pass over its source grouped by entity instead of a join of
// every event with its source rows: a latest view takes each entity's rows at its latest event
// time (narrow max, then a hash join; ties resolved arbitrarily, as the ASOF join does), an
// aggregate view filters the window once and groups by entity. On 1M customers that is several
// times faster than the general per-event plan.
//
// The query comes in parts (the spine, then one per latest or aggregate view) that Materialize
// joins by entity itself, because every part has at most one row per entity: DuckDB's hash
// joins of a million wide rows were a third of the whole joined query's time.
struct OnlineQuery {
  std::string with;  // the WITH clause every part is evaluated under
  // The spine's entities (_e) and the spine views' features, one row per spine entity (for
  // its column types: DESCRIBE).
  std::string spine;
  // The same over every spine row up to as_of, with each row's date (_sd) and key (_sk) after
  // _e: QueryOnlineRows keeps each entity's latest row, as `spine` does.
  std::string spine_rows;
  struct Part {
    size_t view = 0;        // index into the feature set's views
    std::string rows;       // _e, _asof, the features: at most one row per (non-null) entity
    std::string unmatched;  // one row: the features of an entity that has no row above
    // The view's source rows one by one, for computing `rows` in C++ (ScanLatest,
    // ScanAggregate) instead of DuckDB's GROUP BY and join: _e, _t, then for a latest view
    // _asof and the features (uncast), for an aggregate view each call's argument (_a0, ...).
    std::string scan;
    std::string count;  // a latest view: SELECT count(*) of the rows `scan` reads
    // An aggregate view whose every feature is one plain call (PlainAggregate): the calls, in
    // feature order, or empty when DuckDB computes the view.
    std::vector<SpineWindowPlan::Aggregate> calls;
  };
  std::vector<Part> parts;  // the latest and aggregate views, in view order
};

StatusOr<OnlineQuery> OnlineFeatureSql(const config::Project& project,
                                       const datamart::Datamart& mart, Date as_of_date) {
  RETURN_IF_ERROR(CheckFeatureSet(project));
  const config::FeatureSet& set = project.features;
  const std::string as_of = "DATE '" + as_of_date.ToString() + "'";
  const std::string entity = QuoteIdent(set.spine.entity);
  ASSIGN_OR_RETURN(std::string spine, LatestSpineSql(project, mart, as_of_date));
  ASSIGN_OR_RETURN(std::string spine_rows, SpineRowsAsOfSql(project, mart, as_of_date));
  OnlineQuery query;
  query.spine = "SELECT " + entity + " AS _e";
  query.spine_rows = "SELECT " + entity + " AS _e, _sd, _sk";
  std::string with = "WITH sp AS (" + spine + "), spr AS (" + spine_rows + ")";
  for (size_t i = 0; i < set.views.size(); ++i) {
    const config::FeatureView& v = set.views[i];
    const std::string name = "v" + std::to_string(i);
    const std::string asof_col = QuoteIdent("_asof_" + v.name);
    std::string cols;
    for (const auto& f : v.features) cols += ", (" + f.expr + ") AS " + QuoteIdent(f.name);
    if (v.kind == config::ViewKind::kSpine) {
      query.spine += cols;
      query.spine_rows += cols;
      continue;
    }
    std::string names;
    for (const auto& f : v.features) names += ", " + QuoteIdent(f.name);
    OnlineQuery::Part part;
    part.view = i;
    part.rows = "SELECT _e, " + asof_col + names + " FROM " + name + " WHERE _e IS NOT NULL";
    ASSIGN_OR_RETURN(std::string source, OnlineSourceSql(project, mart, v, as_of));
    if (v.kind == config::ViewKind::kLatest) {
      std::string keep = "TRUE";
      if (v.max_age_days > 0) {
        keep = "_t >= DATE '" + as_of_date.AddDays(-v.max_age_days).ToString() + "'";
      }
      std::string kept;
      for (const auto& f : v.features) {
        kept += ", CASE WHEN " + keep + " THEN (" + f.expr + ") END AS " + QuoteIdent(f.name);
      }
      // When the source's declared keys make (entity, event time) unique (ingest quarantines
      // duplicate keys), the rows at the latest time are one per entity: no DISTINCT ON, whose
      // first() of every column over a million groups was the plan's largest operator.
      const std::string distinct = UniqueByEntityAndTime(project, v) ? "" : "DISTINCT ON (_e) ";
      with += ", " + name + "_src AS (" + source + "), " + name + "_at AS (SELECT _e AS _me, " +
              "max(_t) AS _mt FROM " + name + "_src GROUP BY _e), " + name + " AS (SELECT " +
              distinct + "_e, CASE WHEN " + keep + " THEN _t END AS " + asof_col + kept + " FROM " +
              name + "_src s JOIN " + name + "_at m ON s._e = m._me AND s._t = m._mt)";
      // An entity without a source row gets the expressions over an all-NULL row, as the
      // unmatched side of FeatureSql's ASOF LEFT JOIN does (coalesce(x, 0) gives 0).
      with += ", " + name + "_null AS (SELECT NULL::DATE AS _none" + kept + " FROM (SELECT s.* " +
              "EXCLUDE (" + kDecisionDate + "), " + as_of + " AS " + kDecisionDate +
              " FROM (SELECT 1 AS _one) o LEFT JOIN " + name + "_src s ON FALSE))";
      part.unmatched = "SELECT " + names.substr(2) + " FROM " + name + "_null";
      std::string scanned;
      for (const auto& f : v.features) {
        scanned += ", CASE WHEN " + keep + " THEN (" + f.expr + ") END AS " + QuoteIdent(f.name);
      }
      part.scan = "SELECT _e, _t, CASE WHEN " + keep + " THEN _t END AS " + asof_col + scanned +
                  " FROM " + name + "_src WHERE _e IS NOT NULL";
      part.count = "SELECT count(*)::DOUBLE FROM " + name + "_src WHERE _e IS NOT NULL";
    } else {
      std::string where = v.strict ? "_t < " + as_of : "TRUE";
      if (v.window_days > 0) {
        where += " AND _t >= DATE '" + as_of_date.AddDays(-v.window_days).ToString() + "'";
      }
      with += ", " + name + " AS (SELECT _e, max(_t) AS " + asof_col + cols + " FROM (" + source +
              ") WHERE " + where + " GROUP BY _e), " + name +
              "_empty AS (SELECT NULL::DATE AS _none" + cols + " FROM (" + source +
              ") WHERE FALSE)";
      part.unmatched = "SELECT " + names.substr(2) + " FROM " + name + "_empty";
      std::string args;
      for (const auto& f : v.features) {
        std::optional<std::pair<std::string, std::string>> call = PlainAggregate(f.expr);
        if (!call) {
          part.calls.clear();
          break;
        }
        SpineWindowPlan::Aggregate a;
        a.function = call->first;
        if (call->second != "*") {
          a.argument = static_cast<int>(part.calls.size());
          args += ", (" + call->second + ") AS _a" + std::to_string(a.argument);
        }
        part.calls.push_back(a);
      }
      part.scan =
          "SELECT _e, _t" + args + " FROM (" + source + ") WHERE " + where + " AND _e IS NOT NULL";
    }
    query.parts.push_back(std::move(part));
  }
  query.spine += " FROM sp";
  query.spine_rows += " FROM spr";
  query.with = with;
  return query;
}

// The feature query's rows in the order they are published in (by entity).
struct OnlineRows {
  db::ColumnarTable table;  // columns[0] the entity as text, then the features
};

// The order of the dictionary codes 0..n-1 of `entities` by entity: numerically when the
// entity column is numeric (its text is a number: by value, then text), else by bytes, as
// DuckDB's ORDER BY would. Sorted as (key, code) pairs, in two halves on two threads, then
// merged: the key is the number, or for text the 8 bytes after the prefix every entity shares
// (big-endian, so integer order is byte order), and only entities with equal keys are compared
// as strings. A comparison of two strings through the codes cost a cache miss or two on a
// million ids (0.3 s of materialize).
std::vector<uint32_t> SortedCodes(const std::vector<std::string>& entities, bool numeric) {
  const size_t n = entities.size();
  size_t prefix = n == 0 ? 0 : entities[0].size();
  if (!numeric) {
    for (const std::string& e : entities) {
      size_t i = 0;
      const size_t limit = std::min(prefix, e.size());
      while (i < limit && e[i] == entities[0][i]) ++i;
      prefix = i;
    }
  }
  struct Item {
    uint64_t key;  // text: the bytes after the prefix; numbers: the order of the double
    uint32_t code;
  };
  std::vector<Item> items(n);
  for (uint32_t c = 0; c < n; ++c) {
    const std::string& e = entities[c];
    uint64_t key = 0;
    if (numeric) {
      double v = 0;
      std::from_chars(e.data(), e.data() + e.size(), v);
      // A double's bits as an unsigned number in the double's order.
      const uint64_t bits = std::bit_cast<uint64_t>(v == 0 ? 0.0 : v);
      key = (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
    } else {
      for (size_t i = 0; i < 8; ++i) {
        const size_t at = prefix + i;
        key = (key << 8) | (at < e.size() ? static_cast<unsigned char>(e[at]) : 0u);
      }
    }
    items[c] = {key, c};
  }
  auto less = [&](const Item& a, const Item& b) {
    if (a.key != b.key) return a.key < b.key;
    return entities[a.code] < entities[b.code];
  };
  const auto mid = items.begin() + static_cast<std::ptrdiff_t>(n / 2);
  ForBlocks(2, 2, [&](size_t half) {
    if (half == 0) {
      std::sort(items.begin(), mid, less);
    } else {
      std::sort(mid, items.end(), less);
    }
  });
  std::inplace_merge(items.begin(), mid, items.end(), less);
  std::vector<uint32_t> codes(n);
  for (size_t i = 0; i < n; ++i) codes[i] = items[i].code;
  return codes;
}

// Renumbers a text column's codes by first appearance (dropping unused dictionary entries).
void RecodeInOrder(db::ColumnarTable::Column& col) {
  std::vector<int32_t> recode(col.dictionary.size(), -1);
  std::vector<std::string> dictionary;
  for (const int32_t c : col.codes) {
    if (c >= 0 && recode[c] < 0) {
      recode[c] = static_cast<int32_t>(dictionary.size());
      dictionary.push_back(std::move(col.dictionary[c]));
    }
  }
  for (int32_t& c : col.codes) {
    if (c >= 0) c = recode[c];
  }
  col.dictionary = std::move(dictionary);
}

// Turns a column of integers (as doubles, none null) into a text column: codes by first
// appearance, the dictionary their decimal text.
Status CodeIntegers(db::ColumnarTable::Column& col) {
  DenseCoding coding = DenseCodes(col);
  for (const double v : coding.values) {
    if (!(std::fabs(v) <= 9007199254740992.0)) {  // also NaN (a null)
      return InternalError("online store: entity " + std::to_string(v) +
                           " is not an integer a double holds exactly");
    }
    col.dictionary.push_back(std::to_string(static_cast<int64_t>(v)));
  }
  col.codes.assign(coding.codes.begin(), coding.codes.end());
  col.numbers = {};
  col.type = db::Type::kVarchar;
  return OkStatus();
}

// What every view's part shares while it is placed on the snapshot's rows.
struct Placement {
  const config::Project& project;
  db::Connection& con;
  const OnlineQuery& query;
  db::TextDictionary& entities;  // the spine's entities: codes 0..n-1 (views may add more)
  const std::vector<uint32_t>& position_of;  // entity code -> file position, for codes < n
  size_t n = 0;
  double limit = 0;       // as_of, in days
  std::string& violated;  // the smallest view name that failed the point-in-time audit
  // Staging memory handed from one view to the next: memory already touched costs no page
  // faults, where a fresh buffer for each view's staging paid for every page again.
  std::vector<double> scratch;
  void Violated(const std::string& view) {
    if (violated.empty() || view < violated) violated = view;
  }
  // `cells` cells of the scratch memory, each set to `value`; give it back with Return().
  std::vector<double> TakeScratch(size_t cells, double value) {
    std::vector<double> out = std::move(scratch);
    scratch = {};
    if (out.capacity() < cells) {
      out = {};
      ReserveHuge(out, cells);
    }
    out.assign(cells, value);
    return out;
  }
  void Return(std::vector<double>&& v) {
    if (v.capacity() > scratch.capacity()) scratch = std::move(v);
  }
};

// DuckDB's rows of a view (`rows`: at most one per entity, _e, _asof, the features cast to
// DOUBLE or VARCHAR), placed at their entity's file position.
StatusOr<std::vector<db::ColumnarTable::Column>> PlaceQueryRows(
    Placement& p, const config::FeatureView& v, const std::string& sql,
    const db::ColumnarTable& unmatched) {
  ASSIGN_OR_RETURN(db::ColumnarTable rows, p.con.QueryColumns(sql, p.entities.values()));
  // A row dated after as_of would be a leak (the query's own filter keeps them out: this
  // checks it). Strict aggregate windows end the day before.
  const bool strict = v.kind == config::ViewKind::kAggregate && v.strict;
  const std::vector<double>& asof = rows.columns[1].numbers;
  std::vector<uint32_t> target(rows.rows, UINT32_MAX);
  std::vector<bool> seen(p.n, false);
  for (size_t r = 0; r < rows.rows; ++r) {
    const int32_t c = rows.columns[0].codes[r];
    if (c < 0 || static_cast<size_t>(c) >= p.n) continue;  // not a spine entity
    const uint32_t at = p.position_of[c];
    if (seen[at]) {
      return FailedPreconditionError(
          "feature view \"" + v.name + "\": " + p.project.features.spine.entity + " " +
          p.entities.values()[c] + " has more than one row; nothing was published");
    }
    seen[at] = true;
    target[r] = at;
    if (asof[r] > p.limit || (strict && asof[r] == p.limit)) p.Violated(v.name);
  }
  std::vector<db::ColumnarTable::Column> out;
  for (size_t k = 0; k < v.features.size(); ++k) {
    db::ColumnarTable::Column& from = rows.columns[k + 2];
    const db::ColumnarTable::Column& fill = unmatched.columns[k];
    db::ColumnarTable::Column col;
    col.name = from.name;
    col.type = from.type;
    if (from.is_text()) {
      int32_t fill_code = -1;
      if (fill.codes[0] >= 0) {  // the fill's code in this column's dictionary
        const std::string& text = fill.dictionary[fill.codes[0]];
        const auto at = std::find(from.dictionary.begin(), from.dictionary.end(), text);
        fill_code = static_cast<int32_t>(at - from.dictionary.begin());
        if (at == from.dictionary.end()) from.dictionary.push_back(text);
      }
      ReserveHuge(col.codes, p.n);
      col.codes.assign(p.n, fill_code);
      for (size_t r = 0; r < rows.rows; ++r) {
        if (target[r] != UINT32_MAX) col.codes[target[r]] = from.codes[r];
      }
      col.dictionary = std::move(from.dictionary);
    } else {
      ReserveHuge(col.numbers, p.n);
      col.numbers.assign(p.n, fill.numbers[0]);
      for (size_t r = 0; r < rows.rows; ++r) {
        if (target[r] != UINT32_MAX) col.numbers[target[r]] = from.numbers[r];
      }
    }
    out.push_back(std::move(col));
  }
  return out;
}

// Positions are visited in blocks of this many when row-major staging is turned into columns:
// a block's rows stay in cache while every column takes its cells from them.
constexpr size_t kTransposeBlock = 2048;

// Each row of a stream chunk: the file position of its entity, or UINT32_MAX when the entity is
// not in the spine (codes from the shared dictionary beyond the spine's).
void PositionsOf(const Placement& p, const db::ColumnarTable& chunk, std::vector<uint32_t>& at) {
  at.resize(chunk.rows);
  const std::vector<int32_t>& codes = chunk.columns[0].codes;
  for (size_t r = 0; r < chunk.rows; ++r) {
    const int32_t c = codes[r];
    at[r] = c < 0 || static_cast<size_t>(c) >= p.n ? UINT32_MAX : p.position_of[c];
  }
}

// Asks for the staging rows a chunk is about to update (row `at[r]`, `width` cells of T
// each), so their cache misses overlap instead of coming one after another.
template <typename T>
void PrefetchRows(const std::vector<uint32_t>& at, const T* base, size_t width) {
  if (width == 0) return;
  for (const uint32_t pos : at) {
    if (pos == UINT32_MAX) continue;
    const char* row = reinterpret_cast<const char*>(base + size_t{pos} * width);
    for (size_t b = 0; b < width * sizeof(T); b += 64) __builtin_prefetch(row + b, 1);
  }
}

// A latest view computed from its source rows one by one (part.scan): each spine entity keeps
// its row with the greatest event time. Two rows at that time are an error when the source's
// keys say (entity, time) is unique (as the SQL join finds both), else the first read wins
// (DISTINCT ON keeps an arbitrary one). `casts` turns the features into DOUBLE or VARCHAR
// columns, as the query path reads them. A kept row's cells are staged row-major by file
// position (one place in memory per row, where a column each would scatter every cell), then
// turned into columns.
StatusOr<std::vector<db::ColumnarTable::Column>> ScanLatest(Placement& p,
                                                            const config::FeatureView& v,
                                                            const OnlineQuery::Part& part,
                                                            const std::string& casts,
                                                            const db::ColumnarTable& unmatched) {
  using Column = db::ColumnarTable::Column;
  const bool unique = UniqueByEntityAndTime(p.project, v);
  ASSIGN_OR_RETURN(
      db::ColumnStream stream,
      p.con.StreamColumns(p.query.with + " SELECT CAST(q._e AS VARCHAR) AS _e, q._t, q." +
                              QuoteIdent("_asof_" + v.name) + casts + " FROM (" + part.scan + ") q",
                          &p.entities));
  const db::ColumnarTable& chunk = stream.chunk();
  const size_t features = v.features.size();
  // Feature k's slot among the numbers or among the text codes of a staged row.
  std::vector<size_t> slot(features);
  size_t numbers = 0, texts = 0;
  for (size_t k = 0; k < features; ++k) {
    slot[k] = chunk.columns[k + 3].is_text() ? texts++ : numbers++;
  }
  std::vector<double> staged_numbers = p.TakeScratch(p.n * numbers, 0.0);
  std::vector<int32_t> staged_codes;
  ReserveHuge(staged_codes, p.n * texts);
  staged_codes.resize(p.n * texts);
  // Each position's kept row: its event time (NaN: none) and as-of date.
  std::vector<double> best_time(p.n, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> best_asof(p.n, std::numeric_limits<double>::quiet_NaN());
  std::vector<uint32_t> at;
  while (true) {
    ASSIGN_OR_RETURN(const bool more, stream.Next());
    if (!more) break;
    PositionsOf(p, chunk, at);
    PrefetchRows(at, staged_numbers.data(), numbers);
    const std::vector<double>& time = chunk.columns[1].numbers;
    const std::vector<double>& asof = chunk.columns[2].numbers;
    for (size_t r = 0; r < chunk.rows; ++r) {
      const uint32_t pos = at[r];
      if (pos == UINT32_MAX) continue;
      const double best = best_time[pos];
      if (!std::isnan(best) && time[r] <= best) {
        if (time[r] == best && unique) {
          return FailedPreconditionError("feature view \"" + v.name +
                                         "\": " + p.project.features.spine.entity + " " +
                                         p.entities.values()[chunk.columns[0].codes[r]] +
                                         " has more than one row; nothing was published");
        }
        at[r] = UINT32_MAX;  // an older row: not kept
        continue;
      }
      best_time[pos] = time[r];
      best_asof[pos] = asof[r];
    }
    // A position kept twice in one chunk: the later row (the greater time) was marked last,
    // so writing in row order leaves it.
    for (size_t k = 0; k < features; ++k) {
      const Column& from = chunk.columns[k + 3];
      if (from.is_text()) {
        int32_t* dst = staged_codes.data() + slot[k];
        for (size_t r = 0; r < chunk.rows; ++r) {
          if (at[r] != UINT32_MAX) dst[size_t{at[r]} * texts] = from.codes[r];
        }
      } else {
        double* dst = staged_numbers.data() + slot[k];
        for (size_t r = 0; r < chunk.rows; ++r) {
          if (at[r] != UINT32_MAX) dst[size_t{at[r]} * numbers] = from.numbers[r];
        }
      }
    }
  }
  for (const double a : best_asof) {
    if (a > p.limit) {
      p.Violated(v.name);
      break;
    }
  }
  // The columns: a position without a row gets the unmatched row's cell.
  std::vector<Column> out;
  std::vector<int32_t> fill_code(features, -1);
  for (size_t k = 0; k < features; ++k) {
    const Column& from = chunk.columns[k + 3];
    Column col;
    col.name = from.name;
    col.type = from.type;
    const Column& fill = unmatched.columns[k];
    if (from.is_text()) {
      col.dictionary = from.dictionary;
      if (fill.codes[0] >= 0) {
        const std::string& text = fill.dictionary[fill.codes[0]];
        auto found = std::find(col.dictionary.begin(), col.dictionary.end(), text);
        fill_code[k] = static_cast<int32_t>(found - col.dictionary.begin());
        if (found == col.dictionary.end()) col.dictionary.push_back(text);
      }
      ReserveHuge(col.codes, p.n);
      col.codes.resize(p.n);
    } else {
      ReserveHuge(col.numbers, p.n);
      col.numbers.resize(p.n);
    }
    out.push_back(std::move(col));
  }
  for (size_t begin = 0; begin < p.n; begin += kTransposeBlock) {
    const size_t end = std::min(p.n, begin + kTransposeBlock);
    for (size_t k = 0; k < features; ++k) {
      Column& col = out[k];
      if (col.is_text()) {
        const int32_t* src = staged_codes.data() + slot[k];
        for (size_t i = begin; i < end; ++i) {
          col.codes[i] = std::isnan(best_time[i]) ? fill_code[k] : src[i * texts];
        }
      } else {
        const double* src = staged_numbers.data() + slot[k];
        const double fill = unmatched.columns[k].numbers[0];
        for (size_t i = begin; i < end; ++i) {
          col.numbers[i] = std::isnan(best_time[i]) ? fill : src[i * numbers];
        }
      }
    }
  }
  p.Return(std::move(staged_numbers));
  return out;
}

// An aggregate view whose features are plain calls (part.calls) computed from the window's
// source rows one by one (part.scan): per spine entity, count(*), count(x), sum, avg, min and
// max of the arguments, and the latest event time for the audit. Integer arguments are summed
// in int64 (exact, as DuckDB's HUGEINT sum), DOUBLE ones in double in the order read (DuckDB's
// own order differs: equal within rounding); a mean is the sum over the count in double, as
// DuckDB divides. The running values are kept row-major by file position, so a source row
// updates one place in memory, and turned into columns at the end. nullopt (the caller runs
// DuckDB's GROUP BY) for what this cannot reproduce: min/max/sum/avg of text, a NaN argument
// (DuckDB orders NaN above every number), an integer beyond 2^53 or a sum beyond int64.
StatusOr<std::optional<std::vector<db::ColumnarTable::Column>>> ScanAggregate(
    Placement& p, const config::FeatureView& v, const OnlineQuery::Part& part) {
  using Column = db::ColumnarTable::Column;
  const std::optional<std::vector<Column>> decline;
  std::string args;
  for (const auto& call : part.calls) {
    if (call.argument >= 0) args += ", q._a" + std::to_string(call.argument);
  }
  ASSIGN_OR_RETURN(db::ColumnStream stream,
                   p.con.StreamColumns(p.query.with + " SELECT CAST(q._e AS VARCHAR) AS _e, q._t" +
                                           args + " FROM (" + part.scan + ") q",
                                       &p.entities));
  const db::ColumnarTable& chunk = stream.chunk();
  enum class Kind { kCountStar, kCount, kSum, kAvg, kMin, kMax };
  struct State {
    Kind kind = Kind::kCountStar;
    int column = -1;       // the argument's chunk column
    bool integer = false;  // an integer argument (summed in int64)
    // Slots in a position's staged values: doubles (a double sum, min, max) and int64 (an
    // integer sum); -1 when unused.
    int value = -1, isum = -1;
    // count(x), sum, avg: null arguments per position, allocated at the first null (a count
    // is the entity's rows less these).
    std::vector<uint32_t> nulls;
  };
  std::vector<State> states;
  int values = 0, isums = 0;
  int next_column = 2;
  for (const auto& call : part.calls) {
    State st;
    const std::string& f = call.function;
    st.kind = call.argument < 0 ? Kind::kCountStar
              : f == "count"    ? Kind::kCount
              : f == "sum"      ? Kind::kSum
              : f == "avg"      ? Kind::kAvg
              : f == "min"      ? Kind::kMin
                                : Kind::kMax;
    if (call.argument >= 0) {
      st.column = next_column++;
      const Column& arg = chunk.columns[st.column];
      if (st.kind != Kind::kCount && arg.is_text()) return decline;
      st.integer = arg.type == db::Type::kInteger || arg.type == db::Type::kBigint ||
                   arg.type == db::Type::kBoolean;
    }
    const bool sum = st.kind == Kind::kSum || st.kind == Kind::kAvg;
    if (sum && st.integer) st.isum = isums++;
    if ((sum && !st.integer) || st.kind == Kind::kMin || st.kind == Kind::kMax) {
      st.value = values++;
    }
    states.push_back(std::move(st));
  }
  // min/max start as NaN (no value yet), sums and counts as 0.
  std::vector<double> value = p.TakeScratch(p.n * values, 0.0);
  std::vector<int64_t> isum;
  std::vector<uint32_t> count;  // rows per position
  for (const State& st : states) {
    if (st.kind == Kind::kMin || st.kind == Kind::kMax) {
      for (size_t i = 0; i < p.n; ++i) {
        value[i * values + st.value] = std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
  ReserveHuge(isum, p.n * isums);
  isum.assign(p.n * isums, 0);
  ReserveHuge(count, p.n);
  count.assign(p.n, 0);
  constexpr double kExact = 9007199254740992.0;  // 2^53
  std::vector<double> latest(p.n, std::numeric_limits<double>::quiet_NaN());
  std::vector<uint32_t> at;
  while (true) {
    ASSIGN_OR_RETURN(const bool more, stream.Next());
    if (!more) break;
    PositionsOf(p, chunk, at);
    PrefetchRows(at, value.data(), static_cast<size_t>(values));
    const size_t rows = chunk.rows;
    const std::vector<double>& time = chunk.columns[1].numbers;
    for (size_t r = 0; r < rows; ++r) {
      const uint32_t pos = at[r];
      if (pos == UINT32_MAX) continue;
      ++count[pos];
      if (!(time[r] <= latest[pos])) latest[pos] = time[r];
    }
    for (State& st : states) {
      if (st.kind == Kind::kCountStar) continue;
      const Column& arg = chunk.columns[st.column];
      if (arg.has_nan) return decline;
      auto null_at = [&](uint32_t pos) {
        if (st.kind == Kind::kMin || st.kind == Kind::kMax) return;
        if (st.nulls.empty()) {
          ReserveHuge(st.nulls, p.n);
          st.nulls.assign(p.n, 0);
        }
        ++st.nulls[pos];
      };
      if (arg.is_text()) {  // count(x) of text
        for (size_t r = 0; r < rows; ++r) {
          if (at[r] != UINT32_MAX && arg.codes[r] < 0) null_at(at[r]);
        }
        continue;
      }
      const std::vector<double>& x = arg.numbers;
      if (st.integer) {
        for (size_t r = 0; r < rows; ++r) {
          if (!(std::fabs(x[r]) <= kExact) && !std::isnan(x[r])) return decline;
        }
      }
      double* val = st.value >= 0 ? value.data() + st.value : nullptr;
      int64_t* is = st.isum >= 0 ? isum.data() + st.isum : nullptr;
      for (size_t r = 0; r < rows; ++r) {
        const size_t pos = at[r];
        const double xv = x[r];
        if (pos == UINT32_MAX) continue;
        if (std::isnan(xv)) {
          null_at(static_cast<uint32_t>(pos));
          continue;
        }
        switch (st.kind) {
          case Kind::kCount:
            break;
          case Kind::kSum:
          case Kind::kAvg:
            if (is != nullptr) {
              if (__builtin_add_overflow(is[pos * isums], static_cast<int64_t>(xv),
                                         &is[pos * isums])) {
                return decline;
              }
            } else {
              val[pos * values] += xv;
            }
            break;
          case Kind::kMin:
            if (!(xv >= val[pos * values])) val[pos * values] = xv;
            break;
          case Kind::kMax:
            if (!(xv <= val[pos * values])) val[pos * values] = xv;
            break;
          case Kind::kCountStar:
            break;
        }
      }
    }
  }
  const double strict_limit = v.strict ? p.limit - 1 : p.limit;
  for (const double t : latest) {
    if (t > strict_limit) {
      p.Violated(v.name);
      break;
    }
  }
  // The features: an entity without a row in the window has count 0 and NULL for the rest,
  // as the query path's unmatched row gives it.
  constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
  std::vector<Column> out(states.size());
  for (size_t k = 0; k < states.size(); ++k) {
    out[k].name = v.features[k].name;
    out[k].type = db::Type::kDouble;
    ReserveHuge(out[k].numbers, p.n);
    out[k].numbers.resize(p.n);
  }
  for (size_t begin = 0; begin < p.n; begin += kTransposeBlock) {
    const size_t end = std::min(p.n, begin + kTransposeBlock);
    for (size_t k = 0; k < states.size(); ++k) {
      const State& st = states[k];
      double* dst = out[k].numbers.data();
      for (size_t i = begin; i < end; ++i) {
        const uint32_t c = count[i] - (st.nulls.empty() ? 0 : st.nulls[i]);
        switch (st.kind) {
          case Kind::kCountStar:
          case Kind::kCount:
            dst[i] = static_cast<double>(c);
            break;
          case Kind::kSum:
          case Kind::kAvg: {
            const double total = st.isum >= 0 ? static_cast<double>(isum[i * isums + st.isum])
                                              : value[i * values + st.value];
            dst[i] = c == 0                  ? kNull
                     : st.kind == Kind::kAvg ? total / static_cast<double>(c)
                                             : total;
            break;
          }
          case Kind::kMin:
          case Kind::kMax:
            dst[i] = value[i * values + st.value];
            break;
        }
      }
    }
  }
  p.Return(std::move(value));
  return std::optional<std::vector<Column>>(std::move(out));
}

// The snapshot's rows, checked and ordered by entity: the entity as text and every feature as
// DOUBLE (numbers, booleans) or VARCHAR (the rest). The spine and each latest or aggregate view
// are read as separate queries (OnlineQuery) and placed on the spine's rows by the entity's
// dictionary code (the view's entity column is seeded with the spine's dictionary); a spine
// entity without a row in a view gets the view's unmatched row. The point-in-time audit checks
// every view row's as-of date against as_of here. `types` gets the entity's and every
// feature's DuckDB type (DESCRIBE of each part). FailedPrecondition for an audit
// violation, an entity with two spine rows (same spine key and date) or two rows in one view;
// nothing is written then. The order is an index sort of the entity dictionary rather than an
// ORDER BY: DuckDB would copy every wide row through its sort.
StatusOr<OnlineRows> QueryOnlineRows(const config::Project& project, db::Connection& con,
                                     const OnlineQuery& query, Date as_of, db::Table& types,
                                     std::optional<bool> latest_spine_by_scan,
                                     std::optional<bool> views_by_scan) {
  const config::FeatureSet& set = project.features;
  const FeatureSchema schema = SchemaOf(set);
  // `types`: the spine's DESCRIBE row of the entity (_e), then every feature's from the part
  // that computes it, in schema order.
  ASSIGN_OR_RETURN(types, con.Query("DESCRIBE " + query.with + " " + query.spine));
  std::unordered_map<std::string, std::vector<db::Value>> described;
  for (size_t i = 1; i < types.rows.size(); ++i) {
    described[std::get<std::string>(types.rows[i][0])] = std::move(types.rows[i]);
  }
  for (const OnlineQuery::Part& part : query.parts) {
    ASSIGN_OR_RETURN(db::Table t, con.Query("DESCRIBE " + query.with + " " + part.rows));
    for (size_t i = 2; i < t.rows.size(); ++i) {  // after _e and _asof
      described[std::get<std::string>(t.rows[i][0])] = std::move(t.rows[i]);
    }
  }
  types.rows.resize(1);
  types.rows[0][0] = schema.entity;
  // Every feature is read as DOUBLE or as text (the snapshot's two kinds of cell).
  std::unordered_map<std::string, bool> numeric;
  for (const std::string& f : schema.features) {
    auto it = described.find(f);
    if (it == described.end()) return InternalError("online store: no query gives feature " + f);
    types.rows.push_back(it->second);
    numeric[f] = IsNumericType(std::get<std::string>(it->second[1]));
  }
  auto casts = [&](const std::vector<config::Feature>& features) {
    std::string out;
    for (const auto& f : features) {
      const std::string name = QuoteIdent(f.name);
      out +=
          ", CAST(q." + name + " AS " + (numeric[f.name] ? "DOUBLE" : "VARCHAR") + ") AS " + name;
    }
    return out;
  };
  std::vector<config::Feature> spine_features;
  for (const auto& v : set.views) {
    if (v.kind == config::ViewKind::kSpine) {
      spine_features.insert(spine_features.end(), v.features.begin(), v.features.end());
    }
  }
  if (!latest_spine_by_scan) {
    ASSIGN_OR_RETURN(
        db::Table shape,
        con.Query(query.with +
                  " SELECT count(*)::DOUBLE, approx_count_distinct(_e)::DOUBLE FROM (" +
                  query.spine_rows + ")"));
    const double rows = std::get<double>(shape.rows[0][0]);
    const double entities = std::get<double>(shape.rows[0][1]);
    latest_spine_by_scan = rows <= 1.5 * entities;
  }
  // By scan: every spine row, with its date (_sd); by DuckDB: the latest rows only (a date
  // column of one value, so an entity's two rows are its duplicates).
  const std::string spine_rows =
      " FROM (" + (*latest_spine_by_scan ? query.spine_rows : query.spine) + ") q";
  const std::string row_date_sql = *latest_spine_by_scan ? "q._sd" : "DATE '1970-01-01' AS _sd";
  // An integer entity is read as a number and coded here (its text is the decimal integer, as
  // CAST(_e AS VARCHAR) writes it), not cast to text on every row: on the Kueski loans that cast
  // and the dictionary of every row's text was half of this step.
  const std::string& entity_type = std::get<std::string>(types.rows[0][1]);
  const bool integer_entity = entity_type == "BIGINT" || entity_type == "INTEGER" ||
                              entity_type == "SMALLINT" || entity_type == "TINYINT";
  ASSIGN_OR_RETURN(db::ColumnarTable spine,
                   con.QueryColumns(query.with + " SELECT " +
                                    (integer_entity ? "q._e" : "CAST(q._e AS VARCHAR) AS _e") +
                                    ", " + row_date_sql + casts(spine_features) + spine_rows));
  std::vector<double> entity_numbers;  // an integer entity's values, for the second scan's check
  if (integer_entity) {
    entity_numbers = spine.columns[0].numbers;
    RETURN_IF_ERROR(CodeIntegers(spine.columns[0]));
  }
  // Each entity's latest row: the greatest (date, key), as LatestSpineSql's max() of the pair
  // (a null key after every key); a second row with the same date and key is a duplicate.
  // Equal entities share a dictionary code, and the query has no null entity. The keys are
  // read only when some entity has two rows on its latest date: a text key of a million loans
  // costs its own dictionary (0.6 s on 1M customers, most of this step).
  const db::ColumnarTable::Column& ent = spine.columns[0];
  const std::vector<double>& row_date = spine.columns[1].numbers;
  std::vector<uint32_t> row_of(ent.dictionary.size(), UINT32_MAX);  // first row on the latest date
  std::vector<bool> tied(ent.dictionary.size(), false);
  bool any_tied = false;
  for (size_t r = 0; r < spine.rows; ++r) {
    const int32_t c = ent.codes[r];
    if (c < 0) return InternalError("online store: a null entity in the spine rows");
    uint32_t& best = row_of[c];
    if (best == UINT32_MAX || row_date[r] > row_date[best]) {
      best = static_cast<uint32_t>(r);
      tied[c] = false;
    } else if (row_date[r] == row_date[best]) {
      tied[c] = any_tied = true;
    }
  }
  std::vector<bool> repeated(ent.dictionary.size(), false);
  bool any_repeated = false;
  if (any_tied && !*latest_spine_by_scan) {
    repeated = tied;
    any_repeated = true;
  } else if (any_tied) {
    // The keys, from a second scan of the same rows: DuckDB keeps a scan's order, and each
    // row's entity and date are checked against the first scan's.
    ASSIGN_OR_RETURN(
        db::ColumnarTable keyed,
        integer_entity
            ? con.QueryColumns(query.with + " SELECT q._e, q._sd, q._sk" + spine_rows)
            : con.QueryColumns(
                  query.with + " SELECT CAST(q._e AS VARCHAR) AS _e, q._sd, q._sk" + spine_rows,
                  ent.dictionary));
    bool aligned = keyed.rows == spine.rows;
    for (size_t r = 0; aligned && r < spine.rows; ++r) {
      aligned = (integer_entity ? keyed.columns[0].numbers[r] == entity_numbers[r]
                                : keyed.columns[0].codes[r] == ent.codes[r]) &&
                keyed.columns[1].numbers[r] == row_date[r];
    }
    if (!aligned) {
      return FailedPreconditionError("feature spine " + set.spine.source +
                                     " changed while it was read; nothing was published (run "
                                     "materialize again)");
    }
    const db::ColumnarTable::Column& row_key = keyed.columns[2];
    auto compare_keys = [&](size_t a, size_t b) -> int {
      if (row_key.is_text()) {
        const int32_t ka = row_key.codes[a], kb = row_key.codes[b];
        if (ka == kb) return 0;
        if (ka < 0 || kb < 0) return ka < 0 ? 1 : -1;
        return row_key.dictionary[ka] < row_key.dictionary[kb] ? -1 : 1;
      }
      const double ka = row_key.numbers[a], kb = row_key.numbers[b];
      if (std::isnan(ka) || std::isnan(kb)) {
        return std::isnan(ka) == std::isnan(kb) ? 0 : std::isnan(ka) ? 1 : -1;
      }
      return ka == kb ? 0 : ka < kb ? -1 : 1;
    };
    for (size_t r = 0; r < spine.rows; ++r) {
      const int32_t c = ent.codes[r];
      uint32_t& best = row_of[c];
      if (!tied[c] || r == best || row_date[r] != row_date[best]) continue;
      const int order = compare_keys(r, best);
      if (order > 0) {
        best = static_cast<uint32_t>(r);
        repeated[c] = false;
      } else if (order == 0) {
        repeated[c] = true;
      }
    }
    // A later, greater key clears an entity's earlier tie, so count at the end.
    any_repeated = std::find(repeated.begin(), repeated.end(), true) != repeated.end();
  }
  // The date has done its work: the spine's columns are now _e and the features.
  spine.columns.erase(spine.columns.begin() + 1);
  const size_t n = ent.dictionary.size();  // one row per entity from here on
  OnlineRows out;
  // File position i holds the entity with code order[i].
  const std::vector<uint32_t> order = SortedCodes(ent.dictionary, IsNumericType(entity_type));
  if (any_repeated) {
    // The first repeated entity in entity order.
    const auto first =
        std::find_if(order.begin(), order.end(), [&](uint32_t c) { return repeated[c]; });
    const std::string what = set.spine.entity + " " + ent.dictionary[*first];
    return FailedPreconditionError("feature spine " + set.spine.source + ": " + what +
                                   " has duplicate spine rows (same " + set.spine.key +
                                   ") on its latest date; nothing was published");
  }
  // Every column is built in file order: the spine's columns are permuted once here, and the
  // views' rows are placed at their entity's file position below, so the writers read each
  // column front to back (gathering 45 columns through a permutation while writing was most
  // of the write's time).
  std::vector<uint32_t> position_of(order.size());
  for (uint32_t i = 0; i < order.size(); ++i) position_of[order[i]] = i;
  for (db::ColumnarTable::Column& col : spine.columns) {
    if (col.is_text()) {
      std::vector<int32_t> codes;
      ReserveHuge(codes, n);
      for (const uint32_t c : order) codes.push_back(col.codes[row_of[c]]);
      col.codes = std::move(codes);
    } else {
      std::vector<double> numbers;
      ReserveHuge(numbers, n);
      for (const uint32_t c : order) numbers.push_back(col.numbers[row_of[c]]);
      col.numbers = std::move(numbers);
    }
  }

  // Each view's rows, placed at their entity's file position by the entity's dictionary code.
  std::map<std::string, db::ColumnarTable::Column> by_feature;
  std::string violated;  // the smallest view name, so the message does not depend on row order
  // The spine's entities, shared by every view's read (their codes stay 0..n-1).
  db::TextDictionary entities(std::move(spine.columns[0].dictionary));
  Placement placement{
      project,  con, query, entities, position_of, n, static_cast<double>(as_of.days()),
      violated, {}};
  for (const OnlineQuery::Part& part : query.parts) {
    const config::FeatureView& v = set.views[part.view];
    ASSIGN_OR_RETURN(db::ColumnarTable unmatched,
                     con.QueryColumns(query.with + " SELECT " + casts(v.features).substr(2) +
                                      " FROM (" + part.unmatched + ") q"));
    if (unmatched.rows != 1) {
      return InternalError("feature view \"" + v.name + "\": the unmatched row query gave " +
                           std::to_string(unmatched.rows) + " rows");
    }
    std::optional<std::vector<db::ColumnarTable::Column>> placed;
    if (views_by_scan.value_or(true) && v.kind == config::ViewKind::kLatest) {
      // The scan evaluates the expressions on every source row, DuckDB's GROUP BY on the
      // latest rows only: scan when the source has few rows more than the spine has entities.
      bool scan = true;
      if (!views_by_scan) {
        ASSIGN_OR_RETURN(db::Table count, con.Query(query.with + " " + part.count));
        scan = std::get<double>(count.rows[0][0]) <= 1.5 * static_cast<double>(n);
      }
      if (scan) {
        ASSIGN_OR_RETURN(placed, ScanLatest(placement, v, part, casts(v.features), unmatched));
      }
    } else if (views_by_scan.value_or(true) && !part.calls.empty() &&
               std::all_of(v.features.begin(), v.features.end(),
                           [&](const config::Feature& f) { return numeric[f.name]; })) {
      ASSIGN_OR_RETURN(placed, ScanAggregate(placement, v, part));
    }
    if (!placed) {
      ASSIGN_OR_RETURN(
          placed, PlaceQueryRows(placement, v,
                                 query.with + " SELECT CAST(q._e AS VARCHAR) AS _e, q." +
                                     QuoteIdent("_asof_" + v.name) + casts(v.features) + " FROM (" +
                                     part.rows + ") q",
                                 unmatched));
    }
    for (db::ColumnarTable::Column& col : *placed) {
      std::string name = col.name;
      by_feature[name] = std::move(col);
    }
  }
  // The entities' dictionary back on the spine's column, without what the views added.
  spine.columns[0].dictionary = entities.Release();
  spine.columns[0].dictionary.resize(n);
  if (!violated.empty()) {
    return FailedPreconditionError("point-in-time audit: feature view \"" + violated +
                                   "\" used source rows dated after as_of; nothing was "
                                   "published");
  }
  // The table: the entity, then every feature in schema order.
  db::ColumnarTable& t = out.table;
  t.rows = n;
  for (size_t c = 1; c < spine.columns.size(); ++c) {
    by_feature[spine.columns[c].name] = std::move(spine.columns[c]);
  }
  t.columns.push_back(std::move(spine.columns[0]));
  t.columns[0].name = schema.entity;
  for (const std::string& f : schema.features) {
    auto it = by_feature.find(f);
    if (it == by_feature.end()) return InternalError("online store: no column for feature " + f);
    t.columns.push_back(std::move(it->second));
  }
  // The writers store a text column's dictionary as it is: code it by first use in file order,
  // so the same cells give the same bytes whatever order DuckDB's threads returned rows in.
  for (db::ColumnarTable::Column& col : t.columns) {
    if (col.is_text()) RecodeInOrder(col);
  }
  return out;
}

json ManifestJson(const config::Project& project, const MaterializeSummary& s,
                  const std::string& created_at, const db::Table& types, SnapshotFormat format,
                  const SnapshotFileInfo& file) {
  const config::FeatureSet& set = project.features;
  json views = json::array();
  std::unordered_map<std::string, std::string> view_of;
  for (const auto& v : set.views) {
    json names = json::array();
    for (const auto& f : v.features) {
      names.push_back(f.name);
      view_of[f.name] = v.name;
    }
    json view = {{"name", v.name},
                 {"kind", KindName(v.kind)},
                 {"source", v.kind == config::ViewKind::kSpine ? set.spine.source : v.source},
                 {"features", names}};
    if (v.kind != config::ViewKind::kSpine) view["event_time"] = v.event_time;
    if (v.max_age_days > 0) view["max_age_days"] = v.max_age_days;
    if (v.window_days > 0) view["window_days"] = v.window_days;
    if (v.strict) view["strict"] = true;
    views.push_back(view);
  }
  json features = json::array();
  for (size_t i = 1; i < types.rows.size(); ++i) {
    const std::string name = std::get<std::string>(types.rows[i][0]);
    const std::string type = std::get<std::string>(types.rows[i][1]);
    features.push_back({{"name", name},
                        {"type", type},
                        {"view", view_of[name]},
                        {"numeric", IsNumericType(type)}});
  }
  return {
      {"format", format == SnapshotFormat::kBinary ? kSnapshotFormatBinary : kSnapshotFormatCsv},
      {"version", s.version},
      {"as_of", s.as_of.ToString()},
      {"created_at", created_at},
      {"project", project.name},
      {"feature_set_version", set.version},
      {"spine", {{"source", set.spine.source}, {"key", set.spine.key}, {"date", set.spine.date}}},
      {"entity",
       {{"name", std::get<std::string>(types.rows[0][0])},
        {"type", std::get<std::string>(types.rows[0][1])}}},
      {"views", views},
      {"features", features},
      {"rows", s.rows},
      {"file", format == SnapshotFormat::kBinary ? kSnapshotBin : kSnapshotCsv},
      {"bytes", file.bytes},
      {"sha256", file.sha256},
      {"duckdb", db::LibraryVersion()}};
}

// Writes the data file and manifest.json into `tmp`.
Status WriteSnapshot(const config::Project& project, const OnlineRows& rows, const db::Table& types,
                     SnapshotFormat format, const fs::path& tmp, const std::string& created_at,
                     const MaterializeSummary& s) {
  StatusOr<SnapshotFileInfo> file =
      format == SnapshotFormat::kBinary
          ? WriteSnapshotBinary(rows.table, tmp / kSnapshotBin)
          : WriteSnapshotCsv(rows.table, !IsNumericType(std::get<std::string>(types.rows[0][1])),
                             tmp / kSnapshotCsv);
  RETURN_IF_ERROR(file.status());
  const json manifest = ManifestJson(project, s, created_at, types, format, *file);
  return WriteFileAtomic(tmp / kSnapshotManifest, manifest.dump(2) + "\n");
}

// Deletes snapshots beyond the `keep` newest besides `current`, and stale temporaries.
std::vector<std::string> Prune(const fs::path& snapshots, const std::string& current, int keep) {
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kTempPrefix)) {
      const auto age = fs::file_time_type::clock::now() - entry.last_write_time(ec);
      if (!ec && age > kStaleTempAge) fs::remove_all(entry.path(), ec);
      continue;
    }
    if (entry.is_directory(ec) && name != current && !name.starts_with(".")) {
      versions.push_back(name);
    }
  }
  std::sort(versions.rbegin(), versions.rend());
  std::vector<std::string> pruned;
  for (size_t i = static_cast<size_t>(keep); i < versions.size(); ++i) {
    if (fs::remove_all(snapshots / versions[i], ec) > 0 && !ec) pruned.push_back(versions[i]);
  }
  return pruned;
}

}  // namespace

std::string_view SnapshotFormatName(SnapshotFormat format) {
  return format == SnapshotFormat::kBinary ? "binary" : "csv";
}

std::optional<SnapshotFormat> ParseSnapshotFormat(std::string_view name) {
  if (name == "binary") return SnapshotFormat::kBinary;
  if (name == "csv") return SnapshotFormat::kCsv;
  return std::nullopt;
}

StatusOr<MaterializeSummary> Materialize(const config::Project& project, db::Connection& con,
                                         const MaterializeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.keep < 0) {
    return InvalidArgumentError("materialize: keep must be >= 0, got " +
                                std::to_string(options.keep));
  }
  const datamart::Datamart mart(project.workspace.datamart());
  RETURN_IF_ERROR(ValidateFeatures(project, mart, con));
  MaterializeSummary s;
  if (options.as_of) {
    s.as_of = *options.as_of;
  } else {
    ASSIGN_OR_RETURN(std::string spine, SpineSql(project, mart, nullptr, nullptr));
    ASSIGN_OR_RETURN(db::Table t, con.Query("SELECT max(" + std::string(kDecisionDate) +
                                            ") FROM (" + spine + ")"));
    const auto* latest = std::get_if<Date>(&t.rows[0][0]);
    if (latest == nullptr) {
      return FailedPreconditionError("feature spine " + project.features.spine.source +
                                     " has no dated events; nothing to materialize");
    }
    s.as_of = *latest;
  }
  ASSIGN_OR_RETURN(const OnlineQuery query, OnlineFeatureSql(project, mart, s.as_of));
  db::Table types;
  ASSIGN_OR_RETURN(const OnlineRows rows,
                   QueryOnlineRows(project, con, query, s.as_of, types,
                                   options.latest_spine_by_scan, options.views_by_scan));
  s.rows = static_cast<int64_t>(rows.table.rows);
  if (s.rows == 0) {
    return FailedPreconditionError("feature spine " + project.features.spine.source +
                                   " has no event on or before " + s.as_of.ToString() +
                                   "; nothing to materialize");
  }
  s.features = rows.table.columns.size() - 1;

  const fs::path online = project.workspace.online();
  const fs::path snapshots = online / kSnapshotsDir;
  RETURN_IF_ERROR(MakeDirs(snapshots));
  auto [created_at, version] = CreatedAtAndVersion(s.as_of);
  const std::string base = version;
  for (int n = 1; fs::exists(snapshots / version); ++n) version = base + "-" + std::to_string(n);
  s.version = version;
  s.dir = snapshots / version;
  const fs::path tmp = snapshots / (kTempPrefix + version + "-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  RETURN_IF_ERROR(MakeDirs(tmp));
  Status written = WriteSnapshot(project, rows, types, options.format, tmp, created_at, s);
  if (written.ok()) written = Fsync(tmp);
  if (written.ok() && ::rename(tmp.c_str(), s.dir.c_str()) != 0) {
    written = InternalError("cannot rename " + tmp.string() + " to " + s.dir.string() + ": " +
                            std::strerror(errno));
  }
  if (!written.ok()) {
    fs::remove_all(tmp, ec);
    return written;
  }
  RETURN_IF_ERROR(Fsync(snapshots));
  RETURN_IF_ERROR(WriteFileAtomic(online / kCurrentFile, version + "\n"));
  s.pruned = Prune(snapshots, version, options.keep);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Loading, without DuckDB.

namespace {

// A read-only memory map of a whole file.
class MappedFile {
 public:
  static StatusOr<MappedFile> Open(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFoundError(path.string() + ": no such file");
      return InternalError(path.string() + ": cannot open: " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return InternalError(path.string() + ": cannot stat: " + std::strerror(errno));
    }
    MappedFile m;
    m.size_ = static_cast<size_t>(st.st_size);
    if (m.size_ > 0) {
      void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        return InternalError(path.string() + ": cannot map: " + std::strerror(errno));
      }
      ::madvise(p, m.size_, MADV_SEQUENTIAL);
      m.data_ = static_cast<const char*>(p);
    }
    ::close(fd);
    return m;
  }
  MappedFile(MappedFile&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  std::string_view view() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

// Parses features.csv (RFC 4180 as WriteSnapshotCsv writes it: ',' separated, '"' quoted with '""'
// escapes, an unquoted empty field is NULL) into an OnlineSnapshot whose features_ are set.
class SnapshotParser {
 public:
  SnapshotParser(std::string_view data, const fs::path& file, OnlineSnapshot& snap)
      : data_(data), file_(file.string()), snap_(snap) {}

  // Reads the manifest's fields into `snap`; InvalidArgument naming the file when one is
  // missing or has the wrong type.
  static Status ReadManifest(const fs::path& path, OnlineSnapshot& snap, std::string& sha256,
                             int64_t& bytes, int64_t& rows, std::string& file, bool& binary) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    const json m = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (m.is_discarded() || !m.is_object()) {
      return InvalidArgumentError(path.string() + ": not valid JSON");
    }
    try {
      const std::string format = m.at("format").get<std::string>();
      if (format == kSnapshotFormatBinary) {
        binary = true;
      } else if (format != kSnapshotFormatCsv) {
        return InvalidArgumentError(path.string() + ": format \"" + format + "\" is neither " +
                                    kSnapshotFormatBinary + " nor " + kSnapshotFormatCsv);
      }
      snap.version_ = m.at("version").get<std::string>();
      const std::string as_of = m.at("as_of").get<std::string>();
      const auto date = ParseIsoDate(as_of);
      if (!date)
        return InvalidArgumentError(path.string() + ": as_of \"" + as_of + "\" is not a date");
      snap.as_of_ = *date;
      snap.created_at_ = m.value("created_at", "");
      snap.project_ = m.value("project", "");
      snap.feature_set_version_ = m.value("feature_set_version", "");
      snap.entity_column_ = m.at("entity").at("name").get<std::string>();
      for (const auto& f : m.at("features")) {
        OnlineFeature feature{f.at("name").get<std::string>(), f.at("type").get<std::string>(),
                              f.value("view", ""), false};
        feature.numeric = IsNumericType(feature.type);
        snap.features_.push_back(std::move(feature));
      }
      sha256 = m.at("sha256").get<std::string>();
      bytes = m.at("bytes").get<int64_t>();
      rows = m.at("rows").get<int64_t>();
      file = m.value("file", std::string(binary ? kSnapshotBin : kSnapshotCsv));
    } catch (const json::exception& e) {
      return InvalidArgumentError(path.string() + ": " + e.what());
    }
    if (file.empty() || file.find('/') != std::string::npos || file.starts_with(".")) {
      return InvalidArgumentError(path.string() + ": file \"" + file + "\" is not a plain name");
    }
    return OkStatus();
  }

  Status Parse(int64_t expected_rows) {
    const size_t nfeat = snap_.features_.size();
    for (size_t i = 0; i < nfeat; ++i) {
      const bool numeric = snap_.features_[i].numeric;
      snap_.slot_.push_back(
          static_cast<uint32_t>(numeric ? snap_.numeric_count_++ : snap_.text_count_++));
    }
    snap_.dictionaries_.resize(snap_.text_count_);
    dict_index_.resize(snap_.text_count_);
    // The manifest's count sizes the buffers; it is bounded by the file (>= 2 bytes a row).
    const size_t rows = static_cast<size_t>(
        std::clamp<int64_t>(expected_rows, 0, static_cast<int64_t>(data_.size() / 2)));
    snap_.numbers_.reserve(rows * snap_.numeric_count_);
    snap_.valid_.reserve(rows * snap_.numeric_count_);
    snap_.text_codes_.reserve(rows * snap_.text_count_);
    snap_.row_entity_.reserve(rows + 1);
    snap_.row_entity_.push_back(0);
    snap_.index_.assign(std::bit_ceil(std::max<size_t>(rows * 2, 16)), 0);

    RETURN_IF_ERROR(ParseHeader());
    while (pos_ < data_.size()) RETURN_IF_ERROR(ParseRow());
    if (static_cast<int64_t>(snap_.rows()) != expected_rows) {
      return DataLossError(file_ + ": " + std::to_string(snap_.rows()) +
                           " rows, but the manifest says " + std::to_string(expected_rows));
    }
    return OkStatus();
  }

 private:
  Status Error(const std::string& what) const {
    return DataLossError(file_ + ": line " + std::to_string(row_line_) + ": " + what);
  }

  // Reads the field at pos_ into field_ (a view into the data, or into scratch_ when it had
  // escaped quotes) and quoted_; returns the terminator (',', '\n', or 0 at end of data).
  StatusOr<char> NextField() {
    quoted_ = false;
    if (pos_ < data_.size() && data_[pos_] == '"') {
      quoted_ = true;
      const size_t begin = ++pos_;
      bool escaped = false;
      while (true) {
        const size_t q = data_.find('"', pos_);
        if (q == std::string_view::npos) return Error("unterminated quoted field");
        if (q + 1 < data_.size() && data_[q + 1] == '"') {
          escaped = true;
          pos_ = q + 2;
          continue;
        }
        field_ = data_.substr(begin, q - begin);
        pos_ = q + 1;
        break;
      }
      line_ += static_cast<int64_t>(std::count(field_.begin(), field_.end(), '\n'));
      if (escaped) {
        scratch_.clear();
        for (size_t i = 0; i < field_.size(); ++i) {
          scratch_.push_back(field_[i]);
          if (field_[i] == '"') ++i;
        }
        field_ = scratch_;
      }
    } else {
      const size_t begin = pos_;
      while (pos_ < data_.size() && data_[pos_] != ',' && data_[pos_] != '\n' &&
             data_[pos_] != '\r' && data_[pos_] != '"') {
        ++pos_;
      }
      field_ = data_.substr(begin, pos_ - begin);
    }
    if (pos_ == data_.size()) return '\0';
    char c = data_[pos_++];
    if (c == '\r' && pos_ < data_.size() && data_[pos_] == '\n') c = data_[pos_++];
    if (c == '\n') ++line_;
    if (c != ',' && c != '\n') {
      return Error("unexpected character '" + std::string(1, c) + "' after field " +
                   std::to_string(fields_ + 1));
    }
    return c;
  }

  // Reads a whole record into record_ (fields as strings only for the header).
  Status ParseHeader() {
    row_line_ = line_;
    std::vector<std::string> header;
    char end = ',';
    while (end == ',') {
      ASSIGN_OR_RETURN(end, NextField());
      header.emplace_back(field_);
      ++fields_;
    }
    std::vector<std::string> expected = {snap_.entity_column_};
    for (const auto& f : snap_.features_) expected.push_back(f.name);
    if (header != expected) {
      std::string got;
      for (const auto& h : header) got += (got.empty() ? "" : ",") + h;
      return Error("header \"" + got + "\" does not match the manifest's entity and features");
    }
    return OkStatus();
  }

  Status ParseRow() {
    row_line_ = line_;
    const size_t nfeat = snap_.features_.size();
    fields_ = 0;
    ASSIGN_OR_RETURN(char end, NextField());
    if (field_.empty()) return Error("empty entity");
    const uint32_t row = static_cast<uint32_t>(snap_.rows());
    RETURN_IF_ERROR(AddEntity(field_, row));
    snap_.numbers_.resize(snap_.numbers_.size() + snap_.numeric_count_);
    snap_.valid_.resize(snap_.valid_.size() + snap_.numeric_count_);
    snap_.text_codes_.resize(snap_.text_codes_.size() + snap_.text_count_);
    double* numbers = snap_.numbers_.data() + size_t{row} * snap_.numeric_count_;
    uint8_t* valid = snap_.valid_.data() + size_t{row} * snap_.numeric_count_;
    uint32_t* codes = snap_.text_codes_.data() + size_t{row} * snap_.text_count_;
    for (size_t i = 0; i < nfeat; ++i) {
      if (end != ',') {
        return Error("expected " + std::to_string(nfeat + 1) + " fields, found " +
                     std::to_string(i + 1));
      }
      ++fields_;
      ASSIGN_OR_RETURN(end, NextField());
      const uint32_t slot = snap_.slot_[i];
      const bool null = field_.empty() && !quoted_;
      if (snap_.features_[i].numeric) {
        if (null) continue;
        RETURN_IF_ERROR(ParseNumber(i, numbers[slot]));
        valid[slot] = 1;
      } else if (!null) {
        codes[slot] = Code(slot);
      }
    }
    if (end == ',') return Error("more than " + std::to_string(nfeat + 1) + " fields");
    return OkStatus();
  }

  Status ParseNumber(size_t feature, double& out) {
    const char* first = field_.data();
    const char* last = first + field_.size();
    if (first != last && *first == '+') ++first;
    auto [ptr, ec] = std::from_chars(first, last, out);
    if (ec == std::errc() && ptr == last) return OkStatus();
    if (field_ == "true" || field_ == "false") {
      out = field_ == "true" ? 1 : 0;
      return OkStatus();
    }
    return Error("column " + snap_.features_[feature].name + ": \"" + std::string(field_) +
                 "\" is not a number");
  }

  uint32_t Code(uint32_t slot) {
    auto& index = dict_index_[slot];
    auto it = index.find(field_);
    if (it != index.end()) return it->second;
    auto& dict = snap_.dictionaries_[slot];
    dict.emplace_back(field_);
    const auto code = static_cast<uint32_t>(dict.size());
    index.emplace(std::string(field_), code);
    return code;
  }

  Status AddEntity(std::string_view entity, uint32_t row) {
    if (row + 1 > snap_.index_.size() / 2) Grow();
    snap_.entities_.append(entity);
    snap_.row_entity_.push_back(snap_.entities_.size());
    if (snap_.IndexRow(row) != 0) {
      return Error("duplicate entity \"" + std::string(entity) + "\"");
    }
    return OkStatus();
  }

  // Doubles the index (only when the manifest under-counted the rows).
  void Grow() {
    std::vector<uint32_t> bigger(snap_.index_.size() * 2, 0);
    const size_t mask = bigger.size() - 1;
    for (uint32_t slot : snap_.index_) {
      if (slot == 0) continue;
      size_t h = std::hash<std::string_view>{}(snap_.Entity(slot - 1)) & mask;
      while (bigger[h] != 0) h = (h + 1) & mask;
      bigger[h] = slot;
    }
    snap_.index_ = std::move(bigger);
  }

  std::string_view data_;
  std::string file_;
  OnlineSnapshot& snap_;
  size_t pos_ = 0;
  int64_t line_ = 1, row_line_ = 1;
  size_t fields_ = 0;
  std::string_view field_;
  bool quoted_ = false;
  std::string scratch_;
  // Owns its keys: a view into the dictionary would dangle when the dictionary's vector grows
  // and moves its short (in-place) strings.
  std::vector<std::unordered_map<std::string, uint32_t, TransparentHash, std::equal_to<>>>
      dict_index_;
};

StatusOr<OnlineSnapshot> LoadOnlineSnapshotDir(const fs::path& dir) {
  OnlineSnapshot snap;
  std::string sha256, file;
  int64_t bytes = 0, rows = 0;
  bool binary = false;
  RETURN_IF_ERROR(SnapshotParser::ReadManifest(dir / kSnapshotManifest, snap, sha256, bytes, rows,
                                               file, binary));
  const fs::path path = dir / file;
  ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path));
  const std::string_view data = mapped.view();
  if (static_cast<int64_t>(data.size()) != bytes) {
    return DataLossError(path.string() + ": " + std::to_string(data.size()) +
                         " bytes, but the manifest says " + std::to_string(bytes) +
                         " (changed after it was published)");
  }
  // Hash on a second thread while reading: loading costs max(hash, read), not their sum.
  auto digest = std::async(std::launch::async, [data] { return Sha256Hex(data); });
  Status read;
  if (binary) {
    read = BinarySnapshotReader::Read(data, path.string(), rows, snap);
  } else {
    SnapshotParser parser(data, path, snap);
    read = parser.Parse(rows);
  }
  if (digest.get() != sha256) {
    return DataLossError(path.string() + ": sha256 does not match the manifest's (" + sha256 +
                         "); the file was changed after it was published");
  }
  RETURN_IF_ERROR(read);
  return snap;
}

StatusOr<OnlineSnapshot> LoadOnlineSnapshot(const fs::path& online_dir) {
  const fs::path current = online_dir / kCurrentFile;
  // A second try covers a materialize that replaced CURRENT and pruned the snapshot between
  // our reading CURRENT and opening the folder.
  for (int attempt = 0;; ++attempt) {
    auto text = ReadFile(current);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) {
        return NotFoundError(current.string() +
                             ": no CURRENT snapshot pointer (run `riskpipe materialize` first)");
      }
      return text.status();
    }
    std::string version = *text;
    while (!version.empty() && (version.back() == '\n' || version.back() == '\r'))
      version.pop_back();
    if (version.empty() || version.starts_with(".") ||
        version.find_first_of("/\\\n\r", 0) != std::string::npos) {
      return InvalidArgumentError(current.string() + ": \"" + version +
                                  "\" is not a snapshot version");
    }
    const fs::path dir = online_dir / kSnapshotsDir / version;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return LoadOnlineSnapshotDir(dir);
    if (attempt > 0) {
      return NotFoundError(current.string() + " names snapshot " + version + ", but " +
                           dir.string() + " does not exist");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// OnlineSnapshot accessors.

std::optional<size_t> OnlineSnapshot::Find(std::string_view entity) const {
  if (index_.empty()) return std::nullopt;
  const size_t mask = index_.size() - 1;
  for (size_t h = std::hash<std::string_view>{}(entity)&mask;; h = (h + 1) & mask) {
    const uint32_t slot = index_[h];
    if (slot == 0) return std::nullopt;
    if (Entity(slot - 1) == entity) return slot - 1;
  }
}

uint32_t OnlineSnapshot::IndexRow(uint32_t row) {
  const std::string_view entity = Entity(row);
  const size_t mask = index_.size() - 1;
  for (size_t h = std::hash<std::string_view>{}(entity)&mask;; h = (h + 1) & mask) {
    const uint32_t slot = index_[h];
    if (slot == 0) {
      index_[h] = row + 1;
      return 0;
    }
    if (Entity(slot - 1) == entity) return slot;
  }
}

std::optional<size_t> OnlineSnapshot::FeatureIndex(std::string_view name) const {
  for (size_t i = 0; i < features_.size(); ++i) {
    if (features_[i].name == name) return i;
  }
  return std::nullopt;
}

std::string_view OnlineSnapshot::Entity(size_t row) const {
  return std::string_view(entities_).substr(row_entity_[row],
                                            row_entity_[row + 1] - row_entity_[row]);
}

std::optional<double> OnlineSnapshot::Number(size_t row, size_t feature) const {
  if (!features_[feature].numeric) return std::nullopt;
  const size_t cell = row * numeric_count_ + slot_[feature];
  if (valid_[cell] == 0) return std::nullopt;
  return numbers_[cell];
}

std::optional<std::string_view> OnlineSnapshot::Text(size_t row, size_t feature) const {
  if (features_[feature].numeric) return std::nullopt;
  const uint32_t code = text_codes_[row * text_count_ + slot_[feature]];
  if (code == 0) return std::nullopt;
  return std::string_view(dictionaries_[slot_[feature]][code - 1]);
}

OnlineValue OnlineSnapshot::Value(size_t row, size_t feature) const {
  if (features_[feature].numeric) {
    if (auto v = Number(row, feature)) return *v;
  } else if (auto t = Text(row, feature)) {
    return *t;
  }
  return std::monostate{};
}

}  // namespace riskpipe::features
