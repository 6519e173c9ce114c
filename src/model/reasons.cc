#include "model/reasons.h"

#include <algorithm>

namespace riskpipe::model {

ReasonTable::ReasonTable(std::string version, int top, std::map<std::string, std::string> texts)
    : version_(std::move(version)), top_(std::max(1, top)), texts_(texts.begin(), texts.end()) {}

std::string ReasonTable::Text(std::string_view feature) const {
  if (auto it = texts_.find(feature); it != texts_.end()) return it->second;
  return std::string(feature) + " increases the estimated risk";
}

size_t ReasonTable::TopIndices(std::span<const double> row, std::span<size_t> out) const {
  const size_t k = std::min<size_t>(out.size(), static_cast<size_t>(top_));
  size_t n = 0;
  // Insertion into a small sorted buffer: k is tiny (<= 20), rows have tens of features.
  for (size_t f = 0; f < row.size(); ++f) {
    const double c = row[f];
    if (!(c > 0)) continue;  // also skips NaN
    size_t pos = n;
    while (pos > 0 && row[out[pos - 1]] < c) --pos;  // strict: ties keep feature order
    if (pos >= k) continue;
    if (n < k) ++n;
    for (size_t j = n - 1; j > pos; --j) out[j] = out[j - 1];
    out[pos] = f;
  }
  return n;
}

std::vector<Reason> ReasonTable::Top(std::span<const double> row,
                                     std::span<const std::string> features) const {
  std::vector<size_t> idx(static_cast<size_t>(top_));
  const size_t n = TopIndices(row.first(std::min(row.size(), features.size())), idx);
  std::vector<Reason> reasons;
  reasons.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& f = features[idx[i]];
    reasons.push_back({f, Text(f), row[idx[i]]});
  }
  return reasons;
}

}  // namespace riskpipe::model
