#include "ingest/split.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/date.h"
#include "core/progress.h"
#include "ingest/csv_reader.h"
#include "ingest/key_set.h"
#include "ingest/spill.h"

namespace riskpipe::ingest::internal {
namespace {

namespace fs = std::filesystem;

// Keys reserved up front at most: a table of 2^24 slots (256 MiB), enough for the 10M-row
// benchmark file without growing.
constexpr double kMaxReservedKeys = 11e6;

// Bytes read at a time while looking for the first newline of a block.
constexpr size_t kScanBytes = 64 << 10;

// One spilled record of a block, in file order: where its encoding lives, its line counted
// from the block's start, and its key hash.
struct RecordRef {
  size_t slot;    // index into Block::spill
  size_t offset;  // of the encoded record in Block::spill[slot]
  int64_t line;
  uint64_t hash;
  bool keyed;
};

// A block's parse: the records starting in [begin, stop), encoded per month. Blocks are
// recycled, keeping their buffers' capacity: growing fresh buffers for every block cost more
// than encoding into them (reallocation copies and page faults).
struct Block {
  size_t index = 0;
  uint64_t begin = 0, stop = 0;
  uint64_t end = 0;  // just past the last record
  bool gave_up = false;
  int64_t lines = 0;  // lines from begin to end
  int64_t records = 0, blank_lines = 0, out_of_range = 0;
  std::vector<int> month_of_slot;  // slots in use, in order of first appearance
  std::vector<std::string> spill;  // by slot; may hold more (empty) buffers than slots in use
  std::vector<RecordRef> refs;

  // Empties the block for a new range, keeping buffer capacity.
  void Reset(size_t new_index, uint64_t new_begin, uint64_t new_stop) {
    index = new_index;
    begin = new_begin;
    stop = new_stop;
    end = 0;
    gave_up = false;
    lines = records = blank_lines = out_of_range = 0;
    month_of_slot.clear();
    for (std::string& s : spill) s.clear();
    refs.clear();
  }
  // The slot for `month`, added if new.
  size_t Slot(int month) {
    auto it = std::find(month_of_slot.begin(), month_of_slot.end(), month);
    if (it != month_of_slot.end()) return static_cast<size_t>(it - month_of_slot.begin());
    month_of_slot.push_back(month);
    if (spill.size() < month_of_slot.size()) spill.emplace_back();
    return month_of_slot.size() - 1;
  }
};

class Splitter {
 public:
  explicit Splitter(const SplitOptions& options) : o_(options) {}

  StatusOr<SplitResult> Run();

 private:
  StatusOr<uint64_t> GuessRecordStart(int fd, uint64_t at, uint64_t stop) const;
  Status ParseBlock(CsvReader& reader, Block& b, uint64_t give_up_at) const;
  // Parses a block on a worker, from a guessed record start unless it is the first.
  Status ParseInWorker(std::unique_ptr<CsvReader>& reader, Block& b) const;
  Status Commit(Block& b);
  // Commits ready blocks in order while the next one is ready; `lock` holds mu_.
  void CommitReady(std::unique_lock<std::mutex>& lock);
  void Worker();
  void Fail(const Status& s);

  const SplitOptions& o_;
  std::unique_ptr<Progress> progress_;
  uint64_t file_size_ = 0;
  size_t blocks_ = 0;
  int fd_ = -1;

  std::mutex mu_;  // guards the fields down to first_error_
  std::condition_variable cv_;
  size_t next_block_ = 0;  // next block to parse
  size_t committed_ = 0;   // blocks committed so far
  size_t max_in_flight_ = 4;
  bool committing_ = false;
  bool failed_ = false;
  Status first_error_;
  std::map<size_t, std::unique_ptr<Block>> ready_;
  std::vector<std::unique_ptr<Block>> free_;  // committed blocks for reuse

  // Commit state: touched by one committing thread at a time.
  uint64_t expected_begin_ = 0;  // where the next block's first record really starts
  int64_t next_line_ = 0;        // the line at expected_begin_
  KeySet keys_;
  std::unique_ptr<CsvReader> commit_reader_;  // for re-parsing a block from its real start
  std::map<int, std::unique_ptr<SpillWriter>> writers_;
  std::vector<uint64_t> hashes_;
  std::vector<int64_t> lines_, first_lines_;
  SplitResult result_;
};

StatusOr<uint64_t> Splitter::GuessRecordStart(int fd, uint64_t at, uint64_t stop) const {
  // A record starts right after a newline; the byte before `at` may be that newline.
  uint64_t pos = at - 1;
  char buf[kScanBytes];
  while (pos < stop - 1 && pos < file_size_) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kScanBytes, stop - 1 - pos));
    const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(pos));
    if (n < 0) return InternalError(o_.file.string() + ": read error: " + std::strerror(errno));
    if (n == 0) break;
    if (const void* nl = std::memchr(buf, '\n', static_cast<size_t>(n))) {
      return pos + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1;
    }
    pos += static_cast<uint64_t>(n);
  }
  return std::min(stop, file_size_);  // no record starts in the block
}

