#include "model/package.h"

#include <cmath>
#include <limits>

#include "core/files.h"

namespace riskpipe::model {
namespace fs = std::filesystem;

// ---- Calibrator ----

std::string Calibrator::method() const {
  if (std::holds_alternative<stats::PlattCalibrator>(method_)) return "platt";
  if (std::holds_alternative<stats::IsotonicCalibrator>(method_)) return "isotonic";
  return "identity";
}

double Calibrator::Apply(double margin) const {
  if (const auto* p = std::get_if<stats::PlattCalibrator>(&method_)) return p->Apply(margin);
  if (const auto* i = std::get_if<stats::IsotonicCalibrator>(&method_)) return i->Apply(margin);
  return 1.0 / (1.0 + std::exp(-margin));
}

nlohmann::json Calibrator::ToJson() const {
  if (const auto* p = std::get_if<stats::PlattCalibrator>(&method_)) {
    return {{"method", "platt"}, {"a", p->a}, {"b", p->b},
            {"formula", "pd = 1 / (1 + exp(-(a * margin + b)))"}};
  }
  if (const auto* i = std::get_if<stats::IsotonicCalibrator>(&method_)) {
    return {{"method", "isotonic"}, {"x", i->x}, {"y", i->y},
            {"formula", "pd = linear interpolation of y over x at margin, clamped at the ends"}};
  }
  return {{"method", "identity"}, {"formula", "pd = 1 / (1 + exp(-margin))"}};
}

StatusOr<Calibrator> Calibrator::FromJson(const nlohmann::json& j) {
  try {
    const std::string m = j.at("method");
    if (m == "platt") return Calibrator(stats::PlattCalibrator{j.at("a"), j.at("b")});
    if (m == "isotonic") {
      stats::IsotonicCalibrator iso;
      iso.x = j.at("x").get<std::vector<double>>();
      iso.y = j.at("y").get<std::vector<double>>();
      if (iso.x.size() != iso.y.size() || iso.x.empty()) {
        return InvalidArgumentError("calibration.json: x and y must be non-empty and of one size");
      }
      return Calibrator(std::move(iso));
    }
    if (m == "identity") return Calibrator();
    return InvalidArgumentError("calibration.json: unknown method \"" + m + "\"");
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("calibration.json: ") + e.what());
  }
}

const char* DecisionName(Decision d) {
  switch (d) {
    case Decision::kApprove:
      return "approve";
    case Decision::kDecline:
      return "decline";
    case Decision::kRefer:
      break;
  }
  return "refer";
}

Decision DecisionPolicy::Decide(double pd) const {
  // Written so that every comparison with a NaN falls through to refer or decline: approve
  // needs a PD that is a number in [0, 1] and strictly below the threshold.
  if (!(pd >= 0 && pd <= 1)) return Decision::kRefer;
  if (pd < threshold) return Decision::kApprove;
  return Decision::kDecline;
}

std::string DecisionPolicy::BandOf(double pd) const {
  if (!(pd >= 0 && pd <= 1)) return "";
  for (const ScoreBand& b : bands) {
    if (pd >= b.min_pd && pd < b.max_pd) return b.band;
  }
  return bands.empty() ? "" : bands.back().band;
}

// ---- ModelPackage ----

ModelPackage::ModelPackage(Preprocessor pre, std::unique_ptr<Estimator> estimator,
                           Calibrator calibrator, DecisionPolicy policy)
    : pre_(std::move(pre)),
      estimator_(std::move(estimator)),
      calibrator_(std::move(calibrator)),
      policy_(std::move(policy)) {}

Status WritePackageFile(const fs::path& dir, const std::string& name, std::string_view bytes) {
  return WriteFileAtomic(dir / name, bytes);
}

namespace {

StatusOr<nlohmann::json> ReadJson(const fs::path& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(path.string() + ": not valid JSON");
  return j;
}

nlohmann::json PolicyJson(const DecisionPolicy& p) {
  nlohmann::json bands = nlohmann::json::array();
  for (const ScoreBand& b : p.bands) {
    bands.push_back({{"band", b.band}, {"min_pd", b.min_pd}, {"max_pd", b.max_pd}});
  }
  return {{"threshold", p.threshold},
          {"decision", "approve when pd < threshold, decline when pd >= threshold, refer "
                       "(manual review) when pd is not a number in [0, 1]"},
          {"rule", p.rule},
          {"bands", std::move(bands)}};
}

}  // namespace

