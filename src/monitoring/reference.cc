// The development reference of a model version, and its cache (monitoring/reference.h).

#include "monitoring/reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>

#include "core/files.h"
#include "core/json.h"
#include "features/dataset.h"
#include "model/package.h"
#include "registry/registry.h"
#include "stats/distribution.h"
#include "stats/metrics.h"

namespace riskpipe::monitoring {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Text features keep their most frequent levels as bins; the rest share one "other" bin (the
// same cap as training's categorical_max_levels default).
constexpr size_t kMaxLevels = 20;
// Reference cache format; bump when the JSON layout changes (old caches are rebuilt).
constexpr int kCacheFormat = 2;

FeatureReference NumericReference(const std::string& name, const std::vector<double>& x,
                                  const std::vector<uint8_t>& score_bin) {
  FeatureReference f;
  f.name = name;
  std::vector<double> present;
  present.reserve(x.size());
  for (double v : x) {
    if (!std::isnan(v)) present.push_back(v);
  }
  f.edges = stats::QuantileEdges(present, kBins);
  f.counts.assign(f.edges.size() + 2, 0.0);
  std::vector<double> sum(kBins, 0.0), cnt(kBins, 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      f.counts.back() += 1;
      continue;
    }
    f.counts[BinOf(x[i], f.edges)] += 1;
    if (score_bin[i] < kBins) {
      sum[score_bin[i]] += x[i];
      cnt[score_bin[i]] += 1;
    }
  }
  f.null_rate = x.empty() ? 0 : f.counts.back() / x.size();
  for (int b = 0; b < kBins; ++b) f.decile_means.push_back(cnt[b] > 0 ? sum[b] / cnt[b] : kNaN);
  return f;
}

FeatureReference TextReference(const model::FrameColumn& c) {
  FeatureReference f;
  f.name = c.name;
  f.text = true;
  std::vector<double> freq(c.dictionary.size(), 0.0);
  double missing = 0;
  for (int32_t code : c.codes) (code < 0 ? missing : freq[code]) += 1;
  std::vector<size_t> order(freq.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return freq[a] > freq[b]; });
  double other = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    if (freq[order[k]] == 0) continue;
    if (f.levels.size() < kMaxLevels) {
      f.levels.push_back(c.dictionary[order[k]]);
      f.counts.push_back(freq[order[k]]);
    } else {
      other += freq[order[k]];
    }
  }
  f.counts.push_back(other);
  f.counts.push_back(missing);
  f.null_rate = c.codes.empty() ? 0 : missing / c.codes.size();
  return f;
}

json ToJson(const Reference& r) {
  json features = json::array();
  for (const auto& f : r.features) {
    json d = json::array();
    for (double v : f.decile_means) d.push_back(std::isnan(v) ? json(nullptr) : json(v));
    features.push_back({{"name", f.name},
                        {"text", f.text},
                        {"edges", f.edges},
                        {"levels", f.levels},
                        {"counts", f.counts},
                        {"null_rate", f.null_rate},
                        {"importance", f.importance},
                        {"decile_means", d}});
  }
  return {{"format", kCacheFormat},
          {"model_id", r.model_id},
          {"model_name", r.model_name},
          {"model_version", r.model_version},
          {"sample", r.sample},
          {"rows", r.rows},
          {"score_edges", r.score_edges},
          {"score_counts", r.score_counts},
          {"threshold", r.threshold},
          {"approval_rate", r.approval_rate},
          {"mean_pd", r.mean_pd},
          {"default_rate", r.default_rate},
          {"auc", r.auc},
          {"oot_default_rate",
           std::isnan(r.oot_default_rate) ? json(nullptr) : json(r.oot_default_rate)},
          {"oot_mean_pd", std::isnan(r.oot_mean_pd) ? json(nullptr) : json(r.oot_mean_pd)},
          {"oot_end", r.oot_end ? r.oot_end->ToString() : ""},
          {"features", features},
          {"profile", r.profile}};
}

