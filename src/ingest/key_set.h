#pragma once
// Internal: an open-addressing set of 64-bit key hashes with the line each was first seen on,
// for duplicate-key detection in bounded memory (12 bytes a slot). Two different keys
// collide with probability about n^2 / 2^65 (3e-6 for ten million keys); such a collision
// would be reported as a duplicate, never lose a row silently. Not thread-safe.

#include <cstdint>
#include <string_view>
#include <vector>

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
  size_t size() const { return size_; }

 private:
  void Grow();

  std::vector<uint64_t> hashes_;  // 0 = empty slot
  std::vector<uint32_t> lines_;
  size_t size_ = 0;
};

}  // namespace riskpipe::ingest
