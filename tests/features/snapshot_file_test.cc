// Tests of the snapshot data-file writers (src/features/snapshot_file.h) on hand-built columns:
// the CSV text exactly, and that both report the size and SHA-256 of the bytes on disk, also
// for files larger than the writer's buffers.

#include "features/snapshot_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/hash.h"
#include "testing/temp_dir.h"

namespace riskpipe::features {
namespace {

namespace fs = std::filesystem;
constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

SnapshotTable::Column Text(std::string name, std::vector<int32_t> codes,
                           std::vector<std::string> dictionary) {
  SnapshotTable::Column c;
  c.name = std::move(name);
  c.text = true;
  c.codes = std::move(codes);
  c.dictionary = std::move(dictionary);
  return c;
}

SnapshotTable::Column Numbers(std::string name, std::vector<double> numbers) {
  SnapshotTable::Column c;
  c.name = std::move(name);
  c.numbers = std::move(numbers);
  return c;
}

SnapshotTable Small() {
  SnapshotTable t;
  t.rows = 3;
  t.columns.push_back(Text("id", {0, 1, 2}, {"a", "b", "c"}));
  t.columns.push_back(Numbers("x", {0.1, kNull, -3}));
  t.columns.push_back(Text("segment", {0, -1, 1}, {"say \"hi\", ok", ""}));
  return t;
}

TEST(SnapshotFile, CsvQuotesTextWritesNullAsEmptyAndNumbersShortest) {
  riskpipe::testing::TempDir dir;
  const fs::path path = dir.path() / "features.csv";
  auto info = WriteSnapshotCsv(Small(), /*quote_entity=*/true, path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const std::string text = riskpipe::testing::ReadAll(path);
  EXPECT_EQ(text,
            "id,x,segment\n"
            "\"a\",0.1,\"say \"\"hi\"\", ok\"\n"
            "\"b\",,\n"
            "\"c\",-3,\"\"\n");
  EXPECT_EQ(info->bytes, static_cast<int64_t>(text.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(text));

  ASSERT_TRUE(WriteSnapshotCsv(Small(), /*quote_entity=*/false, path).ok());
  EXPECT_EQ(riskpipe::testing::ReadAll(path).substr(13, 6), "a,0.1,");
}

TEST(SnapshotFile, BinarySizeAndDigestAreThoseOfTheFileEvenPastTheBuffers) {
  riskpipe::testing::TempDir dir;
  const fs::path path = dir.path() / "features.bin";
  auto small = WriteSnapshotBinary(Small(), path);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  // header 32, offsets 4 x 8, entities "abc" padded to 8, numbers 3 x 8, validity 3 padded to
  // 8, codes 3 x 4 padded to 16, dictionary 16 + 3 x 8 + 15 bytes padded to 16.
  EXPECT_EQ(small->bytes, 32 + 32 + 8 + 24 + 8 + 16 + 16 + 24 + 16);
  EXPECT_EQ(small->bytes, static_cast<int64_t>(fs::file_size(path)));
  EXPECT_EQ(small->sha256, *Sha256File(path));

  // 600k rows x 3 numbers is about 19 MB: several flushes of the two 8 MB buffers.
  SnapshotTable big;
  big.rows = 600'000;
  std::vector<int32_t> codes(big.rows);
  std::vector<std::string> ids(big.rows);
  for (size_t r = 0; r < big.rows; ++r) {
    codes[r] = static_cast<int32_t>(r);
    ids[r] = "id" + std::to_string(r);
  }
  big.columns.push_back(Text("id", codes, ids));
  for (int c = 0; c < 3; ++c) {
    std::vector<double> v(big.rows);
    for (size_t r = 0; r < big.rows; ++r) v[r] = r % 7 == 0 ? kNull : r * 0.5 + c;
    big.columns.push_back(Numbers("x" + std::to_string(c), std::move(v)));
  }
  auto info = WriteSnapshotBinary(big, path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_GT(info->bytes, 16 << 20);
  EXPECT_EQ(info->bytes, static_cast<int64_t>(fs::file_size(path)));
  EXPECT_EQ(info->sha256, *Sha256File(path));
}

TEST(SnapshotFile, UnwritablePathIsInternalNamingIt) {
  riskpipe::testing::TempDir dir;
  const fs::path path = dir.path() / "missing" / "features.bin";
  auto info = WriteSnapshotBinary(Small(), path);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kInternal);
  EXPECT_NE(info.status().message().find(path.string()), std::string::npos);
}

}  // namespace
}  // namespace riskpipe::features
