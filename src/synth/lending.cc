// The lending-datamart writer (data-spec part A). Two ordered parallel passes:
//   1. customers in blocks: each block draws its customers once and formats their LMS rows
//      (11 per loan), attributes row and financials row, and records who defaulted;
//   2. clickstream in (month, customer block) order: 24 monthly rows for every customer whose
//      loan reaches MOB 6 by 2024-12, with the label-dependent shifts of data-spec A.6.
// Every row is drawn from streams keyed by (seed, customer, month), so the bytes do not depend
// on the thread count or the block size.

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/progress.h"
#include "synth/csv_format.h"
#include "synth/drift.h"
#include "synth/internal.h"
#include "synth/lending_model.h"
#include "synth/parallel.h"
#include "synth/rng.h"

namespace riskpipe::synth::internal {
namespace {

using lending::Customer;
using lending::Layout;

constexpr uint64_t kClickStream = 0x4c454e44434c4943;  // "LENDCLIC"
constexpr int64_t kCustomersPerBlock = 2048;
// Clickstream months: 2023-01 .. 2024-12 (data-spec A.6).
constexpr int kClickFirstMonth = MonthIndex(2023, 1);
constexpr int kClickMonths = 24;
// Customers with clickstream: application cohorts up to 2024-06 (MOB 6 <= 2024-12).
constexpr int kClickLastCohortMonth = MonthIndex(2024, 6);

constexpr char kLmsHeader[] =
    "loan_id,Customer_ID,loan_start_date,tenure,installment_num,loan_amt,due_amt,paid_amt,"
    "overdue_amt,balance,snapshot_date\n";

std::string ClickstreamHeader() {
  std::string h;
  for (int f = 1; f <= 20; ++f) {
    h.append("fe_");
    AppendInt(h, f);
    h.push_back(',');
  }
  h.append("Customer_ID,snapshot_date\n");
  return h;
}

Date MonthStart(int month_index) { return Date::FromCivil(month_index / 12, month_index % 12 + 1, 1); }

// The 11 LMS rows (installments 0..10) of one customer's loan.
void AppendLmsRows(std::string& out, const Customer& c) {
  const int month = lending::FirstCohortMonthIndex() + c.cohort;
  const int amount =
      month >= kProductChangeFirstCohort ? kLoanAmountAfter : kLoanAmountBefore;
  const int due = amount / kTenure;
  const char* pattern = lending::kPaymentPattern[c.payment_pattern];
  // The loan_id: Customer_ID + "_" + start date with underscores.
  std::string id_prefix;
  lending::AppendCustomerId(id_prefix, c.hex);
  const size_t customer_len = id_prefix.size();
  id_prefix.push_back('_');
  const CivilDay start = c.application_date.civil();
  AppendDigits(id_prefix, start.year, 4);
  id_prefix.push_back('_');
  AppendDigits(id_prefix, start.month, 2);
  id_prefix.push_back('_');
  AppendDigits(id_prefix, start.day, 2);

  int64_t due_total = 0, paid_total = 0;
  for (int k = 0; k <= kTenure; ++k) {
    const int64_t due_now = k == 0 ? 0 : due;
    const int64_t paid_now = k == 0 ? 0 : (pattern[k - 1] - '0') * static_cast<int64_t>(due);
    due_total += due_now;
    paid_total += paid_now;
    out.append(id_prefix);
    out.push_back(',');
    out.append(id_prefix, 0, customer_len);
    out.push_back(',');
    AppendIsoDate(out, c.application_date);
    out.push_back(',');
    AppendInt(out, kTenure);
    out.push_back(',');
    AppendInt(out, k);
    out.push_back(',');
    AppendInt(out, amount);
    out.push_back(',');
    AppendFloat(out, static_cast<double>(due_now));
    out.push_back(',');
    AppendFloat(out, static_cast<double>(paid_now));
    out.push_back(',');
    AppendFloat(out, static_cast<double>(due_total - paid_total));
    out.push_back(',');
    AppendFloat(out, static_cast<double>(amount - paid_total));
    out.push_back(',');
    AppendIsoDate(out, MonthStart(month + k));
    out.push_back('\n');
  }
}

struct CustomerBlock {
  std::string lms, attributes, financials;
  std::vector<uint8_t> defaulted;
  std::vector<uint32_t> hex;
  int64_t first = 0;
};

struct ClickBlock {
  std::string text;
  int64_t rows = 0;
};

// Which customer indices a clickstream block covers.
struct ClickPlan {
  int64_t covered = 0;  // customers [0, covered) have clickstream
  int64_t blocks_per_month = 0;
};

}  // namespace

StatusOr<std::vector<PendingFile>> WriteLendingDatamart(const Options& options) {
  const int64_t customers = options.customers > 0 ? options.customers : 12500;
  const Layout layout(customers);
  const uint64_t seed = options.seed;

  ClickPlan click;
  click.covered = layout.Start(kClickLastCohortMonth - lending::FirstCohortMonthIndex() + 1);
  click.blocks_per_month = (click.covered + kCustomersPerBlock - 1) / kCustomersPerBlock;
  const uint64_t expected_rows = static_cast<uint64_t>(customers) * (kTenure + 1 + 2) +
                                 static_cast<uint64_t>(click.covered) * kClickMonths;
  std::unique_ptr<Progress> progress;
  if (options.show_progress) {
    progress = std::make_unique<Progress>("synth lending-datamart", expected_rows);
  }

  struct Target {
    const char* file;
    std::string header;
  };
  const Target targets[] = {{"lms_loan_daily.csv", kLmsHeader},
                            {"feature_clickstream.csv", ClickstreamHeader()},
                            {"features_attributes.csv", lending::kAttributesHeader},
                            {"features_financials.csv", lending::kFinancialsHeader}};
  std::vector<PendingFile> files;
  for (const Target& t : targets) {
    ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Open(options.out_dir / t.file));
    writer.Append(t.header);
    files.push_back(PendingFile{std::move(writer), FileSummary{t.file, 0, 0}});
  }
  PendingFile& lms = files[0];
  PendingFile& clicks = files[1];
  PendingFile& attributes = files[2];
  PendingFile& financials = files[3];

