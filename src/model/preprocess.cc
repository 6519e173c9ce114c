#include "model/preprocess.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

namespace riskpipe::model {

bool FrameColumn::IsMissing(size_t row) const {
  return text ? codes[row] < 0 : std::isnan(numbers[row]);
}

int Frame::Find(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string UnscorableInputText(std::string_view feature, double value) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  const std::string v = ec == std::errc() ? std::string(buf, end) : std::string("?");
  char limit[32];
  // FLT_MAX printed as the float it is (3.4028235e+38), not as its double expansion.
  const auto [lend, lec] =
      std::to_chars(limit, limit + sizeof limit, static_cast<float>(kMaxInputMagnitude));
  return std::string(feature) + " = " + v + " does not fit the model's float inputs (|x| > " +
         std::string(limit, lec == std::errc() ? lend : limit) + ")";
}

std::vector<uint32_t> AllRows(size_t n) {
  std::vector<uint32_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0u);
  return rows;
}

namespace {

constexpr char kOther[] = "(other)";

FeatureSpec FitNumeric(const FrameColumn& col, std::span<const uint32_t> rows) {
  FeatureSpec spec;
  spec.name = col.name;
  spec.sql_type = col.sql_type;
  std::vector<double> values;
  values.reserve(rows.size());
  // A value the model cannot encode (see FitsModelInput) counts as missing in training, as
  // Encode treats it, so it never stretches the range, the mean or the deviation.
  for (uint32_t r : rows) {
    if (FitsModelInput(col.numbers[r])) values.push_back(col.numbers[r]);
  }
  spec.missing_rate = rows.empty() ? 0 : 1.0 - static_cast<double>(values.size()) / rows.size();
  if (values.empty()) return spec;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double median = values[mid];
  if (values.size() % 2 == 0) {
    median = (median + *std::max_element(values.begin(), values.begin() + mid)) / 2;
  }
  spec.median = median;
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  spec.min = *lo;
  spec.max = *hi;
  spec.has_range = true;
  // Mean and deviation after imputation, as the linear model sees the column.
  const double n = static_cast<double>(rows.size());
  double sum = 0;
  for (double v : values) sum += v;
  sum += median * (rows.size() - values.size());
  spec.mean = sum / n;
  double ss = 0;
  for (double v : values) ss += (v - spec.mean) * (v - spec.mean);
  ss += (median - spec.mean) * (median - spec.mean) * (rows.size() - values.size());
  spec.stddev = std::sqrt(ss / n);
  if (!(spec.stddev > 1e-12)) spec.stddev = 1;
  return spec;
}

FeatureSpec FitCategorical(const FrameColumn& col, std::span<const uint32_t> rows, int max_levels) {
  FeatureSpec spec;
  spec.name = col.name;
  spec.categorical = true;
  spec.sql_type = col.sql_type;
  std::vector<int64_t> counts(col.dictionary.size(), 0);
  int64_t missing = 0;
  for (uint32_t r : rows) {
    const int32_t c = col.codes[r];
    if (c < 0) {
      ++missing;
    } else {
      ++counts[c];
    }
  }
  spec.missing_rate = rows.empty() ? 0 : static_cast<double>(missing) / rows.size();
  std::vector<int> order;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > 0) order.push_back(static_cast<int>(i));
  }
  // Most frequent first; ties by value so the encoding does not depend on row order.
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (counts[a] != counts[b]) return counts[a] > counts[b];
    return col.dictionary[a] < col.dictionary[b];
  });
  spec.other = static_cast<int>(order.size()) > max_levels;
  if (spec.other) order.resize(max_levels);
  for (int i : order) spec.levels.push_back(col.dictionary[i]);
  return spec;
}

bool IsConstant(const FeatureSpec& f) {
  return f.categorical ? f.levels.size() + (f.other ? 1 : 0) + (f.missing_rate > 0 ? 1 : 0) < 2
                       : (f.max == f.min && f.missing_rate == 0) || f.missing_rate == 1;
}

}  // namespace

