#include "core/memory.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace riskpipe {
namespace {

constexpr uintptr_t kHuge = uintptr_t{2} << 20;

// -1 until first read; then 0 or 1. Constant-initialized: mmap runs before main (the dynamic
// libraries' constructors allocate).
std::atomic<int> mapping_mode{-1};

// MADV_HUGEPAGE on the 2 MiB-aligned interior of [begin, begin + bytes); errno is kept.
bool AdviseInterior(uintptr_t begin, size_t bytes) {
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t last = (begin + bytes) & ~(kHuge - 1);
  if (last <= first) return false;
  const int saved = errno;
  const bool ok = ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE) == 0;
  errno = saved;
  return ok;
}

}  // namespace

bool HugePagesSettingOn(const char* value) {
  if (value == nullptr) return true;
  for (const char* off : {"off", "0", "no", "false"}) {
    if (::strcasecmp(value, off) == 0) return false;
  }
  return true;
}

bool MappingHugePagesEnabled() {
  int mode = mapping_mode.load(std::memory_order_relaxed);
  if (mode < 0) {
    mode = HugePagesSettingOn(std::getenv("RISKPIPE_HUGE_PAGES")) ? 1 : 0;
    mapping_mode.store(mode, std::memory_order_relaxed);
  }
  return mode == 1;
}

void SetMappingHugePages(bool on) { mapping_mode.store(on ? 1 : 0, std::memory_order_relaxed); }

bool AdviseHugePages(const void* p, size_t bytes) {
  if (p == nullptr || bytes < kHugePageAdviceMinBytes) return false;
  return AdviseInterior(reinterpret_cast<uintptr_t>(p), bytes);
}

}  // namespace riskpipe

// The process's mmap (see core/memory.h). Not under the sanitizers, which define their own.
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__)) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
extern "C" void* mmap(void* addr, size_t length, int prot, int flags, int fd,
                      off_t offset) noexcept {
  // syscall() returns -1 with errno set on failure, which is MAP_FAILED.
  void* p = reinterpret_cast<void*>(::syscall(SYS_mmap, addr, length, prot, flags, fd, offset));
  if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) != 0 &&
      length >= riskpipe::kHugePageAdviceMinBytes && riskpipe::MappingHugePagesEnabled()) {
    riskpipe::AdviseInterior(reinterpret_cast<uintptr_t>(p), length);
  }
  return p;
}
#endif
