#include "features/snapshot_file.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <memory>
#include <unordered_map>

#include "features/internal/hashed_file.h"

// features.csv: the writer and the reader of the text format (docs/online-store.md,
// "Snapshot files").

namespace riskpipe::features {
namespace fs = std::filesystem;
using internal::HashedFile;

StatusOr<SnapshotFileInfo> WriteSnapshotCsv(const SnapshotTable& table, bool quote_entity,
                                            const fs::path& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<HashedFile> out, HashedFile::Create(path));
  const size_t ncol = table.columns.size();
  std::string line;
  auto quoted = [&line](std::string_view v) {
    line.push_back('"');
    for (char ch : v) {
      line.push_back(ch);
      if (ch == '"') line.push_back('"');
    }
    line.push_back('"');
  };
  for (size_t c = 0; c < ncol; ++c) {
    if (c > 0) line.push_back(',');
    const std::string& name = table.columns[c].name;
    if (name.find_first_of(",\"\n\r") != std::string::npos) {
      quoted(name);
    } else {
      line += name;
    }
  }
  line.push_back('\n');
  out->Append(line.data(), line.size());
  char number[32];
  for (size_t r = 0; r < table.rows; ++r) {
    line.clear();
    for (size_t c = 0; c < ncol; ++c) {
      if (c > 0) line.push_back(',');
      const SnapshotTable::Column& col = table.columns[c];
      if (col.text) {
        const int32_t code = col.codes[r];
        if (code < 0) continue;
        const std::string_view text = col.dictionary[code];
        if (c == 0 && !quote_entity) {
          line += text;
        } else {
          quoted(text);
        }
      } else if (const double v = col.numbers[r]; !std::isnan(v)) {
        const auto res = std::to_chars(number, number + sizeof number, v);
        line.append(number, res.ptr);
      }
    }
    line.push_back('\n');
    out->Append(line.data(), line.size());
  }
  return out->Finish();
}

