#include "serving/scorer.h"

#include <cmath>
#include <limits>
#include <vector>

namespace riskpipe::serving {

namespace {

// A one-row Frame shaped for one model, kept per thread and rebuilt when another model (by
// generation) is scored. Two slots: a shadow request scores the champion and the challenger.
struct FrameCache {
  struct Slot {
    uint64_t generation = 0;
    model::Frame frame;
    uint64_t used = 0;
  };
  std::array<Slot, 2> slots;
  uint64_t clock = 0;

  model::Frame& For(const LoadedModel& m) {
    ++clock;
    for (Slot& s : slots) {
      if (s.generation == m.generation) {
        s.used = clock;
        return s.frame;
      }
    }
    Slot& s = slots[0].used <= slots[1].used ? slots[0] : slots[1];
    s.generation = m.generation;
    s.used = clock;
    s.frame = {};
    s.frame.rows = 1;
    for (const auto& spec : m.package->preprocessor().features()) {
      model::FrameColumn col;
      col.name = spec.name;
      col.text = spec.categorical;
      col.sql_type = spec.sql_type;
      if (col.text) {
        col.codes.assign(1, -1);
        col.dictionary.assign(1, std::string());
      } else {
        col.numbers.assign(1, 0.0);
      }
      s.frame.columns.push_back(std::move(col));
    }
    return s.frame;
  }
};

thread_local FrameCache frame_cache;
constexpr uint32_t kRowZero[1] = {0};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Sets the PD (NaN from a non-finite margin), decision and band; no reasons yet. True when
// the model decided (approve or decline): only then are reasons worth computing.
bool Decide(const model::ModelPackage& pkg, double margin, double pd, RowPrediction& out) {
  out.margin = margin;
  out.pd = std::isfinite(margin) ? pd : kNaN;
  out.decision = pkg.policy().Decide(out.pd);
  out.band = pkg.policy().BandOf(out.pd);
  out.reason_count = 0;
  return out.decision != model::Decision::kRefer;
}

// A refused row: no PD, no band, no reasons.
void Refer(const model::ModelPackage& pkg, size_t feature, double value, RowPrediction& out) {
  Decide(pkg, kNaN, kNaN, out);
  out.unscorable_feature = static_cast<int>(feature);
  out.unscorable_value = value;
}

// The flattened-tree path: encode, margin and TreeSHAP without a call into XGBoost.
Status ScoreTrees(const LoadedModel& m, const model::Frame& frame,
                  const model::ReasonTable* reasons, RowPrediction& out) {
  const model::Preprocessor& pre = m.package->preprocessor();
  thread_local std::vector<float> x;
  RETURN_IF_ERROR(pre.Encode(frame, kRowZero, model::Encoding::kTree, x));
  const double margin = m.explainer->Margin(x);
  if (!Decide(*m.package, margin, m.package->calibrator().Apply(margin), out) ||
      reasons == nullptr) {
    return OkStatus();
  }
  thread_local std::vector<double> phi, per_feature;
  phi.assign(pre.width(), 0.0);
  m.explainer->Contributions(x, phi);
  per_feature.assign(pre.features().size(), 0.0);
  for (size_t j = 0; j < phi.size(); ++j) {
    per_feature[static_cast<size_t>(pre.encoded_feature()[j])] += phi[j];
  }
  out.reason_count = reasons->TopIndices(per_feature, out.reason_feature);
  for (size_t k = 0; k < out.reason_count; ++k) {
    out.reason_contribution[k] = per_feature[out.reason_feature[k]];
  }
  return OkStatus();
}

}  // namespace

void SnapshotRow(const LoadedModel& m, const features::OnlineSnapshot& snap, size_t row,
                 std::span<const int> columns, std::span<RowValue> out) {
  const auto& specs = m.package->preprocessor().features();
  for (size_t i = 0; i < specs.size() && i < out.size(); ++i) {
    RowValue& v = out[i];
    v = RowValue{};
    if (i >= columns.size() || columns[i] < 0) continue;
    const auto f = static_cast<size_t>(columns[i]);
    if (specs[i].categorical) {
      if (auto t = snap.Text(row, f)) {
        v.missing = false;
        v.text = *t;
      }
    } else if (auto n = snap.Number(row, f)) {
      v.missing = false;
      v.number = *n;
    }
  }
}

Status ScoreRow(const LoadedModel& m, std::span<const RowValue> values,
                const model::ReasonTable* reasons, RowPrediction& out) {
  out.unscorable_feature = -1;
  const model::ModelPackage& pkg = *m.package;
  model::Frame& frame = frame_cache.For(m);
  // The frame's columns are the model's features, in order (FrameCache::For).
  for (size_t i = 0; i < frame.columns.size(); ++i) {
    model::FrameColumn& col = frame.columns[i];
    const RowValue& v = i < values.size() ? values[i] : RowValue{};
    if (col.text) {
      col.codes[0] = v.missing ? -1 : 0;
      if (!v.missing) col.dictionary[0].assign(v.text);
    } else if (!v.missing && !std::isnan(v.number) && !model::FitsModelInput(v.number)) {
      // An input the model cannot encode (Preprocessor::UnscorableInput): refer before any
      // arithmetic on it.
      Refer(pkg, i, v.number, out);
      return OkStatus();
    } else {
      col.numbers[0] = v.missing ? kNaN : v.number;
    }
  }
  if (m.explainer != nullptr) return ScoreTrees(m, frame, reasons, out);
  ASSIGN_OR_RETURN(model::Scores scores, pkg.Score(frame, kRowZero));
  if (!Decide(pkg, scores.margin[0], scores.pd[0], out) || reasons == nullptr) return OkStatus();
  ASSIGN_OR_RETURN(std::vector<double> contrib,
                   pkg.estimator().Contributions(frame, kRowZero, pkg.preprocessor()));
  out.reason_count = reasons->TopIndices(contrib, out.reason_feature);
  for (size_t k = 0; k < out.reason_count; ++k) {
    out.reason_contribution[k] = contrib[out.reason_feature[k]];
  }
  return OkStatus();
}

}  // namespace riskpipe::serving
