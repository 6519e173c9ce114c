#pragma once
// Preprocessing fitted on training rows only and saved with the model (preprocess.json):
// the input schema (each feature's name, type, observed range or levels), missing-value
// imputation (training median), category encoding (one-hot over the training levels, at most
// max_levels by frequency; other and unseen levels share an "other" column, missing levels
// are all zeros) and standardisation (training mean and standard deviation) for the linear
// model. Tree models see numeric values as they are (NaN = missing, which XGBoost routes).
// Numeric inputs pass one rule before any encoding (docs/model-package.md, "Inputs outside
// the training range"): a value that does not fit the float the model computes in (|x| >
// FLT_MAX, or infinite) is not scorable, and a finite value outside the training range
// [min, max] is clipped to it; so no encoded value is ever infinite.
// Immutable once fitted; thread-safe.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "model/frame.h"

namespace riskpipe::model {

enum class Encoding {
  kTree,    // numeric as is (NaN kept), one-hot categories
  kLinear,  // numeric imputed with the training median and standardised, one-hot categories
};

// The largest magnitude a numeric input may have: the model encodes inputs as float, and
// anything beyond FLT_MAX would become infinite (and inf x 0 = NaN downstream).
inline constexpr double kMaxInputMagnitude = std::numeric_limits<float>::max();

// True when `v` can be encoded: finite and |v| <= kMaxInputMagnitude. False for NaN.
inline bool FitsModelInput(double v) { return v >= -kMaxInputMagnitude && v <= kMaxInputMagnitude; }

// "loan_amt = 1e+39 does not fit the model's float inputs (|x| > 3.4028235e+38)": why a numeric
// input that FitsModelInput rejects cannot be scored.
std::string UnscorableInputText(std::string_view feature, double value);

struct FeatureSpec {
  std::string name;
  bool categorical = false;
  std::string sql_type;
  // Numeric features (training rows).
  double median = 0, mean = 0, stddev = 1, min = 0, max = 0;
  // Whether [min, max] is the range of values seen in training (false when every training
  // value was missing, or for a package written without it): only then are inputs clipped.
  bool has_range = false;
  double missing_rate = 0;
  // Categorical features: kept levels, most frequent first; `other` when some training
  // levels were folded into the "other" column.
  std::vector<std::string> levels;
  bool other = false;
  int monotone = 0;  // +1: PD must not fall as the value rises; -1: must not rise
};

class Preprocessor {
 public:
  // Fits on `rows` of `frame` for the named feature columns. InvalidArgument when a column is
  // missing, or when every feature is constant on the training rows.
  static StatusOr<Preprocessor> Fit(const Frame& frame, const std::vector<std::string>& features,
                                    std::span<const uint32_t> rows, int max_levels);

  const std::vector<FeatureSpec>& features() const { return features_; }
  std::vector<FeatureSpec>& mutable_features() { return features_; }
  // Names of the encoded columns: "age", "occupation=Lawyer", "occupation=(other)".
  const std::vector<std::string>& encoded_names() const { return encoded_; }
  // For each encoded column, the index of the feature it comes from.
  const std::vector<int>& encoded_feature() const { return encoded_feature_; }
  size_t width() const { return encoded_.size(); }

  // Encodes `rows` of `frame` (columns found by name; text levels matched by value) into a
  // row-major float matrix of rows.size() x width(). Numeric values are clipped to the
  // training range; a value that is not FitsModelInput is encoded as missing (callers refuse
  // to decide on such a row: see UnscorableInput). Every output value is finite or NaN, never
  // infinite. InvalidArgument naming a missing column or a column of the wrong kind.
  Status Encode(const Frame& frame, std::span<const uint32_t> rows, Encoding encoding,
                std::vector<float>& out) const;
  // The first numeric input feature (index into features()) of row `row` of `frame` whose value
  // is present but not FitsModelInput (infinite, or beyond float's range), or nullopt when
  // the row can be scored. Such a row gets no PD (ModelPackage::Score gives NaN) and no
  // decision (refer). Columns the frame lacks are skipped (Encode reports them).
  std::optional<size_t> UnscorableInput(const Frame& frame, uint32_t row) const;
  // The positions i (ascending) of `rows` whose row has an UnscorableInput: one pass over the
  // numeric columns, for batches.
  std::vector<size_t> UnscorableRows(const Frame& frame, std::span<const uint32_t> rows) const;
  // `v` as the model sees it: clipped to the feature's training range when it has one.
  // `v` must be a present, FitsModelInput value.
  static double Clip(const FeatureSpec& f, double v);
  // Monotone constraint per encoded column (0 for one-hot columns).
  std::vector<int> EncodedMonotone() const;

  nlohmann::json ToJson() const;
  static StatusOr<Preprocessor> FromJson(const nlohmann::json& j);

 private:
  void Index();
  std::vector<FeatureSpec> features_;
  std::vector<std::string> encoded_;
  std::vector<int> encoded_feature_;
};

// All row indices 0..n-1.
std::vector<uint32_t> AllRows(size_t n);

}  // namespace riskpipe::model