Status ModelPackage::Save(const fs::path& dir) const {
  ASSIGN_OR_RETURN(std::string model, estimator_->Serialize());
  RETURN_IF_ERROR(WritePackageFile(dir, estimator_->filename(), model));
  nlohmann::json pre = pre_.ToJson();
  pre["family"] = estimator_->family();
  RETURN_IF_ERROR(WritePackageFile(dir, "preprocess.json", pre.dump(1) + "\n"));
  nlohmann::json cal = {{"format", "riskpipe.calibration/1"},
                        {"calibration", calibrator_.ToJson()},
                        {"policy", PolicyJson(policy_)}};
  return WritePackageFile(dir, "calibration.json", cal.dump(1) + "\n");
}

StatusOr<ModelPackage> ModelPackage::Load(const fs::path& dir) {
  ASSIGN_OR_RETURN(nlohmann::json pre_json, ReadJson(dir / "preprocess.json"));
  auto parsed = Preprocessor::FromJson(pre_json);
  if (!parsed.ok()) return parsed.status().WithPrefix(dir.string());
  Preprocessor pre = std::move(*parsed);
  const std::string family = pre_json.value("family", "");
  std::unique_ptr<Estimator> estimator;
  if (family == "logistic" || family == "scorecard") {
    ASSIGN_OR_RETURN(nlohmann::json m, ReadJson(dir / "model.json"));
    if (family == "logistic") {
      ASSIGN_OR_RETURN(estimator, LinearEstimator::FromJson(m));
    } else {
      ASSIGN_OR_RETURN(estimator, ScorecardEstimator::FromJson(m, pre));
    }
  } else if (family == "decision_tree" || family == "random_forest" || family == "xgboost") {
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(dir / "model.ubj"));
    auto booster = BoosterEstimator::Load(family, bytes);
    if (!booster.ok()) return booster.status().WithPrefix((dir / "model.ubj").string());
    estimator = std::move(*booster);
  } else {
    return InvalidArgumentError((dir / "preprocess.json").string() + ": unknown family \"" +
                                family + "\"");
  }
  ASSIGN_OR_RETURN(nlohmann::json cal_json, ReadJson(dir / "calibration.json"));
  auto cal = Calibrator::FromJson(cal_json.value("calibration", nlohmann::json::object()));
  if (!cal.ok()) return cal.status().WithPrefix(dir.string());
  DecisionPolicy policy;
  try {
    const auto& p = cal_json.at("policy");
    policy.threshold = p.at("threshold");
    policy.rule = p.value("rule", "");
    for (const auto& b : p.at("bands")) {
      policy.bands.push_back({b.at("band"), b.at("min_pd"), b.at("max_pd")});
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError((dir / "calibration.json").string() + ": policy: " + e.what());
  }
  ModelPackage package(std::move(pre), std::move(estimator), std::move(*cal), std::move(policy));
  if (fs::exists(dir / "metadata.json")) {
    ASSIGN_OR_RETURN(nlohmann::json meta, ReadJson(dir / "metadata.json"));
    package.metadata_ = std::move(meta);
  }
  return package;
}

StatusOr<Scores> ModelPackage::Score(const Frame& frame, std::span<const uint32_t> rows) const {
  Scores s;
  ASSIGN_OR_RETURN(s.margin, estimator_->Margins(frame, rows, pre_));
  s.pd.resize(s.margin.size());
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // No PD from a non-finite margin, nor for a row with an input the model cannot encode: the
  // decision on NaN is refer (DecisionPolicy::Decide), never approve.
  for (size_t i = 0; i < s.margin.size(); ++i) {
    s.pd[i] = std::isfinite(s.margin[i]) ? calibrator_.Apply(s.margin[i]) : kNaN;
  }
  for (size_t i : pre_.UnscorableRows(frame, rows)) s.pd[i] = kNaN;
  return s;
}

StatusOr<Scores> ModelPackage::Score(const Frame& frame) const {
  const std::vector<uint32_t> rows = AllRows(frame.rows);
  return Score(frame, rows);
}

}  // namespace riskpipe::model
