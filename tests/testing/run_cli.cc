#include "testing/run_cli.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

namespace riskpipe::testing {

std::string RiskpipeBinary() {
  const char* b = std::getenv("RISKPIPE_BINARY");
  return b != nullptr ? b : RISKPIPE_DEFAULT_BINARY;
}

CliResult RunRiskpipe(const std::string& args, const std::filesystem::path& cwd) {
  CliResult r;
  std::string cmd = RiskpipeBinary() + " " + args + " 2>&1";
  if (!cwd.empty()) cmd = "cd '" + cwd.string() + "' && " + cmd;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace riskpipe::testing
