#pragma once
// Transparent huge pages for large buffers riskpipe owns.
//
// The first write to each 4 KiB page of new memory is a page fault; filling a large buffer on
// 2 MiB pages takes far fewer. Where transparent huge pages are enabled in `madvise` mode
// (Debian's default), only memory that asks for them gets them: ReserveHuge asks for a vector's
// new storage before it is first written. The advice changes neither contents nor behaviour,
// only how the kernel backs the pages, and does nothing for small buffers or where it is not
// supported. Memory that other libraries allocate (DuckDB's, XGBoost's) is theirs: a deployment
// that wants huge pages for all of it sets the kernel's THP mode to `always`
// (docs/benchmarks.md, "Huge pages").
//
// Thread-safe: the functions keep no state.

#include <cstddef>

namespace riskpipe {

// Buffers smaller than this are left alone: a huge page is committed whole, and below a few
// pages the saving in faults is too small to be worth the waste.
inline constexpr size_t kHugePageAdviceMinBytes = size_t{4} << 20;

// Advises MADV_HUGEPAGE for the 2 MiB-aligned pages inside [p, p + bytes), when bytes is at
// least kHugePageAdviceMinBytes. Returns whether advice was given (false: too small, or the
// kernel refused it); callers need not check. errno is left as it was.
bool AdviseHugePages(const void* p, size_t bytes);

// v.reserve(n), then the advice above for the new storage. Call it on an empty vector, before
// any element is written, for the advice to cover the pages' first touch.
template <typename Vector>
void ReserveHuge(Vector& v, size_t n) {
  v.reserve(n);
  AdviseHugePages(v.data(), v.capacity() * sizeof(typename Vector::value_type));
}

}  // namespace riskpipe
