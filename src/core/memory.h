#pragma once
// Large, freshly allocated buffers and transparent huge pages.
//
// The first write to each 4 KiB page of new memory is a page fault. On virtual machines with
// shadow paging (PVM: see docs/benchmarks.md, "Memory is time on this machine") a fault costs
// about 12 us, so filling 1 GiB of new memory takes 3 s; with 2 MiB pages it takes less than
// half of that. Where transparent huge pages are enabled in `madvise` mode (Debian's default),
// only memory that asks for them gets them: ReserveHuge asks for a vector's new storage
// before it is first written. It changes neither contents nor behaviour, only how the kernel
// backs the pages, and does nothing for small buffers or where the advice is not supported.
//
// Most of the process's large memory is not ours but DuckDB's: its bundled jemalloc maps memory
// with mmap(2) and was built without huge-page support. So this library also defines mmap
// itself: the executable's definition is the one libduckdb.so binds to (ordinary ELF symbol
// interposition), and it passes every call to the kernel unchanged, then advises the 2 MiB
// pages inside each new anonymous mapping of at least kHugePageAdviceMinBytes. Measured on
// 1M customers (docs/benchmarks.md): materialize, training-set export and the Kueski features
// 20-30% faster. RISKPIPE_HUGE_PAGES=off in the environment turns this advice off (the
// mappings are then exactly what the caller asked for); glibc's own malloc does not go through
// it, hence ReserveHuge for our vectors.

#include <cstddef>

namespace riskpipe {

// Buffers smaller than this are left alone (a huge page would mostly be waste).
inline constexpr size_t kHugePageAdviceMinBytes = size_t{4} << 20;

// Whether new large anonymous mappings are advised onto huge pages (see above): read once from
// RISKPIPE_HUGE_PAGES, on unless it says off, 0, no or false.
bool MappingHugePagesEnabled();
// Overrides the environment's choice for the rest of the process (tests).
void SetMappingHugePages(bool on);
// The reading of a RISKPIPE_HUGE_PAGES value (nullptr: unset, so on).
bool HugePagesSettingOn(const char* value);

// Advises MADV_HUGEPAGE for the 2 MiB-aligned pages inside [p, p + bytes), when bytes is at
// least kHugePageAdviceMinBytes. Returns whether advice was given (false: too small, or the
// kernel refused it); callers need not check.
bool AdviseHugePages(const void* p, size_t bytes);

// v.reserve(n), then the advice above for the new storage. Call it on an empty vector, before
// any element is written, for the advice to cover the pages' first touch.
template <typename Vector>
void ReserveHuge(Vector& v, size_t n) {
  v.reserve(n);
  AdviseHugePages(v.data(), v.capacity() * sizeof(typename Vector::value_type));
}

}  // namespace riskpipe