namespace {

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Parses features.csv (RFC 4180 as WriteSnapshotCsv writes it: ',' separated, '"' quoted with
// '""' escapes, an unquoted empty field is NULL) into cells.
class CsvParser {
 public:
  CsvParser(std::string_view data, const std::string& file, const SnapshotShape& shape)
      : data_(data), file_(file), shape_(shape) {
    for (const bool numeric : shape.numeric) {
      slot_.push_back(static_cast<uint32_t>(numeric ? numeric_count_++ : text_count_++));
    }
  }

  StatusOr<SnapshotCells> Parse() {
    cells_.dictionaries.resize(text_count_);
    dict_index_.resize(text_count_);
    // The manifest's count sizes the buffers; it is bounded by the file (>= 2 bytes a row).
    const size_t rows = static_cast<size_t>(
        std::clamp<int64_t>(shape_.rows, 0, static_cast<int64_t>(data_.size() / 2)));
    cells_.numbers.reserve(rows * numeric_count_);
    cells_.valid.reserve(rows * numeric_count_);
    cells_.text_codes.reserve(rows * text_count_);
    cells_.entity_offsets.reserve(rows + 1);
    cells_.entity_offsets.push_back(0);

    RETURN_IF_ERROR(ParseHeader());
    while (pos_ < data_.size()) RETURN_IF_ERROR(ParseRow());
    if (static_cast<int64_t>(cells_.rows()) != shape_.rows) {
      return DataLossError(file_ + ": " + std::to_string(cells_.rows()) +
                           " rows, but the manifest says " + std::to_string(shape_.rows));
    }
    return std::move(cells_);
  }

 private:
  Status Error(const std::string& what) const {
    return DataLossError(file_ + ": line " + std::to_string(row_line_) + ": " + what);
  }

  // Reads the field at pos_ into field_ (a view into the data, or into scratch_ when it had
  // escaped quotes) and quoted_; returns the terminator (',', '\n', or 0 at end of data).
  StatusOr<char> NextField() {
    quoted_ = false;
    if (pos_ < data_.size() && data_[pos_] == '"') {
      RETURN_IF_ERROR(QuotedField());
    } else {
      const size_t begin = pos_;
      while (pos_ < data_.size() && data_[pos_] != ',' && data_[pos_] != '\n' &&
             data_[pos_] != '\r' && data_[pos_] != '"') {
        ++pos_;
      }
      field_ = data_.substr(begin, pos_ - begin);
    }
    if (pos_ == data_.size()) return '\0';
    char c = data_[pos_++];
    if (c == '\r' && pos_ < data_.size() && data_[pos_] == '\n') c = data_[pos_++];
    if (c == '\n') ++line_;
    if (c != ',' && c != '\n') {
      return Error("unexpected character '" + std::string(1, c) + "' after field " +
                   std::to_string(fields_ + 1));
    }
    return c;
  }

  // A quoted field at pos_: into field_, its escaped quotes undone.
  Status QuotedField() {
    quoted_ = true;
    const size_t begin = ++pos_;
    bool escaped = false;
    while (true) {
      const size_t q = data_.find('"', pos_);
      if (q == std::string_view::npos) return Error("unterminated quoted field");
      if (q + 1 < data_.size() && data_[q + 1] == '"') {
        escaped = true;
        pos_ = q + 2;
        continue;
      }
      field_ = data_.substr(begin, q - begin);
      pos_ = q + 1;
      break;
    }
    line_ += static_cast<int64_t>(std::count(field_.begin(), field_.end(), '\n'));
    if (escaped) {
      scratch_.clear();
      for (size_t i = 0; i < field_.size(); ++i) {
        scratch_.push_back(field_[i]);
        if (field_[i] == '"') ++i;
      }
      field_ = scratch_;
    }
    return OkStatus();
  }

  Status ParseHeader() {
    row_line_ = line_;
    std::vector<std::string> header;
    char end = ',';
    while (end == ',') {
      ASSIGN_OR_RETURN(end, NextField());
      header.emplace_back(field_);
      ++fields_;
    }
    std::vector<std::string> expected = {shape_.entity};
    expected.insert(expected.end(), shape_.features.begin(), shape_.features.end());
    if (header != expected) {
      std::string got;
      for (const auto& h : header) got += (got.empty() ? "" : ",") + h;
      return Error("header \"" + got + "\" does not match the manifest's entity and features");
    }
    return OkStatus();
  }

  Status ParseRow() {
    row_line_ = line_;
    const size_t nfeat = shape_.features.size();
    fields_ = 0;
    ASSIGN_OR_RETURN(char end, NextField());
    if (field_.empty()) return Error("empty entity");
    const size_t row = cells_.rows();
    cells_.entities.append(field_);
    cells_.entity_offsets.push_back(cells_.entities.size());
    cells_.numbers.resize(cells_.numbers.size() + numeric_count_);
    cells_.valid.resize(cells_.valid.size() + numeric_count_);
    cells_.text_codes.resize(cells_.text_codes.size() + text_count_);
    double* numbers = cells_.numbers.data() + row * numeric_count_;
    uint8_t* valid = cells_.valid.data() + row * numeric_count_;
    uint32_t* codes = cells_.text_codes.data() + row * text_count_;
    for (size_t i = 0; i < nfeat; ++i) {
      if (end != ',') {
        return Error("expected " + std::to_string(nfeat + 1) + " fields, found " +
                     std::to_string(i + 1));
      }
      ++fields_;
      ASSIGN_OR_RETURN(end, NextField());
      const uint32_t slot = slot_[i];
      const bool null = field_.empty() && !quoted_;
      if (shape_.numeric[i]) {
        if (null) continue;
        RETURN_IF_ERROR(ParseNumber(i, numbers[slot]));
        valid[slot] = 1;
      } else if (!null) {
        codes[slot] = Code(slot);
      }
    }
    if (end == ',') return Error("more than " + std::to_string(nfeat + 1) + " fields");
    return OkStatus();
  }

  Status ParseNumber(size_t feature, double& out) {
    const char* first = field_.data();
    const char* last = first + field_.size();
    if (first != last && *first == '+') ++first;
    auto [ptr, ec] = std::from_chars(first, last, out);
    if (ec == std::errc() && ptr == last) return OkStatus();
    if (field_ == "true" || field_ == "false") {
      out = field_ == "true" ? 1 : 0;
      return OkStatus();
    }
    return Error("column " + shape_.features[feature] + ": \"" + std::string(field_) +
                 "\" is not a number");
  }

  // The code of field_ in text slot `slot`'s dictionary (index + 1), adding it when new.
  uint32_t Code(uint32_t slot) {
    auto& index = dict_index_[slot];
    auto it = index.find(field_);
    if (it != index.end()) return it->second;
    auto& dict = cells_.dictionaries[slot];
    dict.emplace_back(field_);
    const auto code = static_cast<uint32_t>(dict.size());
    index.emplace(std::string(field_), code);
    return code;
  }

  std::string_view data_;
  const std::string& file_;
  const SnapshotShape& shape_;
  std::vector<uint32_t> slot_;  // per feature: its position among numeric (or text) ones
  size_t numeric_count_ = 0, text_count_ = 0;
  SnapshotCells cells_;
  size_t pos_ = 0;
  int64_t line_ = 1, row_line_ = 1;
  size_t fields_ = 0;
  std::string_view field_;
  bool quoted_ = false;
  std::string scratch_;
  // Owns its keys: a view into the dictionary would dangle when the dictionary's vector grows
  // and moves its short (in-place) strings.
  std::vector<std::unordered_map<std::string, uint32_t, TransparentHash, std::equal_to<>>>
      dict_index_;
};

}  // namespace

StatusOr<SnapshotCells> ReadSnapshotCsv(std::string_view data, const std::string& file,
                                        const SnapshotShape& shape) {
  return CsvParser(data, file, shape).Parse();
}

}  // namespace riskpipe::features
