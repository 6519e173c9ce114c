#include "features/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <future>
#include <limits>
#include <memory>

#include "core/hash.h"
#include "core/memory.h"
#include "features/online_store.h"

namespace riskpipe::features {
namespace fs = std::filesystem;

namespace {

static_assert(std::endian::native == std::endian::little, "features.bin is little-endian");

// features.bin starts with these 8 bytes, then the 24-byte header (docs/online-store.md).
constexpr char kMagic[8] = {'R', 'P', 'O', 'N', 'L', 'I', 'N', '2'};
constexpr size_t kHeaderBytes = 32;

size_t Pad8(size_t n) { return (n + 7) & ~size_t{7}; }

// A new file written through two buffers: while one is written to the file and hashed (on
// two more threads, side by side), the caller fills the other. Errors are kept and reported by
// Finish().
class HashedFile {
 public:
  static StatusOr<std::unique_ptr<HashedFile>> Create(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return InternalError(path.string() + ": cannot create: " + std::strerror(errno));
    }
    return std::unique_ptr<HashedFile>(new HashedFile(path, fd));
  }
  HashedFile(const HashedFile&) = delete;
  HashedFile& operator=(const HashedFile&) = delete;
  ~HashedFile() {
    Wait();
    if (fd_ >= 0) ::close(fd_);
  }

  // Room for `n` bytes (n <= kBufferBytes) at the end of the buffer; Commit(n) keeps them.
  char* Space(size_t n) {
    if (fill_ + n > kBufferBytes) Flush();
    return buffers_[current_].get() + fill_;
  }
  void Commit(size_t n) { fill_ += n; }
  void Append(const void* p, size_t n) {
    const char* bytes = static_cast<const char*>(p);
    while (n > 0) {
      const size_t piece = std::min(n, kBufferBytes);
      std::memcpy(Space(piece), bytes, piece);
      Commit(piece);
      bytes += piece;
      n -= piece;
    }
  }
  template <typename T>
  void Put(T value) {
    Append(&value, sizeof value);
  }
  void PadTo8() {
    static constexpr char kZeros[8] = {};
    Append(kZeros, Pad8(bytes()) - bytes());
  }
  // Bytes appended so far (written or buffered).
  uint64_t bytes() const { return bytes_ + fill_; }

  // Writes what is buffered, fsyncs and closes; the size and digest of the whole file.
  StatusOr<SnapshotFileInfo> Finish() {
    Flush();
    Wait();
    if (error_.empty() && ::fsync(fd_) != 0) error_ = std::string("fsync: ") + std::strerror(errno);
    if (::close(fd_) != 0 && error_.empty()) error_ = std::string("close: ") + std::strerror(errno);
    fd_ = -1;
    if (!error_.empty()) return InternalError(path_.string() + ": " + error_);
    return SnapshotFileInfo{static_cast<int64_t>(bytes_), sha_.HexDigest()};
  }

 private:
  static constexpr size_t kBufferBytes = 8 << 20;

  HashedFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {
    for (auto& b : buffers_) b = std::make_unique<char[]>(kBufferBytes);
  }

  // Hands the current buffer to two more threads, one hashing it and one writing it (after
  // the previous buffer is done with, the one filled next), and switches to the other buffer.
  // Each write also starts the kernel's writeback of its range, so the final fsync mostly
  // waits for what is already under way (on this machine hashing 405 MB took 0.29 s and
  // writing it 0.4-0.6 s, one after the other on one thread before).
  void Flush() {
    if (fill_ == 0) return;
    Wait();
    const char* data = buffers_[current_].get();
    const size_t size = fill_;
    hashing_ = std::async(std::launch::async,
                          [this, data, size] { sha_.Update(std::string_view(data, size)); });
    const uint64_t offset = bytes_;
    writing_ = std::async(std::launch::async, [this, data, size, offset] {
      for (size_t done = 0; done < size && error_.empty();) {
        const ssize_t n = ::write(fd_, data + done, size - done);
        if (n < 0) {
          if (errno == EINTR) continue;
          error_ = std::string("write: ") + std::strerror(errno);
        } else {
          done += static_cast<size_t>(n);
        }
      }
      // Only a hint: fsync in Finish() is what makes the file durable.
      (void)::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(size),
                              SYNC_FILE_RANGE_WRITE);
    });
    bytes_ += size;
    current_ ^= 1;
    fill_ = 0;
  }
  void Wait() {
    if (hashing_.valid()) hashing_.wait();
    if (writing_.valid()) writing_.wait();
  }

  fs::path path_;
  int fd_ = -1;
  std::unique_ptr<char[]> buffers_[2];
  int current_ = 0;
  size_t fill_ = 0;
  uint64_t bytes_ = 0;  // handed to the file
  Sha256Stream sha_;
  std::future<void> hashing_, writing_;
  std::string error_;  // written only by the writing task, read after waiting for it
};

// The text of row `r` of a text column ("" for null: callers check codes first).
std::string_view TextAt(const db::ColumnarTable::Column& c, size_t r) {
  const int32_t code = c.codes[r];
  return code < 0 ? std::string_view() : std::string_view(c.dictionary[code]);
}

}  // namespace

