// Parsing of the `model:` section (config/model.h).

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>

#include "config/config.h"
#include "config/model_parse.h"
#include "config/yaml_reader.h"

namespace riskpipe::config {

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kLogistic: return "logistic";
    case Family::kScorecard: return "scorecard";
    case Family::kDecisionTree: return "decision_tree";
    case Family::kRandomForest: return "random_forest";
    case Family::kXgboost: return "xgboost";
  }
  return "?";
}

namespace internal {
namespace {

constexpr Family kFamilies[] = {Family::kLogistic, Family::kScorecard, Family::kDecisionTree,
                                Family::kRandomForest, Family::kXgboost};

// The parameters each family accepts (docs/training.md explains each).
const std::vector<std::string>& FamilyParams(Family f) {
  static const std::vector<std::string> logistic = {"l2", "max_iterations"};
  static const std::vector<std::string> scorecard = {"l2", "bins", "pdo", "base_score",
                                                     "base_odds", "max_iterations"};
  static const std::vector<std::string> tree = {"max_depth", "min_child_weight"};
  static const std::vector<std::string> forest = {"trees", "max_depth", "min_child_weight",
                                                  "subsample", "colsample_bynode"};
  static const std::vector<std::string> boost = {
      "rounds", "max_depth", "eta", "min_child_weight", "subsample", "colsample_bytree",
      "colsample_bynode", "lambda", "alpha", "gamma", "max_bin", "scale_pos_weight"};
  switch (f) {
    case Family::kLogistic: return logistic;
    case Family::kScorecard: return scorecard;
    case Family::kDecisionTree: return tree;
    case Family::kRandomForest: return forest;
    case Family::kXgboost: return boost;
  }
  return boost;
}

bool Known(const std::vector<std::string>& names, const std::string& n) {
  for (const auto& k : names) {
    if (k == n) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

StatusOr<double> Number(const YamlMap& m, const std::string& key, const YAML::Node& n) {
  if (!n.IsScalar()) return m.Error(key, "expected a number", &n);
  try {
    size_t used = 0;
    const double v = std::stod(n.Scalar(), &used);
    if (used != n.Scalar().size() || !std::isfinite(v)) throw std::invalid_argument("x");
    return v;
  } catch (const std::exception&) {
    return m.Error(key, "\"" + n.Scalar() + "\" is not a number", &n);
  }
}

Status ParseRange(YamlMap& m, const std::string& key, std::optional<MonthRange>& out) {
  const YAML::Node n = m.Get(key);
  if (!n.IsDefined() || n.IsNull()) return OkStatus();
  YamlMap r(n, m.origin(), m.ChildPath(key));
  RETURN_IF_ERROR(r.CheckIsMap());
  std::string from, to;
  RETURN_IF_ERROR(r.ReadString("from", from, true));
  RETURN_IF_ERROR(r.ReadString("to", to, true));
  auto f = Month::Parse(from);
  if (!f.ok()) return r.Error("from", "\"" + from + "\" is not a month (YYYY-MM)");
  auto t = Month::Parse(to);
  if (!t.ok()) return r.Error("to", "\"" + to + "\" is not a month (YYYY-MM)");
  if (*t < *f) return r.Error("to", "ends before it starts (" + from + " .. " + to + ")");
  RETURN_IF_ERROR(r.CheckNoUnknownKeys());
  out = MonthRange{*f, *t};
  return OkStatus();
}

Status ParseSplits(YamlMap& parent, Splits& splits) {
  const YAML::Node n = parent.Get("splits");
  if (!n.IsDefined() || n.IsNull()) return OkStatus();
  YamlMap m(n, parent.origin(), parent.ChildPath("splits"));
  RETURN_IF_ERROR(m.CheckIsMap());
  RETURN_IF_ERROR(ParseRange(m, "train", splits.train));
  RETURN_IF_ERROR(ParseRange(m, "validation", splits.validation));
  RETURN_IF_ERROR(ParseRange(m, "oot", splits.oot));
  const bool any = splits.train || splits.validation || splits.oot;
  if (any && !(splits.train && splits.validation && splits.oot)) {
    return m.Error(!splits.train ? "train" : !splits.validation ? "validation" : "oot",
                   "time splits need all three of train, validation and oot");
  }
  if (any) {
    if (!(splits.train->to < splits.validation->from)) {
      return m.Error("validation", "must start after the train months end");
    }
    if (!(splits.validation->to < splits.oot->from)) {
      return m.Error("oot", "must start after the validation months end");
    }
  }
  std::optional<double> v, t;
  RETURN_IF_ERROR(m.ReadDouble("validation_fraction", v));
  RETURN_IF_ERROR(m.ReadDouble("test_fraction", t));
  if (v) splits.validation_fraction = *v;
  if (t) splits.test_fraction = *t;
  if (splits.validation_fraction <= 0 || splits.test_fraction <= 0 ||
      splits.validation_fraction + splits.test_fraction >= 0.9) {
    return m.Error("validation_fraction",
                   "fractions must be > 0 and leave at least 10% of rows for training");
  }
  return m.CheckNoUnknownKeys();
}

Status ParseCandidate(const YAML::Node& node, const std::string& origin, const std::string& path,
                      Candidate& c) {
  YamlMap m(node, origin, path);
  RETURN_IF_ERROR(m.CheckIsMap());
  c.line = m.line();
  std::string family;
  RETURN_IF_ERROR(m.ReadString("family", family, true));
  bool found = false;
  std::vector<std::string> names;
  for (Family f : kFamilies) {
    names.emplace_back(FamilyName(f));
    if (family == FamilyName(f)) {
      c.family = f;
      found = true;
    }
  }
  if (!found) return m.Error("family", "\"" + family + "\" is not one of " + Join(names));
  c.name = family;
  RETURN_IF_ERROR(m.ReadString("name", c.name, false));
  const auto& allowed = FamilyParams(c.family);
  if (const YAML::Node p = m.Get("params"); p.IsDefined() && !p.IsNull()) {
    if (!p.IsMap()) return m.Error("params", "expected a map of name: number", &p);
    YamlMap pm(p, origin, m.ChildPath("params"));
    for (const auto& kv : p) {
      const std::string key = kv.first.Scalar();
      if (!Known(allowed, key)) {
        return pm.Error(key, "unknown parameter for " + family + " (known: " + Join(allowed) + ")",
                        &kv.second);
      }
      ASSIGN_OR_RETURN(double v, Number(pm, key, kv.second));
      c.params[key] = v;
    }
  }
  int64_t early = 0;
  RETURN_IF_ERROR(m.ReadInt("early_stopping_rounds", early, 0));
  c.early_stopping_rounds = static_cast<int>(early);
  if (const YAML::Node s = m.Get("search"); s.IsDefined() && !s.IsNull()) {
    if (c.family != Family::kXgboost) {
      return m.Error("search", "random search is available for family xgboost only", &s);
    }
    YamlMap sm(s, origin, m.ChildPath("search"));
    RETURN_IF_ERROR(sm.CheckIsMap());
    int64_t budget = 0;
    RETURN_IF_ERROR(sm.ReadInt("budget", budget, 1));
    if (budget == 0) return sm.Missing("budget");
    c.search_budget = static_cast<int>(budget);
    const YAML::Node space = sm.Get("space");
    if (!space.IsDefined() || !space.IsMap() || space.size() == 0) {
      return sm.Error("space", "expected a map of parameter: [low, high]", &space);
    }
    YamlMap spm(space, origin, sm.ChildPath("space"));
    for (const auto& kv : space) {
      const std::string key = kv.first.Scalar();
      if (!Known(allowed, key) || key == "rounds") {
        return spm.Error(key, "not a searchable parameter (known: " + Join(allowed) + ")", &kv.second);
      }
      if (!kv.second.IsSequence() || kv.second.size() != 2) {
        return spm.Error(key, "expected [low, high]", &kv.second);
      }
      ASSIGN_OR_RETURN(double lo, Number(spm, key, kv.second[0]));
      ASSIGN_OR_RETURN(double hi, Number(spm, key, kv.second[1]));
      if (!(lo < hi)) return spm.Error(key, "low must be below high", &kv.second);
      SearchRange r{lo, hi, false, false};
      r.integer = key == "max_depth" || key == "max_bin";
      r.log = (key == "eta" || key == "lambda" || key == "alpha") && lo > 0 && hi / lo >= 10;
      c.search[key] = r;
    }
    RETURN_IF_ERROR(sm.CheckNoUnknownKeys());
  }
  return m.CheckNoUnknownKeys();
}

Status ParseDataset(YamlMap& parent, const std::filesystem::path& base, DatasetDef& d) {
  const YAML::Node n = parent.Get("dataset");
  YamlMap m(n, parent.origin(), parent.ChildPath("dataset"));
  RETURN_IF_ERROR(m.CheckIsMap());
  d.line = m.line();
  std::string file;
  RETURN_IF_ERROR(m.ReadString("file", file, true));
  d.file = (std::filesystem::path(file).is_absolute() ? std::filesystem::path(file) : base / file)
               .lexically_normal();
  RETURN_IF_ERROR(m.ReadString("target", d.target, true));
  RETURN_IF_ERROR(m.ReadString("positive", d.positive, false));
  RETURN_IF_ERROR(m.ReadString("id", d.id, false));
  RETURN_IF_ERROR(m.ReadString("date", d.date, false));
  return m.CheckNoUnknownKeys();
}

}  // namespace

Status ParseModel(const YAML::Node& node, const std::string& origin,
                  const std::filesystem::path& base, ModelDef& model) {
  YamlMap m(node, origin, "model");
  RETURN_IF_ERROR(m.CheckIsMap());
  model.line = m.line();
  RETURN_IF_ERROR(m.ReadString("name", model.name, true));
  for (char ch : model.name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-')) {
      return m.Error("name", "\"" + model.name + "\": use letters, digits, '_' and '-' only");
    }
  }
  RETURN_IF_ERROR(m.ReadString("description", model.description, false));
  if (m.Has("dataset")) {
    DatasetDef d;
    RETURN_IF_ERROR(ParseDataset(m, base, d));
    model.dataset = std::move(d);
  }
  std::string cutoff;
  RETURN_IF_ERROR(m.ReadString("cutoff", cutoff, false));
  if (!cutoff.empty()) {
    model.cutoff = ParseIsoDate(cutoff);
    if (!model.cutoff) return m.Error("cutoff", "\"" + cutoff + "\" is not a date (YYYY-MM-DD)");
  }
  RETURN_IF_ERROR(ParseSplits(m, model.splits));
  if (model.splits.random() && !model.dataset) {
    return m.Missing("splits");
  }
  RETURN_IF_ERROR(m.ReadStringList("exclude", model.exclude));
  RETURN_IF_ERROR(m.ReadStringList("protected_attributes", model.protected_attributes));
  int64_t v = model.categorical_max_levels;
  RETURN_IF_ERROR(m.ReadInt("categorical_max_levels", v, 1));
  model.categorical_max_levels = static_cast<int>(v);
  RETURN_IF_ERROR(m.ReadInt("min_train_rows", model.min_train_rows, 1));
  int64_t seed = static_cast<int64_t>(model.seed);
  RETURN_IF_ERROR(m.ReadInt("seed", seed, 0));
  model.seed = static_cast<uint64_t>(seed);
  int64_t threads = 0;
  RETURN_IF_ERROR(m.ReadInt("threads", threads, 0));
  model.threads = static_cast<int>(threads);
  int64_t every = model.checkpoint_every;
  RETURN_IF_ERROR(m.ReadInt("checkpoint_every", every, 1));
  model.checkpoint_every = static_cast<int>(every);
  if (const YAML::Node mono = m.Get("monotone"); mono.IsDefined() && !mono.IsNull()) {
    if (!mono.IsMap()) return m.Error("monotone", "expected a map of feature: 1 or -1", &mono);
    YamlMap mm(mono, origin, "model.monotone");
    for (const auto& kv : mono) {
      const std::string f = kv.first.Scalar();
      const std::string s = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (s != "1" && s != "-1" && s != "+1") {
        return mm.Error(f, "expected 1 (PD rises with the feature) or -1 (PD falls)", &kv.second);
      }
      model.monotone[f] = s == "-1" ? -1 : 1;
    }
  }
  const YAML::Node cands = m.Get("candidates");
  if (!cands.IsDefined()) return m.Missing("candidates");
  if (!cands.IsSequence() || cands.size() == 0) {
    return m.Error("candidates", "expected a non-empty list of candidates", &cands);
  }
  for (size_t i = 0; i < cands.size(); ++i) {
    Candidate c;
    RETURN_IF_ERROR(ParseCandidate(cands[i], origin, "model.candidates[" + std::to_string(i) + "]", c));
    for (const Candidate& other : model.candidates) {
      if (other.name == c.name) {
        const YAML::Node at = cands[i];
        return m.Error("candidates[" + std::to_string(i) + "]",
                       "two candidates named \"" + c.name + "\" (give one a `name:`)", &at);
      }
    }
    model.candidates.push_back(std::move(c));
  }
  if (const YAML::Node sel = m.Get("selection"); sel.IsDefined() && !sel.IsNull()) {
    YamlMap sm(sel, origin, "model.selection");
    RETURN_IF_ERROR(sm.CheckIsMap());
    RETURN_IF_ERROR(sm.ReadString("metric", model.selection_metric, false));
    if (model.selection_metric != "auc" && model.selection_metric != "ks" &&
        model.selection_metric != "gini") {
      return sm.Error("metric", "\"" + model.selection_metric + "\" is not one of auc, gini, ks");
    }
    std::optional<double> drop;
    RETURN_IF_ERROR(sm.ReadDouble("max_oot_drop", drop));
    if (drop) model.max_oot_drop = *drop;
    RETURN_IF_ERROR(sm.CheckNoUnknownKeys());
  }
  std::string calibration = "platt";
  RETURN_IF_ERROR(m.ReadString("calibration", calibration, false));
  if (calibration == "platt") {
    model.calibration = Calibration::kPlatt;
  } else if (calibration == "isotonic") {
    model.calibration = Calibration::kIsotonic;
  } else {
    return m.Error("calibration", "\"" + calibration + "\" is not one of platt, isotonic");
  }
  if (const YAML::Node th = m.Get("threshold"); th.IsDefined() && !th.IsNull()) {
    YamlMap tm(th, origin, "model.threshold");
    RETURN_IF_ERROR(tm.CheckIsMap());
    std::string policy;
    RETURN_IF_ERROR(tm.ReadString("policy", policy, true));
    if (policy == "approval_rate") {
      model.threshold_policy = ThresholdPolicy::kApprovalRate;
    } else if (policy == "cost_ratio") {
      model.threshold_policy = ThresholdPolicy::kCostRatio;
    } else {
      return tm.Error("policy", "\"" + policy + "\" is not one of approval_rate, cost_ratio");
    }
    std::optional<double> value;
    RETURN_IF_ERROR(tm.ReadDouble("value", value));
    if (!value) return tm.Missing("value");
    model.threshold_value = *value;
    if (policy == "approval_rate" && (*value <= 0 || *value >= 1)) {
      return tm.Error("value", "an approval rate must be between 0 and 1");
    }
    if (policy == "cost_ratio" && *value <= 0) return tm.Error("value", "must be > 0");
    RETURN_IF_ERROR(tm.CheckNoUnknownKeys());
  }
  return m.CheckNoUnknownKeys();
}

}  // namespace internal
}  // namespace riskpipe::config
