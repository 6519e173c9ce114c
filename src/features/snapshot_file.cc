#include "features/snapshot_file.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/memory.h"
#include "features/internal/hashed_file.h"

// features.bin: the writer and the reader of the binary layout (docs/online-store.md,
// "Snapshot files"). Little-endian, every section 8-aligned, so the loader copies sections
// into place instead of parsing them.

namespace riskpipe::features {
namespace fs = std::filesystem;
using internal::HashedFile;
using internal::Pad8;

namespace {

static_assert(std::endian::native == std::endian::little, "features.bin is little-endian");

// features.bin starts with these 8 bytes, then the 24-byte header (docs/online-store.md).
constexpr char kMagic[8] = {'R', 'P', 'O', 'N', 'L', 'I', 'N', '2'};
constexpr size_t kHeaderBytes = 32;

// The text of row `r` of a text column ("" for null: callers check codes first).
std::string_view TextAt(const SnapshotTable::Column& c, size_t r) {
  const int32_t code = c.codes[r];
  return code < 0 ? std::string_view() : std::string_view(c.dictionary[code]);
}

// Reads consecutive sections of a features.bin image, each bounds-checked against its size.
class Cursor {
 public:
  Cursor(std::string_view data, const std::string& file) : data_(data), file_(file) {}

  // `count` items of T at the cursor (8-aligned), or DataLoss naming `section`.
  template <typename T>
  StatusOr<const T*> Take(uint64_t count, const char* section) {
    if (count > (data_.size() - pos_) / sizeof(T)) {
      return Error(section,
                   "is cut short (the file has " + std::to_string(data_.size()) + " bytes)");
    }
    const T* p = reinterpret_cast<const T*>(data_.data() + pos_);
    pos_ += count * sizeof(T);
    return p;
  }
  StatusOr<std::string_view> Bytes(uint64_t count, const char* section) {
    ASSIGN_OR_RETURN(const char* p, Take<char>(count, section));
    return std::string_view(p, count);
  }
  void Align() { pos_ = std::min(Pad8(pos_), data_.size()); }
  size_t pos() const { return pos_; }
  Status Error(const std::string& section, const std::string& what) const {
    return DataLossError(file_ + ": " + section + " " + what);
  }