StatusOr<SnapshotFileInfo> WriteSnapshotBinary(const db::ColumnarTable& table,
                                               const fs::path& path) {
  const size_t rows = table.rows;
  const db::ColumnarTable::Column& entity = table.columns.at(0);
  std::vector<const db::ColumnarTable::Column*> numeric, text;
  for (size_t c = 1; c < table.columns.size(); ++c) {
    (table.columns[c].is_text() ? text : numeric).push_back(&table.columns[c]);
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

StatusOr<SnapshotFileInfo> WriteSnapshotCsv(const db::ColumnarTable& table, bool quote_entity,
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
      const db::ColumnarTable::Column& col = table.columns[c];
      if (col.is_text()) {
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

// ---------------------------------------------------------------------------------------------
// Reading.

namespace {

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

Status BinarySnapshotReader::Read(std::string_view data, const std::string& file, int64_t rows,
                                  OnlineSnapshot& snap) {
  Cursor cur(data, file);
  const size_t nfeat = snap.features_.size();
  for (size_t i = 0; i < nfeat; ++i) {
    const bool numeric = snap.features_[i].numeric;
    snap.slot_.push_back(
        static_cast<uint32_t>(numeric ? snap.numeric_count_++ : snap.text_count_++));
  }
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
  if (rows < 0 || n != static_cast<uint64_t>(rows)) {
    return cur.Error("header", "says " + std::to_string(n) + " rows, but the manifest says " +
                                   std::to_string(rows));
  }
  if (numeric != snap.numeric_count_ || texts != snap.text_count_) {
    return cur.Error("header", "has " + std::to_string(numeric) + " numeric and " +
                                   std::to_string(texts) + " text features, but the manifest " +
                                   std::to_string(snap.numeric_count_) + " and " +
                                   std::to_string(snap.text_count_));
  }
  // Every row takes at least its 8-byte entity offset, so this bounds the products below.
  if (n > data.size() / 8) return cur.Error("header", "says more rows than the file can hold");
  ASSIGN_OR_RETURN(const uint64_t* offsets, cur.Take<uint64_t>(n + 1, "entity offsets"));
  RETURN_IF_ERROR(CheckOffsets(cur, offsets, n, entity_bytes, "entity offsets"));
  ASSIGN_OR_RETURN(std::string_view entities, cur.Bytes(entity_bytes, "entities"));
  cur.Align();
  // New storage is advised onto huge pages before it is filled (core/memory.h).
  ReserveHuge(snap.entities_, entities.size());
  snap.entities_.assign(entities);
  ReserveHuge(snap.row_entity_, n + 1);
  snap.row_entity_.assign(offsets, offsets + n + 1);

  const uint64_t cells = n * numeric;
  ASSIGN_OR_RETURN(const double* numbers, cur.Take<double>(cells, "numbers"));
  ASSIGN_OR_RETURN(const uint8_t* valid, cur.Take<uint8_t>(cells, "validity"));
  cur.Align();
  for (uint64_t i = 0; i < cells; ++i) {
    if (valid[i] > 1) {
      return cur.Error("validity", "byte " + std::to_string(i) + " is " + std::to_string(valid[i]) +
                                       ", not 0 or 1");
    }
  }
  ReserveHuge(snap.numbers_, cells);
  snap.numbers_.assign(numbers, numbers + cells);
  ReserveHuge(snap.valid_, cells);
  snap.valid_.assign(valid, valid + cells);

  ASSIGN_OR_RETURN(const uint32_t* codes, cur.Take<uint32_t>(n * texts, "text codes"));
  cur.Align();
  snap.dictionaries_.assign(texts, {});
  std::vector<uint64_t> sizes(texts);
  for (uint32_t t = 0; t < texts; ++t) {
    const std::string section = "dictionary " + std::to_string(t + 1);
    ASSIGN_OR_RETURN(const uint64_t* head, cur.Take<uint64_t>(2, section.c_str()));
    const uint64_t count = head[0], bytes = head[1];
    ASSIGN_OR_RETURN(const uint64_t* at, cur.Take<uint64_t>(count + 1, section.c_str()));
    RETURN_IF_ERROR(CheckOffsets(cur, at, count, bytes, section));
    ASSIGN_OR_RETURN(std::string_view blob, cur.Bytes(bytes, section.c_str()));
    cur.Align();
    auto& dict = snap.dictionaries_[t];
    dict.reserve(count);
    for (uint64_t i = 0; i < count; ++i) dict.emplace_back(blob.substr(at[i], at[i + 1] - at[i]));
    sizes[t] = count;
  }
  for (uint64_t i = 0; i < n * texts; ++i) {
    if (codes[i] > sizes[i % texts]) {
      return cur.Error("text codes", "row " + std::to_string(i / texts + 1) + " has code " +
                                         std::to_string(codes[i]) + " beyond its dictionary of " +
                                         std::to_string(sizes[i % texts]));
    }
  }
  ReserveHuge(snap.text_codes_, n * texts);
  snap.text_codes_.assign(codes, codes + n * texts);
  if (cur.pos() != data.size()) {
    return cur.Error("end", "has " + std::to_string(data.size() - cur.pos()) +
                                " bytes after the last dictionary");
  }

  // The entity index; an empty or repeated entity is damage, named with its row.
  const size_t slots = std::bit_ceil(std::max<size_t>(n * 2, 16));
  ReserveHuge(snap.index_, slots);
  snap.index_.assign(slots, 0);
  for (uint32_t row = 0; row < n; ++row) {
    const std::string_view entity = snap.Entity(row);
    if (entity.empty())
      return cur.Error("entities", "row " + std::to_string(row + 1) + " is empty");
    if (snap.IndexRow(row) != 0) {
      return cur.Error("entities", "row " + std::to_string(row + 1) + " repeats entity \"" +
                                       std::string(entity) + "\"");
    }
  }
  return OkStatus();
}

}  // namespace riskpipe::features
