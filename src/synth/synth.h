#pragma once
// Deterministic generators of the two source datasets of docs/synthetic-data.md (schemas in
// data-spec.md): the CS611 lending datamart (four CSVs) and the Kueski credit-risk CSV.
// Generate() is safe to call from several threads on different out_dir folders.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace riskpipe::synth {

enum class Scenario { kLendingDatamart, kKueski };

// Parses "lending-datamart" or "kueski"; InvalidArgument naming the allowed values otherwise.
StatusOr<Scenario> ParseScenario(std::string_view name);
// The name ParseScenario accepts for `s`.
std::string_view ScenarioName(Scenario s);

struct Options {
  // Which dataset to write.
  Scenario scenario = Scenario::kLendingDatamart;
  // Customers (lending) or users (kueski); 0 = the real dataset's size, 12500 / 36457.
  int64_t customers = 0;
  // The same seed and options give byte-identical files.
  uint64_t seed = 42;
  // Destination folder; created if missing. Existing files of the same name are replaced.
  std::filesystem::path out_dir;
  // Generation threads (>= 1); the output is byte-identical for any thread count.
  int threads = 2;
  // Draw a core Progress line (total = expected rows) while writing.
  bool show_progress = true;
};

struct FileSummary {
  std::string file;    // file name inside out_dir, e.g. "lms_loan_daily.csv"
  uint64_t rows = 0;   // data rows, header excluded
  uint64_t bytes = 0;  // file size including the header
};

struct Summary {
  std::vector<FileSummary> files;  // in the order the scenario documents its files
};

// Writes the scenario's CSV files into options.out_dir. Every file is written under a
// temporary name and renamed into place only after all of them were generated, so an
// interrupted run leaves no partial CSV. Returns the per-file row and byte counts.
// Errors: InvalidArgument for customers < 0 or above kMaxCustomers, threads < 1 or an empty
// out_dir; Internal for I/O errors (creating the folder, writing, renaming).
StatusOr<Summary> Generate(const Options& options);

// Upper bound on Options::customers: keeps the per-customer state (8 bytes each) small.
inline constexpr int64_t kMaxCustomers = 50'000'000;

}  // namespace riskpipe::synth