StatusOr<Preprocessor> Preprocessor::Fit(const Frame& frame, const std::vector<std::string>& features,
                                         std::span<const uint32_t> rows, int max_levels) {
  Preprocessor p;
  for (const std::string& name : features) {
    const int c = frame.Find(name);
    if (c < 0) return InvalidArgumentError("feature \"" + name + "\" is not a column of the data");
    const FrameColumn& col = frame.columns[c];
    p.features_.push_back(col.text ? FitCategorical(col, rows, max_levels) : FitNumeric(col, rows));
  }
  if (p.features_.empty()) return InvalidArgumentError("no features to train on");
  if (std::all_of(p.features_.begin(), p.features_.end(), IsConstant)) {
    return InvalidArgumentError("every feature is constant (or missing) on the " +
                                std::to_string(rows.size()) +
                                " training rows: there is nothing to learn from");
  }
  p.Index();
  return p;
}

void Preprocessor::Index() {
  encoded_.clear();
  encoded_feature_.clear();
  for (size_t i = 0; i < features_.size(); ++i) {
    const FeatureSpec& f = features_[i];
    if (!f.categorical) {
      encoded_.push_back(f.name);
      encoded_feature_.push_back(static_cast<int>(i));
      continue;
    }
    for (const std::string& level : f.levels) {
      encoded_.push_back(f.name + "=" + level);
      encoded_feature_.push_back(static_cast<int>(i));
    }
    if (f.other) {
      encoded_.push_back(f.name + "=" + kOther);
      encoded_feature_.push_back(static_cast<int>(i));
    }
  }
}

std::vector<int> Preprocessor::EncodedMonotone() const {
  std::vector<int> out(encoded_.size(), 0);
  for (size_t j = 0; j < encoded_.size(); ++j) {
    const FeatureSpec& f = features_[encoded_feature_[j]];
    if (!f.categorical) out[j] = f.monotone;
  }
  return out;
}

double Preprocessor::Clip(const FeatureSpec& f, double v) {
  if (!f.has_range) return v;
  return v < f.min ? f.min : (v > f.max ? f.max : v);
}

std::optional<size_t> Preprocessor::UnscorableInput(const Frame& frame, uint32_t row) const {
  for (size_t i = 0; i < features_.size(); ++i) {
    if (features_[i].categorical) continue;
    const int c = frame.Find(features_[i].name);
    if (c < 0 || frame.columns[c].text) continue;
    const double v = frame.columns[c].numbers[row];
    if (!std::isnan(v) && !FitsModelInput(v)) return i;
  }
  return std::nullopt;
}

