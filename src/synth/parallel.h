#pragma once
// Ordered parallel block generation: worker threads fill blocks in any order, the calling
// thread consumes them strictly in block order. Output therefore never depends on the thread
// count, and memory stays bounded by a small window of blocks in flight.

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace riskpipe::synth {

// Calls produce(i, block) for every i in [0, n) on `threads` workers and consume(i, block) on
// the calling thread in increasing i. A block object is reused after it is consumed, so
// produce must reset it. With threads <= 1 everything runs on the calling thread.
template <typename Block, typename Produce, typename Consume>
void RunOrdered(size_t n, int threads, Produce&& produce, Consume&& consume) {
  if (threads <= 1) {
    Block block;
    for (size_t i = 0; i < n; ++i) {
      produce(i, block);
      consume(i, block);
    }
    return;
  }
  // Four blocks per worker keep every worker busy while the consumer writes.
  const size_t window = 4 * static_cast<size_t>(threads);
  std::vector<Block> slots(window);
  std::vector<char> ready(window, 0);
  std::mutex mu;
  std::condition_variable produced;
  std::condition_variable freed;
  size_t next_task = 0;
  size_t consumed = 0;

  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        freed.wait(lock, [&] { return next_task >= n || next_task < consumed + window; });
        if (next_task >= n) return;
        i = next_task++;
      }
      produce(i, slots[i % window]);
      {
        std::lock_guard<std::mutex> lock(mu);
        ready[i % window] = 1;
      }
      produced.notify_one();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);

  for (size_t i = 0; i < n; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      produced.wait(lock, [&] { return ready[i % window] != 0; });
    }
    consume(i, slots[i % window]);
    {
      std::lock_guard<std::mutex> lock(mu);
      ready[i % window] = 0;
      consumed = i + 1;
    }
    freed.notify_all();
  }
  for (std::thread& t : pool) t.join();
}

}  // namespace riskpipe::synth
