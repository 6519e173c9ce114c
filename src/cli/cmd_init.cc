// riskpipe init: a starter riskpipe.yaml for a user's own table ("bring your own data").

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/files.h"
#include "core/progress.h"
#include "db/database.h"

namespace riskpipe::cli {
namespace fs = std::filesystem;

void RegisterInit(CLI::App& app, InitFlags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "init",
      "Write a starter riskpipe.yaml in the current folder for one CSV (or Parquet) file with\n"
      "a target column, so `riskpipe train` works there at once (README: bring your own data).");
  cmd->add_option("--source", flags.source, "The data file (CSV or Parquet)")->required();
  cmd->add_option("--target", flags.target, "The column that says whether the loan defaulted")
      ->required();
  cmd->add_option("--positive", flags.positive, "The target value that means default")
      ->default_val("1");
  cmd->add_option("--name", flags.name, "Model name (default: <file stem>_pd)");
  cmd->add_option("--date", flags.date, "A date column to split on in time (optional)");
  cmd->add_flag("--force", flags.force, "Overwrite an existing riskpipe.yaml");
}

int RunInit(const GlobalFlags& global, const InitFlags& flags) {
  const fs::path out = global.config_path;
  if (fs::exists(out) && !flags.force) {
    return ReportFailure(AlreadyExistsError(out.string() + " already exists (pass --force to overwrite)"),
                         kExitUsage);
  }
  const fs::path source = fs::absolute(flags.source).lexically_normal();
  if (!fs::is_regular_file(source)) {
    return ReportFailure(NotFoundError("--source: " + source.string() + " does not exist"), kExitUsage);
  }
  auto database = db::Database::Open(":memory:");
  if (!database.ok()) return ReportFailure(database.status());
  auto con = database->Connect();
  if (!con.ok()) return ReportFailure(con.status());
  const std::string reader = (source.extension() == ".parquet" ? "read_parquet(" : "read_csv_auto(") +
                             db::QuoteLiteral(source.string()) + ")";
  auto shape = con->Query("DESCRIBE SELECT * FROM " + reader);
  if (!shape.ok()) return ReportFailure(shape.status().WithPrefix(source.string()), kExitUsage);
  bool has_target = false, has_date = flags.date.empty();
  std::string columns;
  for (const auto& row : shape->rows) {
    const std::string name = db::ValueToString(row[0]);
    columns += (columns.empty() ? "" : ", ") + name + " " + db::ValueToString(row[1]);
    has_target |= name == flags.target;
    has_date |= name == flags.date;
  }
  if (!has_target) {
    return ReportFailure(InvalidArgumentError("--target: \"" + flags.target + "\" is not a column of " +
                                              source.string() + " (columns: " + columns + ")"),
                         kExitUsage);
  }
  if (!has_date) {
    return ReportFailure(InvalidArgumentError("--date: \"" + flags.date + "\" is not a column of " +
                                              source.string()), kExitUsage);
  }
  auto counts = con->Query("SELECT count(*), count(*) FILTER (WHERE CAST(" + db::QuoteIdent(flags.target) +
                           " AS VARCHAR) = " + db::QuoteLiteral(flags.positive) + ") FROM " + reader);
  if (!counts.ok()) return ReportFailure(counts.status());
  const int64_t rows = std::get<int64_t>(counts->rows[0][0]);
  const int64_t positives = std::get<int64_t>(counts->rows[0][1]);
  if (positives == 0) {
    return ReportFailure(InvalidArgumentError("--positive: no row of " + source.string() + " has " +
                                              flags.target + " = \"" + flags.positive + "\""),
                         kExitUsage);
  }
  const std::string stem = source.stem().string();
  std::string name = flags.name.empty() ? stem + "_pd" : flags.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  const fs::path base = fs::absolute(out).parent_path();
  const fs::path rel = source.lexically_relative(base);
  const std::string file = rel.empty() || rel.string().starts_with("..") ? source.string() : rel.string();
  std::string yaml =
      "# Starter project written by `riskpipe init` for " + file + "\n"
      "# (" + std::to_string(rows) + " rows, " + std::to_string(positives) + " with " + flags.target +
      " = \"" + flags.positive + "\"). Columns as read: " + columns + ".\n"
      "# Every column except the target" + (flags.date.empty() ? "" : " and the date") +
      " is a feature; list any to leave out under model.exclude.\n"
      "# docs/training.md explains every key. Run: riskpipe train\n"
      "project: " + stem + "\n"
      "workspace: workspace\n"
      "model:\n"
      "  name: " + name + "\n"
      "  dataset:\n"
      "    file: \"" + file + "\"\n"
      "    target: \"" + flags.target + "\"\n"
      "    positive: \"" + flags.positive + "\"\n";
  if (!flags.date.empty()) {
    yaml += "    date: \"" + flags.date + "\"\n"
            "  # Time splits need month ranges: fill these in from your data's dates.\n"
            "  # splits:\n"
            "  #   train: {from: YYYY-MM, to: YYYY-MM}\n"
            "  #   validation: {from: YYYY-MM, to: YYYY-MM}\n"
            "  #   oot: {from: YYYY-MM, to: YYYY-MM}\n";
  }
  yaml +=
      "  # No dates: a seeded stratified random split. There is no out-of-time test, so the\n"
      "  # test AUC says nothing about drift over time.\n"
      "  splits: {validation_fraction: 0.2, test_fraction: 0.2}\n"
      "  exclude: []\n"
      "  min_train_rows: " + std::string(rows < 2000 ? "100" : "1000") + "\n"
      "  seed: 42\n"
      "  candidates:\n"
      "    - {family: logistic}\n"
      "    - {family: decision_tree, params: {max_depth: 5}}\n"
      "    - {family: random_forest, params: {trees: 100, max_depth: 8}}\n"
      "    - {family: xgboost, params: {rounds: 300, max_depth: 4, eta: 0.1}, early_stopping_rounds: 30}\n"
      "  selection: {metric: auc, max_oot_drop: 0.05}\n"
      "  calibration: platt\n"
      "  threshold: {policy: approval_rate, value: 0.7}\n";
  if (Status s = WriteFileAtomic(out, yaml); !s.ok()) return ReportFailure(s);
  if (!GetConsoleOptions().quiet) {
    std::printf("wrote %s for %s: %lld rows, %lld defaults (%s = \"%s\")\nnext: riskpipe train\n",
                out.c_str(), file.c_str(), static_cast<long long>(rows),
                static_cast<long long>(positives), flags.target.c_str(), flags.positive.c_str());
  }
  return kExitOk;
}

}  // namespace riskpipe::cli