 private:
  std::string_view data_;
  const std::string& file_;
  size_t pos_ = 0;
};

// Offsets [0, ..., total] into a blob of `total` bytes must never decrease.
Status CheckOffsets(const Cursor& cur, const uint64_t* offsets, uint64_t count, uint64_t total,
                    const std::string& section) {
  if (offsets[0] != 0 || offsets[count] != total) {
    return cur.Error(section, "offsets do not span its " + std::to_string(total) + " bytes");
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (offsets[i + 1] < offsets[i]) {
      return cur.Error(section, "offset " + std::to_string(i + 1) + " goes backwards");
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<SnapshotFileInfo> WriteSnapshotBinary(const SnapshotTable& table, const fs::path& path) {
  const size_t rows = table.rows;
  const SnapshotTable::Column& entity = table.columns.at(0);
  std::vector<const SnapshotTable::Column*> numeric, text;
  for (size_t c = 1; c < table.columns.size(); ++c) {
    (table.columns[c].text ? text : numeric).push_back(&table.columns[c]);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<HashedFile> out, HashedFile::Create(path));
  uint64_t entity_bytes = 0;
  for (size_t r = 0; r < rows; ++r) entity_bytes += TextAt(entity, r).size();
  out->Append(kMagic, sizeof kMagic);
  out->Put<uint64_t>(rows);
  out->Put<uint32_t>(static_cast<uint32_t>(numeric.size()));
  out->Put<uint32_t>(static_cast<uint32_t>(text.size()));
  out->Put<uint64_t>(entity_bytes);
  uint64_t offset = 0;
  out->Put<uint64_t>(0);
  for (size_t r = 0; r < rows; ++r) {
    offset += TextAt(entity, r).size();
    out->Put<uint64_t>(offset);
  }
  for (size_t r = 0; r < rows; ++r) {
    const std::string_view e = TextAt(entity, r);
    out->Append(e.data(), e.size());
  }
  out->PadTo8();

  // Row-major blocks, written column by column into the buffer (a block stays in cache).
  const size_t width = numeric.size();
  if (width > 0) {
    const size_t block = std::max<size_t>(1, (1 << 20) / (width * sizeof(double)));
    for (size_t begin = 0; begin < rows; begin += block) {
      const size_t n = std::min(block, rows - begin);
      double* dst = reinterpret_cast<double*>(out->Space(n * width * sizeof(double)));
      for (size_t j = 0; j < width; ++j) {
        const double* src = numeric[j]->numbers.data() + begin;
        for (size_t r = 0; r < n; ++r) dst[r * width + j] = std::isnan(src[r]) ? 0.0 : src[r];
      }
      out->Commit(n * width * sizeof(double));
    }
    const size_t vblock = std::max<size_t>(1, (1 << 20) / width);
    for (size_t begin = 0; begin < rows; begin += vblock) {
      const size_t n = std::min(vblock, rows - begin);
      auto* dst = reinterpret_cast<uint8_t*>(out->Space(n * width));
      for (size_t j = 0; j < width; ++j) {
        const double* src = numeric[j]->numbers.data() + begin;
        for (size_t r = 0; r < n; ++r) dst[r * width + j] = std::isnan(src[r]) ? 0 : 1;
      }
      out->Commit(n * width);
    }
    out->PadTo8();
  }
  const size_t texts = text.size();
  if (texts > 0) {
    const size_t block = std::max<size_t>(1, (1 << 20) / (texts * sizeof(uint32_t)));
    for (size_t begin = 0; begin < rows; begin += block) {
      const size_t n = std::min(block, rows - begin);
      auto* dst = reinterpret_cast<uint32_t*>(out->Space(n * texts * sizeof(uint32_t)));
      for (size_t j = 0; j < texts; ++j) {
        const int32_t* src = text[j]->codes.data() + begin;
        for (size_t r = 0; r < n; ++r) dst[r * texts + j] = static_cast<uint32_t>(src[r] + 1);
      }
      out->Commit(n * texts * sizeof(uint32_t));
    }
    out->PadTo8();
    for (const auto* col : text) {
      uint64_t bytes = 0;
      for (const auto& v : col->dictionary) bytes += v.size();
      out->Put<uint64_t>(col->dictionary.size());
      out->Put<uint64_t>(bytes);
      uint64_t at = 0;
      out->Put<uint64_t>(0);
      for (const auto& v : col->dictionary) out->Put<uint64_t>(at += v.size());
      for (const auto& v : col->dictionary) out->Append(v.data(), v.size());
      out->PadTo8();
    }
  }
  return out->Finish();
}

StatusOr<SnapshotCells> ReadSnapshotBinary(std::string_view data, const std::string& file,
                                           const SnapshotShape& shape) {
  Cursor cur(data, file);
  const uint32_t want_numeric =
      static_cast<uint32_t>(std::count(shape.numeric.begin(), shape.numeric.end(), true));
  const uint32_t want_texts = static_cast<uint32_t>(shape.numeric.size()) - want_numeric;
  ASSIGN_OR_RETURN(const char* header, cur.Take<char>(kHeaderBytes, "header"));
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    return cur.Error("header", "does not start with the features.bin magic \"RPONLIN2\"");
  }
  uint64_t n = 0, entity_bytes = 0;
  uint32_t numeric = 0, texts = 0;
  std::memcpy(&n, header + 8, 8);
  std::memcpy(&numeric, header + 16, 4);
  std::memcpy(&texts, header + 20, 4);
  std::memcpy(&entity_bytes, header + 24, 8);
  if (shape.rows < 0 || n != static_cast<uint64_t>(shape.rows)) {
    return cur.Error("header", "says " + std::to_string(n) + " rows, but the manifest says " +
                                   std::to_string(shape.rows));
  }
  if (numeric != want_numeric || texts != want_texts) {
    return cur.Error("header", "has " + std::to_string(numeric) + " numeric and " +
                                   std::to_string(texts) + " text features, but the manifest " +
                                   std::to_string(want_numeric) + " and " +
                                   std::to_string(want_texts));
  }
  // Every row takes at least its 8-byte entity offset, so this bounds the products below.
  if (n > data.size() / 8) return cur.Error("header", "says more rows than the file can hold");
  SnapshotCells cells;
  ASSIGN_OR_RETURN(const uint64_t* offsets, cur.Take<uint64_t>(n + 1, "entity offsets"));
  RETURN_IF_ERROR(CheckOffsets(cur, offsets, n, entity_bytes, "entity offsets"));
  ASSIGN_OR_RETURN(std::string_view entities, cur.Bytes(entity_bytes, "entities"));
  cur.Align();
  // New storage is advised onto huge pages before it is filled (core/memory.h).
  ReserveHuge(cells.entities, entities.size());
  cells.entities.assign(entities);
  ReserveHuge(cells.entity_offsets, n + 1);
  cells.entity_offsets.assign(offsets, offsets + n + 1);

  const uint64_t count = n * numeric;
  ASSIGN_OR_RETURN(const double* numbers, cur.Take<double>(count, "numbers"));
  ASSIGN_OR_RETURN(const uint8_t* valid, cur.Take<uint8_t>(count, "validity"));
  cur.Align();
  for (uint64_t i = 0; i < count; ++i) {
    if (valid[i] > 1) {
      return cur.Error("validity", "byte " + std::to_string(i) + " is " + std::to_string(valid[i]) +
                                       ", not 0 or 1");
    }
  }
  ReserveHuge(cells.numbers, count);
  cells.numbers.assign(numbers, numbers + count);
  ReserveHuge(cells.valid, count);
  cells.valid.assign(valid, valid + count);

  ASSIGN_OR_RETURN(const uint32_t* codes, cur.Take<uint32_t>(n * texts, "text codes"));
  cur.Align();
  cells.dictionaries.assign(texts, {});
  std::vector<uint64_t> sizes(texts);
  for (uint32_t t = 0; t < texts; ++t) {
    const std::string section = "dictionary " + std::to_string(t + 1);
    ASSIGN_OR_RETURN(const uint64_t* head, cur.Take<uint64_t>(2, section.c_str()));
    const uint64_t values = head[0], bytes = head[1];
    ASSIGN_OR_RETURN(const uint64_t* at, cur.Take<uint64_t>(values + 1, section.c_str()));
    RETURN_IF_ERROR(CheckOffsets(cur, at, values, bytes, section));
    ASSIGN_OR_RETURN(std::string_view blob, cur.Bytes(bytes, section.c_str()));
    cur.Align();
    auto& dict = cells.dictionaries[t];
    dict.reserve(values);
    for (uint64_t i = 0; i < values; ++i) dict.emplace_back(blob.substr(at[i], at[i + 1] - at[i]));
    sizes[t] = values;
  }
  for (uint64_t i = 0; i < n * texts; ++i) {
    if (codes[i] > sizes[i % texts]) {
      return cur.Error("text codes", "row " + std::to_string(i / texts + 1) + " has code " +
                                         std::to_string(codes[i]) + " beyond its dictionary of " +
                                         std::to_string(sizes[i % texts]));
    }
  }
  ReserveHuge(cells.text_codes, n * texts);
  cells.text_codes.assign(codes, codes + n * texts);
  if (cur.pos() != data.size()) {
    return cur.Error("end", "has " + std::to_string(data.size() - cur.pos()) +
                                " bytes after the last dictionary");
  }
  return cells;
}
}  // namespace riskpipe::features
