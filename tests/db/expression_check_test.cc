#include "db/expression_check.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace riskpipe::db {
namespace {

using riskpipe::testing::IsOk;
using riskpipe::testing::StatusIs;
using ::testing::HasSubstr;

ExpressionRules Columns(std::set<std::string> columns) {
  ExpressionRules rules;
  rules.columns = std::move(columns);
  return rules;
}

TEST(CheckExpression, AcceptsTheExpressionsTheExamplesUse) {
  const ExpressionRules rules = Columns({"Annual_Income", "Outstanding_Debt", "job_start_date",
                                         "decision_date", "birthday", "flag_own_car", "fe_1",
                                         "installment_num", "loan_date", "x"});
  for (const char* expr : {
           "Annual_Income",
           "annual_income",  // DuckDB's names are case-insensitive
           "Outstanding_Debt / nullif(Annual_Income, 0)",
           "CASE WHEN job_start_date IS NULL THEN NULL WHEN job_start_date > decision_date THEN 0 "
           "ELSE date_part('year', age(decision_date, job_start_date)) END",
           "CASE flag_own_car WHEN 'Y' THEN 1 WHEN 'N' THEN 0 END",
           "avg(fe_1::DOUBLE)",
           "count(*)",
           "sum(x) FILTER (WHERE x > 0)",
           "installment_num = 0",
           "date_diff('day', birthday, loan_date) / 365.25",
           "x BETWEEN 1 AND 2 OR x IN (3, 4) AND flag_own_car LIKE 'Y%'",
           "decision_date - INTERVAL 3 MONTH",
           "Annual_Income -- a comment",
       }) {
    EXPECT_THAT(CheckExpression(expr, rules), IsOk()) << expr;
  }
}

// The reproductions of a project file reaching riskpipe's row source or the file system.
TEST(CheckExpression, RefusesSubqueriesTableFunctionsAndFiles) {
  const ExpressionRules rules = Columns({"Annual_Income"});
  for (const char* expr : {
           "Annual_Income + length($$'$$ || (SELECT 0 FROM riskpipe_row_source(4242))::VARCHAR "
           "|| $$'$$)",
           "(SELECT count(*) FROM riskpipe_row_source(4242))",
           "(SELECT content FROM read_text($$/etc/hostname$$))",
           "Annual_Income + length($$'$$ || (SELECT content FROM read_text($$/etc/hostname$$)) || "
           "$$'$$)",
           "EXISTS (SELECT 1)",
           "Annual_Income IN (SELECT 1)",
       }) {
    EXPECT_THAT(CheckExpression(expr, rules), StatusIs(StatusCode::kInvalidArgument,
                                                       HasSubstr("subquery is not allowed")))
        << expr;
  }
}

TEST(CheckExpression, RefusesTextThatLeavesItsParentheses) {
  const ExpressionRules rules = Columns({"a"});
  for (const char* expr : {"a) FROM riskpipe_expression_source, (SELECT 1",
                           "a), (a", "a) AS x, (a", "a) FROM t UNION SELECT (a",
                           "a) FROM riskpipe_expression_source WHERE (a",
                           "a) FROM riskpipe_expression_source; SELECT (1", "a)) --"}) {
    EXPECT_THAT(CheckExpression(expr, rules), StatusIs(StatusCode::kInvalidArgument)) << expr;
  }
}

TEST(CheckExpression, RefusesWhatIsNotAPlainExpression) {
  const ExpressionRules rules = Columns({"a"});
  struct Case {
    const char* expr;
    const char* problem;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"*", "* and COLUMNS(...) are not allowed"},
           {"COLUMNS('a')", "* and COLUMNS(...) are not allowed"},
           {"$1 + a", "a parameter"},
           {"t.a", "qualified column name"},
           {"b + 1", "\"b\" is not a column of the source"},
           {"current_setting('threads')", "function current_setting() is not allowed"},
           {"getenv('HOME')", "function getenv() is not allowed"},
           {"nextval('s')", "function nextval() is not allowed"},
           {"riskpipe_row_source(1)", "function riskpipe_row_source() is not allowed"},
           {"other.main.f(a)", "must not name a catalog or schema"},
           {"", "the expression is empty"},
           {"a +", "not one SQL expression"},
       }) {
    EXPECT_THAT(CheckExpression(c.expr, rules),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.problem)))
        << c.expr;
  }
}

TEST(CheckExpression, AnyColumnSkipsOnlyTheNameCheck) {
  ExpressionRules rules;
  rules.any_column = true;
  EXPECT_THAT(CheckExpression("whatever + 1", rules), IsOk());
  EXPECT_THAT(CheckExpression("(SELECT 1)", rules), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace riskpipe::db