// A number, or NaN for null / absent (JSON has no NaN: it is written as null).
double Number(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

StatusOr<Reference> FromJson(const json& j) {
  if (j.value("format", 0) != kCacheFormat) return FailedPreconditionError("old reference format");
  Reference r;
  r.model_id = j.at("model_id").get<std::string>();
  r.model_name = j.at("model_name").get<std::string>();
  r.model_version = j.at("model_version").get<int64_t>();
  r.sample = j.at("sample").get<std::string>();
  r.rows = j.at("rows").get<int64_t>();
  r.score_edges = j.at("score_edges").get<std::vector<double>>();
  r.score_counts = j.at("score_counts").get<std::vector<double>>();
  r.threshold = Number(j, "threshold");
  r.approval_rate = Number(j, "approval_rate");
  r.mean_pd = Number(j, "mean_pd");
  r.default_rate = Number(j, "default_rate");
  r.auc = Number(j, "auc");
  r.oot_default_rate = Number(j, "oot_default_rate");
  r.oot_mean_pd = Number(j, "oot_mean_pd");
  if (const std::string oot = j.value("oot_end", ""); !oot.empty()) {
    ASSIGN_OR_RETURN(Month m, Month::Parse(oot));
    r.oot_end = m;
  }
  for (const auto& f : j.at("features")) {
    FeatureReference x;
    x.name = f.at("name").get<std::string>();
    x.text = f.at("text").get<bool>();
    x.edges = f.at("edges").get<std::vector<double>>();
    x.levels = f.at("levels").get<std::vector<std::string>>();
    x.counts = f.at("counts").get<std::vector<double>>();
    x.null_rate = Number(f, "null_rate");
    x.importance = Number(f, "importance");
    for (const auto& v : f.at("decile_means"))
      x.decile_means.push_back(v.is_number() ? v.get<double>() : kNaN);
    r.features.push_back(std::move(x));
  }
  r.profile = j.at("profile").get<std::vector<int>>();
  return r;
}

model::Frame Subset(const model::Frame& frame, const std::vector<std::string>& names,
                    const std::vector<uint32_t>& rows) {
  model::Frame out;
  out.rows = rows.size();
  for (const std::string& name : names) {
    const int c = frame.Find(name);
    if (c < 0) continue;
    const model::FrameColumn& src = frame.columns[c];
    model::FrameColumn col;
    col.name = src.name;
    col.text = src.text;
    col.sql_type = src.sql_type;
    col.dictionary = src.dictionary;
    for (uint32_t r : rows) {
      if (src.text)
        col.codes.push_back(src.codes[r]);
      else
        col.numbers.push_back(src.numbers[r]);
    }
    out.columns.push_back(std::move(col));
  }
  return out;
}

}  // namespace

