// Longer than the house's ~600 lines on purpose: every candidate family, the search and the
// selection share one Context (encoded splits, labels, options), and splitting them would
// turn that context into a public type of the module.

#include "training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "core/files.h"
#include "core/hash.h"
#include "db/database.h"
#include "xgb/xgb.h"

#ifndef RISKPIPE_VERSION
#define RISKPIPE_VERSION "0.0.0"
#endif
#ifndef RISKPIPE_GIT_COMMIT
#define RISKPIPE_GIT_COMMIT "unknown"
#endif

namespace riskpipe::training {
namespace fs = std::filesystem;
namespace {

using config::Candidate;
using config::Family;

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Threads(const config::ModelDef& m) {
  if (m.threads > 0) return m.threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

std::vector<uint8_t> Gather(const std::vector<uint8_t>& labels, const std::vector<uint32_t>& rows) {
  std::vector<uint8_t> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) out[i] = labels[rows[i]];
  return out;
}

std::string Num(double v, int precision = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

double Param(const Candidate& c, const std::string& name, double fallback) {
  auto it = c.params.find(name);
  return it == c.params.end() ? fallback : it->second;
}

// A uniform double in [0, 1) from the generator's top 53 bits: the same on every platform.
double Uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Shared state of one training run.
struct Context {
  const config::Project& project;
  const config::ModelDef& model;
  const features::TrainingData& data;
  const features::SplitRows& splits;
  const model::Preprocessor& pre;
  const TrainOptions& options;
  std::vector<uint8_t> y_train, y_val, y_oot;
  std::vector<float> x_train_tree, x_val_tree;  // tree encoding, built on first use
  fs::path checkpoint_dir;
  int threads = 1;
};

Status EnsureTreeMatrices(Context& ctx) {
  if (!ctx.x_train_tree.empty() || ctx.splits.train.empty()) return OkStatus();
  RETURN_IF_ERROR(
      ctx.pre.Encode(ctx.data.frame, ctx.splits.train, model::Encoding::kTree, ctx.x_train_tree));
  return ctx.pre.Encode(ctx.data.frame, ctx.splits.validation, model::Encoding::kTree,
                        ctx.x_val_tree);
}

// ---- XGBoost families ----

struct BoostSpec {
  std::vector<std::pair<std::string, std::string>> params;
  int rounds = 1;
  int early_stopping = 0;
};

BoostSpec SpecFor(const Context& ctx, const Candidate& c,
                  const std::map<std::string, double>& values) {
  BoostSpec s;
  auto get = [&](const std::string& k, double d) {
    auto it = values.find(k);
    return it == values.end() ? d : it->second;
  };
  double base = 0;
  for (uint8_t y : ctx.y_train) base += y;
  base /= std::max<size_t>(1, ctx.y_train.size());
  s.params = {{"objective", "binary:logistic"},
              {"tree_method", "hist"},
              {"seed", std::to_string(ctx.model.seed)},
              {"nthread", std::to_string(ctx.threads)},
              {"base_score", Num(base, 17)},
              {"max_bin", Num(get("max_bin", 256))}};
  switch (c.family) {
    case Family::kDecisionTree:
      s.params.push_back({"eta", "1"});
      s.params.push_back({"max_depth", Num(get("max_depth", 5))});
      s.params.push_back({"min_child_weight", Num(get("min_child_weight", 20))});
      s.params.push_back({"lambda", "1"});
      s.rounds = 1;
      break;
    case Family::kRandomForest:
      s.params.push_back({"eta", "1"});
      s.params.push_back({"num_parallel_tree", Num(get("trees", 100))});
      s.params.push_back({"max_depth", Num(get("max_depth", 8))});
      s.params.push_back({"min_child_weight", Num(get("min_child_weight", 5))});
      s.params.push_back({"subsample", Num(get("subsample", 0.632))});
      s.params.push_back({"colsample_bynode", Num(get("colsample_bynode", 0.33))});
      s.rounds = 1;
      break;
    default:
      for (const char* k : {"max_depth", "eta", "min_child_weight", "subsample", "colsample_bytree",
                            "colsample_bynode", "lambda", "alpha", "gamma", "scale_pos_weight"}) {
        auto it = values.find(k);
        if (it != values.end()) s.params.push_back({k, Num(it->second, 10)});
      }
      if (!values.count("max_depth")) s.params.push_back({"max_depth", "5"});
      if (!values.count("eta")) s.params.push_back({"eta", "0.1"});
      s.rounds = static_cast<int>(get("rounds", 300));
      s.early_stopping = c.early_stopping_rounds;
      break;
  }
  const std::vector<int> mono = ctx.pre.EncodedMonotone();
  if (std::any_of(mono.begin(), mono.end(), [](int m) { return m != 0; })) {
    std::string text = "(";
    for (size_t i = 0; i < mono.size(); ++i) text += (i ? "," : "") + std::to_string(mono[i]);
    s.params.push_back({"monotone_constraints", text + ")"});
  }
  return s;
}

struct BoostResult {
  xgb::Booster booster;
  int best_round = 0;  // rounds kept
  double best_auc = NAN;
};

// Trains one booster with checkpoints named `tag` in the checkpoint folder.
StatusOr<BoostResult> TrainBooster(Context& ctx, const BoostSpec& spec, const std::string& tag) {
  RETURN_IF_ERROR(EnsureTreeMatrices(ctx));
  const size_t width = ctx.pre.width();
  ASSIGN_OR_RETURN(
      xgb::DMatrix train,
      xgb::DMatrix::FromDense(ctx.x_train_tree, ctx.splits.train.size(), width, ctx.threads));
  std::vector<float> ytr(ctx.y_train.begin(), ctx.y_train.end());
  RETURN_IF_ERROR(train.SetLabels(ytr));
  ASSIGN_OR_RETURN(
      xgb::DMatrix val,
      xgb::DMatrix::FromDense(ctx.x_val_tree, ctx.splits.validation.size(), width, ctx.threads));
  const xgb::DMatrix* cache[] = {&train, &val};
  ASSIGN_OR_RETURN(xgb::Booster booster, xgb::Booster::Create(cache));
  for (const auto& [k, v] : spec.params) RETURN_IF_ERROR(booster.SetParam(k, v));

  const fs::path state_path = ctx.checkpoint_dir / (tag + ".state.json");
  const fs::path model_path = ctx.checkpoint_dir / (tag + ".ubj");
  const fs::path config_path = ctx.checkpoint_dir / (tag + ".config.json");
  int start = 0;
  std::vector<double> history;  // validation AUC after each round (early stopping only)
  if (ctx.options.resume && fs::exists(state_path)) {
    ASSIGN_OR_RETURN(std::string state_text, ReadFile(state_path));
    auto state = nlohmann::json::parse(state_text, nullptr, false);
    ASSIGN_OR_RETURN(std::string model_bytes, ReadFile(model_path));
    ASSIGN_OR_RETURN(std::string config_text, ReadFile(config_path));
    if (state.is_discarded()) return DataLossError(state_path.string() + ": not valid JSON");
    RETURN_IF_ERROR(booster.LoadModel(model_bytes));
    RETURN_IF_ERROR(booster.LoadConfig(config_text));
    start = state.at("rounds_done");
    history = state.at("history").get<std::vector<double>>();
    ctx.options.log("  resuming " + tag + " at round " + std::to_string(start));
  }
  auto checkpoint = [&](int rounds_done, bool done) -> Status {
    ASSIGN_OR_RETURN(std::string model_bytes, booster.SaveModel("ubj"));
    ASSIGN_OR_RETURN(std::string config_text, booster.SaveConfig());
    RETURN_IF_ERROR(WriteFileAtomic(model_path, model_bytes));
    RETURN_IF_ERROR(WriteFileAtomic(config_path, config_text));
    // The state goes last: it names a model and config that are already complete.
    nlohmann::json state = {{"rounds_done", rounds_done}, {"history", history}, {"done", done}};
    return WriteFileAtomic(state_path, state.dump());
  };
  auto best_of = [&](int& best_round, double& best_auc) {
    best_round = 0;
    best_auc = -1;
    for (size_t i = 0; i < history.size(); ++i) {
      if (history[i] > best_auc) {
        best_auc = history[i];
        best_round = static_cast<int>(i);
      }
    }
  };
  bool stopped = false;
  if (spec.early_stopping > 0 && !history.empty()) {
    int br;
    double ba;
    best_of(br, ba);
    stopped = static_cast<int>(history.size()) - 1 - br >= spec.early_stopping;
  }
  for (int round = start; round < spec.rounds && !stopped; ++round) {
    RETURN_IF_ERROR(booster.UpdateOneIter(round, train));
    if (spec.early_stopping > 0) {
      ASSIGN_OR_RETURN(std::vector<float> m,
                       booster.PredictCachedMargin(val, ctx.splits.validation.size()));
      std::vector<double> md(m.begin(), m.end());
      history.push_back(stats::Auc(md, ctx.y_val));
      int br;
      double ba;
      best_of(br, ba);
      stopped = round - br >= spec.early_stopping;
    }
    const int done = round + 1;
    if (!stopped && done < spec.rounds && ctx.model.checkpoint_every > 0 &&
        done % ctx.model.checkpoint_every == 0) {
      RETURN_IF_ERROR(checkpoint(done, false));
    }
  }
  ASSIGN_OR_RETURN(int rounds, booster.BoostedRounds());
  BoostResult result{std::move(booster), rounds, NAN};
  if (spec.early_stopping > 0 && !history.empty()) {
    int br;
    double ba;
    best_of(br, ba);
    result.best_auc = ba;
    result.best_round = br + 1;
    if (br + 1 < rounds) {
      ASSIGN_OR_RETURN(xgb::Booster sliced, result.booster.Slice(br + 1));
      result.booster = std::move(sliced);
    }
  }
  return result;
}

// ---- candidates ----

struct Fitted {
  std::unique_ptr<model::Estimator> estimator;
  nlohmann::json params;
};

StatusOr<Fitted> FitLinear(Context& ctx, const Candidate& c) {
  model::LogisticOptions lo;
  lo.l2 = Param(c, "l2", 1e-3);
  lo.max_iterations = static_cast<int>(Param(c, "max_iterations", 50));
  lo.threads = ctx.threads;
  if (c.family == Family::kScorecard) {
    model::ScorecardOptions so;
    so.bins = static_cast<int>(Param(c, "bins", 8));
    so.pdo = Param(c, "pdo", 20);
    so.base_score = Param(c, "base_score", 600);
    so.base_odds = Param(c, "base_odds", 50);
    so.logistic = lo;
    ASSIGN_OR_RETURN(auto sc, model::ScorecardEstimator::Fit(ctx.data.frame, ctx.splits.train,
                                                             ctx.y_train, ctx.pre, so));
    return Fitted{std::move(sc),
                  {{"l2", lo.l2},
                   {"bins", so.bins},
                   {"pdo", so.pdo},
                   {"base_score", so.base_score},
                   {"base_odds", so.base_odds}}};
  }
  std::vector<float> x;
  RETURN_IF_ERROR(ctx.pre.Encode(ctx.data.frame, ctx.splits.train, model::Encoding::kLinear, x));
  ASSIGN_OR_RETURN(model::LogisticFit fit, model::FitLogistic(x, ctx.splits.train.size(),
                                                              ctx.pre.width(), ctx.y_train, lo));
  if (!fit.converged)
    ctx.options.log("  warning: logistic regression did not converge in " +
                    std::to_string(fit.iterations) + " iterations");
  return Fitted{std::make_unique<model::LinearEstimator>(ctx.pre.encoded_names(), std::move(fit)),
                {{"l2", lo.l2}, {"max_iterations", lo.max_iterations}}};
}

StatusOr<Fitted> FitTrees(Context& ctx, const Candidate& c, int index) {
  const std::string tag = "c" + std::to_string(index);
  if (c.search_budget == 0) {
    BoostSpec spec = SpecFor(ctx, c, c.params);
    ASSIGN_OR_RETURN(BoostResult r, TrainBooster(ctx, spec, tag));
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : spec.params) params[k] = v;
    params["rounds"] = r.best_round;
    return Fitted{std::make_unique<model::BoosterEstimator>(
                      std::string(config::FamilyName(c.family)), std::move(r.booster)),
                  std::move(params)};
  }
  // Random search: a fixed budget of trials drawn with the seed; the best validation AUC wins.
  std::mt19937_64 rng(ctx.model.seed + static_cast<uint64_t>(index));
  std::optional<BoostResult> best;
  nlohmann::json best_params, trials = nlohmann::json::array();
  for (int t = 0; t < c.search_budget; ++t) {
    std::map<std::string, double> values = c.params;
    for (const auto& [k, r] : c.search) {
      const double u = Uniform01(rng);
      double v = r.log ? std::exp(std::log(r.low) + u * (std::log(r.high) - std::log(r.low)))
                       : r.low + u * (r.high - r.low);
      if (r.integer) v = std::floor(v + 0.5);
      values[k] = v;
    }
    BoostSpec spec = SpecFor(ctx, c, values);
    if (spec.early_stopping == 0) spec.early_stopping = 30;  // a search always stops early
    ASSIGN_OR_RETURN(BoostResult r, TrainBooster(ctx, spec, tag + "_t" + std::to_string(t)));
    nlohmann::json p = nlohmann::json::object();
    for (const auto& [k, v] : values) p[k] = v;
    p["rounds"] = r.best_round;
    ctx.options.log("  " + c.name + " trial " + std::to_string(t + 1) + "/" +
                    std::to_string(c.search_budget) + ": validation AUC " + Num(r.best_auc, 4) +
                    " " + p.dump());
    trials.push_back({{"params", p}, {"validation_auc", r.best_auc}});
    if (!best || r.best_auc > best->best_auc) {
      best = std::move(r);
      best_params = p;
    }
  }
  best_params["search"] = {{"budget", c.search_budget}, {"trials", trials}};
  return Fitted{std::make_unique<model::BoosterEstimator>(std::string(config::FamilyName(c.family)),
                                                          std::move(best->booster)),
                std::move(best_params)};
}

StatusOr<model::Calibrator> FitCalibrator(const config::ModelDef& m,
                                          const std::vector<double>& margins,
                                          const std::vector<uint8_t>& y) {
  if (m.calibration == config::Calibration::kIsotonic) {
    ASSIGN_OR_RETURN(stats::IsotonicCalibrator iso, stats::FitIsotonic(margins, y));
    return model::Calibrator(std::move(iso));
  }
  ASSIGN_OR_RETURN(stats::PlattCalibrator p, stats::FitPlatt(margins, y));
  return model::Calibrator(p);
}

SplitEvaluation Evaluate(const std::vector<double>& pd, const std::vector<uint8_t>& y,
                         double threshold) {
  SplitEvaluation e;
  if (pd.empty()) return e;
  e.metrics = stats::Evaluate(pd, y);
  e.at_threshold = stats::AtThreshold(pd, y, threshold);
  e.calibration = stats::CalibrationTable(pd, y, 10);
  return e;
}

nlohmann::json ToJson(const SplitEvaluation& e, bool with_table) {
  const auto& m = e.metrics;
  nlohmann::json j = {{"rows", m.n},
                      {"defaults", m.positives},
                      {"default_rate", m.base_rate},
                      {"auc", m.auc},
                      {"gini", m.gini},
                      {"ks", m.ks},
                      {"log_loss", m.log_loss},
                      {"brier", m.brier},
                      {"pr_auc", m.pr_auc},
                      {"at_threshold",
                       {{"threshold", e.at_threshold.threshold},
                        {"precision", e.at_threshold.precision},
                        {"recall", e.at_threshold.recall},
                        {"f1", e.at_threshold.f1},
                        {"approval_rate", e.at_threshold.approval_rate},
                        {"tp", e.at_threshold.tp},
                        {"fp", e.at_threshold.fp},
                        {"tn", e.at_threshold.tn},
                        {"fn", e.at_threshold.fn}}}};
  if (with_table) {
    nlohmann::json table = nlohmann::json::array();
    for (const auto& b : e.calibration) {
      table.push_back({{"decile", b.bin + 1},
                       {"rows", b.n},
                       {"defaults", b.positives},
                       {"min_pd", b.min_score},
                       {"max_pd", b.max_score},
                       {"mean_pd", b.mean_predicted},
                       {"observed_rate", b.observed_rate}});
    }
    j["calibration_by_decile"] = std::move(table);
  }
  return j;
}

nlohmann::json ModelConfigJson(const config::ModelDef& m) {
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& c : m.candidates) {
    nlohmann::json search = nlohmann::json::object();
    for (const auto& [k, r] : c.search) search[k] = {r.low, r.high, r.integer, r.log};
    cands.push_back({{"name", c.name},
                     {"family", std::string(config::FamilyName(c.family))},
                     {"params", c.params},
                     {"search", search},
                     {"budget", c.search_budget},
                     {"early_stopping_rounds", c.early_stopping_rounds}});
  }
  nlohmann::json j = {
      {"name", m.name},
      {"seed", m.seed},
      {"exclude", m.exclude},
      {"protected_attributes", m.protected_attributes},
      {"categorical_max_levels", m.categorical_max_levels},
      {"min_train_rows", m.min_train_rows},
      {"monotone", m.monotone},
      {"candidates", cands},
      {"selection_metric", m.selection_metric},
      {"max_oot_drop", m.max_oot_drop},
      {"calibration", m.calibration == config::Calibration::kPlatt ? "platt" : "isotonic"},
      {"threshold_policy", m.threshold_policy == config::ThresholdPolicy::kApprovalRate
                               ? "approval_rate"
                               : "cost_ratio"},
      {"threshold_value", m.threshold_value}};
  if (m.splits.random()) {
    j["splits"] = {{"validation_fraction", m.splits.validation_fraction},
                   {"test_fraction", m.splits.test_fraction}};
  } else {
    j["splits"] = {
        {"train", {m.splits.train->from.ToString(), m.splits.train->to.ToString()}},
        {"validation", {m.splits.validation->from.ToString(), m.splits.validation->to.ToString()}},
        {"oot", {m.splits.oot->from.ToString(), m.splits.oot->to.ToString()}}};
  }
  return j;
}

double SelectionValue(const config::ModelDef& m, const SplitEvaluation& e) {
  if (m.selection_metric == "ks") return e.metrics.ks;
  if (m.selection_metric == "gini") return e.metrics.gini;
  return e.metrics.auc;
}

std::vector<model::ScoreBand> Bands(std::vector<double> pd) {
  // Five bands at the validation PD quintiles: A (lowest risk) .. E.
  std::sort(pd.begin(), pd.end());
  std::vector<model::ScoreBand> bands;
  double lo = 0;
  const char* names[] = {"A", "B", "C", "D", "E"};
  for (int b = 0; b < 5; ++b) {
    double hi = b == 4 ? 1.0 + 1e-12 : pd[std::min(pd.size() - 1, pd.size() * (b + 1) / 5)];
    if (hi < lo) hi = lo;
    bands.push_back({names[b], lo, hi});
    lo = hi;
  }
  return bands;
}

}  // namespace

