// AdviseHugePages / ReserveHuge (src/core/memory.h): the advice lands on the 2 MiB pages inside
// a large buffer (the kernel lists the mapping with the "hg" flag), small buffers are left
// alone, the vector behaves as after a plain reserve, and nobody else's mappings are touched.

#include "core/memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

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

// riskpipe advises only buffers it owns: a plain anonymous mapping made by anyone else in the
// process is left exactly as the kernel gave it (no process-wide mmap is interposed).
TEST(Memory, OtherMappingsAreNotAdvised) {
  if (!HugePagesAvailable()) GTEST_SKIP() << "transparent huge pages are off on this kernel";
  const size_t big = size_t{16} << 20;
  void* p = ::mmap(nullptr, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  const std::string flags = VmFlagsOf(static_cast<char*>(p) + big / 2);
  ::munmap(p, big);
  // Under THP mode "always" the kernel itself may mark it; "madvise" mode is what we check.
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(in, mode);
  if (mode.find("[always]") != std::string::npos) GTEST_SKIP() << "THP mode is always";
  EXPECT_EQ(flags.find(" hg"), std::string::npos) << flags;
}

}  // namespace
}  // namespace riskpipe