Reference BuildReference(const model::Frame& frame, const std::vector<std::string>& features,
                         const std::vector<double>& pd, const std::vector<uint8_t>* labels,
                         const std::vector<double>& importance, double threshold) {
  Reference r;
  r.rows = static_cast<int64_t>(pd.size());
  r.threshold = threshold;
  r.sorted_pd.reserve(pd.size());
  for (double p : pd) {
    if (!std::isnan(p)) r.sorted_pd.push_back(p);
  }
  std::sort(r.sorted_pd.begin(), r.sorted_pd.end());
  r.score_edges = stats::QuantileEdges(r.sorted_pd, kBins);
  r.score_counts.assign(r.score_edges.size() + 1, 0.0);
  std::vector<uint8_t> score_bin(pd.size(), 255);
  double approved = 0, sum = 0;
  for (size_t i = 0; i < pd.size(); ++i) {
    approved += pd[i] < threshold;
    if (std::isnan(pd[i])) continue;
    sum += pd[i];
    score_bin[i] = static_cast<uint8_t>(BinOf(pd[i], r.score_edges));
    r.score_counts[score_bin[i]] += 1;
  }
  r.approval_rate = pd.empty() ? kNaN : approved / pd.size();
  r.mean_pd = r.sorted_pd.empty() ? kNaN : sum / r.sorted_pd.size();
  r.auc = kNaN;
  r.default_rate = kNaN;
  if (labels != nullptr && labels->size() == pd.size() && !pd.empty()) {
    r.auc = stats::Auc(pd, *labels);
    r.default_rate = std::accumulate(labels->begin(), labels->end(), 0.0) / labels->size();
  }
  for (size_t k = 0; k < features.size(); ++k) {
    const int c = frame.Find(features[k]);
    FeatureReference f;
    if (c < 0) {
      f.name = features[k];
      f.counts = {0.0, static_cast<double>(pd.size())};
      f.null_rate = 1;
    } else if (frame.columns[c].text) {
      f = TextReference(frame.columns[c]);
    } else {
      f = NumericReference(features[k], frame.columns[c].numbers, score_bin);
    }
    f.importance = k < importance.size() ? importance[k] : 0;
    r.features.push_back(std::move(f));
  }
  std::vector<int> numeric;
  for (size_t k = 0; k < r.features.size(); ++k) {
    if (!r.features[k].text && !r.features[k].edges.empty()) numeric.push_back(static_cast<int>(k));
  }
  std::stable_sort(numeric.begin(), numeric.end(), [&](int a, int b) {
    return r.features[a].importance > r.features[b].importance;
  });
  if (numeric.size() > static_cast<size_t>(kProfileFeatures)) numeric.resize(kProfileFeatures);
  r.profile = numeric;
  return r;
}

fs::path ReferenceDir(const config::Project& project, const std::string& model_id) {
  return project.workspace.monitoring_reference() / model_id;
}

Status SaveReference(const Reference& ref, const fs::path& dir) {
  RETURN_IF_ERROR(MakeDirs(dir));
  std::string bytes(ref.sorted_pd.size() * sizeof(double), '\0');
  if (!bytes.empty()) std::memcpy(bytes.data(), ref.sorted_pd.data(), bytes.size());
  RETURN_IF_ERROR(WriteFileAtomic(dir / "sorted_pd.f64", bytes));
  // reference.json last: its presence marks a complete cache.
  return WriteFileAtomic(dir / "reference.json", ToJson(ref).dump(1) + "\n");
}

StatusOr<Reference> ReadReference(const fs::path& dir) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(dir / "reference.json"));
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return DataLossError((dir / "reference.json").string() + ": not JSON");
  StatusOr<Reference> r = [&]() -> StatusOr<Reference> {
    try {
      return FromJson(j);
    } catch (const std::exception& e) {
      return DataLossError((dir / "reference.json").string() + ": " + e.what());
    }
  }();
  if (!r.ok()) return r;
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(dir / "sorted_pd.f64"));
  if (bytes.size() % sizeof(double) != 0)
    return DataLossError((dir / "sorted_pd.f64").string() + ": truncated");
  r->sorted_pd.resize(bytes.size() / sizeof(double));
  if (!bytes.empty()) std::memcpy(r->sorted_pd.data(), bytes.data(), bytes.size());
  return r;
}

