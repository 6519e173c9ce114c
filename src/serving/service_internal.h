#pragma once
// Internal to the Service's source files: one request in flight, the per-worker state cache
// and small helpers.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "serving/http_server.h"
#include "serving/service.h"

namespace riskpipe::serving {

struct Service::Call {
  const HttpRequest& request;
  HttpResponse& response;
  const ServingState* state = nullptr;  // the worker's current state (see Service::Handle)

  void Error(int status, std::string_view code, std::string_view message) {
    response.status = status;
    response.body = ErrorJson(code, message, request.request_id);
    response.content_type = "application/json";
  }
};

struct alignas(64) Service::Slot {
  uint64_t generation = 0;
  std::shared_ptr<const ServingState> state;
};

namespace internal {

// Now as UTC ISO-8601 with milliseconds ("2024-06-01T12:00:00.123Z").
std::string UtcNowIso();
// Decodes %XX escapes; false for a malformed escape.
bool PercentDecode(std::string_view in, std::string& out);
// The HTTP status for a Status code (404, 400, 409, 503, 500).
int HttpStatusOf(const Status& status);
// Constant-time equality of two secrets (compares their SHA-256 digests).
bool SecretsEqual(std::string_view a, std::string_view b);

}  // namespace internal
}  // namespace riskpipe::serving
