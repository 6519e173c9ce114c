#include "ingest/key_set.h"

#include <sys/mman.h>

#include <new>

namespace riskpipe::ingest {
namespace {

// Maximum load before the table doubles: linear probing stays within a cache line or two
// up to about 70% full, and a lower bound would cost memory (16 bytes a slot).
constexpr size_t kMaxLoadPercent = 70;
constexpr size_t kMinCapacity = 1024;
// How far ahead InsertBatch prefetches: enough misses in flight to hide memory latency.
constexpr size_t kPrefetchDistance = 16;
constexpr uintptr_t kHugePage = 2 << 20;  // x86-64 transparent huge page

}  // namespace

int64_t KeySet::Insert(uint64_t hash, int64_t line) {
  const size_t mask = capacity_ - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.hash == 0) {
      s.hash = hash;
      s.line = line;
      ++size_;
      return -1;
    }
    if (s.hash == hash) return s.line;
  }
}

int64_t KeySet::InsertOrGetLine(uint64_t hash, int64_t line) {
  if (size_ + 1 > limit_) Reserve(size_ + 1);
  return Insert(NonZero(hash), line);
}

void KeySet::InsertBatch(const uint64_t* hashes, const int64_t* lines, int64_t* first_lines,
                         size_t n) {
  if (n == 0) return;
  if (size_ + n > limit_) Reserve(size_ + n);
  const size_t mask = capacity_ - 1;
  for (size_t i = 0; i < n; ++i) {
    if (i + kPrefetchDistance < n) {
      __builtin_prefetch(&slots_[NonZero(hashes[i + kPrefetchDistance]) & mask], 1);
    }
    first_lines[i] = Insert(NonZero(hashes[i]), lines[i]);
  }
}

void KeySet::Reserve(size_t n) {
  if (n <= limit_) return;
  size_t capacity = capacity_ == 0 ? kMinCapacity : capacity_;
  while (n > capacity / 100 * kMaxLoadPercent) capacity *= 2;
  Rehash(capacity);
}

void KeySet::Rehash(size_t capacity) {
  auto* fresh = static_cast<Slot*>(std::calloc(capacity, sizeof(Slot)));
  if (fresh == nullptr) throw std::bad_alloc();
  // Probes land on random pages: with 2 MiB pages a big table costs far fewer TLB misses
  // and page faults. Only advice; the kernel may decline.
  const size_t bytes = capacity * sizeof(Slot);
  if (bytes >= kHugePage * 4) {
    const auto begin = reinterpret_cast<uintptr_t>(fresh);
    const uintptr_t aligned = (begin + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned < begin + bytes) {
      ::madvise(reinterpret_cast<void*>(aligned), begin + bytes - aligned, MADV_HUGEPAGE);
    }
  }
  std::unique_ptr<Slot[], Free> old(fresh);
  old.swap(slots_);
  const size_t old_capacity = capacity_;
  capacity_ = capacity;
  limit_ = capacity / 100 * kMaxLoadPercent;
  size_ = 0;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i].hash != 0) Insert(old[i].hash, old[i].line);
  }
}

}  // namespace riskpipe::ingest
