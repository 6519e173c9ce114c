#pragma once
// A small Kueski workspace for the serving tests, built once per test binary through the
// riskpipe CLI (synth 1,500 users -> ingest -> features -> materialize -> train twice): an
// XGBoost model kueski_pd/1 in production and an approved logistic kueski_pd/2, plus the
// online snapshot. Copy() gives a test its own copy to change (promote, tamper, ...).

#include <filesystem>
#include <string>

#include "config/config.h"

namespace riskpipe::testing {

class ServingWorkspace {
 public:
  // The shared workspace folder (holding riskpipe.yaml and ws/); built on first use.
  static const std::filesystem::path& Shared();
  // A fresh copy of the shared folder under `dir`; returns the copy's folder.
  static std::filesystem::path Copy(const std::filesystem::path& dir);
  // The project of a workspace folder, with serving defaults suitable for tests (port 0, two
  // event loops, polling effectively off: tests reload explicitly).
  static config::Project Project(const std::filesystem::path& folder);
};

}  // namespace riskpipe::testing
