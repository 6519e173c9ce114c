#include "model/estimator.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"

namespace riskpipe::model {
namespace {

constexpr size_t kBlock = 4096;  // rows per partial sum: fixed, so results do not depend on threads

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Solves the symmetric positive-definite system a x = b (a is n x n, row-major) by Cholesky.
bool SolveSpd(std::vector<double> a, std::vector<double> b, size_t n, std::vector<double>& x) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  x = std::move(b);
  return true;
}

}  // namespace

StatusOr<LogisticFit> FitLogistic(std::span<const float> x, size_t rows, size_t cols,
                                  std::span<const uint8_t> labels, const LogisticOptions& options) {
  if (x.size() != rows * cols || labels.size() != rows) {
    return InvalidArgumentError("logistic regression: matrix and label sizes disagree");
  }
  if (rows == 0) return InvalidArgumentError("logistic regression: no rows");
  double positives = 0;
  for (uint8_t y : labels) positives += y;
  if (positives == 0 || positives == rows) {
    return InvalidArgumentError("logistic regression: the labels have a single class");
  }
  const size_t p = cols + 1;  // last parameter: intercept
  std::vector<double> theta(p, 0.0);
  theta[cols] = std::log(positives / (rows - positives));
  const size_t blocks = (rows + kBlock - 1) / kBlock;
  const int threads = ThreadCount(options.threads);
  const double n = static_cast<double>(rows);
  LogisticFit fit;
  double previous_loss = std::numeric_limits<double>::infinity();
  std::vector<double> block_h(blocks * p * p), block_g(blocks * p), block_loss(blocks);
  for (int iter = 0; iter < options.max_iterations; ++iter) {
    ForBlocks(blocks, threads, [&](size_t b) {
      double* h = &block_h[b * p * p];
      double* g = &block_g[b * p];
      std::fill(h, h + p * p, 0.0);
      std::fill(g, g + p, 0.0);
      double loss = 0;
      std::vector<double> row(p);
      const size_t end = std::min(rows, (b + 1) * kBlock);
      for (size_t r = b * kBlock; r < end; ++r) {
        const float* xr = &x[r * cols];
        double eta = theta[cols];
        for (size_t j = 0; j < cols; ++j) {
          row[j] = xr[j];
          eta += theta[j] * row[j];
        }
        row[cols] = 1.0;
        const double pr = Sigmoid(eta);
        const double y = labels[r];
        loss -= y != 0 ? std::log(std::max(pr, 1e-300)) : std::log(std::max(1 - pr, 1e-300));
        const double resid = pr - y;
        const double w = pr * (1 - pr);
        for (size_t i = 0; i < p; ++i) {
          g[i] += resid * row[i];
          const double wi = w * row[i];
          if (wi == 0) continue;
          double* hi = h + i * p;
          for (size_t j = 0; j <= i; ++j) hi[j] += wi * row[j];
        }
      }
      block_loss[b] = loss;
    });
    std::vector<double> h(p * p, 0.0), g(p, 0.0);
    double loss = 0;
    for (size_t b = 0; b < blocks; ++b) {
      for (size_t k = 0; k < p * p; ++k) h[k] += block_h[b * p * p + k];
      for (size_t k = 0; k < p; ++k) g[k] += block_g[b * p + k];
      loss += block_loss[b];
    }
    for (size_t i = 0; i < p; ++i) {
      for (size_t j = 0; j <= i; ++j) {
        h[i * p + j] /= n;
        h[j * p + i] = h[i * p + j];
      }
      g[i] /= n;
    }
    loss /= n;
    for (size_t j = 0; j < cols; ++j) {
      loss += 0.5 * options.l2 * theta[j] * theta[j];
      g[j] += options.l2 * theta[j];
      h[j * p + j] += options.l2;
    }
    fit.iterations = iter + 1;
    std::vector<double> step;
    if (!SolveSpd(h, g, p, step)) {
      // Singular Hessian (e.g. perfectly collinear columns): add a small ridge and retry.
      for (size_t j = 0; j < p; ++j) h[j * p + j] += 1e-6;
      if (!SolveSpd(h, g, p, step)) {
        return InternalError("logistic regression: the Hessian is not positive definite");
      }
    }
    double max_step = 0;
    for (size_t j = 0; j < p; ++j) {
      theta[j] -= step[j];
      max_step = std::max(max_step, std::fabs(step[j]));
    }
    if (max_step < 1e-7 || std::fabs(previous_loss - loss) < 1e-12) {
      fit.converged = true;
      break;
    }
    previous_loss = loss;
  }
  fit.beta.assign(theta.begin(), theta.begin() + cols);
  fit.intercept = theta[cols];
  return fit;
}

