#pragma once
// Status and StatusOr<T>: errors as values, with abseil's codes. A Status is cheap to copy
// when ok (no allocation). Not thread-safe to mutate; safe to copy across threads.

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace riskpipe {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kDataLoss,
  kUnavailable,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

// `text` as it may appear in an error message: whole when at most `max_bytes` long, else its
// first `max_bytes` bytes (cut at a UTF-8 character boundary) followed by "... (N bytes)".
// Messages quote input through this, so a 10 MB line never becomes a 10 MB message.
std::string Excerpt(std::string_view text, size_t max_bytes = 200);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: <message>", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "<prefix>: <message>"; ok stays ok.
  Status WithPrefix(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Holds either a T or a non-ok Status. An OK status without a value is a programmer error:
// it asserts, and where asserts are compiled out it is held as Internal, so that ok() and
// status() never disagree (abseil's StatusOr does the same).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : value_(NotOk(status)) {}        // NOLINT
  StatusOr(Status&& status) : value_(NotOk(std::move(status))) {}  // NOLINT
  StatusOr(const T& value) : value_(value) {}                      // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}                // NOLINT

  bool ok() const { return std::holds_alternative<T>(value_); }
  Status status() const { return ok() ? OkStatus() : std::get<Status>(value_); }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  static Status NotOk(Status status) {
    assert(!status.ok());
    if (status.ok()) return InternalError("StatusOr was given an OK status and no value");
    return status;
  }

  std::variant<Status, T> value_;
};

}  // namespace riskpipe

#define RISKPIPE_CONCAT_INNER(a, b) a##b
#define RISKPIPE_CONCAT(a, b) RISKPIPE_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::riskpipe::Status riskpipe_status_ = (expr);        \
    if (!riskpipe_status_.ok()) return riskpipe_status_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(RISKPIPE_CONCAT(riskpipe_statusor_, __LINE__), lhs, expr)