  // Pass 1: customers.
  std::vector<uint8_t> defaulted(static_cast<size_t>(customers));
  std::vector<uint32_t> hexes(static_cast<size_t>(customers));
  const size_t customer_blocks =
      static_cast<size_t>((customers + kCustomersPerBlock - 1) / kCustomersPerBlock);
  RunOrdered<CustomerBlock>(
      customer_blocks, options.threads,
      [&](size_t b, CustomerBlock& block) {
        block.lms.clear();
        block.attributes.clear();
        block.financials.clear();
        block.defaulted.clear();
        block.hex.clear();
        block.first = static_cast<int64_t>(b) * kCustomersPerBlock;
        const int64_t end = std::min(customers, block.first + kCustomersPerBlock);
        for (int64_t i = block.first; i < end; ++i) {
          const uint32_t hex = lending::CustomerHex(seed, i, customers);
          const Customer c = lending::DrawCustomer(seed, i, layout.CohortOf(i), hex);
          AppendLmsRows(block.lms, c);
          lending::AppendAttributesRow(block.attributes, c, seed);
          lending::AppendFinancialsRow(block.financials, c, seed);
          block.defaulted.push_back(c.defaulted ? 1 : 0);
          block.hex.push_back(hex);
        }
      },
      [&](size_t, CustomerBlock& block) {
        const auto n = static_cast<uint64_t>(block.defaulted.size());
        lms.writer.Append(block.lms);
        attributes.writer.Append(block.attributes);
        financials.writer.Append(block.financials);
        lms.summary.rows += n * (kTenure + 1);
        attributes.summary.rows += n;
        financials.summary.rows += n;
        std::copy(block.defaulted.begin(), block.defaulted.end(),
                  defaulted.begin() + block.first);
        std::copy(block.hex.begin(), block.hex.end(), hexes.begin() + block.first);
        if (progress) progress->Advance(n * (kTenure + 3));
      });

  // Pass 2: clickstream, month by month.
  const size_t click_blocks = static_cast<size_t>(click.blocks_per_month) * kClickMonths;
  RunOrdered<ClickBlock>(
      click_blocks, options.threads,
      [&](size_t b, ClickBlock& block) {
        block.text.clear();
        block.rows = 0;
        const int month = kClickFirstMonth + static_cast<int>(b / click.blocks_per_month);
        const int64_t first =
            static_cast<int64_t>(b % click.blocks_per_month) * kCustomersPerBlock;
        const int64_t end = std::min(click.covered, first + kCustomersPerBlock);
        const Date snapshot = MonthStart(month);
        for (int64_t i = first; i < end; ++i) {
          Rng rng(seed, kClickStream, static_cast<uint64_t>(i), static_cast<uint64_t>(month));
          const bool bad = defaulted[static_cast<size_t>(i)] != 0;
          const int application_month = lending::FirstCohortMonthIndex() + layout.CohortOf(i);
          const double factor = month > application_month ? kPostApplicationSignalFactor : 1.0;
          for (int f = 1; f <= 20; ++f) {
            // data-spec A.6: defaulters shift fe_1..5 up and widen fe_11..15; good payers
            // shift fe_6..10 up and widen fe_16..20; steps of 5 (mean) and 1 (sd).
            const int step = (f - 1) % 5 + 1;
            double mean = 100, sd = 100;
            if (f <= 5 && bad) mean += 5 * step * factor;
            if (f > 5 && f <= 10 && !bad) mean += 5 * step * factor;
            if (f > 10 && f <= 15 && bad) sd += step * factor;
            if (f > 15 && !bad) sd += step * factor;
            const double value = mean + sd * rng.Normal();
            if (!(month == kFeedBreakMonth && f == kFeedBreakFeature)) {
              AppendInt(block.text, static_cast<int64_t>(std::lround(value)));
            }
            block.text.push_back(',');
          }
          lending::AppendCustomerId(block.text, hexes[static_cast<size_t>(i)]);
          block.text.push_back(',');
          AppendIsoDate(block.text, snapshot);
          block.text.push_back('\n');
          ++block.rows;
        }
      },
      [&](size_t, ClickBlock& block) {
        clicks.writer.Append(block.text);
        clicks.summary.rows += static_cast<uint64_t>(block.rows);
        if (progress) progress->Advance(static_cast<uint64_t>(block.rows));
      });
  if (progress) progress->Finish();
  return files;
}

}  // namespace riskpipe::synth::internal