// ---- LinearEstimator ----

StatusOr<std::unique_ptr<LinearEstimator>> LinearEstimator::FromJson(const nlohmann::json& j) {
  try {
    if (j.at("family") != "logistic")
      return InvalidArgumentError("model.json: not a logistic model");
    LogisticFit fit;
    fit.intercept = j.at("intercept");
    std::vector<std::string> columns;
    for (const auto& c : j.at("coefficients")) {
      columns.push_back(c.at("column"));
      fit.beta.push_back(c.at("beta"));
    }
    fit.iterations = j.value("iterations", 0);
    fit.converged = j.value("converged", true);
    return std::make_unique<LinearEstimator>(std::move(columns), std::move(fit));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("model.json: ") + e.what());
  }
}

StatusOr<std::string> LinearEstimator::Serialize() const {
  nlohmann::json coefficients = nlohmann::json::array();
  for (size_t j = 0; j < columns_.size(); ++j) {
    coefficients.push_back({{"column", columns_[j]}, {"beta", fit_.beta[j]}});
  }
  nlohmann::json j = {{"format", "riskpipe.linear/1"},
                      {"family", "logistic"},
                      {"link", "logit"},
                      {"inputs", "standardised encoded columns (preprocess.json, linear encoding)"},
                      {"intercept", fit_.intercept},
                      {"coefficients", std::move(coefficients)},
                      {"iterations", fit_.iterations},
                      {"converged", fit_.converged}};
  return j.dump(1) + "\n";
}

StatusOr<std::vector<double>> LinearEstimator::Margins(const Frame& frame,
                                                       std::span<const uint32_t> rows,
                                                       const Preprocessor& pre) const {
  if (pre.width() != fit_.beta.size()) {
    return InvalidArgumentError("model.json has " + std::to_string(fit_.beta.size()) +
                                " coefficients for " + std::to_string(pre.width()) + " columns");
  }
  std::vector<float> x;
  RETURN_IF_ERROR(pre.Encode(frame, rows, Encoding::kLinear, x));
  const size_t w = pre.width();
  std::vector<double> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    double eta = fit_.intercept;
    for (size_t j = 0; j < w; ++j) eta += fit_.beta[j] * static_cast<double>(x[i * w + j]);
    out[i] = eta;
  }
  return out;
}

StatusOr<std::vector<double>> LinearEstimator::Contributions(const Frame& frame,
                                                             std::span<const uint32_t> rows,
                                                             const Preprocessor& pre) const {
  std::vector<float> x;
  RETURN_IF_ERROR(pre.Encode(frame, rows, Encoding::kLinear, x));
  const size_t w = pre.width(), nf = pre.features().size();
  std::vector<double> out(rows.size() * nf, 0.0);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < w; ++j) {
      out[i * nf + pre.encoded_feature()[j]] += fit_.beta[j] * static_cast<double>(x[i * w + j]);
    }
  }
  return out;
}

// ---- ScorecardEstimator ----

