#pragma once
// Small trained workspaces for the serving tests, each built once per test binary through the
// riskpipe CLI (synth -> ingest -> features -> materialize -> train twice):
// - Kueski (1,500 users): an XGBoost model kueski_pd/1 in production and an approved logistic
//   kueski_pd/2, plus the online snapshot.
// - Lending (the lending-datamart example, 1,000 customers on the demo's seed 42, so the ids
//   docs/api.md uses, such as CUS_0x1002, exist): a logistic lending_pd/1 promoted first, then an
//   XGBoost lending_pd/2 in production, so a rollback has a version to return to. Like the demo's
//   retrained model, neither uses the clickstream features the online snapshot still holds.
// Copy() gives a test its own copy to change (promote, tamper, ...).

#include <filesystem>
#include <string>

#include "config/config.h"

namespace riskpipe::testing {

class ServingWorkspace {
 public:
  enum class Scenario { kKueski, kLending };

  // The shared workspace folder of a scenario (holding riskpipe.yaml and its workspace); built
  // on first use.
  static const std::filesystem::path& Shared(Scenario scenario = Scenario::kKueski);
  // A fresh copy of the shared folder under `dir` (as dir/kueski or dir/lending-datamart);
  // returns the copy's folder.
  static std::filesystem::path Copy(const std::filesystem::path& dir,
                                    Scenario scenario = Scenario::kKueski);
  // The project of a workspace folder, with serving defaults suitable for tests (port 0, two
  // event loops, polling effectively off: tests reload explicitly).
  static config::Project Project(const std::filesystem::path& folder);
};

// Rewrites `file` of the package folder `package` with `bytes` and its MANIFEST line to match,
// as anyone with write access to model_bank could; returns the sha256 of the MANIFEST before.
std::string RewritePackageFile(const std::filesystem::path& package, const std::string& file,
                               const std::string& bytes);
// The sha256 of the MANIFEST of the package folder `package`.
std::string ManifestSha(const std::filesystem::path& package);

}  // namespace riskpipe::testing
