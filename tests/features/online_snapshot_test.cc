// Tests of the DuckDB-free side of the online store (src/features/online_snapshot.h): files
// written by the snapshot writers, with a manifest written here, load through CURRENT into the
// cells they hold; an index that finds a repeated entity refuses the snapshot. This binary
// links riskpipe_online_snapshot alone, as `riskpipe serve` does: no DuckDB.

#include "features/online_snapshot.h"
#include "core/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "core/files.h"
#include "testing/temp_dir.h"

namespace riskpipe::features {
namespace {

namespace fs = std::filesystem;
constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

// Entities "b", "a"; a DOUBLE with a null; a text feature with a null and a quote.
SnapshotTable Table() {
  SnapshotTable t;
  t.rows = 2;
  SnapshotTable::Column id{"id", true, {}, {0, 1}, {"b", "a"}};
  SnapshotTable::Column score{"score", false, {0.25, kNull}, {}, {}};
  SnapshotTable::Column segment{"segment", true, {}, {-1, 0}, {"x \"y\""}};
  t.columns = {id, score, segment};
  return t;
}

// Publishes `table` as snapshot "v1" under <dir>/online in `format`, with its manifest.
void Publish(const fs::path& online, SnapshotFormat format) {
  const fs::path dir = online / kSnapshotsDir / "v1";
  ASSERT_TRUE(MakeDirs(dir).ok());
  const bool binary = format == SnapshotFormat::kBinary;
  const fs::path file = dir / (binary ? kSnapshotBin : kSnapshotCsv);
  auto info = binary ? WriteSnapshotBinary(Table(), file)
                     : WriteSnapshotCsv(Table(), /*quote_entity=*/true, file);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const nlohmann::json manifest = {{"format", binary ? kSnapshotFormatBinary : kSnapshotFormatCsv},
                                   {"version", "v1"},
                                   {"as_of", "2024-12-31"},
                                   {"project", "p"},
                                   {"feature_set_version", "3"},
                                   {"entity", {{"name", "id"}, {"type", "VARCHAR"}}},
                                   {"features",
                                    {{{"name", "score"}, {"type", "DOUBLE"}, {"view", "v"}},
                                     {{"name", "segment"}, {"type", "VARCHAR"}, {"view", "v"}}}},
                                   {"rows", 2},
                                   {"bytes", info->bytes},
                                   {"sha256", info->sha256}};
  ASSERT_TRUE(WriteFileAtomic(dir / kSnapshotManifest, manifest.dump()).ok());
  ASSERT_TRUE(WriteFileAtomic(online / kCurrentFile, "v1\n").ok());
}

TEST(OnlineSnapshot, LoadsWhatTheWritersWroteInBothFormats) {
  for (const SnapshotFormat format : {SnapshotFormat::kBinary, SnapshotFormat::kCsv}) {
    SCOPED_TRACE(SnapshotFormatName(format));
    riskpipe::testing::TempDir dir;
    ASSERT_NO_FATAL_FAILURE(Publish(dir.path() / kOnlineDir, format));
    auto snap = LoadOnlineSnapshot(dir.path() / kOnlineDir);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ(snap->version(), "v1");
    EXPECT_EQ(snap->as_of().ToString(), "2024-12-31");
    EXPECT_EQ(snap->entity_column(), "id");
    ASSERT_EQ(snap->rows(), 2u);
    EXPECT_EQ(snap->Entity(0), "b");
    const size_t b = *snap->Find("b"), a = *snap->Find("a");
    const size_t score = *snap->FeatureIndex("score"), segment = *snap->FeatureIndex("segment");
    EXPECT_EQ(snap->Number(b, score), 0.25);
    EXPECT_FALSE(snap->Number(a, score).has_value());
    EXPECT_FALSE(snap->Text(b, segment).has_value());
    EXPECT_EQ(snap->Text(a, segment), "x \"y\"");
    EXPECT_EQ(snap->Value(a, segment), OnlineValue(std::string_view("x \"y\"")));
    EXPECT_FALSE(snap->Find("c").has_value());
    EXPECT_FALSE(snap->FeatureIndex("missing").has_value());
  }
}

TEST(OnlineSnapshot, BuildRefusesARepeatedEntityNamingItsRow) {
  SnapshotCells cells;
  cells.entities = "aba";
  cells.entity_offsets = {0, 1, 2, 3};
  auto snap = OnlineSnapshot::Build({}, std::move(cells), "f.bin");
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(snap.status().message(), "f.bin: entities row 3 repeats entity \"a\"");
}

TEST(OnlineSnapshot, BuildRefusesCellsThatDoNotFitTheFeatures) {
  OnlineSnapshotInfo info;
  info.features.push_back({"score", "DOUBLE", "v", true});
  SnapshotCells cells;
  cells.entities = "a";
  cells.entity_offsets = {0, 1};  // one row, but no number for it
  auto snap = OnlineSnapshot::Build(std::move(info), std::move(cells), "f.bin");
  EXPECT_EQ(snap.status().code(), StatusCode::kDataLoss);
}

TEST(OnlineSnapshot, NumericTypesAreThoseServedAsNumbers) {
  for (const char* type : {"DOUBLE", "BIGINT", "BOOLEAN", "DECIMAL(18,3)", "HUGEINT"}) {
    EXPECT_TRUE(IsNumericType(type)) << type;
  }
  for (const char* type : {"VARCHAR", "DATE", "TIMESTAMP"}) EXPECT_FALSE(IsNumericType(type));
}

}  // namespace
}  // namespace riskpipe::features