StatusOr<Reference> LoadOrBuildReference(const config::Project& project, registry::Registry& reg,
                                         db::Connection& con, const std::string& model_id) {
  const fs::path dir = ReferenceDir(project, model_id);
  if (fs::exists(dir / "reference.json")) {
    StatusOr<Reference> cached = ReadReference(dir);
    if (cached.ok()) return cached;  // a broken cache is rebuilt below
  }
  ASSIGN_OR_RETURN(registry::ModelRecord record, reg.Get(model_id));
  ASSIGN_OR_RETURN(fs::path package_dir, reg.VerifiedPath(record.id));
  ASSIGN_OR_RETURN(model::ModelPackage package, model::ModelPackage::Load(package_dir));
  const json& meta = package.metadata();
  ASSIGN_OR_RETURN(config::Project as_trained, features::ProjectAsTrained(project, meta));
  Date cutoff = Date::FromCivil(9999, 12, 31);
  const json lineage = meta.value("training_data", json::object()).value("lineage", json::object());
  if (auto c = ParseIsoDate(lineage.value("cutoff", "")); c) cutoff = *c;
  ASSIGN_OR_RETURN(features::TrainingData data,
                   features::LoadTrainingData(as_trained, con, cutoff));
  ASSIGN_OR_RETURN(features::SplitRows splits, features::MakeSplits(data, *as_trained.model));
  // The held-out development rows: validation (where the PDs were calibrated) and out-of-time
  // (where they were validated). Training rows are left out: a flexible model scores the rows
  // it was fitted on more extremely than any new application (XGBoost: training AUC 0.98
  // against 0.90 held out on the lending example), so their PD deciles would read as drift in
  // every month. A package without held-out rows falls back to its training rows.
  std::vector<uint32_t> rows = splits.validation;
  rows.insert(rows.end(), splits.oot.begin(), splits.oot.end());
  const char* sample = "validation + out-of-time rows";
  if (rows.empty()) {
    rows = splits.train;
    sample = "training rows (no held-out rows)";
  }
  std::sort(rows.begin(), rows.end());
  ASSIGN_OR_RETURN(model::Scores scores, package.Score(data.frame, rows));
  std::vector<std::string> names;
  for (const auto& f : package.preprocessor().features()) names.push_back(f.name);
  // Mean |attribution| per input feature, in blocks to bound memory.
  std::vector<double> importance(names.size(), 0.0);
  constexpr size_t kBlock = 65536;
  for (size_t start = 0; start < rows.size(); start += kBlock) {
    const std::span<const uint32_t> block(rows.data() + start,
                                          std::min(kBlock, rows.size() - start));
    ASSIGN_OR_RETURN(std::vector<double> contrib,
                     package.estimator().Contributions(data.frame, block, package.preprocessor()));
    if (contrib.size() != block.size() * names.size())
      return InternalError(model_id + ": contributions shape");
    for (size_t i = 0; i < block.size(); ++i) {
      for (size_t k = 0; k < names.size(); ++k)
        importance[k] += std::fabs(contrib[i * names.size() + k]);
    }
  }
  if (!rows.empty()) {
    for (double& v : importance) v /= rows.size();
  }
  std::vector<uint8_t> labels;
  for (uint32_t r : rows) labels.push_back(data.labels[r]);
  const model::Frame dev = Subset(data.frame, names, rows);
  Reference ref =
      BuildReference(dev, names, scores.pd, &labels, importance, package.policy().threshold);
  ref.model_id = record.id;
  ref.model_name = record.name;
  ref.model_version = record.version;
  ref.sample = std::string(sample) + " of " + record.id + " (cutoff " + cutoff.ToString() + ")";
  {
    std::vector<uint32_t> oot = splits.oot;
    std::sort(oot.begin(), oot.end());
    double defaults = 0, pd_sum = 0, n = 0;
    size_t k = 0;  // rows and oot are both ascending
    for (size_t i = 0; i < rows.size(); ++i) {
      while (k < oot.size() && oot[k] < rows[i]) ++k;
      if (k == oot.size() || oot[k] != rows[i] || std::isnan(scores.pd[i])) continue;
      defaults += labels[i];
      pd_sum += scores.pd[i];
      n += 1;
    }
    if (n > 0) {
      ref.oot_default_rate = defaults / n;
      ref.oot_mean_pd = pd_sum / n;
    }
  }
  // The development AUC the policy compares with: the honest out-of-time estimate when the
  // package has one, else validation, else this sample's.
  const json metrics = meta.value("metrics", json::object());
  for (const char* split : {"oot", "test", "validation"}) {
    if (metrics.contains(split) && metrics[split].value("auc", json()).is_number()) {
      ref.auc = metrics[split]["auc"].get<double>();
      break;
    }
  }
  if (as_trained.model->splits.oot) ref.oot_end = as_trained.model->splits.oot->to;
  RETURN_IF_ERROR(SaveReference(ref, dir));
  return ref;
}

}  // namespace riskpipe::monitoring
