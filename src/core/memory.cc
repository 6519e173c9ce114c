#include "core/memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>

namespace riskpipe {
namespace {

// The size of a transparent huge page on x86-64 and on aarch64 with 4 KiB base pages.
constexpr uintptr_t kHugePageBytes = uintptr_t{2} << 20;

}  // namespace

bool AdviseHugePages(const void* p, size_t bytes) {
  if (p == nullptr || bytes < kHugePageAdviceMinBytes) return false;
  const auto begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (begin + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t last = (begin + bytes) & ~(kHugePageBytes - 1);
  if (last <= first) return false;
  const int saved = errno;
  const bool ok = ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE) == 0;
  errno = saved;
  return ok;
}

}  // namespace riskpipe
