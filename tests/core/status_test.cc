#include "core/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/status_matchers.h"

namespace riskpipe {
namespace {

using ::riskpipe::testing::IsOk;
using ::riskpipe::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError(std::to_string(x) + " is odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(*out, Half(h));
  return OkStatus();
}

TEST(Status, PropagatesFirstError) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  const Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "3 is odd");
  EXPECT_EQ(s.WithPrefix("quarter").ToString(), "InvalidArgument: quarter: 3 is odd");
}

// An OK status is no value: both constructors refuse it the same way. Asserts abort a debug
// build; where they are compiled out the StatusOr holds Internal, so ok() and status() agree
// and ASSIGN_OR_RETURN cannot pass on an OK status with no value behind it.
TEST(StatusOr, OkStatusWithoutValueIsAnError) {
  const Status ok_lvalue;
#ifdef NDEBUG
  const StatusOr<int> from_copy(ok_lvalue);
  const StatusOr<int> from_move{OkStatus()};
  for (const StatusOr<int>* r : {&from_copy, &from_move}) {
    EXPECT_FALSE(r->ok());
    EXPECT_THAT(*r, StatusIs(StatusCode::kInternal, HasSubstr("OK status")));
  }
#else
  EXPECT_DEATH(StatusOr<int>{ok_lvalue}, "ok");
  EXPECT_DEATH(StatusOr<int>{OkStatus()}, "ok");
#endif
}

TEST(StatusOr, KeepsTheErrorItIsGiven) {
  Status moved = NotFoundError("model m");
  const StatusOr<int> r(std::move(moved));
  EXPECT_THAT(r, StatusIs(StatusCode::kNotFound, "model m"));
}

TEST(StatusIs, MatchesCodeAndMessageOfStatusAndStatusOr) {
  const Status s = DataLossError("MANIFEST: sha256 mismatch");
  EXPECT_THAT(s, StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(s, StatusIs(StatusCode::kDataLoss, HasSubstr("sha256")));
  EXPECT_THAT(s, StatusIs(StatusCode::kDataLoss, "MANIFEST: sha256 mismatch"));
  EXPECT_THAT(s, Not(StatusIs(StatusCode::kNotFound)));
  EXPECT_THAT(s, Not(StatusIs(StatusCode::kDataLoss, HasSubstr("size"))));
  EXPECT_THAT(Half(3), StatusIs(StatusCode::kInvalidArgument, HasSubstr("odd")));
  EXPECT_THAT(Half(4), IsOk());
  EXPECT_THAT(Half(3), Not(IsOk()));
  EXPECT_THAT(OkStatus(), IsOk());
  EXPECT_THAT(s, StatusIs(::testing::AnyOf(StatusCode::kDataLoss, StatusCode::kNotFound)));
}

TEST(StatusIs, ExplainsAMismatch) {
  const ::testing::Matcher<const StatusOr<int>&> m =
      StatusIs(StatusCode::kNotFound, HasSubstr("model"));
  EXPECT_EQ(::testing::DescribeMatcher<const StatusOr<int>&>(m),
            "has a code that is equal to NotFound and a message that has substring \"model\"");
  ::testing::StringMatchResultListener wrong_code;
  EXPECT_FALSE(m.MatchAndExplain(Half(3), &wrong_code));
  EXPECT_EQ(wrong_code.str(), "whose code is InvalidArgument");
  ::testing::StringMatchResultListener wrong_message;
  EXPECT_FALSE(m.MatchAndExplain(StatusOr<int>(NotFoundError("run 7")), &wrong_message));
  EXPECT_EQ(wrong_message.str(), "whose message \"run 7\" does not match");
  EXPECT_EQ(::testing::PrintToString(Half(3)), "InvalidArgument: 3 is odd");
  EXPECT_EQ(::testing::PrintToString(Half(4)), "OK holding 2");
}

}  // namespace
}  // namespace riskpipe
