#include "features/internal/online_rows.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <unordered_map>

#include "core/memory.h"
#include "features/feature_query.h"
#include "features/internal/entity_order.h"
#include "features/online_snapshot.h"

// Every part is at most one row per entity once its rows are kept, so the parts are joined
// here by the entity's dictionary code rather than by DuckDB: its hash joins of a million wide
// rows cost more than the queries themselves. The spine comes first: its entities, coded in
// one dictionary, are the snapshot's rows; every view's entity column is coded with that same
// dictionary (db::TextDictionary), so a view row lands on its customer's row by code. Rows are
// put in entity order with an index sort rather than an ORDER BY, which would copy every wide
// row through DuckDB's sort.

namespace riskpipe::features::internal {
namespace {

using Column = db::ColumnarTable::Column;
constexpr uint32_t kNone = UINT32_MAX;

// The DuckDB type of the entity and of every feature, as the parts compute them.
struct Types {
  std::string entity;
  std::unordered_map<std::string, std::string> feature;
};

StatusOr<Types> Describe(db::Connection& con, const OnlineSql& sql) {
  Types out;
  ASSIGN_OR_RETURN(db::Table spine, con.Query("DESCRIBE " + sql.spine));
  out.entity = std::get<std::string>(spine.rows.at(0)[1]);
  for (size_t i = 3; i < spine.rows.size(); ++i) {  // after _e, _sd and _sk
    out.feature[std::get<std::string>(spine.rows[i][0])] = std::get<std::string>(spine.rows[i][1]);
  }
  for (const OnlineSql::View& v : sql.views) {
    ASSIGN_OR_RETURN(db::Table t, con.Query("DESCRIBE " + v.rows));
    for (size_t i = 2; i < t.rows.size(); ++i) {  // after _e and _t
      out.feature[std::get<std::string>(t.rows[i][0])] = std::get<std::string>(t.rows[i][1]);
    }
  }
  return out;
}

// -1, 0 or 1 as row a's key is below, equal to or above row b's: numbers by value, text by
// bytes, a null key above every other (as DuckDB's max() of a (date, key) struct orders them).
int CompareKeys(const Column& key, size_t a, size_t b) {
  if (key.is_text()) {
    const int32_t ka = key.codes[a], kb = key.codes[b];
    if (ka == kb) return 0;
    if (ka < 0 || kb < 0) return ka < 0 ? 1 : -1;
    return key.dictionary[ka] < key.dictionary[kb] ? -1 : 1;
  }
  const double ka = key.numbers[a], kb = key.numbers[b];
  if (std::isnan(ka) || std::isnan(kb)) {
    return std::isnan(ka) == std::isnan(kb) ? 0 : std::isnan(ka) ? 1 : -1;
  }
  return ka == kb ? 0 : ka < kb ? -1 : 1;
}

// The spine's entities and features, one row per entity in file order.
struct Spine {
  std::vector<std::string> entities;  // by code
  std::vector<uint32_t> order;        // file position -> entity code
  std::vector<uint32_t> position_of;  // entity code -> file position
  std::vector<Column> features;       // the spine views' features, in file order
};

// Reads every spine row up to as_of (the spine is narrow: the entity, date, key and the spine
// views' features) and keeps each entity's latest, the greatest (date, key). Reading every row
// and keeping the latest by code here costs a plain scan; DuckDB's GROUP BY of a million
// entities joined back to their rows cost several times more.
StatusOr<Spine> ReadSpine(const config::Project& project, db::Connection& con, const OnlineSql& sql,
                          const std::string& entity_type, const std::string& casts) {
  const config::Spine& spine = project.features.spine;
  // An integer entity is read as a number and coded here (its text is the decimal integer, as
  // CAST(_e AS VARCHAR) writes it), not cast to text and hashed as text on every row.
  const bool integer_entity = entity_type == "BIGINT" || entity_type == "INTEGER" ||
                              entity_type == "SMALLINT" || entity_type == "TINYINT";
  ASSIGN_OR_RETURN(
      db::ColumnarTable t,
      con.QueryColumns("SELECT " + std::string(integer_entity ? "q._e" : "CAST(q._e AS VARCHAR)") +
                       " AS _e, q._sd, q._sk" + casts + " FROM (" + sql.spine + ") q"));
  if (integer_entity) RETURN_IF_ERROR(CodeIntegers(t.columns[0]));
  const Column& entity = t.columns[0];
  const std::vector<double>& date = t.columns[1].numbers;
  const Column& key = t.columns[2];
  const size_t n = entity.dictionary.size();
  std::vector<uint32_t> row_of(n, kNone);
  // An entity whose latest (date, key) is on two rows: refused below. A later, greater row
  // clears an earlier tie.
  std::vector<bool> repeated(n, false);
  for (size_t r = 0; r < t.rows; ++r) {
    const int32_t c = entity.codes[r];
    if (c < 0) return InternalError("online store: a null entity in the spine rows");
    uint32_t& best = row_of[c];
    if (best == kNone) {
      best = static_cast<uint32_t>(r);
      continue;
    }
    const int order =
        date[r] != date[best] ? (date[r] < date[best] ? -1 : 1) : CompareKeys(key, r, best);
    if (order > 0) {
      best = static_cast<uint32_t>(r);
      repeated[c] = false;
    } else if (order == 0) {
      repeated[c] = true;
    }
  }
  Spine out;
  out.order = SortedCodes(entity.dictionary, IsNumericType(entity_type));
  for (const uint32_t c : out.order) {  // the first repeated entity in entity order
    if (!repeated[c]) continue;
    return FailedPreconditionError("feature spine " + spine.source + ": " + spine.entity + " " +
                                   entity.dictionary[c] + " has duplicate spine rows (same " +
                                   spine.key + ") on its latest date; nothing was published");
  }
  out.position_of.resize(n);
  for (uint32_t i = 0; i < n; ++i) out.position_of[out.order[i]] = i;
  for (size_t k = 3; k < t.columns.size(); ++k) {
    Column& from = t.columns[k];
    Column col;
    col.name = from.name;
    col.type = from.type;
    if (from.is_text()) {
      ReserveHuge(col.codes, n);
      for (const uint32_t c : out.order) col.codes.push_back(from.codes[row_of[c]]);
      col.dictionary = std::move(from.dictionary);
    } else {
      ReserveHuge(col.numbers, n);
      for (const uint32_t c : out.order) col.numbers.push_back(from.numbers[row_of[c]]);
    }
    out.features.push_back(std::move(col));
  }
  out.entities = std::move(t.columns[0].dictionary);
  return out;
}

// What every view's placement shares.
struct Placement {
  const config::Project& project;
  db::Connection& con;
  db::TextDictionary& entities;        // the spine's entities as codes 0..n-1 (reads add others)
  const std::vector<uint32_t>& order;  // file position -> entity code
  const std::vector<uint32_t>& position_of;  // entity code -> file position
  size_t n = 0;
  double as_of = 0;      // in days
  std::string violated;  // the smallest view name that failed the point-in-time audit

