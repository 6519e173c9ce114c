#pragma once
// Internal to synth: the per-scenario writers behind Generate(). Each writer streams its
// CSVs into AtomicFileWriters (temporary names beside the targets) and hands them back
// uncommitted; Generate() commits all of them only after every file was written, so an
// interrupted or failed run leaves no partial CSV in out_dir.

#include <vector>

#include "core/atomic_writer.h"
#include "core/status.h"
#include "synth/synth.h"

namespace riskpipe::synth::internal {

struct PendingFile {
  AtomicFileWriter writer;  // fully written, not yet committed
  FileSummary summary;      // file name and row count; bytes are filled by Generate()
};

// data-spec part A: lms_loan_daily.csv, feature_clickstream.csv, features_attributes.csv,
// features_financials.csv (in that order). options are already validated.
StatusOr<std::vector<PendingFile>> WriteLendingDatamart(const Options& options);

// data-spec part B: dataset_credit_risk.csv. options are already validated.
StatusOr<std::vector<PendingFile>> WriteKueski(const Options& options);

}  // namespace riskpipe::synth::internal
