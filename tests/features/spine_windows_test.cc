// The feature store's window frames computed in C++ (features/spine_windows.h) against the same
// plan run by DuckDB (FeatureEngine::kSql): random events with same-day ties, nulls in every
// argument, a null entity, rows outside the spine filter and outside the month range, unbounded
// and 30-day frames, strict and not, every aggregate the plan allows. Both engines must give
// the same rows, columns, types and values; and where the C++ path cannot be exact it must
// leave the work to DuckDB.

#include "features/spine_windows.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "db/database.h"
#include "features/feature_store.h"
#include "testing/temp_dir.h"

namespace riskpipe::features {
namespace {

using datamart::Datamart;
using datamart::Layer;
using riskpipe::testing::TempDir;

std::string Project(const std::string& key_type, const std::string& entity_type,
                    const std::string& extra_feature) {
  return R"yaml(
project: windows
workspace: ws
sources:
  - name: events
    file: raw/events.csv
    keys: [ev_id]
    date_column: ev_date
    columns:
      - {name: ev_id, type: )yaml" +
         key_type + R"yaml(, required: true}
      - {name: cust, type: )yaml" +
         entity_type + R"yaml(}
      - {name: ev_date, type: date}
      - {name: amount, type: float}
      - {name: qty, type: int}
      - {name: flag, type: string}
features:
  spine:
    source: events
    key: ev_id
    entity: cust
    date: ev_date
    where: "amount IS NULL OR amount > 5"
  views:
    - name: own
      kind: spine
      features:
        - {name: amount_twice, expr: "amount * 2"}
        - {name: is_a, expr: "CASE flag WHEN 'a' THEN 1 WHEN 'b' THEN 0 END"}
        - {name: flag_text, expr: flag}
    - name: before
      kind: aggregate
      source: events
      event_time: ev_date
      strict: true
      features:
        - {name: n_before, expr: "count(*)"}
        - {name: avg_amount_before, expr: "avg(amount)"}
        - {name: sum_amount_before, expr: "sum(amount)"}
        - {name: min_qty_before, expr: "min(qty)"}
        - {name: max_date_before, expr: "max(ev_date)"}
        - {name: n_flag_before, expr: "count(flag)"}
)yaml" + extra_feature +
         R"yaml(
    - name: recent
      kind: aggregate
      source: events
      event_time: ev_date
      window_days: 30
      features:
        - {name: n_qty_30d, expr: "count(qty)"}
        - {name: avg_qty_30d, expr: "AVG(qty)"}
        - {name: min_amount_30d, expr: "min(amount)"}
        - {name: max_amount_30d, expr: "max(amount)"}
        - {name: sum_amount_30d, expr: "sum(amount)"}
)yaml";
}

