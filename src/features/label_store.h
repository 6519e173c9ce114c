#pragma once
// The label store (docs/labels.md). gold/loan_dpd holds days past due per loan and LMS snapshot
// month (data-spec A.3.2); gold/label_store holds one row per loan, partitioned by application
// month, with the label under the project's `label:` definition and the date it became
// knowable. A loan whose label window has not matured in the data has a NULL label, never 0.
// Free functions over a caller-owned connection; one build per workspace at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/date.h"
#include "core/status.h"
#include "datamart/datamart.h"
#include "db/database.h"

namespace riskpipe::features {

// gold tables written here.
inline constexpr char kLoanDpdTable[] = "loan_dpd";
inline constexpr char kLabelStoreTable[] = "label_store";

// Columns of gold/label_store, after the loan key and entity (which keep their source names):
// application_date DATE, label_def VARCHAR, label INTEGER, dpd_at_mob INTEGER,
// label_available_date DATE; plus the partition column snapshot_date (application month).
inline constexpr char kLabelColumn[] = "label";
inline constexpr char kLabelAvailableDate[] = "label_available_date";

struct LabelBuildOptions {
  // Application month whose gold/label_store partition is (re)built; unset = every
  // application month present in the source (as of `as_of`).
  std::optional<Month> month;
  // The date the data is taken to be as of: source rows dated after it are ignored, and a
  // label whose availability date is after it stays NULL. Unset = the latest date the source
  // holds (the greater of its latest partition and its latest application date).
  std::optional<Date> as_of;
};

struct LabelMonthCounts {
  Month month;            // application month (the partition)
  int64_t rows = 0;       // loans
  int64_t matured = 0;    // label_available_date <= as_of
  int64_t labelled = 0;   // label not NULL (matured and observed in the data)
  int64_t positives = 0;  // label = 1
};

struct LabelBuildSummary {
  std::string label_def;
  Date as_of;
  std::vector<LabelMonthCounts> months;  // ascending
  int64_t rows() const;
  int64_t labelled() const;
  int64_t positives() const;
};

// Builds and publishes gold/label_store partitions (each replaced atomically; a requested
// month without loans gets an empty partition; other months are not touched). Reads the
// label's silver source directly, so it does not depend on gold/loan_dpd being current.
// FailedPrecondition when the project has no `label:` section; NotFound when the silver
// source has no partitions (or no dated rows); InvalidArgument for a failing query.
StatusOr<LabelBuildSummary> BuildLabelStore(const config::Project& project, db::Connection& con,
                                            const LabelBuildOptions& options);

struct LoanDpdOptions {
  // LMS snapshot month whose gold/loan_dpd partition is (re)built; unset = every month.
  std::optional<Month> month;
};

struct LoanDpdMonthCounts {
  Month month;           // snapshot month (the partition)
  int64_t rows = 0;      // loan-months
  int64_t past_due = 0;  // rows with dpd > 0
};

// Builds and publishes gold/loan_dpd partitions, one per silver snapshot month (columns in
// docs/labels.md). A kOutcome label has no instalment schedule: returns an empty list.
// FailedPrecondition without a `label:` section; NotFound when the silver source, or the
// requested month of it, is missing.
StatusOr<std::vector<LoanDpdMonthCounts>> BuildLoanDpd(const config::Project& project,
                                                       db::Connection& con,
                                                       const LoanDpdOptions& options);

// A parenthesised SQL table expression over gold/label_store holding only the labels of
// `label_def` that were knowable on `cutoff`: label not NULL and label_available_date <=
// cutoff. Columns as in gold/label_store (snapshot_date = application month). This is the only
// way training and monitoring should read labels. NotFound when the label store is empty.
StatusOr<std::string> LabelsAvailableBySql(const datamart::Datamart& mart,
                                           std::string_view label_def, Date cutoff);

}  // namespace riskpipe::features