Status Splitter::ParseBlock(CsvReader& reader, Block& b, uint64_t give_up_at) const {
  RETURN_IF_ERROR(reader.SetRange(b.begin, b.stop, give_up_at));
  CsvRecord rec;
  Cell date;
  std::string reason;
  SpillEncoder encoder;
  int last_month = INT_MIN;
  size_t slot = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(rec));
    if (!more) break;
    if (rec.blank) {
      b.blank_lines++;
      continue;
    }
    b.records++;
    int month = kUndatedMonth;
    if (rec.fields.size() == o_.fields && !rec.unterminated_quote &&
        o_.date_cleaner->Clean(rec.fields[o_.date_index], date, reason) == CleanOutcome::kOk &&
        !date.is_null) {
      month = Month::Of(date.date).index();
    }
    if (month != kUndatedMonth && ((o_.from && month < *o_.from) || (o_.to && month > *o_.to))) {
      b.out_of_range++;
      continue;
    }
    const bool keyed = month != kUndatedMonth && !o_.key_index.empty() && rec.invalid_utf8_at < 0;
    uint64_t hash = 0;
    if (keyed) {
      hash = KeySet::kSeed;
      for (int k : o_.key_index) hash = KeySet::Mix(hash, rec.fields[k]);
    }
    if (month != last_month) {
      slot = b.Slot(month);
      last_month = month;
    }
    const size_t offset = encoder.Add(rec, -1, b.spill[slot]);
    b.refs.push_back(RecordRef{slot, offset, rec.line, hash, keyed});
  }
  b.gave_up = reader.gave_up();
  b.end = reader.bytes_consumed();
  b.lines = reader.line();
  return OkStatus();
}

Status Splitter::Commit(Block& b) {
  if (b.gave_up || b.begin != expected_begin_) {
    // The guessed start was not a record start: parse again from the real one.
    b.Reset(b.index, expected_begin_, b.stop);
    if (commit_reader_ == nullptr) {
      ASSIGN_OR_RETURN(commit_reader_, CsvReader::Open(o_.file, o_.delimiter));
    }
    RETURN_IF_ERROR(ParseBlock(*commit_reader_, b, UINT64_MAX));
  }
  const int64_t base = next_line_;
  hashes_.clear();
  lines_.clear();
  for (const RecordRef& r : b.refs) {
    if (!r.keyed) continue;
    hashes_.push_back(r.hash);
    lines_.push_back(base + r.line);
  }
  if (b.index == 0 && !hashes_.empty() && b.end > b.begin) {
    // Size the key set once from the first block's density rather than doubling it (each
    // doubling re-inserts every key, at a cache miss each). Capped, as an odd first block
    // could suggest far more keys than the file has; past the cap the set grows as needed.
    const double per_byte =
        static_cast<double>(hashes_.size()) / static_cast<double>(b.end - b.begin);
    const double estimate = per_byte * static_cast<double>(file_size_) * 1.05 + 1024;
    keys_.Reserve(static_cast<size_t>(std::min(estimate, kMaxReservedKeys)));
  }
  first_lines_.resize(hashes_.size());
  keys_.InsertBatch(hashes_.data(), lines_.data(), first_lines_.data(), hashes_.size());
  size_t k = 0;
  for (const RecordRef& r : b.refs) {
    PatchSpillRecord(b.spill[r.slot].data() + r.offset, base, r.keyed ? first_lines_[k++] : -1);
  }
  for (size_t s = 0; s < b.month_of_slot.size(); ++s) {
    const int month = b.month_of_slot[s];
    auto& writer = writers_[month];
    if (writer == nullptr) {
      ASSIGN_OR_RETURN(writer, SpillWriter::Create(MonthSpillPath(o_.spill_dir, month)));
    }
    RETURN_IF_ERROR(writer->AddEncoded(b.spill[s]));
  }
  if (o_.show_progress) progress_->Advance(b.end - expected_begin_);
  next_line_ = base + b.lines;
  expected_begin_ = b.end;
  result_.records += b.records;
  result_.blank_lines += b.blank_lines;
  result_.out_of_range += b.out_of_range;
  return OkStatus();
}