class SpineWindows : public ::testing::Test {
 protected:
  void Open(const std::string& yaml) {
    auto p = config::ParseProject(yaml, dir_.path() / "riskpipe.yaml");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = *p;
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok());
    database_ = std::make_unique<db::Database>(std::move(*database));
    auto con = database_->Connect();
    ASSERT_TRUE(con.ok());
    con_ = std::make_unique<db::Connection>(std::move(*con));
  }
  Datamart Mart() const { return Datamart(project_.workspace.datamart()); }

  // `events` random events of `customers` customers over 2023-01..2023-06 on few distinct days
  // (many ties), one silver partition per month, plus an undated row (partition 1900-01-01) that
  // no feature may count, and `nan_row` (a VALUES row) in 2023-02 when given.
  void WriteEvents(bool text_key, bool text_entity, int events, int customers,
                   const std::string& nan_row = "") {
    std::mt19937 rng(7);
    std::map<std::string, std::string> by_month;
    for (int e = 0; e < events; ++e) {
      const int day = static_cast<int>(rng() % 60) * 3;  // 60 distinct days in 180
      const Date date = Date::FromCivil(2023, 1, 1).AddDays(day);
      const int c = static_cast<int>(rng() % (customers + 1));  // customers: a null entity
      std::string cust = c == customers ? "NULL"
                         : text_entity  ? "'c" + std::to_string(c) + "'"
                                        : std::to_string(1000 + c);
      const std::string key =
          text_key ? "'e" + std::to_string(e) + "'" : std::to_string(100000 - e * 7);
      const std::string amount =
          rng() % 10 == 0 ? "NULL" : std::to_string((rng() % 10000) / 100.0);
      const std::string qty = rng() % 10 == 0 ? "NULL" : std::to_string(rng() % 21);
      const char* flags[] = {"'a'", "'b'", "'zz'", "NULL"};
      std::string& sql = by_month[Month::Of(date).first_day().ToString()];
      sql += sql.empty() ? "SELECT * FROM (VALUES " : ", ";
      sql += "(" + key + ", " + cust + ", DATE '" + date.ToString() + "', " + amount +
             "::DOUBLE, " + qty + "::INTEGER, " + flags[rng() % 4] + ")";
    }
    if (!nan_row.empty()) by_month["2023-02-01"] += ", " + nan_row;
    by_month["1900-01-01"] = std::string("SELECT * FROM (VALUES (") + (text_key ? "'u1'" : "7") +
                             ", " + (text_entity ? "'c1'" : "1001") +
                             ", NULL::DATE, 1e6::DOUBLE, 999::INTEGER, 'a')";
    for (auto& [month, sql] : by_month) {
      sql += ") t(ev_id, cust, ev_date, amount, qty, flag)";
      auto n = Mart().WritePartition(*con_, Layer::kSilver, "events", *ParseIsoDate(month), sql);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
    }
  }

  // Builds with `engine` and copies the whole feature store into table `name`.
  FeatureBuildSummary BuildInto(FeatureEngine engine, const std::string& name,
                                FeatureBuildOptions options = {}) {
    options.engine = engine;
    auto built = BuildFeatureStore(project_, *con_, options);
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    auto read = Mart().ReadSql(Layer::kGold, kFeatureStoreTable);
    EXPECT_TRUE(read.ok());
    // The file order too: row numbers within each partition file.
    EXPECT_TRUE(con_->Execute("CREATE OR REPLACE TABLE " + name +
                              " AS SELECT *, row_number() OVER (PARTITION BY snapshot_date) AS "
                              "_pos FROM " + *read)
                    .ok());
    return built.ok() ? *built : FeatureBuildSummary{};
  }

  // Rows of `a` and `b` that differ (joined by the key): DOUBLE cells within 1e-9 relative,
  // every other cell exactly, and every column of the same type in both.
  int64_t Differences(const std::string& a, const std::string& b) {
    auto ta = con_->Query("DESCRIBE " + a);
    auto tb = con_->Query("DESCRIBE " + b);
    EXPECT_TRUE(ta.ok() && tb.ok());
    EXPECT_EQ(ta->rows.size(), tb->rows.size());
    std::string cond = "a.ev_id IS NULL OR b.ev_id IS NULL";
    for (size_t c = 0; c < ta->rows.size(); ++c) {
      const std::string col = std::get<std::string>(ta->rows[c][0]);
      const std::string type = std::get<std::string>(ta->rows[c][1]);
      EXPECT_EQ(col, std::get<std::string>(tb->rows[c][0]));
      EXPECT_EQ(type, std::get<std::string>(tb->rows[c][1])) << col;
      const std::string qa = "a." + db::QuoteIdent(col), qb = "b." + db::QuoteIdent(col);
      if (type == "DOUBLE") {
        cond += " OR (" + qa + " IS NULL) <> (" + qb + " IS NULL) OR abs(" + qa + " - " + qb +
                ") > 1e-9 * greatest(1, abs(" + qb + "))";
      } else {
        cond += " OR " + qa + " IS DISTINCT FROM " + qb;
      }
    }
    auto diff = con_->Query("SELECT count(*) FROM " + a + " a FULL JOIN " + b +
                            " b USING (ev_id) WHERE " + cond);
    EXPECT_TRUE(diff.ok()) << diff.status().ToString();
    return diff.ok() ? std::get<int64_t>(diff->rows[0][0]) : -1;
  }

  TempDir dir_;
  config::Project project_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<db::Connection> con_;
};

