#pragma once
// Ingestion of one configured source CSV into the datamart's bronze, silver and quarantine
// layers, one partition per snapshot month. Bronze keeps every record as received (plus its
// file, line and ingestion time); silver holds typed, cleaned, PII-free rows; quarantine keeps
// each row that could not be made valid with its raw text and reason. For every partition,
// bronze rows = silver rows + quarantined rows, checked before anything is published.
// Not thread-safe; one ingestion per process and workspace at a time.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"

namespace riskpipe::ingest {

struct PartitionCounts {
  Date partition;            // first day of the month, or datamart::UndatedPartition()
  int64_t bronze = 0;        // rows read from the source for this month
  int64_t silver = 0;
  int64_t quarantined = 0;
};

struct IngestOptions {
  // Months to ingest, inclusive; unset means every month found in the file. Rows whose date
  // cannot be read are ingested whatever the range (into the undated partition).
  std::optional<Month> from, to;
  // Shows a progress line on a terminal.
  bool show_progress = true;
  // DuckDB memory limit while writing Parquet.
  std::string memory_limit = "1GB";
  // Threads for both passes: blocks of the file parsed in parallel, then partitions written in
  // parallel (each with its own DuckDB connection).
  int threads = 2;
  // Bytes of the source per pass-1 work unit. The default keeps a few blocks in memory at
  // once (each about 3x its size once split); tests use tiny blocks to put record boundaries,
  // quoted newlines and duplicates across blocks.
  uint64_t split_block_bytes = 8 << 20;
  // Called after each partition is published (all three layers), e.g. to record it.
  std::function<void(const PartitionCounts&)> on_partition;
  // Test seam: called at named points of a month's publication ("publish:0" once its journal
  // is written, "publish:1".."publish:3" after the bronze, silver and quarantine renames),
  // e.g. to kill the process there.
  std::function<void(const std::string& point)> fault_hook;
};

struct SourceReport {
  std::string source;
  std::string file;              // as recorded in _source_file
  int64_t records = 0;           // data records read (blank lines excluded)
  int64_t blank_lines = 0;       // empty lines skipped (not rows)
  int64_t out_of_range = 0;      // records outside --from/--to, left for another run
  std::vector<PartitionCounts> partitions;
  std::map<std::string, int64_t> nulled;             // column -> values nulled by its rules
  std::map<std::string, int64_t> quarantine_reasons; // reason kind -> rows
  double seconds = 0;
  double split_seconds = 0;    // pass 1: read, check and split by month
  double publish_seconds = 0;  // pass 2: clean and write Parquet

  int64_t bronze() const;
  int64_t silver() const;
  int64_t quarantined() const;
};

// Ingests `source` of `project`. Errors: NotFound (missing file), InvalidArgument (empty
// file, header mismatch naming the missing/unexpected columns), DataLoss (a reconciliation
// failure, nothing published for that partition), Internal (I/O).
StatusOr<SourceReport> IngestSource(const config::Project& project, const config::Source& source,
                                    const IngestOptions& options);

// Compares a header with the configured columns. InvalidArgument naming missing, unexpected
// and probably renamed columns; on success fills `index` (config column -> header position).
Status MatchHeader(const config::Source& source, const std::vector<std::string>& header,
                   std::vector<int>& index);

}  // namespace riskpipe::ingest