std::vector<size_t> Preprocessor::UnscorableRows(const Frame& frame,
                                                 std::span<const uint32_t> rows) const {
  std::vector<const double*> columns;
  for (const FeatureSpec& f : features_) {
    const int c = f.categorical ? -1 : frame.Find(f.name);
    if (c >= 0 && !frame.columns[c].text) columns.push_back(frame.columns[c].numbers.data());
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const double* x : columns) {
      const double v = x[rows[i]];
      if (!std::isnan(v) && !FitsModelInput(v)) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

Status Preprocessor::Encode(const Frame& frame, std::span<const uint32_t> rows, Encoding encoding,
                            std::vector<float>& out) const {
  const size_t width = encoded_.size();
  out.assign(rows.size() * width, 0.0f);
  size_t offset = 0;  // first encoded column of the current feature
  for (const FeatureSpec& f : features_) {
    const int c = frame.Find(f.name);
    if (c < 0) return InvalidArgumentError("input has no column \"" + f.name + "\"");
    const FrameColumn& col = frame.columns[c];
    if (col.text != f.categorical) {
      return InvalidArgumentError("column \"" + f.name + "\" must be " +
                                  (f.categorical ? "text (categorical)" : "numeric"));
    }
    if (!f.categorical) {
      const bool linear = encoding == Encoding::kLinear;
      for (size_t i = 0; i < rows.size(); ++i) {
        double v = col.numbers[rows[i]];
        // Missing stays missing; a value beyond float's range is encoded as missing too (the
        // row gets no decision: UnscorableInput); anything else is clipped to the range.
        v = FitsModelInput(v) ? Clip(f, v) : std::numeric_limits<double>::quiet_NaN();
        if (linear) {
          if (std::isnan(v)) v = f.median;
          v = (v - f.mean) / f.stddev;
          // Saturate rather than overflow: a standardised value never becomes infinite.
          v = std::clamp(v, -kMaxInputMagnitude, kMaxInputMagnitude);
        }
        out[i * width + offset] = static_cast<float>(v);
      }
      offset += 1;
      continue;
    }
    // Map this frame's dictionary codes to encoded columns (-1: missing, all zeros).
    std::unordered_map<std::string_view, int> level_index;
    for (size_t l = 0; l < f.levels.size(); ++l) level_index.emplace(f.levels[l], static_cast<int>(l));
    const int other = f.other ? static_cast<int>(f.levels.size()) : -1;
    std::vector<int> code_to_col(col.dictionary.size());
    for (size_t d = 0; d < col.dictionary.size(); ++d) {
      auto it = level_index.find(col.dictionary[d]);
      code_to_col[d] = it != level_index.end() ? it->second : other;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const int32_t code = col.codes[rows[i]];
      if (code < 0) continue;
      const int j = code_to_col[code];
      if (j >= 0) out[i * width + offset + j] = 1.0f;
    }
    offset += f.levels.size() + (f.other ? 1 : 0);
  }
  return OkStatus();
}

nlohmann::json Preprocessor::ToJson() const {
  nlohmann::json features = nlohmann::json::array();
  for (const FeatureSpec& f : features_) {
    nlohmann::json j = {{"name", f.name},
                        {"type", f.categorical ? "categorical" : "numeric"},
                        {"sql_type", f.sql_type},
                        {"missing_rate", f.missing_rate}};
    if (f.categorical) {
      j["levels"] = f.levels;
      j["other"] = f.other;
    } else {
      j["median"] = f.median;
      j["mean"] = f.mean;
      j["stddev"] = f.stddev;
      j["min"] = f.min;
      j["max"] = f.max;
      j["monotone"] = f.monotone;
    }
    features.push_back(std::move(j));
  }
  return {{"format", "riskpipe.preprocess/1"},
          {"features", std::move(features)},
          {"encoded_columns", encoded_},
          {"missing", "numeric: NaN for trees, training median for the linear model; "
                      "categorical: all one-hot columns 0"},
          {"out_of_range", "numeric: a value with |x| > 3.4028235e+38 (float's range) or "
                           "infinite is not scored (decision refer); any other value outside "
                           "[min, max] of the training rows is clipped to it"}};
}

StatusOr<Preprocessor> Preprocessor::FromJson(const nlohmann::json& j) {
  try {
    if (j.at("format") != "riskpipe.preprocess/1") {
      return InvalidArgumentError("preprocess.json: unknown format " + j.at("format").dump());
    }
    Preprocessor p;
    for (const auto& f : j.at("features")) {
      FeatureSpec spec;
      spec.name = f.at("name");
      spec.categorical = f.at("type") == "categorical";
      spec.sql_type = f.value("sql_type", "");
      spec.missing_rate = f.value("missing_rate", 0.0);
      if (spec.categorical) {
        spec.levels = f.at("levels").get<std::vector<std::string>>();
        spec.other = f.at("other");
      } else {
        spec.median = f.at("median");
        spec.mean = f.at("mean");
        spec.stddev = f.at("stddev");
        // The training range: optional, so a package written without it still loads (its
        // inputs are then not clipped).
        spec.has_range = f.contains("min") && f.contains("max") && f.at("min").is_number() &&
                         f.at("max").is_number() && spec.missing_rate < 1;
        if (spec.has_range) {
          spec.min = f.at("min");
          spec.max = f.at("max");
          spec.has_range = spec.min <= spec.max;
        }
        spec.monotone = f.value("monotone", 0);
      }
      p.features_.push_back(std::move(spec));
    }
    p.Index();
    if (j.contains("encoded_columns") &&
        j.at("encoded_columns").get<std::vector<std::string>>() != p.encoded_) {
      return InvalidArgumentError("preprocess.json: encoded_columns disagree with the features");
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("preprocess.json: ") + e.what());
  }
}

}  // namespace riskpipe::model
