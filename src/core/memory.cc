#include "core/memory.h"

#include <sys/mman.h>

#include <cstdint>

namespace riskpipe {

bool AdviseHugePages(const void* p, size_t bytes) {
  if (p == nullptr || bytes < kHugePageAdviceMinBytes) return false;
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t last = (begin + bytes) & ~(kHuge - 1);
  if (last <= first) return false;
  return ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE) == 0;
}

}  // namespace riskpipe