StatusOr<TrainOutcome> Train(const config::Project& project, db::Connection& con,
                             const TrainOptions& options, const fs::path& package_dir) {
  if (!project.model) {
    return FailedPreconditionError(project.config_path.string() + ": no `model:` section");
  }
  const config::ModelDef& m = *project.model;
  const auto t0 = std::chrono::steady_clock::now();
  options.log("loading training rows (labels known by " + options.cutoff.ToString() + ")");
  ASSIGN_OR_RETURN(features::TrainingData data,
                   features::LoadTrainingData(project, con, options.cutoff));
  for (const auto& w : data.warnings) options.log("warning: " + w);
  ASSIGN_OR_RETURN(features::SplitRows splits, features::MakeSplits(data, m));
  if (!splits.out_of_time) {
    options.log(
        "warning: no out-of-time test exists (random split); the test rows share the training "
        "period");
  }
  options.log("rows: train " + std::to_string(splits.train.size()) + ", validation " +
              std::to_string(splits.validation.size()) + ", " +
              (splits.out_of_time ? "oot " : "test ") + std::to_string(splits.oot.size()) + " (" +
              Num(Seconds(t0), 3) + " s)");
  const double load_seconds = Seconds(t0);
  // Failure handling: refuse data that cannot give an honest model, before any fitting.
  if (static_cast<int64_t>(splits.train.size()) < m.min_train_rows) {
    return FailedPreconditionError(
        "only " + std::to_string(splits.train.size()) + " training rows (model.min_train_rows is " +
        std::to_string(m.min_train_rows) + "); widen model.splits.train or lower the minimum");
  }
  for (const auto& [name, rows] :
       {std::pair{"train", &splits.train}, std::pair{"validation", &splits.validation},
        std::pair{splits.out_of_time ? "oot" : "test", &splits.oot}}) {
    int64_t pos = 0;
    for (uint32_t r : *rows) pos += data.labels[r];
    if (rows->empty())
      return FailedPreconditionError(std::string("no ") + name + " rows: check model.splits");
    if (pos == 0 || pos == static_cast<int64_t>(rows->size())) {
      return FailedPreconditionError(std::string("the ") + name + " rows have a single class (" +
                                     std::to_string(pos) + " defaults in " +
                                     std::to_string(rows->size()) +
                                     " rows): a PD model needs both defaults and non-defaults");
    }
  }
  ASSIGN_OR_RETURN(
      model::Preprocessor pre,
      model::Preprocessor::Fit(data.frame, data.features, splits.train, m.categorical_max_levels));
  for (auto& f : pre.mutable_features()) {
    auto it = m.monotone.find(f.name);
    if (it != m.monotone.end()) f.monotone = f.categorical ? 0 : it->second;
  }
  for (const auto& [name, sign] : m.monotone) {
    if (std::find(data.features.begin(), data.features.end(), name) == data.features.end()) {
      return InvalidArgumentError("model.monotone: \"" + name + "\" is not a model feature");
    }
  }

  Context ctx{project, m, data, splits, pre, options, {}, {}, {}, {}, {}, {}, Threads(m)};
  ctx.y_train = Gather(data.labels, splits.train);
  ctx.y_val = Gather(data.labels, splits.validation);
  ctx.y_oot = Gather(data.labels, splits.oot);
  // Checkpoints of this exact run: model config + training rows.
  const std::string fingerprint =
      Sha256Hex(ModelConfigJson(m).dump() + data.rows_sha256).substr(0, 16);
  ctx.checkpoint_dir = options.checkpoint_root / m.name / fingerprint;
  if (!options.resume) {
    std::error_code ec;
    fs::remove_all(ctx.checkpoint_dir, ec);
  }
  RETURN_IF_ERROR(MakeDirs(ctx.checkpoint_dir));

  TrainOutcome outcome;
  std::vector<std::unique_ptr<model::Estimator>> estimators;
  std::vector<model::Calibrator> calibrators;
  std::vector<double> thresholds;
  std::vector<std::vector<double>> val_pds;
  const double prepare_seconds = Seconds(t0) - load_seconds;
  const auto t_candidates = std::chrono::steady_clock::now();
  for (size_t i = 0; i < m.candidates.size(); ++i) {
    const Candidate& c = m.candidates[i];
    const auto tc = std::chrono::steady_clock::now();
    options.log("candidate " + std::to_string(i + 1) + "/" + std::to_string(m.candidates.size()) +
                ": " + c.name);
    StatusOr<Fitted> fitted = (c.family == Family::kLogistic || c.family == Family::kScorecard)
                                  ? FitLinear(ctx, c)
                                  : FitTrees(ctx, c, static_cast<int>(i));
    if (!fitted.ok()) return fitted.status().WithPrefix("candidate " + c.name);
    CandidateResult r;
    r.name = c.name;
    r.family = std::string(config::FamilyName(c.family));
    r.params = fitted->params;
    ASSIGN_OR_RETURN(std::vector<double> mt,
                     fitted->estimator->Margins(data.frame, splits.train, pre));
    ASSIGN_OR_RETURN(std::vector<double> mv,
                     fitted->estimator->Margins(data.frame, splits.validation, pre));
    ASSIGN_OR_RETURN(std::vector<double> mo,
                     fitted->estimator->Margins(data.frame, splits.oot, pre));
    auto cal = FitCalibrator(m, mv, ctx.y_val);
    if (!cal.ok()) return cal.status().WithPrefix("calibrating " + c.name);
    auto to_pd = [&](const std::vector<double>& margins) {
      std::vector<double> pd(margins.size());
      for (size_t k = 0; k < margins.size(); ++k) pd[k] = cal->Apply(margins[k]);
      return pd;
    };
    std::vector<double> pt = to_pd(mt), pv = to_pd(mv), po = to_pd(mo);
    const double threshold = m.threshold_policy == config::ThresholdPolicy::kApprovalRate
                                 ? stats::ThresholdForApprovalRate(pv, m.threshold_value)
                                 : stats::ThresholdForCostRatio(pv, ctx.y_val, m.threshold_value);
    r.train = Evaluate(pt, ctx.y_train, threshold);
    r.validation = Evaluate(pv, ctx.y_val, threshold);
    r.oot = Evaluate(po, ctx.y_oot, threshold);
    // AUC and KS on margins: isotonic calibration has ties that would blur them.
    r.train.metrics.auc = stats::Auc(mt, ctx.y_train);
    r.validation.metrics.auc = stats::Auc(mv, ctx.y_val);
    r.oot.metrics.auc = stats::Auc(mo, ctx.y_oot);
    for (auto* e : {&r.train, &r.validation, &r.oot}) e->metrics.gini = 2 * e->metrics.auc - 1;
    r.train.metrics.ks = stats::KsStatistic(mt, ctx.y_train);
    r.validation.metrics.ks = stats::KsStatistic(mv, ctx.y_val);
    r.oot.metrics.ks = stats::KsStatistic(mo, ctx.y_oot);
    r.oot_drop = r.validation.metrics.auc - r.oot.metrics.auc;
    r.eligible = r.oot_drop <= m.max_oot_drop;
    if (!r.eligible) r.note = "OOT AUC drop " + Num(r.oot_drop, 3) + " > " + Num(m.max_oot_drop, 3);
    r.seconds = Seconds(tc);
    options.log("  " + c.name + ": validation AUC " + Num(r.validation.metrics.auc, 4) +
                ", OOT AUC " + Num(r.oot.metrics.auc, 4) + " (" + Num(r.seconds, 3) + " s)");
    outcome.leaderboard.push_back(std::move(r));
    estimators.push_back(std::move(fitted->estimator));
    calibrators.push_back(std::move(*cal));
    thresholds.push_back(threshold);
    val_pds.push_back(std::move(pv));
  }

  const double candidate_seconds = Seconds(t_candidates);
  const auto t_package = std::chrono::steady_clock::now();
  // Selection: the best validation metric among candidates within the OOT tolerance.
  outcome.selection_rule = "highest validation " + m.selection_metric + " among candidates whose " +
                           (splits.out_of_time ? "OOT" : "test") + " AUC is at most " +
                           Num(m.max_oot_drop, 3) + " below their validation AUC";
  for (size_t i = 0; i < outcome.leaderboard.size(); ++i) {
    const auto& r = outcome.leaderboard[i];
    if (!r.eligible) continue;
    if (outcome.chosen < 0 ||
        SelectionValue(m, r.validation) >
            SelectionValue(m, outcome.leaderboard[outcome.chosen].validation)) {
      outcome.chosen = static_cast<int>(i);
    }
  }
  if (outcome.chosen < 0) {
    std::string drops;
    for (const auto& r : outcome.leaderboard)
      drops += " " + r.name + " " + Num(r.oot_drop, 3) + ";";
    return FailedPreconditionError("no candidate passes the selection rule (" +
                                   outcome.selection_rule + "); AUC drops:" + drops +
                                   " raise model.selection.max_oot_drop or revisit the features");
  }
  const int k = outcome.chosen;
  const CandidateResult& best = outcome.leaderboard[k];
  model::DecisionPolicy policy;
  policy.threshold = thresholds[k];
  policy.rule =
      m.threshold_policy == config::ThresholdPolicy::kApprovalRate
          ? "PD cut approving " + Num(m.threshold_value * 100, 4) + "% of validation applications"
          : "PD cut minimising false declines + " + Num(m.threshold_value, 4) +
                " x missed defaults on validation";
  policy.bands = Bands(val_pds[k]);
  model::ModelPackage package(pre, std::move(estimators[k]), calibrators[k], policy);

  // Metadata: everything an auditor needs to trust and reproduce the model.
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& f : pre.features()) {
    nlohmann::json in = {{"name", f.name},
                         {"type", f.categorical ? "categorical" : "numeric"},
                         {"sql_type", f.sql_type},
                         {"nullable", true},
                         {"training_missing_rate", f.missing_rate}};
    if (f.categorical) {
      in["levels"] = f.levels;
      in["unseen_levels"] = f.other ? "grouped as (other)" : "treated as missing";
    } else {
      in["range"] = {f.min, f.max};
      if (f.monotone != 0) in["monotone"] = f.monotone;
    }
    inputs.push_back(std::move(in));
  }
  nlohmann::json board = nlohmann::json::array();
  for (size_t i = 0; i < outcome.leaderboard.size(); ++i) {
    const auto& r = outcome.leaderboard[i];
    board.push_back({{"rank_input", i},
                     {"name", r.name},
                     {"family", r.family},
                     {"params", r.params},
                     {"seconds", r.seconds},
                     {"eligible", r.eligible},
                     {"note", r.note},
                     {"chosen", static_cast<int>(i) == k},
                     {"oot_auc_drop", r.oot_drop},
                     {"train", ToJson(r.train, false)},
                     {"validation", ToJson(r.validation, false)},
                     {"oot", ToJson(r.oot, false)}});
  }
  nlohmann::json meta = {
      {"format", "riskpipe.model/1"},
      {"name", m.name},
      {"description", m.description},
      {"created_at", ""},
      {"family", best.family},
      {"candidate", best.name},
      {"parameters", best.params},
      {"seed", m.seed},
      {"training_config", ModelConfigJson(m)},
      {"training_data",
       {{"lineage", data.lineage},
        {"rows_sha256", data.rows_sha256},
        {"splits", splits.description},
        {"out_of_time", splits.out_of_time}}},
      {"input_schema", inputs},
      {"output_schema",
       {{"pd", "probability of default in [0, 1] (calibrated)"},
        {"band", "A (lowest risk) .. E"},
        {"decision", "decline when pd >= threshold, else approve"},
        {"threshold", policy.threshold}}},
      {"label_def", project.label
                        ? project.label->name
                        : (m.dataset ? m.dataset->target + " == " + m.dataset->positive : "")},
      {"metrics",
       {{"train", ToJson(best.train, true)},
        {"validation", ToJson(best.validation, true)},
        {splits.out_of_time ? "oot" : "test", ToJson(best.oot, true)}}},
      {"calibration", {{"method", package.calibrator().method()}, {"fitted_on", "validation"}}},
      {"selection", {{"rule", outcome.selection_rule}, {"leaderboard_file", "leaderboard.json"}}},
      {"warnings", data.warnings},
      {"software",
       {{"riskpipe", RISKPIPE_VERSION},
        {"git_commit", RISKPIPE_GIT_COMMIT},
        {"xgboost", xgb::LibraryVersion()},
        {"duckdb", db::LibraryVersion()},
        {"compiler", std::string("g++ ") + __VERSION__}}},
      {"training_seconds", Seconds(t0)}};
  if (!splits.out_of_time) {
    meta["warnings"].push_back("no out-of-time test: random split of a dataset without dates");
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t tt = std::chrono::system_clock::to_time_t(now);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tt));
  meta["created_at"] = stamp;

  RETURN_IF_ERROR(package.Save(package_dir));
  RETURN_IF_ERROR(model::WritePackageFile(
      package_dir, "leaderboard.json",
      nlohmann::json{{"selection_rule", outcome.selection_rule}, {"candidates", board}}.dump(1) +
          "\n"));
  RETURN_IF_ERROR(model::WritePackageFile(package_dir, "metadata.json", meta.dump(1) + "\n"));
  const double package_seconds = Seconds(t_package);
  options.log("timings: load " + Num(load_seconds, 3) + " s, preprocess " +
              Num(prepare_seconds, 3) + " s, candidates " + Num(candidate_seconds, 3) +
              " s, package " + Num(package_seconds, 3) + " s");
  outcome.metadata = std::move(meta);
  return outcome;
}

std::string FormatLeaderboard(const TrainOutcome& o) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "  %-16s %-14s %7s %7s %7s %6s %7s %7s %7s  %s\n", "candidate",
                "family", "trainAUC", "valAUC", "ootAUC", "ootKS", "ootGini", "ootBrier", "seconds",
                "");
  out += line;
  for (size_t i = 0; i < o.leaderboard.size(); ++i) {
    const auto& r = o.leaderboard[i];
    std::snprintf(
        line, sizeof line, "%s %-16s %-14s %7.4f %7.4f %7.4f %6.3f %7.4f %7.4f %7.1f  %s\n",
        static_cast<int>(i) == o.chosen ? "*" : " ", r.name.c_str(), r.family.c_str(),
        r.train.metrics.auc, r.validation.metrics.auc, r.oot.metrics.auc, r.oot.metrics.ks,
        r.oot.metrics.gini, r.oot.metrics.brier, r.seconds, r.note.c_str());
    out += line;
  }
  out += "  * chosen: " + o.selection_rule + "\n";
  return out;
}

}  // namespace riskpipe::training
