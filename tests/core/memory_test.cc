// AdviseHugePages / ReserveHuge (src/core/memory.h): the advice lands on the 2 MiB pages inside
// a large buffer (the kernel lists the mapping with the "hg" flag), small buffers are left
// alone, and the vector behaves as after a plain reserve. The process's own mmap advises new
// large anonymous mappings the same way unless RISKPIPE_HUGE_PAGES turns it off, and leaves
// file mappings, small mappings and failures as the kernel gave them.

#include "core/memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace riskpipe {
namespace {

bool HugePagesAvailable() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(in, line) && line.find("[never]") == std::string::npos;
}

// The VmFlags of the mapping of /proc/self/smaps that contains `p`.
std::string VmFlagsOf(const void* p) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= at && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(Memory, SmallBuffersGetNoAdvice) {
  std::vector<double> small;
  small.reserve(1000);
  EXPECT_FALSE(AdviseHugePages(small.data(), small.capacity() * sizeof(double)));
  EXPECT_FALSE(AdviseHugePages(nullptr, size_t{64} << 20));
}

TEST(Memory, ReserveHugeAdvisesTheNewStorageAndKeepsVectorBehaviour) {
  if (!HugePagesAvailable()) GTEST_SKIP() << "transparent huge pages are off on this kernel";
  std::vector<double> v;
  const size_t n = size_t{3} << 20;  // 24 MiB
  ReserveHuge(v, n);
  ASSERT_GE(v.capacity(), n);
  EXPECT_TRUE(v.empty());
  // The middle of the buffer is inside a 2 MiB-aligned range, so its mapping is advised.
  EXPECT_NE(VmFlagsOf(v.data() + n / 2).find(" hg"), std::string::npos)
      << VmFlagsOf(v.data() + n / 2);
  for (size_t i = 0; i < n; ++i) v.push_back(static_cast<double>(i) * 0.5);
  EXPECT_EQ(v.size(), n);
  EXPECT_EQ(v[n - 1], static_cast<double>(n - 1) * 0.5);
}

// An anonymous private read-write mapping of `bytes` through the process's mmap.
char* MapAnonymous(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

TEST(Memory, LargeAnonymousMappingsAreAdvisedUnlessTurnedOff) {
  if (!HugePagesAvailable()) GTEST_SKIP() << "transparent huge pages are off on this kernel";
  const size_t big = size_t{16} << 20;
  char* advised = MapAnonymous(big);
  ASSERT_NE(advised, nullptr);
  EXPECT_NE(VmFlagsOf(advised + big / 2).find(" hg"), std::string::npos)
      << VmFlagsOf(advised + big / 2);
  advised[big / 2] = 7;  // the memory works as ever
  EXPECT_EQ(advised[big / 2], 7);
  EXPECT_EQ(advised[0], 0);

  char* small = MapAnonymous(size_t{1} << 20);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(VmFlagsOf(small).find(" hg"), std::string::npos) << VmFlagsOf(small);

  SetMappingHugePages(false);
  char* plain = MapAnonymous(big);
  SetMappingHugePages(true);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(VmFlagsOf(plain + big / 2).find(" hg"), std::string::npos)
      << VmFlagsOf(plain + big / 2);
  EXPECT_TRUE(MappingHugePagesEnabled());
  ::munmap(advised, big);
  ::munmap(small, size_t{1} << 20);
  ::munmap(plain, big);
}

TEST(Memory, FileMappingsAndFailuresPassThrough) {
  // A file mapping is the file's pages: never advised.
  char name[] = "/tmp/riskpipe-memory-test-XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  const size_t bytes = size_t{8} << 20;
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(bytes)), 0);
  void* file = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(file, MAP_FAILED);
  EXPECT_EQ(VmFlagsOf(static_cast<char*>(file) + bytes / 2).find(" hg"), std::string::npos);
  ::munmap(file, bytes);
  ::close(fd);
  ::unlink(name);
  // A failing call returns MAP_FAILED with the kernel's errno.
  errno = 0;
  EXPECT_EQ(::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, /*fd=*/-1, 0), MAP_FAILED);
  EXPECT_EQ(errno, EBADF);
}

TEST(Memory, TheSettingIsOnUnlessItSaysOff) {
  EXPECT_TRUE(HugePagesSettingOn(nullptr));
  EXPECT_TRUE(HugePagesSettingOn("on"));
  EXPECT_TRUE(HugePagesSettingOn("1"));
  for (const char* off : {"off", "OFF", "0", "no", "false"}) {
    EXPECT_FALSE(HugePagesSettingOn(off)) << off;
  }
}

}  // namespace
}  // namespace riskpipe
