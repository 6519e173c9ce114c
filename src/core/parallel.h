#pragma once
// A minimal fork-join loop for CPU-bound work split into independent blocks: each block runs
// exactly once, on one of `threads` threads, and the call returns when all are done. Block b
// goes to thread b % threads, so which thread runs a block never depends on timing; results
// that depend only on the block are the same for any thread count. The body must be safe to
// call concurrently for different blocks.

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace riskpipe {

// `requested` when positive, else the machine's cores (at least 1).
inline int ThreadCount(int requested) {
  if (requested > 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Runs body(block) for every block index in [0, blocks) on up to `threads` threads (the
// calling thread is one of them).
template <typename F>
void ForBlocks(size_t blocks, int threads, F body) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>(blocks)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t b = t; b < blocks; b += threads) body(b);
    });
  }
  for (size_t b = 0; b < blocks; b += threads) body(b);
  for (auto& th : pool) th.join();
}

}  // namespace riskpipe