  void Violated(const std::string& view) {
    if (violated.empty() || view < violated) violated = view;
  }
  // The latest day a view's row may have: as_of, or the day before for a strict aggregate.
  double Limit(const config::FeatureView& v) const {
    return v.kind == config::ViewKind::kAggregate && v.strict ? as_of - 1 : as_of;
  }
};

// A view's candidate rows (OnlineSql::View::rows), streamed from DuckDB chunk by chunk, each
// spine entity keeping its candidate with the greatest time (for an aggregate view its one
// row); an entity without one gets the unmatched row. Two candidates of an entity at its
// greatest time are refused when each entity has one row per time (the source's keys say so,
// or the GROUP BY of an aggregate view), else the first read is kept, as the training path's
// DISTINCT ON keeps an arbitrary one.
StatusOr<std::vector<Column>> PlaceView(Placement& p, const config::FeatureView& v,
                                        const OnlineSql::View& sql, const std::string& casts) {
  ASSIGN_OR_RETURN(
      db::ColumnarTable unmatched,
      p.con.QueryColumns("SELECT " + casts.substr(2) + " FROM (" + sql.unmatched + ") q"));
  if (unmatched.rows != 1) {
    return InternalError("feature view \"" + v.name + "\": the unmatched row query gave " +
                         std::to_string(unmatched.rows) + " rows");
  }
  const bool one_per_time =
      v.kind == config::ViewKind::kAggregate || UniqueByEntityAndTime(p.project, v);
  // A row dated after as_of would be a leak (the queries' own filters keep them out: this
  // checks it).
  const double limit = p.Limit(v);
  ASSIGN_OR_RETURN(db::ColumnStream stream,
                   p.con.StreamColumns("SELECT CAST(q._e AS VARCHAR) AS _e, q._t" + casts +
                                           " FROM (" + sql.rows + ") q",
                                       &p.entities));
  const db::ColumnarTable& chunk = stream.chunk();
  const size_t features = v.features.size();
  std::vector<Column> out(features);
  for (size_t k = 0; k < features; ++k) {
    out[k].name = v.features[k].name;
    out[k].type = chunk.columns[k + 2].type;
    if (out[k].is_text()) {
      ReserveHuge(out[k].codes, p.n);
      out[k].codes.resize(p.n);
    } else {
      ReserveHuge(out[k].numbers, p.n);
      out[k].numbers.resize(p.n);
    }
  }
  std::vector<double> kept(p.n, std::numeric_limits<double>::quiet_NaN());  // NaN: none yet
  uint32_t repeated = kNone;  // the first position with two rows at its greatest time
  std::vector<uint32_t> at;   // per chunk row: the position it is kept at, or kNone
  while (true) {
    ASSIGN_OR_RETURN(const bool more, stream.Next());
    if (!more) break;
    const std::vector<int32_t>& codes = chunk.columns[0].codes;
    const std::vector<double>& time = chunk.columns[1].numbers;
    at.assign(chunk.rows, kNone);
    for (size_t r = 0; r < chunk.rows; ++r) {
      const int32_t c = codes[r];
      if (c < 0 || static_cast<size_t>(c) >= p.n) continue;  // not a spine entity
      if (time[r] > limit) p.Violated(v.name);
      const uint32_t pos = p.position_of[c];
      if (!std::isnan(kept[pos]) && !(time[r] > kept[pos])) {
        if (time[r] == kept[pos] && one_per_time) repeated = std::min(repeated, pos);
        continue;
      }
      kept[pos] = time[r];
      at[r] = pos;
    }
    // A position kept twice in one chunk was marked last for its later row, which writing in
    // row order leaves in place.
    for (size_t k = 0; k < features; ++k) {
      const Column& from = chunk.columns[k + 2];
      for (size_t r = 0; r < chunk.rows; ++r) {
        if (at[r] == kNone) continue;
        if (from.is_text()) {
          out[k].codes[at[r]] = from.codes[r];
        } else {
          out[k].numbers[at[r]] = from.numbers[r];
        }
      }
    }
  }
  if (repeated != kNone) {
    return FailedPreconditionError(
        "feature view \"" + v.name + "\": " + p.project.features.spine.entity + " " +
        p.entities.values()[p.order[repeated]] + " has more than one row; nothing was published");
  }
  // Entities without a row get the unmatched row's cells.
  for (size_t k = 0; k < features; ++k) {
    Column& col = out[k];
    const Column& fill = unmatched.columns[k];
    if (col.is_text()) {
      col.dictionary = chunk.columns[k + 2].dictionary;
      int32_t fill_code = -1;
      if (fill.codes[0] >= 0) {
        const std::string& text = fill.dictionary[fill.codes[0]];
        const auto found = std::find(col.dictionary.begin(), col.dictionary.end(), text);
        fill_code = static_cast<int32_t>(found - col.dictionary.begin());
        if (found == col.dictionary.end()) col.dictionary.push_back(text);
      }
      for (size_t i = 0; i < p.n; ++i) {
        if (std::isnan(kept[i])) col.codes[i] = fill_code;
      }
    } else {
      for (size_t i = 0; i < p.n; ++i) {
        if (std::isnan(kept[i])) col.numbers[i] = fill.numbers[0];
      }
    }
  }
  return out;
}

// Whether the view is an aggregate view ReduceAggregates computes (its calls' argument types
// decide).
StatusOr<bool> Reducible(db::Connection& con, const OnlineSql::View& view) {
  if (view.calls.empty()) return false;
  ASSIGN_OR_RETURN(db::Table t, con.Query("DESCRIBE " + view.args));
  std::vector<std::string> types;
  for (size_t i = 2; i < t.rows.size(); ++i) {  // after _e and _t
    types.push_back(std::get<std::string>(t.rows[i][1]));
  }
  return ReducibleCalls(view.calls, types);
}

SnapshotTable::Column ToSnapshotColumn(Column&& col) {
  SnapshotTable::Column out;
  out.name = std::move(col.name);
  out.text = col.is_text();
  out.numbers = std::move(col.numbers);
  out.codes = std::move(col.codes);
  out.dictionary = std::move(col.dictionary);
  return out;
}

}  // namespace

StatusOr<OnlineRows> QueryOnlineRows(const config::Project& project, db::Connection& con,
                                     const OnlineSql& sql, Date as_of) {
  const config::FeatureSet& set = project.features;
  const FeatureSchema schema = SchemaOf(set);
  ASSIGN_OR_RETURN(const Types types, Describe(con, sql));
  OnlineRows out;
  out.entity_type = types.entity;
  for (const std::string& f : schema.features) {
    auto it = types.feature.find(f);
    if (it == types.feature.end())
      return InternalError("online store: no query gives feature " + f);
    out.feature_types.push_back(it->second);
  }
  // Every feature is read as DOUBLE or as text: the snapshot's two kinds of cell.
  auto casts = [&](const std::vector<config::Feature>& features) {
    std::string list;
    for (const auto& f : features) {
      const std::string name = db::QuoteIdent(f.name);
      const bool numeric = IsNumericType(types.feature.at(f.name));
      list += ", CAST(q." + name + " AS " + (numeric ? "DOUBLE" : "VARCHAR") + ") AS " + name;
    }
    return list;
  };
  std::vector<config::Feature> spine_features;
  for (const auto& v : set.views) {
    if (v.kind == config::ViewKind::kSpine) {
      spine_features.insert(spine_features.end(), v.features.begin(), v.features.end());
    }
  }
  ASSIGN_OR_RETURN(Spine spine, ReadSpine(project, con, sql, types.entity, casts(spine_features)));
  const size_t n = spine.order.size();
  std::map<std::string, Column> by_feature;
  for (Column& col : spine.features) by_feature[col.name] = std::move(col);

  // The spine's entities, shared by every view's read (their codes stay 0..n-1).
  db::TextDictionary entities(std::move(spine.entities));
  Placement placement{
      project, con, entities, spine.order, spine.position_of, n, static_cast<double>(as_of.days()),
      {}};
  for (const OnlineSql::View& view : sql.views) {
    const config::FeatureView& v = set.views[view.view];
    std::vector<Column> placed;
    ASSIGN_OR_RETURN(const bool reduce, Reducible(con, view));
    if (reduce) {
      ReduceTarget target{con, entities, spine.position_of, n, placement.Limit(v)};
      ASSIGN_OR_RETURN(placed, ReduceAggregates(v, view.calls, view.args, target));
      if (target.violated) placement.Violated(v.name);
    } else {
      ASSIGN_OR_RETURN(placed, PlaceView(placement, v, view, casts(v.features)));
    }
    for (Column& col : placed) by_feature[col.name] = std::move(col);
  }
  if (!placement.violated.empty()) {
    return FailedPreconditionError("point-in-time audit: feature view \"" + placement.violated +
                                   "\" used source rows dated after as_of; nothing was "
                                   "published");
  }
  // The table: the entity (its codes in file order), then every feature in schema order.
  SnapshotTable& t = out.table;
  t.rows = n;
  SnapshotTable::Column entity;
  entity.name = schema.entity;
  entity.text = true;
  entity.codes.assign(spine.order.begin(), spine.order.end());
  entity.dictionary = entities.Release();
  entity.dictionary.resize(n);  // without what the views' reads added
  t.columns.push_back(std::move(entity));
  for (const std::string& f : schema.features) {
    auto it = by_feature.find(f);
    if (it == by_feature.end()) return InternalError("online store: no column for feature " + f);
    Column& col = it->second;
    // The writers store a text column's dictionary as it is: coded by first use in file order,
    // the same cells give the same bytes whatever order DuckDB returned rows in.
    if (col.is_text()) RecodeInOrder(col);
    t.columns.push_back(ToSnapshotColumn(std::move(col)));
  }
  return out;
}

}  // namespace riskpipe::features::internal
