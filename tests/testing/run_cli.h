#pragma once
// Runs the built riskpipe binary for end-to-end tests. The binary's path is compiled in
// (RISKPIPE_DEFAULT_BINARY); RISKPIPE_BINARY in the environment overrides it.

#include <filesystem>
#include <string>

namespace riskpipe::testing {

// The riskpipe binary under test.
std::string RiskpipeBinary();

struct CliResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs `riskpipe <args>` through the shell (quote arguments yourself), in `cwd` when given.
CliResult RunRiskpipe(const std::string& args, const std::filesystem::path& cwd = {});

}  // namespace riskpipe::testing
