#include "core/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/atomic_writer.h"
#include "core/hash.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace riskpipe {
namespace {

using riskpipe::testing::DeadPid;
using riskpipe::testing::ReadAll;
using riskpipe::testing::TempDir;

TEST(WriteFileAtomic, ReplacesWholeFileAndLeavesNoTemp) {
  TempDir dir;
  const auto p = dir.path() / "a" / "b.txt";
  ASSERT_TRUE(WriteFileAtomic(p, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "second").ok());
  EXPECT_EQ(ReadAll(p), "second");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(p.parent_path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(AtomicFileWriter, UncommittedWriterLeavesTargetUntouched) {
  TempDir dir;
  const auto p = dir.path() / "out.csv";
  ASSERT_TRUE(WriteFileAtomic(p, "old").ok());
  {
    auto w = AtomicFileWriter::Open(p);
    ASSERT_TRUE(w.ok());
    w->Append(std::string(3 << 20, 'x'));  // forces flushes to the temporary file
  }
  EXPECT_EQ(ReadAll(p), "old");
  EXPECT_EQ(RemoveStaleTempFiles(dir.path()), 0);
}

TEST(AtomicFileWriter, CommitPublishes) {
  TempDir dir;
  const auto p = dir.path() / "out.csv";
  auto w = AtomicFileWriter::Open(p);
  ASSERT_TRUE(w.ok());
  w->Append("a,b\n");
  w->Append('1');
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(ReadAll(p), "a,b\n1");
}

TEST(RemoveStaleTempFiles, RemovesOnlyTemporariesOfProcessesThatAreGone) {
  TempDir dir;
  const std::string dead = std::to_string(DeadPid());
  const std::string alive = std::to_string(::getppid());  // the test runner's parent
  dir.Write("x/.part-0.parquet.tmp-" + dead + "-0", "junk");
  dir.Write("x/part-0.parquet", "keep");
  dir.Write("r/.report.pdf.tmp-" + dead + ".profile/Default/prefs", "junk");  // a folder
  dir.Write("r/.report.pdf.tmp-" + alive, "a live reader's file");
  dir.Write("r/.report.pdf.tmp-" + std::to_string(::getpid()) + "-3", "this process's own");
  EXPECT_EQ(RemoveStaleTempFiles(dir.path()), 2);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "x/part-0.parquet"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / ("x/.part-0.parquet.tmp-" + dead + "-0")));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / ("r/.report.pdf.tmp-" + dead + ".profile")));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / ("r/.report.pdf.tmp-" + alive)));
}

TEST(RemoveStaleTempFiles, NonRecursiveLeavesSubfolders) {
  TempDir dir;
  const std::string dead = std::to_string(DeadPid());
  dir.Write(".a.tmp-" + dead, "junk");
  dir.Write("sub/.b.tmp-" + dead, "junk");
  EXPECT_EQ(RemoveStaleTempFiles(dir.path(), /*recursive=*/false), 1);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "sub" / (".b.tmp-" + dead)));
}

TEST(TempFileOwner, ReadsThePidAfterTmp) {
  EXPECT_EQ(TempFileOwner(".part-0.parquet.tmp-4321-7"), 4321);
  EXPECT_EQ(TempFileOwner(".ingest-loans.tmp-99"), 99);
  EXPECT_EQ(TempFileOwner(".report.pdf.tmp-55.profile"), 55);
  EXPECT_EQ(TempFileOwner("part-0.parquet"), 0);
  EXPECT_EQ(TempFileOwner(".x.tmp-"), 0);
  EXPECT_EQ(TempFileOwner(".x.tmp-99999999999999999999"), 0);
}

TEST(ReadFile, MissingIsNotFound) {
  TempDir dir;
  EXPECT_EQ(ReadFile(dir.path() / "nope").status().code(), StatusCode::kNotFound);
}

TEST(Hash, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(SaltedSha256Hex("s1", "123-45-6789"), SaltedSha256Hex("s2", "123-45-6789"));
}

TEST(Hash, Sha256StreamEqualsOneShotOverPieces) {
  Sha256Stream abc;
  abc.Update("a");
  abc.Update("");
  abc.Update("bc");
  EXPECT_EQ(abc.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  Sha256Stream pieces;
  for (size_t at = 0; at < big.size(); at += 70001) {
    pieces.Update(std::string_view(big).substr(at, 70001));
  }
  Sha256Stream moved = std::move(pieces);
  EXPECT_EQ(moved.HexDigest(), Sha256Hex(big));
}

}  // namespace
}  // namespace riskpipe
