// The checks that score perturbed copies of real out-of-time rows: protected attributes as
// inputs and invariance to them, directional expectations, noise robustness and missing
// values (docs/validation.md). Each perturbs one column of Context::sample in place, scores
// the sample and restores the column.

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "validation/internal.h"

namespace riskpipe::validation::internal {
namespace {

using nlohmann::json;

const model::FeatureSpec* InputSpec(const Context& ctx, const std::string& name) {
  for (const auto& f : ctx.package.preprocessor().features()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string> ProtectedInputNames(const Context& ctx) {
  std::vector<std::string> out;
  for (const std::string& p : ctx.model_def.protected_attributes) {
    if (InputSpec(ctx, p) != nullptr) out.push_back(p);
  }
  return out;
}

// Scores the sample with column `name` replaced by `mutate(column)`, restoring it after.
template <typename Mutate>
StatusOr<std::vector<double>> ScoreWith(Context& ctx, const std::string& name, Mutate mutate) {
  const int c = ctx.sample.Find(name);
  if (c < 0) return InvalidArgumentError("column \"" + name + "\" is not in the data");
  model::FrameColumn saved = ctx.sample.columns[c];
  mutate(ctx.sample.columns[c]);
  StatusOr<model::Scores> scores = ctx.package.Score(ctx.sample);
  ctx.sample.columns[c] = std::move(saved);
  if (!scores.ok()) return scores.status().WithPrefix("scoring with " + name + " perturbed");
  return std::move(scores->pd);
}

double MaxChange(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    m = std::isnan(d) ? INFINITY : std::max(m, d);
  }
  return m;
}

}  // namespace

CheckResult ProtectedInputs(const Context& ctx) {
  const auto& cfg = ctx.cfg;
  if (ctx.model_def.protected_attributes.empty()) {
    return NotApplicable("protected_not_inputs", cfg.allow_protected_inputs,
                         "allow_protected_inputs", "model.protected_attributes is empty");
  }
  const std::vector<std::string> inputs = ProtectedInputNames(ctx);
  const bool ok = inputs.empty() || cfg.allow_protected_inputs;
  std::string names;
  for (const auto& n : inputs) names += (names.empty() ? "" : ", ") + n;
  return Make(
      "protected_not_inputs", ok, static_cast<int64_t>(inputs.size()), 0, "allow_protected_inputs",
      inputs.empty()
          ? "no protected attribute (" + std::to_string(ctx.model_def.protected_attributes.size()) +
                " configured) is a model input"
          : "protected attributes are model inputs: " + names +
                (cfg.allow_protected_inputs ? " (allowed by validation.allow_protected_inputs)"
                                            : "; credit law forbids deciding on them"),
      {{"protected_attributes", ctx.model_def.protected_attributes},
       {"inputs", inputs},
       {"allowed", cfg.allow_protected_inputs}});
}

StatusOr<CheckResult> Invariance(Context& ctx) {
  const auto& cfg = ctx.cfg;
  if (ctx.model_def.protected_attributes.empty()) {
    return NotApplicable("protected_invariance", cfg.invariance_epsilon, "invariance_epsilon",
                         "model.protected_attributes is empty");
  }
  const std::vector<std::string> inputs = ProtectedInputNames(ctx);
  if (inputs.empty()) {
    return Make("protected_invariance", true, 0.0, cfg.invariance_epsilon, "invariance_epsilon",
                "no protected attribute is a model input, so changing one cannot change a PD",
                {{"inputs", json::array()}});
  }
  json details = json::array();
  double worst = 0;
  for (const std::string& name : inputs) {
    const model::FeatureSpec& spec = *InputSpec(ctx, name);
    double change = 0;
    json tried = json::array();
    if (spec.categorical) {
      for (const std::string& level : spec.levels) {
        ASSIGN_OR_RETURN(std::vector<double> pd, ScoreWith(ctx, name, [&](model::FrameColumn& c) {
                           auto it = std::find(c.dictionary.begin(), c.dictionary.end(), level);
                           int32_t code = static_cast<int32_t>(it - c.dictionary.begin());
                           if (it == c.dictionary.end()) c.dictionary.push_back(level);
                           std::fill(c.codes.begin(), c.codes.end(), code);
                         }));
        change = std::max(change, MaxChange(pd, ctx.sample_pd));
        tried.push_back(level);
      }
    } else {
      for (double v : {spec.min, spec.median, spec.max}) {
        ASSIGN_OR_RETURN(std::vector<double> pd, ScoreWith(ctx, name, [&](model::FrameColumn& c) {
                           std::fill(c.numbers.begin(), c.numbers.end(), v);
                         }));
        change = std::max(change, MaxChange(pd, ctx.sample_pd));
        tried.push_back(v);
      }
    }
    details.push_back({{"attribute", name}, {"values_tried", tried}, {"max_pd_change", change}});
    worst = std::max(worst, change);
  }
  return Make("protected_invariance", worst <= cfg.invariance_epsilon, worst,
              cfg.invariance_epsilon, "invariance_epsilon",
              "setting a protected attribute to each of its values on copies of " +
                  std::to_string(ctx.sample.rows) + " real rows moves a PD by up to " + Num(worst),
              std::move(details));
}

StatusOr<CheckResult> Directions(Context& ctx) {
  const auto& cfg = ctx.cfg;
  std::map<std::string, int> directions = cfg.directions;
  const bool from_config = !directions.empty();
  if (!from_config) {
    for (const auto& f : ctx.package.preprocessor().features()) {
      if (f.monotone != 0) directions[f.name] = f.monotone;
    }
  }
  if (directions.empty()) {
    return NotApplicable("directional_expectations", cfg.max_direction_violations,
                         "max_direction_violations",
                         "no validation.directions and the model has no monotone features");
  }
  json details = json::array();
  double worst = 0;
  std::string failed;
  for (const auto& [name, sign] : directions) {
    const model::FeatureSpec* spec = InputSpec(ctx, name);
    if (spec == nullptr || spec->categorical || !(spec->stddev > 0)) {
      details.push_back({{"feature", name},
                         {"direction", sign},
                         {"status", spec == nullptr ? "skipped (not a model input)"
                                                    : "skipped (not a varying numeric input)"}});
      continue;
    }
    const double step = cfg.direction_step * spec->stddev;
    const int c = ctx.sample.Find(name);
    std::vector<uint8_t> present(ctx.sample.rows, 0);
    for (size_t r = 0; r < ctx.sample.rows; ++r) {
      present[r] = !std::isnan(ctx.sample.columns[c].numbers[r]);
    }
    ASSIGN_OR_RETURN(std::vector<double> pd, ScoreWith(ctx, name, [&](model::FrameColumn& col) {
                       for (double& v : col.numbers) v += step;  // NaN stays NaN
                     }));
    int64_t rows = 0, violations = 0;
    double largest_fall = 0;
    for (size_t r = 0; r < pd.size(); ++r) {
      if (!present[r]) continue;
      ++rows;
      const double rise = sign * (pd[r] - ctx.sample_pd[r]);
      if (rise < -cfg.direction_tolerance || std::isnan(rise)) ++violations;
      largest_fall = std::max(largest_fall, -rise);
    }
    const double share = rows == 0 ? 0 : static_cast<double>(violations) / rows;
    const bool ok = share <= cfg.max_direction_violations;
    if (!ok) failed += (failed.empty() ? "" : ", ") + name + " (" + Num(100 * share) + "%)";
    worst = std::max(worst, share);
    details.push_back({{"feature", name},
                       {"direction", sign},
                       {"step", step},
                       {"rows", rows},
                       {"violations", violations},
                       {"share", share},
                       {"largest_wrong_way_change", largest_fall},
                       {"status", ok ? "passed" : "failed"}});
  }
  return Make("directional_expectations", failed.empty(), worst, cfg.max_direction_violations,
              "max_direction_violations",
              std::string("raising a feature the lender expects to raise risk (") +
                  (from_config ? "validation.directions" : "the model's monotone map") + ") by " +
                  Num(cfg.direction_step) +
                  " training std must not lower the PD; worst share of rows that move the wrong "
                  "way " +
                  Num(worst) + (failed.empty() ? "" : "; failed: " + failed),
              std::move(details));
}

StatusOr<CheckResult> Noise(Context& ctx) {
  const auto& cfg = ctx.cfg;
  const json threshold = {{"max", cfg.max_noise_pd_change}, {"p99", cfg.max_noise_pd_change_p99}};
  std::mt19937_64 rng(cfg.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<model::FrameColumn> saved;
  std::vector<int> changed;
  std::vector<std::string> discrete;
  for (const auto& f : ctx.package.preprocessor().features()) {
    const int c = ctx.sample.Find(f.name);
    if (f.categorical || c < 0 || ctx.sample.columns[c].text || !(f.stddev > 0)) continue;
    // Counts and codes (every value whole) are not measured with noise; a fraction added to
    // them only probes bin edges that sit exactly on whole values.
    const auto& values = ctx.sample.columns[c].numbers;
    if (std::all_of(values.begin(), values.end(),
                    [](double v) { return std::isnan(v) || v == std::floor(v); })) {
      discrete.push_back(f.name);
      continue;
    }
    changed.push_back(c);
    saved.push_back(ctx.sample.columns[c]);
    for (double& v : ctx.sample.columns[c].numbers) v += cfg.noise * f.stddev * normal(rng);
  }
  StatusOr<model::Scores> scores = ctx.package.Score(ctx.sample);
  for (size_t i = 0; i < changed.size(); ++i) ctx.sample.columns[changed[i]] = std::move(saved[i]);
  if (!scores.ok()) return scores.status().WithPrefix("scoring the noisy sample");
  if (changed.empty()) {
    return NotApplicable("perturbation_robustness", threshold, "noise",
                         "the model has no varying continuous numeric input");
  }
  std::vector<double> change(scores->pd.size());
  for (size_t i = 0; i < change.size(); ++i) {
    change[i] = std::fabs(scores->pd[i] - ctx.sample_pd[i]);
    if (std::isnan(change[i])) change[i] = INFINITY;
  }
  std::sort(change.begin(), change.end());
  const double max = change.empty() ? 0 : change.back();
  const double p99 =
      change.empty() ? 0 : change[std::min(change.size() - 1, change.size() * 99 / 100)];
  const bool ok = max <= cfg.max_noise_pd_change && p99 <= cfg.max_noise_pd_change_p99;
  return Make("perturbation_robustness", ok, {{"max", max}, {"p99", p99}}, threshold,
              "max_noise_pd_change, max_noise_pd_change_p99",
              "noise of " + Num(cfg.noise) + " training std on all " +
                  std::to_string(changed.size()) +
                  " continuous numeric inputs at once (measurement noise, rounding) should "
                  "barely move a PD: largest change " +
                  Num(max) + ", 99th percentile " + Num(p99),
              {{"rows", change.size()},
               {"numeric_inputs", changed.size()},
               {"whole_number_inputs_left_unchanged", discrete},
               {"noise_std_fraction", cfg.noise}});
}

StatusOr<CheckResult> MissingValues(Context& ctx) {
  json details = json::array();
  int bad = 0;
  std::string failed;
  for (const auto& f : ctx.package.preprocessor().features()) {
    StatusOr<std::vector<double>> pd = ScoreWith(ctx, f.name, [](model::FrameColumn& c) {
      if (c.text) {
        std::fill(c.codes.begin(), c.codes.end(), -1);
      } else {
        std::fill(c.numbers.begin(), c.numbers.end(), NAN);
      }
    });
    int64_t invalid = 0;
    std::string error;
    if (!pd.ok()) {
      error = pd.status().message();
      invalid = static_cast<int64_t>(ctx.sample.rows);
    } else {
      for (double p : *pd) invalid += !(std::isfinite(p) && p >= 0 && p <= 1);
    }
    if (invalid > 0) {
      ++bad;
      failed += (failed.empty() ? "" : ", ") + f.name;
    }
    json d = {{"feature", f.name}, {"invalid_pds", invalid}};
    if (!error.empty()) d["error"] = error;
    details.push_back(std::move(d));
  }
  return Make("missing_values", bad == 0, bad, 0, "(none)",
              "a live application can arrive with any field empty; with each of the " +
                  std::to_string(details.size()) + " inputs set to missing on " +
                  std::to_string(ctx.sample.rows) + " rows, " + std::to_string(bad) +
                  " gave a PD outside [0, 1] or no PD" + (failed.empty() ? "" : ": " + failed),
              std::move(details));
}

}  // namespace riskpipe::validation::internal
