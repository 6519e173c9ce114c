#include "ingest/key_set.h"

namespace riskpipe::ingest {

int64_t KeySet::InsertOrGetLine(uint64_t hash, int64_t line) {
  if (hash == 0) hash = 1;  // 0 marks an empty slot
  // Keep the load factor under 1/2 so probes stay short.
  if ((size_ + 1) * 2 > hashes_.size()) Grow();
  const size_t mask = hashes_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (hashes_[i] == 0) {
      hashes_[i] = hash;
      lines_[i] = static_cast<uint32_t>(line);
      ++size_;
      return -1;
    }
    if (hashes_[i] == hash) return lines_[i];
  }
}

void KeySet::Grow() {
  const size_t cap = hashes_.empty() ? 1024 : hashes_.size() * 2;
  std::vector<uint64_t> old_h(cap, 0);
  std::vector<uint32_t> old_l(cap, 0);
  old_h.swap(hashes_);
  old_l.swap(lines_);
  const size_t mask = cap - 1;
  for (size_t j = 0; j < old_h.size(); ++j) {
    if (old_h[j] == 0) continue;
    size_t i = old_h[j] & mask;
    while (hashes_[i] != 0) i = (i + 1) & mask;
    hashes_[i] = old_h[j];
    lines_[i] = old_l[j];
  }
}

}  // namespace riskpipe::ingest
