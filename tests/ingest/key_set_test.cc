#include "ingest/key_set.h"

#include <gtest/gtest.h>

#include <vector>

namespace riskpipe::ingest {
namespace {

uint64_t KeyHash(int i) { return KeySet::Mix(KeySet::kSeed, "key" + std::to_string(i)); }

TEST(KeySet, FirstLineWinsForARepeatedKey) {
  KeySet keys;
  EXPECT_EQ(keys.InsertOrGetLine(KeyHash(1), 10), -1);
  EXPECT_EQ(keys.InsertOrGetLine(KeyHash(2), 11), -1);
  EXPECT_EQ(keys.InsertOrGetLine(KeyHash(1), 12), 10);
  EXPECT_EQ(keys.InsertOrGetLine(KeyHash(1), 13), 10);
  EXPECT_EQ(keys.size(), 2u);
}

TEST(KeySet, ZeroHashIsAKeyLikeAnyOther) {
  KeySet keys;
  EXPECT_EQ(keys.InsertOrGetLine(0, 5), -1);
  EXPECT_EQ(keys.InsertOrGetLine(0, 6), 5);
}

TEST(KeySet, BatchMatchesOneAtATimeAcrossGrowth) {
  // 50k keys, each seen twice, inserted from an empty set so the table grows several times.
  std::vector<uint64_t> hashes;
  std::vector<int64_t> lines;
  for (int i = 0; i < 100000; ++i) {
    hashes.push_back(KeyHash(i % 50000));
    lines.push_back(i + 2);
  }
  KeySet single, batch;
  std::vector<int64_t> expected;
  for (size_t i = 0; i < hashes.size(); ++i) {
    expected.push_back(single.InsertOrGetLine(hashes[i], lines[i]));
  }
  std::vector<int64_t> got(hashes.size());
  for (size_t at = 0; at < hashes.size(); at += 7000) {  // batches that straddle growth
    const size_t n = std::min<size_t>(7000, hashes.size() - at);
    batch.InsertBatch(hashes.data() + at, lines.data() + at, got.data() + at, n);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got[50000], 2);  // key 0's second sighting names its first line
  EXPECT_EQ(batch.size(), 50000u);
}

}  // namespace
}  // namespace riskpipe::ingest
