// AdviseHugePages / ReserveHuge (src/core/memory.h): the advice lands on the 2 MiB pages inside
// a large buffer (the kernel lists the mapping with the "hg" flag), small buffers are left
// alone, and the vector behaves as after a plain reserve.

#include "core/memory.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace riskpipe
