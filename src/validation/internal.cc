#include "validation/internal.h"

#include <cstdio>
#include <utility>

namespace riskpipe::validation::internal {

using nlohmann::json;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

CheckResult Make(std::string name, bool passed, json value, json threshold, std::string key,
                 std::string rationale, json details) {
  CheckResult c;
  c.name = std::move(name);
  c.passed = passed;
  c.status = passed ? "passed" : "failed";
  c.value = std::move(value);
  c.threshold = std::move(threshold);
  c.threshold_key = std::move(key);
  c.rationale = std::move(rationale);
  c.details = std::move(details);
  return c;
}

CheckResult NotApplicable(std::string name, json threshold, std::string key, std::string why) {
  CheckResult c = Make(std::move(name), true, nullptr, std::move(threshold), std::move(key),
                       "not applicable: " + why);
  c.status = "not applicable";
  return c;
}

}  // namespace riskpipe::validation::internal
