// gold/loan_dpd and gold/label_store (docs/labels.md). Each build computes its rows once into a
// temporary table on the caller's connection, then publishes one partition per month from it
// (Datamart::WritePartition: atomic replace). Internal column names start with '_' and are
// renamed to the source's key and entity names on output.

#include "features/label_store.h"

#include <set>
#include <utility>

namespace riskpipe::features {
namespace {

using config::LabelDef;
using config::LabelKind;
using datamart::Layer;
using db::QuoteIdent;
using db::QuoteLiteral;

constexpr char kDpdTemp[] = "riskpipe_loan_dpd_build";
constexpr char kLabelTemp[] = "riskpipe_label_store_build";

std::string DateSql(Date d) { return "DATE '" + d.ToString() + "'"; }

// Drops a temporary table when the build ends, however it ends.
class TempTable {
 public:
  TempTable(db::Connection& con, std::string name) : con_(con), name_(std::move(name)) {}
  ~TempTable() { (void)con_.Execute("DROP TABLE IF EXISTS " + name_); }
  TempTable(const TempTable&) = delete;
  TempTable& operator=(const TempTable&) = delete;
  const std::string& name() const { return name_; }

 private:
  db::Connection& con_;
  std::string name_;
};

// What a build needs to know about the label's source.
struct LabelSource {
  const LabelDef* label = nullptr;
  const config::Source* source = nullptr;
  datamart::Datamart mart{""};
  std::string read_sql;  // the silver table expression
  std::string snapshot;  // SQL for the row's snapshot date
};

StatusOr<LabelSource> ResolveSource(const config::Project& project) {
  if (!project.label) {
    return FailedPreconditionError("project " + project.name + ": no `label:` section in " +
                                   project.config_path.string() +
                                   "; define the label (docs/labels.md) before building labels");
  }
  LabelSource s;
  s.label = &*project.label;
  s.source = project.FindSource(s.label->source);
  if (s.source == nullptr) {
    return InvalidArgumentError("label.source: \"" + s.label->source +
                                "\" is not one of the sources");
  }
  // Output columns that the loan key and entity must not shadow.
  static const std::set<std::string> kReserved = {
      "application_date",  "label_def", "label",      "dpd_at_mob",     "label_available_date",
      "snapshot_date",     "mob",       "due_amount", "overdue_amount", "installments_missed",
      "first_missed_date", "dpd"};
  for (const auto& [key, column] : {std::pair{"label.loan_key", s.label->loan_key},
                                    std::pair{"label.entity", s.label->entity}}) {
    if (kReserved.count(column) > 0) {
      return InvalidArgumentError(std::string(key) + ": \"" + column +
                                  "\" clashes with a label store column of that name");
    }
  }
  if (s.label->loan_key == s.label->entity) {
    return InvalidArgumentError("label.loan_key and label.entity name the same column \"" +
                                s.label->entity + "\"");
  }
  s.mart = datamart::Datamart(project.workspace.datamart());
  auto read = s.mart.ReadSql(Layer::kSilver, s.source->name);
  if (!read.ok()) {
    return NotFoundError("label source " + read.status().message() +
                         "; run `riskpipe ingest` first");
  }
  s.read_sql = *read;
  // A source whose date column is snapshot_date keeps it only as the partition column.
  const std::string& date_column = s.source->date_column;
  s.snapshot = date_column.empty() || date_column == datamart::kPartitionColumn
                   ? std::string(datamart::kPartitionColumn)
                   : "CAST(" + QuoteIdent(date_column) + " AS DATE)";
  return s;
}

// The source's dated rows with normalised internal columns (_k, _e, _app, _snap, _part and,
// per kind, _mob/_due/_overdue or _y); `where` adds a filter over the source's own columns.
std::string SourceRowsSql(const LabelSource& s, const std::string& where) {
  const LabelDef& l = *s.label;
  std::string sql = "SELECT " + QuoteIdent(l.loan_key) + " AS _k, " + QuoteIdent(l.entity) +
                    " AS _e, CAST(" + QuoteIdent(l.application_date) + " AS DATE) AS _app, " +
                    s.snapshot + " AS _snap, snapshot_date AS _part, ";
  if (l.kind == LabelKind::kDpd) {
    sql += "CAST(" + QuoteIdent(l.installment_column) + " AS INTEGER) AS _mob, CAST(" +
           QuoteIdent(l.due_column) + " AS DOUBLE) AS _due, CAST(" + QuoteIdent(l.overdue_column) +
           " AS DOUBLE) AS _overdue";
  } else {
    sql += "CAST(" + QuoteIdent(l.outcome_column) + " AS INTEGER) AS _y";
  }
  sql += " FROM " + s.read_sql + " WHERE snapshot_date <> " + DateSql(datamart::UndatedPartition());
  if (!where.empty()) sql += " AND (" + where + ")";
  return sql;
}

// Adds _missed, _first_missed and _dpd to source rows, exactly as the course lab does
// (data-spec A.3.2): missed = ceil(overdue / due) with a null quotient (0/0 at instalment 0,
// or any due of 0) taken as 0; first missed = snapshot - missed months when missed > 0;
// dpd = days from first missed to snapshot when overdue > 0, else 0. Overdue with no due
// (missed = 0) leaves dpd NULL: the schedule cannot date it.
std::string DpdSql(const std::string& rows_sql) {
  return "SELECT *, CAST(CASE WHEN _overdue > 0 THEN date_diff('day', _first_missed, _snap) "
         "ELSE 0 END AS INTEGER) AS _dpd FROM (SELECT *, CASE WHEN _missed > 0 THEN "
         "CAST(_snap - to_months(_missed) AS DATE) END AS _first_missed FROM (SELECT *, "
         "CAST(coalesce(ceil(CASE WHEN _due <> 0 THEN _overdue / _due END), 0) AS INTEGER) "
         "AS _missed FROM (" +
         rows_sql + ")))";
}

std::string MonthFilter(const std::string& date_sql, Month m) {
  return date_sql + " >= " + DateSql(m.first_day()) + " AND " + date_sql + " < " +
         DateSql(m.Next().first_day());
}

// The latest date the source holds (see LabelBuildOptions::as_of).
StatusOr<Date> DefaultAsOf(db::Connection& con, const LabelSource& s) {
  ASSIGN_OR_RETURN(db::Table t, con.Query("SELECT max(_part), max(_app), max(_snap) FROM (" +
                                          SourceRowsSql(s, "") + ")"));
  std::optional<Date> latest;
  for (const db::Value& v : t.rows.at(0)) {
    if (const Date* d = std::get_if<Date>(&v); d != nullptr && (!latest || *d > *latest)) {
      latest = *d;
    }
  }
  if (!latest) {
    return NotFoundError("label source silver/" + s.source->name +
                         " holds no dated rows; run `riskpipe ingest` first");
  }
  return *latest;
}

int64_t IntAt(const db::Table& t, size_t row, size_t col) {
  const int64_t* v = std::get_if<int64_t>(&t.rows[row][col]);
  return v == nullptr ? 0 : *v;
}

// SELECT list renaming internal key columns to the source's names.
std::string KeyColumns(const LabelDef& l) {
  return "_k AS " + QuoteIdent(l.loan_key) + ", _e AS " + QuoteIdent(l.entity);
}

// The label rows of every loan in `rows_sql` (one per loan key and entity), plus _part.
std::string LabelRowsSql(const LabelDef& l, const std::string& rows_sql, Date as_of) {
  const std::string asof = DateSql(as_of);
  const std::string head = "SELECT " + KeyColumns(l) + ", _app AS application_date, " +
                           QuoteLiteral(l.name) + " AS label_def, ";
  const std::string tail =
      ", _avail AS label_available_date, "
      "CAST(date_trunc('month', _app) AS DATE) AS _part";
  if (l.kind == LabelKind::kOutcome) {
    // A loan seen on several rows counts its worst outcome.
    return head + "CASE WHEN _avail <= " + asof + " THEN _y END AS label, " +
           "CAST(NULL AS INTEGER) AS dpd_at_mob" + tail + " FROM (SELECT *, CAST(_app + " +
           "to_days(" + std::to_string(l.outcome_window_days) + ") AS DATE) AS _avail FROM " +
           "(SELECT _k, _e, min(_app) AS _app, max(_y) AS _y FROM (" + rows_sql +
           ") WHERE _app <= " + asof + " GROUP BY _k, _e)) WHERE _app IS NOT NULL";
  }
  const std::string mob = std::to_string(l.mob);
  // Available on the MOB snapshot: application + mob months, or the MOB row's own snapshot
  // date when that is later. Observed only when that row exists and is dated by as_of.
  const std::string known = "_mob_snap IS NOT NULL AND _avail <= " + asof;
  return head + "CASE WHEN " + known + " THEN CAST(_dpd >= " + std::to_string(l.dpd) +
         " AS INTEGER) END AS label, CASE WHEN " + known + " THEN _dpd END AS dpd_at_mob" + tail +
         " FROM (SELECT l._k, l._e, l._app, m._dpd, m._snap AS _mob_snap, greatest(CAST(" +
         "l._app + to_months(" + mob + ") AS DATE), coalesce(m._snap, DATE '0001-01-01')) " +
         "AS _avail FROM (SELECT _k, _e, min(_app) AS _app FROM dpd GROUP BY _k, _e) l " +
         "LEFT JOIN (SELECT _k, _e, _dpd, _snap FROM dpd WHERE _mob = " + mob +
         " QUALIFY row_number() OVER (PARTITION BY _k, _e ORDER BY _snap) = 1) m " +
         "ON l._k IS NOT DISTINCT FROM m._k AND l._e IS NOT DISTINCT FROM m._e) " +
         "WHERE _app IS NOT NULL";
}

}  // namespace

int64_t LabelBuildSummary::rows() const {
  int64_t n = 0;
  for (const auto& m : months) n += m.rows;
  return n;
}

int64_t LabelBuildSummary::labelled() const {
  int64_t n = 0;
  for (const auto& m : months) n += m.labelled;
  return n;
}

int64_t LabelBuildSummary::positives() const {
  int64_t n = 0;
  for (const auto& m : months) n += m.positives;
  return n;
}

StatusOr<LabelBuildSummary> BuildLabelStore(const config::Project& project, db::Connection& con,
                                            const LabelBuildOptions& options) {
  ASSIGN_OR_RETURN(LabelSource s, ResolveSource(project));
  const LabelDef& l = *s.label;
  LabelBuildSummary summary;
  summary.label_def = l.name;
  if (options.as_of) {
    summary.as_of = *options.as_of;
  } else {
    ASSIGN_OR_RETURN(summary.as_of, DefaultAsOf(con, s));
  }
  const std::string where = options.month ? MonthFilter("_app", *options.month) : "";
  std::string rows_sql = "SELECT * FROM (" + SourceRowsSql(s, "") + ")";
  if (!where.empty()) rows_sql += " WHERE " + where;
  std::string sql = "CREATE OR REPLACE TEMP TABLE " + std::string(kLabelTemp) + " AS ";
  if (l.kind == LabelKind::kDpd) {
    sql += "WITH dpd AS (" + DpdSql(rows_sql) + " WHERE _snap <= " + DateSql(summary.as_of) + ") " +
           LabelRowsSql(l, "", summary.as_of);
  } else {
    sql += LabelRowsSql(l, rows_sql, summary.as_of);
  }
  TempTable temp(con, kLabelTemp);
  if (Status st = con.Execute(sql); !st.ok()) {
    return st.WithPrefix("gold/" + std::string(kLabelStoreTable) + " (" + l.name + ")");
  }
  ASSIGN_OR_RETURN(db::Table counts,
                   con.Query("SELECT _part, count(*), count(*) FILTER (WHERE "
                             "label_available_date <= " +
                             DateSql(summary.as_of) +
                             "), count(label), count(*) FILTER (WHERE label = 1) FROM " +
                             temp.name() + " GROUP BY _part ORDER BY _part"));
  std::vector<Month> months;
  if (options.month) months.push_back(*options.month);
  for (size_t r = 0; r < counts.rows.size(); ++r) {
    const Date* part = std::get_if<Date>(&counts.rows[r][0]);
    if (part != nullptr && !options.month) months.push_back(Month::Of(*part));
  }
  for (const Month& m : months) {
    LabelMonthCounts c;
    c.month = m;
    for (size_t r = 0; r < counts.rows.size(); ++r) {
      const Date* part = std::get_if<Date>(&counts.rows[r][0]);
      if (part == nullptr || Month::Of(*part) != m) continue;
      c.rows = IntAt(counts, r, 1);
      c.matured = IntAt(counts, r, 2);
      c.labelled = IntAt(counts, r, 3);
      c.positives = IntAt(counts, r, 4);
    }
    const std::string select = "SELECT * EXCLUDE (_part) FROM " + temp.name() +
                               " WHERE _part = " + DateSql(m.first_day()) +
                               " ORDER BY application_date, " + QuoteIdent(l.loan_key) + ", " +
                               QuoteIdent(l.entity);
    ASSIGN_OR_RETURN(int64_t written, s.mart.WritePartition(con, Layer::kGold, kLabelStoreTable,
                                                            m.first_day(), select));
    if (written != c.rows) {
      return InternalError("gold/label_store " + m.ToString() + ": wrote " +
                           std::to_string(written) + " rows, expected " + std::to_string(c.rows));
    }
    summary.months.push_back(c);
  }
  return summary;
}

StatusOr<std::vector<LoanDpdMonthCounts>> BuildLoanDpd(const config::Project& project,
                                                       db::Connection& con,
                                                       const LoanDpdOptions& options) {
  ASSIGN_OR_RETURN(LabelSource s, ResolveSource(project));
  const LabelDef& l = *s.label;
  std::vector<LoanDpdMonthCounts> out;
  if (l.kind != LabelKind::kDpd) return out;
  std::vector<Month> months;
  for (Date d : s.mart.ListPartitions(Layer::kSilver, s.source->name)) {
    if (d == datamart::UndatedPartition()) continue;
    if (!options.month || Month::Of(d) == *options.month) months.push_back(Month::Of(d));
  }
  if (options.month && months.empty()) {
    return NotFoundError("label source silver/" + s.source->name + " has no partition " +
                         options.month->first_day().ToString() + "; run `riskpipe ingest` first");
  }
  const std::string where =
      options.month ? "snapshot_date = " + DateSql(options.month->first_day()) : "";
  TempTable temp(con, kDpdTemp);
  const std::string sql = "CREATE OR REPLACE TEMP TABLE " + temp.name() + " AS SELECT " +
                          KeyColumns(l) + ", _app AS application_date, _mob AS mob, " +
                          "_due AS due_amount, _overdue AS overdue_amount, _missed AS " +
                          "installments_missed, _first_missed AS first_missed_date, _dpd AS dpd, " +
                          "_part FROM (" + DpdSql(SourceRowsSql(s, where)) + ")";
  if (Status st = con.Execute(sql); !st.ok()) {
    return st.WithPrefix("gold/" + std::string(kLoanDpdTable));
  }
  for (const Month& m : months) {
    const std::string part = DateSql(m.first_day());
    ASSIGN_OR_RETURN(int64_t past_due, con.QueryInt("SELECT count(*) FROM " + temp.name() +
                                                    " WHERE _part = " + part + " AND dpd > 0"));
    const std::string select = "SELECT * EXCLUDE (_part) FROM " + temp.name() +
                               " WHERE _part = " + part + " ORDER BY " + QuoteIdent(l.loan_key) +
                               ", " + QuoteIdent(l.entity);
    ASSIGN_OR_RETURN(int64_t rows, s.mart.WritePartition(con, Layer::kGold, kLoanDpdTable,
                                                         m.first_day(), select));
    out.push_back({m, rows, past_due});
  }
  return out;
}

StatusOr<std::string> LabelsAvailableBySql(const datamart::Datamart& mart,
                                           std::string_view label_def, Date cutoff) {
  ASSIGN_OR_RETURN(std::string read, mart.ReadSql(Layer::kGold, kLabelStoreTable));
  return "(SELECT * FROM " + read + " WHERE label_def = " + QuoteLiteral(label_def) +
         " AND label IS NOT NULL AND label_available_date <= " + DateSql(cutoff) + ")";
}

}  // namespace riskpipe::features
