// ValidateModel: load the version from the registry, rebuild its out-of-time rows, run every
// check, store validation.json and the "validated" event. FormatReport: the text table.

#include "validation/validation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

#include "core/files.h"
#include "core/hash.h"
#include "datamart/datamart.h"
#include "model/estimator.h"
#include "stats/metrics.h"
#include "validation/internal.h"

#ifndef RISKPIPE_VERSION
#define RISKPIPE_VERSION "0.0.0"
#endif

namespace riskpipe::validation {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The cutoff training used (metadata.json training_data.lineage.cutoff); today for packages
// trained from one file, whose rows do not depend on it.
Date CutoffOf(const json& meta) {
  const json::json_pointer at("/training_data/lineage/cutoff");
  if (meta.is_object() && meta.contains(at) && meta.at(at).is_string()) {
    if (auto d = ParseIsoDate(meta.at(at).get<std::string>())) return *d;
  }
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return Date::FromCivil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// Rows `rows` of `frame`, every column.
model::Frame Subset(const model::Frame& frame, const std::vector<uint32_t>& rows) {
  model::Frame out;
  out.rows = rows.size();
  for (const auto& c : frame.columns) {
    model::FrameColumn col;
    col.name = c.name;
    col.text = c.text;
    col.sql_type = c.sql_type;
    col.dictionary = c.dictionary;
    if (c.text) {
      col.codes.reserve(rows.size());
      for (uint32_t r : rows) col.codes.push_back(c.codes[r]);
    } else {
      col.numbers.reserve(rows.size());
      for (uint32_t r : rows) col.numbers.push_back(c.numbers[r]);
    }
    out.columns.push_back(std::move(col));
  }
  return out;
}

// AUC of a plain logistic regression on the package's own inputs, fitted on the train rows.
StatusOr<double> BaselineAuc(const internal::Context& ctx) {
  const model::Preprocessor& pre = ctx.package.preprocessor();
  std::vector<float> x;
  RETURN_IF_ERROR(pre.Encode(ctx.data.frame, ctx.splits.train, model::Encoding::kLinear, x));
  std::vector<uint8_t> y;
  for (uint32_t r : ctx.splits.train) y.push_back(ctx.data.labels[r]);
  model::LogisticOptions options;
  options.threads = 1;
  ASSIGN_OR_RETURN(model::LogisticFit fit,
                   model::FitLogistic(x, ctx.splits.train.size(), pre.width(), y, options));
  const model::LinearEstimator baseline(pre.encoded_names(), std::move(fit));
  ASSIGN_OR_RETURN(std::vector<double> m, baseline.Margins(ctx.data.frame, ctx.splits.oot, pre));
  return stats::Auc(m, ctx.y_oot);
}

// The out-of-time rows with the columns `names` set to missing.
model::Frame WithMissing(const model::Frame& frame, const std::vector<uint32_t>& rows,
                         const std::vector<std::string>& names) {
  model::Frame out = Subset(frame, rows);
  for (const std::string& name : names) {
    const int c = out.Find(name);
    if (c < 0) continue;
    auto& col = out.columns[c];
    if (col.text) {
      std::fill(col.codes.begin(), col.codes.end(), -1);
    } else {
      std::fill(col.numbers.begin(), col.numbers.end(), NAN);
    }
  }
  return out;
}

internal::ProductionComparison CompareProduction(registry::Registry& registry,
                                                 const registry::ModelRecord& record,
                                                 const internal::Context& ctx,
                                                 const std::vector<std::string>& missing_now) {
  internal::ProductionComparison out;
  StatusOr<registry::ModelRecord> prod = registry.Get(record.name + "/production");
  if (!prod.ok()) return out;
  if (prod->id == record.id) {
    out.problem = "this version is the production version";
    return out;
  }
  out.id = prod->id;
  StatusOr<fs::path> dir = registry.VerifiedPath(prod->id);
  if (!dir.ok()) {
    out.problem = dir.status().message();
    return out;
  }
  StatusOr<model::ModelPackage> pkg = model::ModelPackage::Load(*dir);
  if (!pkg.ok()) {
    out.problem = pkg.status().message();
    return out;
  }
  if (missing_now.empty()) {
    StatusOr<model::Scores> s = pkg->Score(ctx.data.frame, ctx.splits.oot);
    if (!s.ok()) {
      out.problem = s.status().message();
      return out;
    }
    out.auc = stats::Auc(s->margin, ctx.y_oot);
    return out;
  }
  // Production will decide the next applications without these inputs, and so would the
  // candidate: compare them that way, not on rows that still had them.
  out.missing_now = missing_now;
  const model::Frame rows = WithMissing(ctx.data.frame, ctx.splits.oot, missing_now);
  StatusOr<model::Scores> s = pkg->Score(rows);
  StatusOr<model::Scores> mine = ctx.package.Score(rows);
  if (!s.ok() || !mine.ok()) {
    out.problem = (!s.ok() ? s : mine).status().message();
    return out;
  }
  out.auc = stats::Auc(s->margin, ctx.y_oot);
  out.model_auc = stats::Auc(mine->margin, ctx.y_oot);
  return out;
}

json CheckJson(const CheckResult& c) {
  return {{"name", c.name},           {"status", c.status},       {"passed", c.passed},
          {"value", c.value},         {"threshold", c.threshold}, {"threshold_key", c.threshold_key},
          {"rationale", c.rationale}, {"details", c.details}};
}

std::string Compact(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_number_float()) return internal::Num(v.get<double>());
  if (v.is_object()) {
    std::string out;
    for (const auto& [k, x] : v.items()) out += (out.empty() ? "" : " ") + k + "=" + Compact(x);
    return out;
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

StatusOr<ValidationReport> ValidateModel(const config::Project& project, db::Connection& con,
                                         registry::Registry& registry,
                                         std::string_view model_ref) {
  if (!project.model) {
    return FailedPreconditionError(project.config_path.string() +
                                   ": no `model:` section, so there is no data to validate on");
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(const registry::ModelRecord record, registry.Get(model_ref));
  ASSIGN_OR_RETURN(const fs::path dir, registry.VerifiedPath(record.id));
  ASSIGN_OR_RETURN(const std::string manifest, ReadFile(dir / "MANIFEST"));
  StatusOr<model::ModelPackage> loaded = model::ModelPackage::Load(dir);
  if (!loaded.ok()) return loaded.status().WithPrefix("validate " + record.id);
  const model::ModelPackage& package = *loaded;
  const json& meta = package.metadata();
  const Date cutoff = CutoffOf(meta);

  // The windows the package was trained with (a pipeline retraining shifts them).
  ASSIGN_OR_RETURN(const config::Project as_trained, features::ProjectAsTrained(project, meta));
  ASSIGN_OR_RETURN(features::TrainingData data,
                   features::LoadTrainingData(as_trained, con, cutoff));
  ASSIGN_OR_RETURN(features::SplitRows splits, features::MakeSplits(data, *as_trained.model));
  if (splits.oot.empty() || splits.train.empty()) {
    return FailedPreconditionError("validate " + record.id + ": no " +
                                   (splits.oot.empty() ? "out-of-time" : "training") +
                                   " rows under model.splits");
  }
  internal::Context ctx{project.validation, *project.model, package, data, splits,
                        {}, {}, {}, 0, {}, {}, {}, {}};
  for (uint32_t r : splits.oot) ctx.y_oot.push_back(data.labels[r]);
  StatusOr<model::Scores> scores = package.Score(data.frame, splits.oot);
  if (!scores.ok()) return scores.status().WithPrefix("validate " + record.id + ": scoring");
  ctx.margin_oot = std::move(scores->margin);
  ctx.pd_oot = std::move(scores->pd);
  ASSIGN_OR_RETURN(ctx.baseline_auc, BaselineAuc(ctx));
  std::vector<std::string> missing_now;
  if (as_trained.model->splits.train) {
    ASSIGN_OR_RETURN(missing_now, FeaturesAbsentFromApplications(project, con, Month::Of(cutoff)));
  }
  ctx.production = CompareProduction(registry, record, ctx, missing_now);
  for (const std::string& p : project.model->protected_attributes) {
    if (data.frame.Find(p) >= 0) ctx.protected_present.push_back(p);
  }
  // The perturbation sample: every out-of-time row, or max_rows of them drawn with the seed.
  std::vector<uint32_t> sample_rows = splits.oot;
  if (static_cast<int64_t>(sample_rows.size()) > project.validation.max_rows) {
    std::mt19937_64 rng(project.validation.seed);
    std::shuffle(sample_rows.begin(), sample_rows.end(), rng);
    sample_rows.resize(project.validation.max_rows);
    std::sort(sample_rows.begin(), sample_rows.end());
  }
  ctx.sample = Subset(data.frame, sample_rows);
  ASSIGN_OR_RETURN(model::Scores sample_scores, package.Score(ctx.sample));
  ctx.sample_pd = std::move(sample_scores.pd);

  ValidationReport report;
  report.model_id = record.id;
  for (auto& c : internal::PerformanceChecks(ctx)) report.checks.push_back(std::move(c));
  report.checks.push_back(internal::MonthlyStability(ctx));
  ASSIGN_OR_RETURN(CheckResult segments, internal::SegmentPerformance(ctx));
  report.checks.push_back(std::move(segments));
  report.checks.push_back(internal::ProtectedInputs(ctx));
  ASSIGN_OR_RETURN(CheckResult invariance, internal::Invariance(ctx));
  report.checks.push_back(std::move(invariance));
  ASSIGN_OR_RETURN(CheckResult directions, internal::Directions(ctx));
  report.checks.push_back(std::move(directions));
  ASSIGN_OR_RETURN(CheckResult noise, internal::Noise(ctx));
  report.checks.push_back(std::move(noise));
  ASSIGN_OR_RETURN(CheckResult missing, internal::MissingValues(ctx));
  report.checks.push_back(std::move(missing));
  report.checks.push_back(internal::Calibration(ctx));
  report.checks.push_back(internal::Fairness(ctx));

  report.passed = std::all_of(report.checks.begin(), report.checks.end(),
                              [](const CheckResult& c) { return c.passed; });
  json checks = json::array();
  std::vector<std::string> failed;
  for (const auto& c : report.checks) {
    checks.push_back(CheckJson(c));
    if (!c.passed) failed.push_back(c.name);
  }
  const std::string training_hash =
      meta.contains("training_data") && meta["training_data"].contains("rows_sha256") &&
              meta["training_data"]["rows_sha256"].is_string()
          ? meta["training_data"]["rows_sha256"].get<std::string>()
          : "";
  json data_used = {
      {"source", data.lineage.contains("source") ? data.lineage["source"] : json("unknown")},
      {"cutoff", cutoff.ToString()},
      {"splits", splits.description},
      {"oot_rows", splits.oot.size()},
      {"train_rows", splits.train.size()},
      {"perturbation_sample_rows", ctx.sample.rows},
      {"rows_sha256", data.rows_sha256},
      {"same_rows_as_training", training_hash.empty() ? json(nullptr)
                                                      : json(training_hash == data.rows_sha256)}};
  report.json = {{"format", "riskpipe.validation/1"},
                 {"model_id", record.id},
                 {"passed", report.passed},
                 {"failed_checks", failed},
                 {"validated_at", UtcNow()},
                 {"riskpipe", RISKPIPE_VERSION},
                 {"package_manifest_sha256", Sha256Hex(manifest)},
                 {"policy_threshold", package.policy().threshold},
                 {"data", std::move(data_used)},
                 {"checks", std::move(checks)},
                 {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                                 .count()}};
  const std::string bytes = report.json.dump(1) + "\n";
  RETURN_IF_ERROR(registry.AddFile(record.id, "validation.json", bytes, "riskpipe validate"));
  const std::string summary =
      report.passed ? "all " + std::to_string(report.checks.size()) + " checks passed"
                    : std::to_string(failed.size()) + " of " +
                          std::to_string(report.checks.size()) + " checks failed";
  RETURN_IF_ERROR(registry.RecordValidation(
      record.id, report.passed, summary,
      json{{"failed_checks", failed}, {"validation_sha256", Sha256Hex(bytes)}}.dump()));
  return report;
}

StatusOr<std::vector<std::string>> FeaturesAbsentFromApplications(const config::Project& project,
                                                                  db::Connection& con,
                                                                  Month month) {
  std::vector<std::string> absent;
  if (project.model && project.model->dataset) return absent;
  const datamart::Datamart mart(project.workspace.datamart());
  std::vector<std::string> files;
  for (Month m = month; files.size() < 2 && month.index() - m.index() < 12; m = m.Next(-1)) {
    const fs::path f = mart.PartitionFile(datamart::Layer::kGold, "feature_store", m.first_day());
    if (fs::exists(f)) files.push_back(db::QuoteLiteral(f.string()));
  }
  if (files.size() < 2) return absent;
  const std::string from =
      "read_parquet([" + files[0] + ", " + files[1] + "], union_by_name = true)";
  ASSIGN_OR_RETURN(db::Table shape, con.Query("SELECT * FROM " + from + " LIMIT 0"));
  std::vector<std::string> names;
  std::string counts;
  for (const auto& view : project.features.views) {
    for (const auto& f : view.features) {
      if (shape.ColumnIndex(f.name) < 0) continue;
      names.push_back(f.name);
      counts += ", count(" + db::QuoteIdent(f.name) + ")";
    }
  }
  if (names.empty()) return absent;
  ASSIGN_OR_RETURN(db::Table t, con.Query("SELECT count(*)" + counts + " FROM " + from));
  if (t.rows.empty() || std::get<int64_t>(t.rows[0][0]) == 0) return absent;
  for (size_t k = 0; k < names.size(); ++k) {
    if (std::get<int64_t>(t.rows[0][k + 1]) == 0) absent.push_back(names[k]);
  }
  return absent;
}

std::string FormatReport(const ValidationReport& report) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "  %-26s %-15s %-24s %s\n", "check", "result", "value",
                "threshold");
  out += line;
  for (const auto& c : report.checks) {
    std::snprintf(line, sizeof line, "  %-26s %-15s %-24s %s (%s)\n", c.name.c_str(),
                  c.status.c_str(), Compact(c.value).c_str(), Compact(c.threshold).c_str(),
                  c.threshold_key.c_str());
    out += line;
  }
  for (const auto& c : report.checks) {
    if (c.status != "passed") out += "  " + c.name + ": " + c.rationale + "\n";
  }
  out += report.model_id + (report.passed ? ": validation PASSED" : ": validation FAILED") + "\n";
  return out;
}

bool IsBehaviouralCheck(std::string_view check_name) {
  // The names the checks of perturbation.cc report.
  static constexpr std::string_view kBehavioural[] = {
      "directional_expectations", "perturbation_robustness", "missing_values",
      "protected_not_inputs", "protected_invariance"};
  return std::find(std::begin(kBehavioural), std::end(kBehavioural), check_name) !=
         std::end(kBehavioural);
}

}  // namespace riskpipe::validation
