// The checks that read the out-of-time rows' own scores: performance floors and benchmarks,
// stability by month, slices, calibration and fairness (docs/validation.md).

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "stats/metrics.h"
#include "validation/internal.h"

namespace riskpipe::validation::internal {
namespace {

using nlohmann::json;

// Levels and numeric quartile bands with at most this many levels become automatic segments:
// more would split the out-of-time rows into slices too small to have an AUC.
constexpr size_t kMaxAutoLevels = 12;
// A decile's gap is also allowed 2.576 binomial standard errors of its observed rate (the
// two-sided 99% normal quantile), so sampling noise in a small decile is not read as
// miscalibration.
constexpr double kCalibrationZ = 2.576;

// AUC and counts of a subset of the out-of-time rows (indices into splits.oot).
struct SubsetAuc {
  int64_t rows = 0, defaults = 0;
  double auc = NAN;
};
SubsetAuc AucOf(const Context& ctx, const std::vector<size_t>& idx) {
  std::vector<double> m;
  std::vector<uint8_t> y;
  m.reserve(idx.size());
  y.reserve(idx.size());
  for (size_t i : idx) {
    m.push_back(ctx.margin_oot[i]);
    y.push_back(ctx.y_oot[i]);
  }
  SubsetAuc s;
  s.rows = static_cast<int64_t>(idx.size());
  for (uint8_t v : y) s.defaults += v;
  s.auc = stats::Auc(m, y);
  return s;
}

std::vector<std::string> Tokens(const std::string& name) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : name) {
    if (c == '_' || c == '-' || c == '.' || c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// The automatic segments (docs/validation.md): categorical inputs with 2..12 levels, numeric
// inputs named with the word "age" or "income" (quartile bands), and protected attributes.
std::vector<config::SegmentDef> AutoSegments(const Context& ctx) {
  std::vector<config::SegmentDef> out;
  std::set<std::string> seen;
  for (const auto& s : ctx.cfg.segments) seen.insert(s.column);
  for (const auto& f : ctx.package.preprocessor().features()) {
    if (seen.count(f.name)) continue;
    bool take = false;
    if (f.categorical) {
      take = f.levels.size() >= 2 && f.levels.size() <= kMaxAutoLevels;
    } else {
      for (const std::string& t : Tokens(f.name)) take = take || t == "age" || t == "income";
    }
    if (take) {
      out.push_back({f.name, {}, {}, 0});
      seen.insert(f.name);
    }
  }
  for (const std::string& p : ctx.protected_present) {
    if (!seen.count(p)) out.push_back({p, {}, {}, 0});
  }
  return out;
}

}  // namespace

std::string BandLabel(const std::vector<double>& edges, double v) {
  if (edges.empty()) return "all";
  if (v < edges.front()) return "< " + Num(edges.front());
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    if (v < edges[i + 1]) return "[" + Num(edges[i]) + ", " + Num(edges[i + 1]) + ")";
  }
  return ">= " + Num(edges.back());
}

std::vector<Group> GroupRows(const Context& ctx, const std::string& column,
                             const std::vector<double>& edges,
                             const std::vector<std::string>& levels) {
  const int c = ctx.data.frame.Find(column);
  if (c < 0) return {};
  const model::FrameColumn& col = ctx.data.frame.columns[c];
  const auto& oot = ctx.splits.oot;
  std::map<std::string, std::vector<size_t>> groups;
  if (col.text) {
    const std::set<std::string> wanted(levels.begin(), levels.end());
    for (size_t i = 0; i < oot.size(); ++i) {
      const int32_t code = col.codes[oot[i]];
      const std::string label = code < 0 ? "(missing)" : col.dictionary[code];
      if (!wanted.empty() && !wanted.count(label)) continue;
      groups[label].push_back(i);
    }
  } else {
    std::vector<double> cuts = edges;
    if (cuts.empty()) {
      std::vector<double> values;
      for (uint32_t r : oot) {
        if (!std::isnan(col.numbers[r])) values.push_back(col.numbers[r]);
      }
      std::sort(values.begin(), values.end());
      for (int q = 1; q < 4 && !values.empty(); ++q) {
        const double v = values[values.size() * q / 4];
        if (cuts.empty() || v > cuts.back()) cuts.push_back(v);
      }
    }
    for (size_t i = 0; i < oot.size(); ++i) {
      const double v = col.numbers[oot[i]];
      groups[std::isnan(v) ? "(missing)" : BandLabel(cuts, v)].push_back(i);
    }
  }
  std::vector<Group> out;
  for (auto& [label, rows] : groups) out.push_back({label, std::move(rows)});
  return out;
}

std::vector<CheckResult> PerformanceChecks(const Context& ctx) {
  std::vector<CheckResult> out;
  const double auc = stats::Auc(ctx.margin_oot, ctx.y_oot);
  const double ks = stats::KsStatistic(ctx.margin_oot, ctx.y_oot);
  const stats::AucCi ci = stats::AucConfidence(ctx.margin_oot, ctx.y_oot);
  const std::string rows = std::to_string(ctx.y_oot.size()) + " out-of-time rows";
  out.push_back(Make("oot_auc_floor", auc >= ctx.cfg.min_auc, auc, ctx.cfg.min_auc, "min_auc",
                     "a PD model must rank defaulters above non-defaulters on rows after its "
                     "training period: AUC " +
                         Num(auc) + " on " + rows + " (95% CI " + Num(ci.lower) + "-" +
                         Num(ci.upper) + ") vs floor " + Num(ctx.cfg.min_auc),
                     {{"auc", auc}, {"ci95", {ci.lower, ci.upper}}, {"rows", ctx.y_oot.size()}}));
  out.push_back(Make("oot_ks_floor", ks >= ctx.cfg.min_ks, ks, ctx.cfg.min_ks, "min_ks",
                     "the score must separate the two classes' distributions at some cut: KS " +
                         Num(ks) + " vs floor " + Num(ctx.cfg.min_ks)));
  const double gap = ctx.baseline_auc - auc;
  out.push_back(Make("logistic_baseline", gap <= ctx.cfg.max_auc_below_baseline, gap,
                     ctx.cfg.max_auc_below_baseline, "max_auc_below_baseline",
                     "a complex model must earn its opacity: a plain logistic regression on the "
                     "same training rows has OOT AUC " +
                         Num(ctx.baseline_auc) + ", the model " + Num(auc) +
                         " (value = baseline - model)",
                     {{"model_auc", auc}, {"baseline_auc", ctx.baseline_auc}}));
  const auto& prod = ctx.production;
  if (prod.id.empty()) {
    out.push_back(NotApplicable("production_benchmark", ctx.cfg.max_auc_below_production,
                                "max_auc_below_production",
                                prod.problem.empty() ? "no other version of this name is in "
                                                       "production"
                                                     : prod.problem));
  } else if (!prod.auc) {
    out.push_back(NotApplicable("production_benchmark", ctx.cfg.max_auc_below_production,
                                "max_auc_below_production",
                                prod.id + " cannot score these rows: " + prod.problem));
  } else {
    const double mine = prod.model_auc.value_or(auc);
    const double pgap = *prod.auc - mine;
    std::string missing;
    for (const auto& f : prod.missing_now) missing += (missing.empty() ? "" : ", ") + f;
    out.push_back(Make("production_benchmark", pgap <= ctx.cfg.max_auc_below_production, pgap,
                       ctx.cfg.max_auc_below_production, "max_auc_below_production",
                       "a replacement must not rank worse than the model it replaces on the same "
                       "rows: production " +
                           prod.id + " AUC " + Num(*prod.auc) + ", this model " + Num(mine) +
                           " (value = production - model)" +
                           (missing.empty() ? ""
                                            : "; both scored without the " +
                                                  std::to_string(prod.missing_now.size()) +
                                                  " inputs new applications no longer carry (" +
                                                  missing + "), as they will decide them"),
                       {{"production_id", prod.id},
                        {"production_auc", *prod.auc},
                        {"model_auc", mine},
                        {"inputs_missing_now", prod.missing_now}}));
  }
  return out;
}

CheckResult MonthlyStability(const Context& ctx) {
  const auto& cfg = ctx.cfg;
  if (ctx.data.decision_days.empty() || !ctx.splits.out_of_time) {
    return NotApplicable("monthly_stability", cfg.min_month_auc, "min_month_auc",
                         "the data has no decision dates (random split), so there are no "
                         "out-of-time months");
  }
  std::map<std::string, std::vector<size_t>> months;
  for (size_t i = 0; i < ctx.splits.oot.size(); ++i) {
    const Date d = Date::FromDays(ctx.data.decision_days[ctx.splits.oot[i]]);
    months[Month::Of(d).ToString()].push_back(i);
  }
  json details = json::array();
  double worst = NAN;
  std::string worst_month, failed;
  for (const auto& [month, idx] : months) {
    const SubsetAuc s = AucOf(ctx, idx);
    json m = {{"month", month}, {"rows", s.rows}, {"defaults", s.defaults}};
    if (s.rows < cfg.min_month_rows || std::isnan(s.auc)) {
      m["status"] = "skipped (fewer than min_month_rows rows or a single class)";
    } else {
      m["auc"] = s.auc;
      m["status"] = s.auc >= cfg.min_month_auc ? "passed" : "failed";
      if (s.auc < cfg.min_month_auc) failed += (failed.empty() ? "" : ", ") + month;
      if (std::isnan(worst) || s.auc < worst) {
        worst = s.auc;
        worst_month = month;
      }
    }
    details.push_back(std::move(m));
  }
  if (std::isnan(worst)) {
    CheckResult c = NotApplicable("monthly_stability", cfg.min_month_auc, "min_month_auc",
                                  "no out-of-time month has min_month_rows rows of both classes");
    c.details = std::move(details);
    return c;
  }
  return Make("monthly_stability", failed.empty(), worst, cfg.min_month_auc, "min_month_auc",
              "a model that is good on average can still fail in one month: worst month " +
                  worst_month + " AUC " + Num(worst) +
                  (failed.empty() ? "" : "; below the floor: " + failed),
              std::move(details));
}

StatusOr<CheckResult> SegmentPerformance(const Context& ctx) {
  const auto& cfg = ctx.cfg;
  std::vector<config::SegmentDef> segments = cfg.segments;
  for (const auto& s : segments) {
    if (ctx.data.frame.Find(s.column) < 0) {
      return InvalidArgumentError("validation.segments: \"" + s.column +
                                  "\" is not a column of the model's data");
    }
  }
  if (cfg.auto_segments) {
    for (auto& s : AutoSegments(ctx)) segments.push_back(std::move(s));
  }
  const double overall = stats::Auc(ctx.margin_oot, ctx.y_oot);
  json details = json::array();
  double worst = NAN;
  std::string worst_name, failed;
  int evaluated = 0, skipped = 0;
  for (const auto& seg : segments) {
    for (const Group& g : GroupRows(ctx, seg.column, seg.bands, seg.levels)) {
      const SubsetAuc s = AucOf(ctx, g.rows);
      const std::string name = seg.column + " " + g.label;
      json d = {{"column", seg.column},
                {"segment", g.label},
                {"rows", s.rows},
                {"defaults", s.defaults},
                {"configured", seg.line > 0}};
      if (s.rows < cfg.min_segment_rows || std::isnan(s.auc)) {
        d["status"] = "skipped (fewer than min_segment_rows rows or a single class)";
        ++skipped;
      } else {
        ++evaluated;
        const bool ok = s.auc >= cfg.min_segment_auc && overall - s.auc <= cfg.max_segment_gap;
        d["auc"] = s.auc;
        d["gap"] = overall - s.auc;
        d["status"] = ok ? "passed" : "failed";
        if (!ok) failed += (failed.empty() ? "" : ", ") + name + " (AUC " + Num(s.auc) + ")";
        if (std::isnan(worst) || s.auc < worst) {
          worst = s.auc;
          worst_name = name;
        }
      }
      details.push_back(std::move(d));
    }
  }
  const json threshold = {{"min_segment_auc", cfg.min_segment_auc},
                          {"max_segment_gap", cfg.max_segment_gap}};
  if (evaluated == 0) {
    CheckResult c = NotApplicable("segment_performance", threshold, "min_segment_auc",
                                  segments.empty() ? "no segment is configured and none is "
                                                     "derived from the data"
                                                   : "every segment has fewer than "
                                                     "min_segment_rows rows");
    c.details = std::move(details);
    return c;
  }
  return Make("segment_performance", failed.empty(), worst, threshold,
              "min_segment_auc, max_segment_gap",
              "a model can rank well overall and badly for a group of applicants: " +
                  std::to_string(evaluated) + " segments evaluated, " + std::to_string(skipped) +
                  " skipped as too small; worst " + worst_name + " AUC " + Num(worst) +
                  " vs overall " + Num(overall) + (failed.empty() ? "" : "; failed: " + failed),
              std::move(details));
}

CheckResult Calibration(const Context& ctx) {
  const auto& cfg = ctx.cfg;
  const auto table = stats::CalibrationTable(ctx.pd_oot, ctx.y_oot, 10);
  json details = json::array();
  int outside = 0;
  double worst = 0;
  for (const auto& b : table) {
    const double p = b.mean_predicted;
    const double noise = b.n > 0 ? kCalibrationZ * std::sqrt(p * (1 - p) / b.n) : 0;
    const double tol =
        std::max({cfg.calibration_abs_tolerance, cfg.calibration_rel_tolerance * p, noise});
    const double diff = b.observed_rate - b.mean_predicted;
    const bool ok = std::fabs(diff) <= tol;
    outside += !ok;
    worst = std::max(worst, std::fabs(diff));
    details.push_back({{"decile", b.bin + 1},
                       {"rows", b.n},
                       {"defaults", b.positives},
                       {"mean_pd", b.mean_predicted},
                       {"observed_rate", b.observed_rate},
                       {"tolerance", tol},
                       {"sampling_allowance", noise},
                       {"status", ok ? "passed" : "failed"}});
  }
  return Make("calibration", outside == 0, outside, 0,
              "calibration_abs_tolerance, calibration_rel_tolerance",
              "PDs feed pricing and provisions, so they must match observed default rates: " +
                  std::to_string(outside) + " of " + std::to_string(table.size()) +
                  " deciles outside max(" + Num(cfg.calibration_abs_tolerance) + ", " +
                  Num(cfg.calibration_rel_tolerance) +
                  " x predicted, 2.576 binomial standard errors); largest gap " + Num(worst),
              std::move(details));
}

CheckResult Fairness(const Context& ctx) {
  const auto& cfg = ctx.cfg;
  if (ctx.protected_present.empty()) {
    return NotApplicable("fairness_four_fifths", cfg.min_approval_ratio, "min_approval_ratio",
                         ctx.model_def.protected_attributes.empty()
                             ? "model.protected_attributes is empty"
                             : "the data has none of model.protected_attributes");
  }
  const double threshold = ctx.package.policy().threshold;
  json details = json::array();
  double worst = NAN;
  std::string failed;
  for (const std::string& attr : ctx.protected_present) {
    std::vector<double> edges;
    for (const auto& s : cfg.segments) {
      if (s.column == attr) edges = s.bands;
    }
    json groups = json::array();
    double lo = NAN, hi = NAN;
    for (const Group& g : GroupRows(ctx, attr, edges, {})) {
      int64_t approved = 0;
      for (size_t i : g.rows) approved += ctx.pd_oot[i] < threshold;
      const double rate = g.rows.empty() ? 0 : static_cast<double>(approved) / g.rows.size();
      const bool counted = static_cast<int64_t>(g.rows.size()) >= cfg.min_group_rows;
      groups.push_back({{"group", g.label},
                        {"rows", g.rows.size()},
                        {"approved", approved},
                        {"approval_rate", rate},
                        {"status", counted ? "compared" : "skipped (fewer than min_group_rows)"}});
      if (!counted) continue;
      lo = std::isnan(lo) ? rate : std::min(lo, rate);
      hi = std::isnan(hi) ? rate : std::max(hi, rate);
    }
    const double ratio = std::isnan(lo) || hi <= 0 ? NAN : lo / hi;
    details.push_back({{"attribute", attr},
                       {"groups", groups},
                       {"ratio", std::isnan(ratio) ? json(nullptr) : json(ratio)}});
    if (std::isnan(ratio)) continue;
    if (ratio < cfg.min_approval_ratio) failed += (failed.empty() ? "" : ", ") + attr;
    worst = std::isnan(worst) ? ratio : std::min(worst, ratio);
  }
  if (std::isnan(worst)) {
    CheckResult c =
        NotApplicable("fairness_four_fifths", cfg.min_approval_ratio, "min_approval_ratio",
                      "no protected group has min_group_rows out-of-time rows");
    c.details = std::move(details);
    return c;
  }
  return Make("fairness_four_fifths", failed.empty(), worst, cfg.min_approval_ratio,
              "min_approval_ratio",
              "the four-fifths rule of disparate-impact practice: the lowest group approval "
              "rate at the policy threshold (PD < " +
                  Num(threshold) + ") must be at least 0.8 of the highest; worst ratio " +
                  Num(worst) + (failed.empty() ? "" : "; below it: " + failed),
              std::move(details));
}

}  // namespace riskpipe::validation::internal