Status ScorecardEstimator::BinRows(const Frame& frame, std::span<const uint32_t> rows,
                                   const Preprocessor& pre, size_t f, std::vector<int>& out) const {
  const FeatureSpec& spec = pre.features()[f];
  const ScorecardBinning& b = features_[f];
  const int c = frame.Find(spec.name);
  if (c < 0) return InvalidArgumentError("input has no column \"" + spec.name + "\"");
  const FrameColumn& col = frame.columns[c];
  if (col.text != spec.categorical) {
    return InvalidArgumentError("column \"" + spec.name + "\" has the wrong kind");
  }
  out.resize(rows.size());
  if (!spec.categorical) {
    const int missing = static_cast<int>(b.edges.size()) + 1;
    for (size_t i = 0; i < rows.size(); ++i) {
      const double v = col.numbers[rows[i]];
      out[i] = std::isnan(v)
                   ? missing
                   : static_cast<int>(std::lower_bound(b.edges.begin(), b.edges.end(), v) -
                                      b.edges.begin());
    }
    return OkStatus();
  }
  const int other = static_cast<int>(spec.levels.size());
  const int missing = other + 1;
  std::vector<int> code_bin(col.dictionary.size(), other);
  for (size_t d = 0; d < col.dictionary.size(); ++d) {
    for (size_t l = 0; l < spec.levels.size(); ++l) {
      if (col.dictionary[d] == spec.levels[l]) code_bin[d] = static_cast<int>(l);
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const int32_t code = col.codes[rows[i]];
    out[i] = code < 0 ? missing : code_bin[code];
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<ScorecardEstimator>> ScorecardEstimator::Fit(
    const Frame& frame, std::span<const uint32_t> rows, std::span<const uint8_t> labels,
    const Preprocessor& pre, const ScorecardOptions& options) {
  if (labels.size() != rows.size()) return InvalidArgumentError("scorecard: label size mismatch");
  auto sc = std::unique_ptr<ScorecardEstimator>(new ScorecardEstimator());
  sc->options_ = options;
  const size_t nf = pre.features().size();
  double bads = 0;
  for (uint8_t y : labels) bads += y;
  const double goods = static_cast<double>(rows.size()) - bads;
  if (bads == 0 || goods == 0)
    return InvalidArgumentError("scorecard: the labels have a single class");
  // Bins and weights of evidence on the training rows.
  std::vector<float> woe_matrix(rows.size() * nf);
  std::vector<int> bins;
  for (size_t f = 0; f < nf; ++f) {
    const FeatureSpec& spec = pre.features()[f];
    ScorecardBinning b;
    size_t nbins;
    if (!spec.categorical) {
      const FrameColumn& col = frame.columns[frame.Find(spec.name)];
      std::vector<double> values;
      for (uint32_t r : rows) {
        if (!std::isnan(col.numbers[r])) values.push_back(col.numbers[r]);
      }
      std::sort(values.begin(), values.end());
      for (int q = 1; q < options.bins && !values.empty(); ++q) {
        const double e = values[std::min(values.size() - 1, values.size() * q / options.bins)];
        if ((b.edges.empty() || e > b.edges.back()) && e < values.back()) b.edges.push_back(e);
      }
      nbins = b.edges.size() + 2;
    } else {
      nbins = spec.levels.size() + 2;
    }
    sc->features_.push_back(std::move(b));
    RETURN_IF_ERROR(sc->BinRows(frame, rows, pre, f, bins));
    std::vector<double> bad(nbins, 0), good(nbins, 0);
    ScorecardBinning& fb = sc->features_.back();
    fb.count.assign(nbins, 0);
    for (size_t i = 0; i < rows.size(); ++i) {
      (labels[i] ? bad : good)[bins[i]] += 1;
      fb.count[bins[i]] += 1;
    }
    fb.woe.resize(nbins);
    for (size_t k = 0; k < nbins; ++k) {
      fb.woe[k] =
          std::log((good[k] + 0.5) / (goods + 0.5)) - std::log((bad[k] + 0.5) / (bads + 0.5));
      if (fb.count[k] == 0) fb.woe[k] = 0;  // never seen in training: neutral
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      woe_matrix[i * nf + f] = static_cast<float>(fb.woe[bins[i]]);
    }
  }
  ASSIGN_OR_RETURN(LogisticFit fit,
                   FitLogistic(woe_matrix, rows.size(), nf, labels, options.logistic));
  sc->intercept_ = fit.intercept;
  sc->factor_ = options.pdo / std::log(2.0);
  sc->offset_ = options.base_score - sc->factor_ * std::log(options.base_odds);
  // score = offset - factor * logit(PD) = sum of points; intercept and offset spread evenly.
  const double share = (sc->offset_ - sc->factor_ * fit.intercept) / static_cast<double>(nf);
  for (size_t f = 0; f < nf; ++f) {
    ScorecardBinning& fb = sc->features_[f];
    fb.coefficient = fit.beta[f];
    fb.points.resize(fb.woe.size());
    for (size_t k = 0; k < fb.woe.size(); ++k) {
      fb.points[k] = share - sc->factor_ * fit.beta[f] * fb.woe[k];
    }
  }
  return sc;
}

StatusOr<std::unique_ptr<ScorecardEstimator>> ScorecardEstimator::FromJson(
    const nlohmann::json& j, const Preprocessor& pre) {
  try {
    if (j.at("family") != "scorecard") return InvalidArgumentError("model.json: not a scorecard");
    auto sc = std::unique_ptr<ScorecardEstimator>(new ScorecardEstimator());
    sc->options_.pdo = j.at("pdo");
    sc->options_.base_score = j.at("base_score");
    sc->options_.base_odds = j.at("base_odds");
    sc->intercept_ = j.at("intercept");
    sc->factor_ = j.at("factor");
    sc->offset_ = j.at("offset");
    for (const auto& f : j.at("features")) {
      ScorecardBinning b;
      b.edges = f.at("edges").get<std::vector<double>>();
      b.woe = f.at("woe").get<std::vector<double>>();
      b.points = f.at("points").get<std::vector<double>>();
      b.count = f.at("count").get<std::vector<int64_t>>();
      b.coefficient = f.at("coefficient");
      sc->features_.push_back(std::move(b));
    }
    if (sc->features_.size() != pre.features().size()) {
      return InvalidArgumentError("model.json: scorecard features disagree with preprocess.json");
    }
    return sc;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("model.json: ") + e.what());
  }
}

StatusOr<std::string> ScorecardEstimator::Serialize() const {
  nlohmann::json features = nlohmann::json::array();
  for (const ScorecardBinning& b : features_) {
    features.push_back({{"edges", b.edges},
                        {"woe", b.woe},
                        {"points", b.points},
                        {"count", b.count},
                        {"coefficient", b.coefficient}});
  }
  nlohmann::json j = {{"format", "riskpipe.scorecard/1"},
                      {"family", "scorecard"},
                      {"bins",
                       "numeric: (edge[i-1], edge[i]], then above the last edge, then missing; "
                       "categorical: levels of preprocess.json, then other, then missing"},
                      {"score", "sum of points; logit(PD) = (offset - score) / factor"},
                      {"pdo", options_.pdo},
                      {"base_score", options_.base_score},
                      {"base_odds", options_.base_odds},
                      {"factor", factor_},
                      {"offset", offset_},
                      {"intercept", intercept_},
                      {"features", std::move(features)}};
  return j.dump(1) + "\n";
}

StatusOr<std::vector<double>> ScorecardEstimator::Scores(const Frame& frame,
                                                         std::span<const uint32_t> rows,
                                                         const Preprocessor& pre) const {
  std::vector<double> score(rows.size(), 0.0);
  std::vector<int> bins;
  for (size_t f = 0; f < features_.size(); ++f) {
    RETURN_IF_ERROR(BinRows(frame, rows, pre, f, bins));
    for (size_t i = 0; i < rows.size(); ++i) score[i] += features_[f].points[bins[i]];
  }
  return score;
}

StatusOr<std::vector<double>> ScorecardEstimator::Margins(const Frame& frame,
                                                          std::span<const uint32_t> rows,
                                                          const Preprocessor& pre) const {
  ASSIGN_OR_RETURN(std::vector<double> score, Scores(frame, rows, pre));
  for (double& s : score) s = (offset_ - s) / factor_;
  return score;
}

StatusOr<std::vector<double>> ScorecardEstimator::Contributions(const Frame& frame,
                                                                std::span<const uint32_t> rows,
                                                                const Preprocessor& pre) const {
  const size_t nf = features_.size();
  std::vector<double> out(rows.size() * nf);
  std::vector<int> bins;
  for (size_t f = 0; f < nf; ++f) {
    RETURN_IF_ERROR(BinRows(frame, rows, pre, f, bins));
    const double best = *std::max_element(features_[f].points.begin(), features_[f].points.end());
    // Points below the best bin, in margin units: how much this feature raised the log-odds.
    for (size_t i = 0; i < rows.size(); ++i) {
      out[i * nf + f] = (best - features_[f].points[bins[i]]) / factor_;
    }
  }
  return out;
}

// ---- BoosterEstimator ----

StatusOr<std::unique_ptr<BoosterEstimator>> BoosterEstimator::Load(std::string family,
                                                                   std::string_view model_bytes) {
  ASSIGN_OR_RETURN(xgb::Booster booster, xgb::Booster::Load(model_bytes));
  RETURN_IF_ERROR(booster.SetParam("nthread", "1"));
  return std::make_unique<BoosterEstimator>(std::move(family), std::move(booster),
                                            std::string(model_bytes));
}

const FlatForest* BoosterEstimator::forest(size_t width) const {
  std::call_once(forest_once_, [&] {
    StatusOr<std::string> bytes = ubjson_.empty() ? booster_.SaveModel("ubj") : ubjson_;
    if (!bytes.ok()) return;
    if (auto f = FlatForest::FromUbjson(*bytes, width); f.ok()) forest_ = std::move(*f);
  });
  return forest_ && forest_->num_features() == width ? &*forest_ : nullptr;
}

StatusOr<std::vector<double>> BoosterEstimator::Margins(const Frame& frame,
                                                        std::span<const uint32_t> rows,
                                                        const Preprocessor& pre) const {
  std::vector<float> x;
  const FlatForest* flat = forest(pre.width());
  if (flat == nullptr) {
    RETURN_IF_ERROR(pre.Encode(frame, rows, Encoding::kTree, x));
    ASSIGN_OR_RETURN(std::vector<float> m, booster_.PredictMargin(x, rows.size(), pre.width()));
    return std::vector<double>(m.begin(), m.end());
  }
  // Encoding errors (a missing or mistyped column) surface here, before the threads start.
  RETURN_IF_ERROR(pre.Encode(frame, {}, Encoding::kTree, x));
  // Chunks of rows, each encoded and scored by one thread into its slice of the output.
  constexpr size_t kChunk = 8192;
  const size_t chunks = (rows.size() + kChunk - 1) / kChunk;
  std::vector<float> margins(rows.size());
  std::vector<Status> failed(chunks);
  ForBlocks(chunks, rows.size() >= 2 * kChunk ? ThreadCount(0) : 1, [&](size_t c) {
    const size_t start = c * kChunk, n = std::min(kChunk, rows.size() - start);
    std::vector<float> block;
    failed[c] = pre.Encode(frame, rows.subspan(start, n), Encoding::kTree, block);
    if (failed[c].ok()) flat->Margins(block, n, std::span<float>(margins).subspan(start, n));
  });
  for (const Status& s : failed) RETURN_IF_ERROR(s);
  return std::vector<double>(margins.begin(), margins.end());
}

StatusOr<std::vector<double>> BoosterEstimator::Contributions(const Frame& frame,
                                                              std::span<const uint32_t> rows,
                                                              const Preprocessor& pre) const {
  std::vector<float> x;
  RETURN_IF_ERROR(pre.Encode(frame, rows, Encoding::kTree, x));
  const size_t w = pre.width(), nf = pre.features().size();
  ASSIGN_OR_RETURN(std::vector<float> c, booster_.Contributions(x, rows.size(), w));
  std::vector<double> out(rows.size() * nf, 0.0);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < w; ++j) out[i * nf + pre.encoded_feature()[j]] += c[i * (w + 1) + j];
  }
  return out;
}

}  // namespace riskpipe::model
