#pragma once
// gMock matchers for Status and StatusOr<T>, after abseil's absl/status/status_matchers.h:
//   EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, HasSubstr("max_depth")));
//   EXPECT_THAT(s, IsOk());
// A failure prints the code and message it got. Header-only; thread-safe as gMock is.

#include <gmock/gmock.h>

#include <ostream>
#include <string>
#include <utility>

#include "core/status.h"

namespace riskpipe {

// How gtest prints a code ("NotFound" instead of the enum's bytes), a Status or a StatusOr in
// a failure message: "InvalidArgument: <message>".
inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
template <typename T>
void PrintTo(const StatusOr<T>& status_or, std::ostream* os) {
  if (status_or.ok()) {
    *os << "OK holding " << ::testing::PrintToString(*status_or);
  } else {
    *os << status_or.status().ToString();
  }
}

namespace testing {
namespace internal {

inline const Status& GetStatus(const Status& status) { return status; }
template <typename T>
Status GetStatus(const StatusOr<T>& status_or) {
  return status_or.status();
}

// The code and message matchers, applied to a Status of any Status-like type.
class StatusIsImpl {
 public:
  StatusIsImpl(::testing::Matcher<StatusCode> code, ::testing::Matcher<const std::string&> message)
      : code_(std::move(code)), message_(std::move(message)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "has a code that ";
    code_.DescribeTo(os);
    *os << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has a code that ";
    code_.DescribeNegationTo(os);
    *os << " or a message that ";
    message_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(const Status& status, ::testing::MatchResultListener* listener) const {
    if (!code_.Matches(status.code())) {
      *listener << "whose code is " << StatusCodeName(status.code());
      return false;
    }
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(status.message(), &inner)) {
      *listener << "whose message \"" << status.message() << "\" does not match";
      if (!inner.str().empty()) *listener << " (" << inner.str() << ")";
      return false;
    }
    return true;
  }

 private:
  ::testing::Matcher<StatusCode> code_;
  ::testing::Matcher<const std::string&> message_;
};

// The monomorphic matcher gMock builds for one argument type (Status, StatusOr<T>).
template <typename StatusType>
class MonoStatusIsMatcher : public ::testing::MatcherInterface<StatusType> {
 public:
  explicit MonoStatusIsMatcher(StatusIsImpl impl) : impl_(std::move(impl)) {}
  void DescribeTo(std::ostream* os) const override { impl_.DescribeTo(os); }
  void DescribeNegationTo(std::ostream* os) const override { impl_.DescribeNegationTo(os); }
  bool MatchAndExplain(StatusType actual, ::testing::MatchResultListener* listener) const override {
    return impl_.MatchAndExplain(GetStatus(actual), listener);
  }

 private:
  StatusIsImpl impl_;
};

class StatusIsMatcher {
 public:
  explicit StatusIsMatcher(StatusIsImpl impl) : impl_(std::move(impl)) {}
  template <typename StatusType>
  operator ::testing::Matcher<StatusType>() const {  // NOLINT: implicit by design
    return ::testing::Matcher<StatusType>(new MonoStatusIsMatcher<const StatusType&>(impl_));
  }

 private:
  StatusIsImpl impl_;
};

}  // namespace internal

// Matches a Status or StatusOr<T> whose code matches `code` (a StatusCode, or a matcher of
// one) and whose message matches `message` (a gMock string matcher such as HasSubstr("x"), or
// a string for equality).
template <typename CodeMatcher, typename MessageMatcher>
internal::StatusIsMatcher StatusIs(CodeMatcher&& code, MessageMatcher&& message) {
  return internal::StatusIsMatcher(internal::StatusIsImpl(
      ::testing::SafeMatcherCast<StatusCode>(std::forward<CodeMatcher>(code)),
      ::testing::SafeMatcherCast<const std::string&>(std::forward<MessageMatcher>(message))));
}

// Matches a Status or StatusOr<T> whose code matches `code`, with any message.
template <typename CodeMatcher>
internal::StatusIsMatcher StatusIs(CodeMatcher&& code) {
  return StatusIs(std::forward<CodeMatcher>(code), ::testing::A<const std::string&>());
}

// Matches an ok Status, or a StatusOr<T> holding a value.
inline internal::StatusIsMatcher IsOk() { return StatusIs(StatusCode::kOk); }

}  // namespace testing
}  // namespace riskpipe
