#pragma once
// Internal: ingestion's first pass. Splits a source CSV into one spill file per snapshot month
// (see spill.h), marking duplicate keys, on several threads: the file is cut into blocks at
// byte offsets, each block is parsed on a worker from a guessed record start (the byte after
// a newline), and the blocks are committed strictly in file order. A guess is checked at commit
// against where the previous block's last record really ended and re-parsed from there when
// wrong (a quoted field with a newline can straddle a block boundary), so line numbers,
// "first occurrence wins" for duplicate keys and the order of records in every spill file are
// exactly those of a single sequential read. One call at a time per spill folder.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "ingest/cleaning.h"

namespace riskpipe::ingest::internal {

// The month index used for rows without a readable date.
inline constexpr int kUndatedMonth = -1;

struct SplitOptions {
  std::filesystem::path file;
  char delimiter = ',';
  uint64_t data_begin = 0;  // offset of the first record after the header
  int64_t first_line = 2;   // the line that record starts on
  size_t fields = 0;        // fields per record in the header
  int date_index = -1;      // header position of the date column
  const ColumnCleaner* date_cleaner = nullptr;
  std::vector<int> key_index;       // header positions of the key columns; empty: no dedupe
  std::optional<int> from, to;      // month range (Month::index()); records outside are skipped
  std::filesystem::path spill_dir;  // spill files are written as <spill_dir>/m<month>
  int threads = 2;                  // parsing workers
  uint64_t block_bytes = 8 << 20;   // bytes per block (tests use tiny blocks)
  bool show_progress = false;
  std::string progress_label;
};

struct SplitResult {
  int64_t records = 0;  // data records (blank lines excluded), in range or not
  int64_t blank_lines = 0;
  int64_t out_of_range = 0;
  std::set<int> months;  // months that have a spill file
};

// The path of a month's spill file.
std::filesystem::path MonthSpillPath(const std::filesystem::path& spill_dir, int month);

// Runs pass 1. Internal on I/O errors (the spill folder may then hold partial files).
StatusOr<SplitResult> SplitByMonth(const SplitOptions& options);

}  // namespace riskpipe::ingest::internal
