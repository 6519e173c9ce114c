#pragma once
// Internal: an open-addressing set of 64-bit key hashes with the line each was first seen on,
// for duplicate-key detection in bounded memory (16 bytes a slot, at most 70% full). Two
// different keys collide with probability about n^2 / 2^65 (3e-6 for ten million keys); such a
// collision would be reported as a duplicate, never lose a row silently. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace riskpipe::ingest {

class KeySet {
 public:
  static constexpr uint64_t kSeed = 0x9E3779B97F4A7C15ull;  // golden-ratio constant

  // Folds a field into a running hash (FNV-1a over the bytes, then a splitmix64 finish).
  static uint64_t Mix(uint64_t h, std::string_view field) {
    uint64_t f = 0xcbf29ce484222325ull;
    for (unsigned char c : field) f = (f ^ c) * 0x100000001b3ull;
    f ^= field.size();
    h ^= f + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
  }

  // Inserts the hash; returns -1 when new, else the line it was first seen on.
  int64_t InsertOrGetLine(uint64_t hash, int64_t line);
  // InsertOrGetLine for n hashes in order, results in `first_lines`. Prefetches slots ahead,
  // so a batch costs far fewer cache-miss stalls than n single calls.
  void InsertBatch(const uint64_t* hashes, const int64_t* lines, int64_t* first_lines, size_t n);
  // Makes room for `n` keys in total without further rehashing.
  void Reserve(size_t n);
  size_t size() const { return size_; }

 private:
  // The hash and its line in one slot, so a probe touches one cache line.
  struct Slot {
    uint64_t hash;  // 0 = empty
    int64_t line;
  };
  static uint64_t NonZero(uint64_t hash) { return hash == 0 ? 1 : hash; }
  int64_t Insert(uint64_t hash, int64_t line);  // requires room for one more key
  void Rehash(size_t capacity);

  struct Free {
    void operator()(Slot* p) const { std::free(p); }
  };
  // calloc'd: the kernel hands out zeroed pages as they are first touched, so a big table is
  // not written twice (once by a memset, once by the probes).
  std::unique_ptr<Slot[], Free> slots_;
  size_t capacity_ = 0;  // a power of two
  size_t size_ = 0;
  size_t limit_ = 0;  // size_ may grow to this before a rehash
};

}  // namespace riskpipe::ingest