TEST_F(SpineWindows, CppFramesEqualDuckDbWindowsWithTextKeysAndEntities) {
  Open(Project("string", "string", ""));
  WriteEvents(/*text_key=*/true, /*text_entity=*/true, 1500, 40);
  const FeatureBuildSummary sql = BuildInto(FeatureEngine::kSql, "by_sql");
  const FeatureBuildSummary cpp = BuildInto(FeatureEngine::kAuto, "by_cpp");
  EXPECT_FALSE(sql.frames_in_cpp);
  EXPECT_TRUE(cpp.frames_in_cpp);
  EXPECT_EQ(cpp.rows, sql.rows);
  EXPECT_GT(cpp.rows, 1000);
  EXPECT_EQ(Differences("by_cpp", "by_sql"), 0);
  // The frames did see history: some rows have earlier events and some 30-day windows hold
  // several rows (so the comparison above is not of empty frames).
  EXPECT_GT(*con_->QueryInt("SELECT count(*) FROM by_cpp WHERE n_before > 5"), 100);
  EXPECT_GT(*con_->QueryInt("SELECT count(*) FROM by_cpp WHERE n_qty_30d > 1"), 100);
  // The undated row (qty 999) never reaches a frame.
  EXPECT_EQ(*con_->QueryInt("SELECT count(*) FROM by_cpp WHERE min_qty_before = 999"), 0);
  // Each partition file holds its rows in (decision date, key) order.
  EXPECT_EQ(*con_->QueryInt("SELECT count(*) FROM (SELECT ev_id, _pos, row_number() OVER "
                            "(PARTITION BY snapshot_date ORDER BY decision_date, ev_id) AS want "
                            "FROM by_cpp) WHERE _pos <> want"),
            0);
}

TEST_F(SpineWindows, CppFramesEqualDuckDbWindowsWithNumbersAndAMonthRange) {
  Open(Project("int", "int", ""));
  WriteEvents(/*text_key=*/false, /*text_entity=*/false, 1500, 25);
  FeatureBuildOptions range;
  range.from = Month::Of(2023, 3);
  range.to = Month::Of(2023, 4);
  const FeatureBuildSummary sql = BuildInto(FeatureEngine::kSql, "by_sql", range);
  const FeatureBuildSummary cpp = BuildInto(FeatureEngine::kAuto, "by_cpp", range);
  EXPECT_TRUE(cpp.frames_in_cpp);
  ASSERT_EQ(cpp.months.size(), 2u);
  EXPECT_EQ(cpp.rows, sql.rows);
  EXPECT_GT(cpp.rows, 300);
  EXPECT_EQ(Differences("by_cpp", "by_sql"), 0);
  // Rows before the range are history of the rows in it.
  EXPECT_GT(*con_->QueryInt("SELECT min(n_before) FROM by_cpp WHERE decision_date >= DATE "
                            "'2023-03-15' AND cust IS NOT NULL"),
            0);
}

TEST_F(SpineWindows, AHugeintSumIsLeftToDuckDb) {
  // A sum of integers is a HUGEINT in DuckDB: not a type the C++ path writes.
  Open(Project("string", "string", "        - {name: sum_qty_before, expr: \"sum(qty)\"}\n"));
  WriteEvents(true, true, 300, 10);
  const FeatureBuildSummary built = BuildInto(FeatureEngine::kAuto, "hugeint");
  EXPECT_FALSE(built.frames_in_cpp);
  EXPECT_GT(built.rows, 100);
  EXPECT_GT(*con_->QueryInt("SELECT count(*) FROM hugeint WHERE sum_qty_before > 0"), 10);
}

TEST_F(SpineWindows, ANaNIsLeftToDuckDb) {
  // The columns read NULL and NaN alike, so a NaN amount sends the work to DuckDB, which
  // keeps it a NaN.
  Open(Project("string", "string", ""));
  WriteEvents(true, true, 300, 10, "('nan1', 'c1', DATE '2023-02-10', 'NaN'::DOUBLE, 1, 'a')");
  const FeatureBuildSummary built = BuildInto(FeatureEngine::kAuto, "with_nan");
  EXPECT_FALSE(built.frames_in_cpp);
  EXPECT_EQ(*con_->QueryInt("SELECT count(*) FROM with_nan WHERE isnan(amount_twice)"), 1);
}

}  // namespace
}  // namespace riskpipe::features