void Splitter::Fail(const Status& s) {
  if (!failed_) first_error_ = s;
  failed_ = true;
  cv_.notify_all();
}

Status Splitter::ParseInWorker(std::unique_ptr<CsvReader>& reader, Block& b) const {
  if (reader == nullptr) {
    ASSIGN_OR_RETURN(reader, CsvReader::Open(o_.file, o_.delimiter));
  }
  const bool last = b.stop == UINT64_MAX;
  if (b.index > 0) {
    ASSIGN_OR_RETURN(b.begin, GuessRecordStart(fd_, b.begin, b.stop));
  }
  // A wrong guess can make a "record" run on far past the block; give up after one more
  // block's worth and let the commit parse from the real start.
  return ParseBlock(*reader, b, last ? UINT64_MAX : b.stop + o_.block_bytes);
}

void Splitter::CommitReady(std::unique_lock<std::mutex>& lock) {
  committing_ = true;
  while (!failed_) {
    auto it = ready_.find(committed_);
    if (it == ready_.end()) break;
    std::unique_ptr<Block> next = std::move(it->second);
    ready_.erase(it);
    lock.unlock();
    const Status c = Commit(*next);
    lock.lock();
    free_.push_back(std::move(next));
    if (!c.ok()) {
      Fail(c);
      break;
    }
    committed_++;
    cv_.notify_all();
  }
  committing_ = false;
}

void Splitter::Worker() {
  std::unique_ptr<CsvReader> reader;  // one per worker, its buffer reused block after block
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return failed_ || next_block_ - committed_ < max_in_flight_; });
    if (failed_ || next_block_ >= blocks_) return;
    std::unique_ptr<Block> block;
    if (free_.empty()) {
      block = std::make_unique<Block>();
    } else {
      block = std::move(free_.back());
      free_.pop_back();
    }
    const size_t index = next_block_++;
    lock.unlock();

    const uint64_t nominal = o_.data_begin + index * o_.block_bytes;
    // The last block reads to the end of the file, whatever its size is by now.
    const bool last = index + 1 == blocks_;
    block->Reset(index, nominal, last ? UINT64_MAX : nominal + o_.block_bytes);
    const Status s = ParseInWorker(reader, *block);

    lock.lock();
    if (!s.ok()) {
      Fail(s);
      return;
    }
    ready_.emplace(index, std::move(block));
    // Blocks are committed in file order by one thread at a time, whichever finds the next
    // one ready; the others go on parsing.
    if (!committing_) CommitReady(lock);
  }
}

StatusOr<SplitResult> Splitter::Run() {
  std::error_code ec;
  file_size_ = fs::file_size(o_.file, ec);
  if (ec) return InternalError(o_.file.string() + ": cannot stat: " + ec.message());
  fd_ = ::open(o_.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return InternalError(o_.file.string() + ": cannot open: " + std::strerror(errno));
  const uint64_t block = std::max<uint64_t>(1, o_.block_bytes);
  const uint64_t data = file_size_ > o_.data_begin ? file_size_ - o_.data_begin : 0;
  blocks_ = static_cast<size_t>(std::max<uint64_t>(1, (data + block - 1) / block));
  expected_begin_ = o_.data_begin;
  next_line_ = o_.first_line;
  const int workers = static_cast<int>(std::min<size_t>(std::max(1, o_.threads), blocks_));
  max_in_flight_ = 2 * static_cast<size_t>(workers);
  progress_ = std::make_unique<Progress>(o_.progress_label, file_size_, "B");

  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back([this] { Worker(); });
  Worker();
  for (std::thread& t : threads) t.join();
  ::close(fd_);
  progress_->Finish();
  if (failed_) return first_error_;
  for (auto& [month, writer] : writers_) {
    RETURN_IF_ERROR(writer->Close());
    result_.months.insert(month);
  }
  return result_;
}

}  // namespace

fs::path MonthSpillPath(const fs::path& spill_dir, int month) {
  return spill_dir / ("m" + std::to_string(month));
}

StatusOr<SplitResult> SplitByMonth(const SplitOptions& options) {
  Splitter splitter(options);
  return splitter.Run();
}

}  // namespace riskpipe::ingest::internal
