#include "datamart/datamart.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "testing/process.h"
#include "testing/temp_dir.h"

namespace riskpipe::datamart {
namespace {

using riskpipe::testing::TempDir;

class DatamartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = db::Database::Open(":memory:");
    ASSERT_TRUE(database.ok());
    db_ = std::make_unique<db::Database>(std::move(*database));
    auto con = db_->Connect();
    ASSERT_TRUE(con.ok());
    con_ = std::make_unique<db::Connection>(std::move(*con));
  }

  int64_t CountAll(Layer layer, const std::string& table, const std::string& where = "true") {
    auto sql = mart_.ReadSql(layer, table);
    EXPECT_TRUE(sql.ok()) << sql.status().ToString();
    auto n = con_->QueryInt("SELECT count(*) FROM " + *sql + " WHERE " + where);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  TempDir dir_;
  Datamart mart_{dir_.path() / "datamart"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::Connection> con_;
};

const Date kJan = Date::FromCivil(2024, 1, 1);
const Date kFeb = Date::FromCivil(2024, 2, 1);

TEST_F(DatamartTest, WritesHivePartitionsReadableAsOneTable) {
  ASSERT_EQ(*mart_.WritePartition(*con_, Layer::kGold, "t", kJan, "SELECT range AS v FROM range(3)"), 3);
  ASSERT_EQ(*mart_.WritePartition(*con_, Layer::kGold, "t", kFeb, "SELECT range AS v FROM range(5)"), 5);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() /
                                      "datamart/gold/t/snapshot_date=2024-01-01/part-0.parquet"));
  EXPECT_EQ(mart_.ListPartitions(Layer::kGold, "t"), (std::vector<Date>{kJan, kFeb}));
  EXPECT_EQ(CountAll(Layer::kGold, "t"), 8);
  // The partition column comes back typed as a DATE.
  EXPECT_EQ(CountAll(Layer::kGold, "t", "snapshot_date = DATE '2024-02-01'"), 5);
}

TEST_F(DatamartTest, RewriteReplacesExactlyThatPartition) {
  ASSERT_TRUE(mart_.WritePartition(*con_, Layer::kSilver, "t", kJan, "SELECT 1 AS v").ok());
  ASSERT_TRUE(mart_.WritePartition(*con_, Layer::kSilver, "t", kFeb, "SELECT 2 AS v").ok());
  ASSERT_TRUE(mart_.WritePartition(*con_, Layer::kSilver, "t", kJan,
                                   "SELECT 7 AS v UNION ALL SELECT 8").ok());
  EXPECT_EQ(CountAll(Layer::kSilver, "t", "snapshot_date = DATE '2024-01-01' AND v >= 7"), 2);
  EXPECT_EQ(CountAll(Layer::kSilver, "t", "snapshot_date = DATE '2024-02-01' AND v = 2"), 1);
}

TEST_F(DatamartTest, FailingQueryLeavesOldPartitionAndNoTemporary) {
  ASSERT_TRUE(mart_.WritePartition(*con_, Layer::kSilver, "t", kJan, "SELECT 1 AS v").ok());
  auto bad = mart_.WritePartition(*con_, Layer::kSilver, "t", kJan, "SELECT nope FROM nowhere");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("silver/t 2024-01-01"), std::string::npos);
  EXPECT_EQ(CountAll(Layer::kSilver, "t"), 1);
  EXPECT_EQ(mart_.RemoveStaleTemporaries(), 0);
}

TEST_F(DatamartTest, StagedButDiscardedIsNeverVisible) {
  auto staged = mart_.Stage(*con_, Layer::kBronze, "t", kJan, "SELECT 1 AS v");
  ASSERT_TRUE(staged.ok());
  EXPECT_TRUE(mart_.ListPartitions(Layer::kBronze, "t").empty());
  mart_.Discard(*staged);
  EXPECT_FALSE(std::filesystem::exists(staged->tmp));
}

TEST_F(DatamartTest, StaleTemporariesOfACrashedWriterAreRemoved) {
  dir_.Write("datamart/bronze/t/snapshot_date=2024-01-01/.part-0.parquet.tmp-" +
                 std::to_string(riskpipe::testing::DeadPid()) + "-0",
             "half");
  EXPECT_EQ(mart_.RemoveStaleTemporaries(), 1);
  EXPECT_EQ(mart_.ReadSql(Layer::kBronze, "t").status().code(), StatusCode::kNotFound);
}

// A publication killed after its journal and its first rename is completed, not undone.
TEST_F(DatamartTest, RecoverPublishesCompletesAJournaledGroup) {
  auto a = mart_.Stage(*con_, Layer::kBronze, "t", kJan, "SELECT 2 AS v");
  auto b = mart_.Stage(*con_, Layer::kSilver, "t", kJan, "SELECT 2 AS v");
  ASSERT_TRUE(a.ok() && b.ok());
  bool stopped = false;
  // The seam throws after the first rename, stopping the publication there as a kill would.
  const auto stop_after_first = [&](int i) {
    if (i == 0) {
      stopped = true;
      throw std::runtime_error("killed");
    }
  };
  EXPECT_THROW((void)mart_.PublishTogether({*a, *b}, "test.t.2024-01", stop_after_first),
               std::runtime_error);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(mart_.ListPartitions(Layer::kBronze, "t").size(), 1u);
  EXPECT_TRUE(mart_.ListPartitions(Layer::kSilver, "t").empty());
  auto completed = mart_.RecoverPublishes();
  ASSERT_TRUE(completed.ok()) << completed.status().ToString();
  EXPECT_EQ(*completed, 1);
  EXPECT_EQ(mart_.ListPartitions(Layer::kSilver, "t").size(), 1u);
  EXPECT_TRUE(std::filesystem::is_empty(mart_.JournalDir()));
  EXPECT_EQ(*mart_.RecoverPublishes(), 0);
}

TEST_F(DatamartTest, DeletePartitionRemovesIt) {
  ASSERT_TRUE(mart_.WritePartition(*con_, Layer::kGold, "t", kJan, "SELECT 1 AS v").ok());
  ASSERT_TRUE(mart_.DeletePartition(Layer::kGold, "t", kJan).ok());
  EXPECT_TRUE(mart_.ListPartitions(Layer::kGold, "t").empty());
}

}  // namespace
}  // namespace riskpipe::datamart
