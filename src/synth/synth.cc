// Generate(): validates options, runs the scenario's writer and publishes its files.

#include "synth/synth.h"

#include <string>

#include "core/files.h"
#include "synth/internal.h"

namespace riskpipe::synth {

StatusOr<Scenario> ParseScenario(std::string_view name) {
  if (name == "lending-datamart") return Scenario::kLendingDatamart;
  if (name == "kueski") return Scenario::kKueski;
  return InvalidArgumentError("unknown scenario \"" + std::string(name) +
                              "\": expected lending-datamart or kueski");
}

std::string_view ScenarioName(Scenario s) {
  return s == Scenario::kKueski ? "kueski" : "lending-datamart";
}

StatusOr<Summary> Generate(const Options& options) {
  if (options.customers < 0 || options.customers > kMaxCustomers) {
    return InvalidArgumentError("--customers must be between 0 and " +
                                std::to_string(kMaxCustomers) + ", got " +
                                std::to_string(options.customers));
  }
  if (options.threads < 1) {
    return InvalidArgumentError("--threads must be at least 1, got " +
                                std::to_string(options.threads));
  }
  if (options.out_dir.empty()) return InvalidArgumentError("no output folder given");
  RETURN_IF_ERROR(MakeDirs(options.out_dir));

  StatusOr<std::vector<internal::PendingFile>> files =
      options.scenario == Scenario::kKueski ? internal::WriteKueski(options)
                                            : internal::WriteLendingDatamart(options);
  if (!files.ok()) return files.status();
  // Publish only once every file is complete; uncommitted writers remove their temporaries.
  Summary summary;
  for (internal::PendingFile& f : *files) {
    f.summary.bytes = f.writer.bytes_written();
    RETURN_IF_ERROR(f.writer.Commit());
    summary.files.push_back(f.summary);
  }
  return summary;
}

}  // namespace riskpipe::synth
