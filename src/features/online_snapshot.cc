#include "features/online_snapshot.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <future>
#include <iterator>
#include <utility>

#include "core/files.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/memory.h"

namespace riskpipe::features {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A read-only memory map of a whole file.
class MappedFile {
 public:
  static StatusOr<MappedFile> Open(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFoundError(path.string() + ": no such file");
      return InternalError(path.string() + ": cannot open: " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return InternalError(path.string() + ": cannot stat: " + std::strerror(errno));
    }
    MappedFile m;
    m.size_ = static_cast<size_t>(st.st_size);
    if (m.size_ > 0) {
      void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        return InternalError(path.string() + ": cannot map: " + std::strerror(errno));
      }
      ::madvise(p, m.size_, MADV_SEQUENTIAL);
      m.data_ = static_cast<const char*>(p);
    }
    ::close(fd);
    return m;
  }
  MappedFile(MappedFile&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  std::string_view view() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// A manifest.json as the loader needs it.
struct Manifest {
  OnlineSnapshotInfo info;
  bool binary = false;  // features.bin, else features.csv
  std::string file, sha256;
  int64_t bytes = 0, rows = 0;
};

// InvalidArgument naming the file when a field is missing or has the wrong type.
StatusOr<Manifest> ReadManifest(const fs::path& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const json m = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object()) {
    return InvalidArgumentError(path.string() + ": not valid JSON");
  }
  Manifest out;
  OnlineSnapshotInfo& info = out.info;
  try {
    const std::string format = m.at("format").get<std::string>();
    if (format == kSnapshotFormatBinary) {
      out.binary = true;
    } else if (format != kSnapshotFormatCsv) {
      return InvalidArgumentError(path.string() + ": format \"" + format + "\" is neither " +
                                  kSnapshotFormatBinary + " nor " + kSnapshotFormatCsv);
    }
    info.version = m.at("version").get<std::string>();
    const std::string as_of = m.at("as_of").get<std::string>();
    const auto date = ParseIsoDate(as_of);
    if (!date) {
      return InvalidArgumentError(path.string() + ": as_of \"" + as_of + "\" is not a date");
    }
    info.as_of = *date;
    info.created_at = m.value("created_at", "");
    info.project = m.value("project", "");
    info.feature_set_version = m.value("feature_set_version", "");
    info.entity_column = m.at("entity").at("name").get<std::string>();
    for (const auto& f : m.at("features")) {
      OnlineFeature feature{f.at("name").get<std::string>(), f.at("type").get<std::string>(),
                            f.value("view", ""), false};
      feature.numeric = IsNumericType(feature.type);
      info.features.push_back(std::move(feature));
    }
    out.sha256 = m.at("sha256").get<std::string>();
    out.bytes = m.at("bytes").get<int64_t>();
    out.rows = m.at("rows").get<int64_t>();
    out.file = m.value("file", std::string(out.binary ? kSnapshotBin : kSnapshotCsv));
  } catch (const json::exception& e) {
    return InvalidArgumentError(path.string() + ": " + e.what());
  }
  if (out.file.empty() || out.file.find('/') != std::string::npos || out.file.starts_with(".")) {
    return InvalidArgumentError(path.string() + ": file \"" + out.file + "\" is not a plain name");
  }
  return out;
}

}  // namespace

std::string_view SnapshotFormatName(SnapshotFormat format) {
  return format == SnapshotFormat::kBinary ? "binary" : "csv";
}

std::optional<SnapshotFormat> ParseSnapshotFormat(std::string_view name) {
  if (name == "binary") return SnapshotFormat::kBinary;
  if (name == "csv") return SnapshotFormat::kCsv;
  return std::nullopt;
}

bool IsNumericType(std::string_view type) {
  static constexpr std::string_view kNumeric[] = {
      "TINYINT",  "SMALLINT", "INTEGER",  "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
      "UINTEGER", "UBIGINT",  "UHUGEINT", "FLOAT",  "REAL",    "DOUBLE",   "BOOLEAN"};
  if (type.starts_with("DECIMAL")) return true;
  return std::find(std::begin(kNumeric), std::end(kNumeric), type) != std::end(kNumeric);
}

StatusOr<OnlineSnapshot> LoadOnlineSnapshotDir(const fs::path& dir) {
  ASSIGN_OR_RETURN(Manifest manifest, ReadManifest(dir / kSnapshotManifest));
  const fs::path path = dir / manifest.file;
  ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path));
  const std::string_view data = mapped.view();
  if (static_cast<int64_t>(data.size()) != manifest.bytes) {
    return DataLossError(path.string() + ": " + std::to_string(data.size()) +
                         " bytes, but the manifest says " + std::to_string(manifest.bytes) +
                         " (changed after it was published)");
  }
  SnapshotShape shape;
  shape.rows = manifest.rows;
  shape.entity = manifest.info.entity_column;
  for (const OnlineFeature& f : manifest.info.features) {
    shape.features.push_back(f.name);
    shape.numeric.push_back(f.numeric);
  }
  // Hash on a second thread while reading and indexing: loading costs max(hash, read), not
  // their sum. A checksum mismatch is reported before what the damage did to the reading.
  auto digest = std::async(std::launch::async, [data] { return Sha256Hex(data); });
  StatusOr<SnapshotCells> cells = manifest.binary ? ReadSnapshotBinary(data, path.string(), shape)
                                                  : ReadSnapshotCsv(data, path.string(), shape);
  StatusOr<OnlineSnapshot> snap =
      cells.ok() ? OnlineSnapshot::Build(std::move(manifest.info), std::move(*cells), path.string())
                 : StatusOr<OnlineSnapshot>(cells.status());
  if (digest.get() != manifest.sha256) {
    return DataLossError(path.string() + ": sha256 does not match the manifest's (" +
                         manifest.sha256 + "); the file was changed after it was published");
  }
  return snap;
}

StatusOr<OnlineSnapshot> LoadOnlineSnapshot(const fs::path& online_dir) {
  const fs::path current = online_dir / kCurrentFile;
  // A second try covers a materialize that replaced CURRENT and pruned the snapshot between
  // our reading CURRENT and opening the folder.
  for (int attempt = 0;; ++attempt) {
    auto text = ReadFile(current);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) {
        return NotFoundError(current.string() +
                             ": no CURRENT snapshot pointer (run `riskpipe materialize` first)");
      }
      return text.status();
    }
    std::string version = *text;
    while (!version.empty() && (version.back() == '\n' || version.back() == '\r')) {
      version.pop_back();
    }
    if (version.empty() || version.starts_with(".") ||
        version.find_first_of("/\\\n\r", 0) != std::string::npos) {
      return InvalidArgumentError(current.string() + ": \"" + version +
                                  "\" is not a snapshot version");
    }
    const fs::path dir = online_dir / kSnapshotsDir / version;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return LoadOnlineSnapshotDir(dir);
    if (attempt > 0) {
      return NotFoundError(current.string() + " names snapshot " + version + ", but " +
                           dir.string() + " does not exist");
    }
  }
}

StatusOr<OnlineSnapshot> OnlineSnapshot::Build(OnlineSnapshotInfo info, SnapshotCells cells,
                                               const std::string& file) {
  OnlineSnapshot snap;
  snap.info_ = std::move(info);
  snap.cells_ = std::move(cells);
  for (const OnlineFeature& f : snap.info_.features) {
    snap.slot_.push_back(
        static_cast<uint32_t>(f.numeric ? snap.numeric_count_++ : snap.text_count_++));
  }
  const SnapshotCells& c = snap.cells_;
  const size_t n = c.rows();
  if (c.numbers.size() != n * snap.numeric_count_ || c.valid.size() != n * snap.numeric_count_ ||
      c.text_codes.size() != n * snap.text_count_ || c.dictionaries.size() != snap.text_count_ ||
      (n > 0 && c.entity_offsets.back() != c.entities.size())) {
    return DataLossError(file + ": cells do not fit the manifest's " +
                         std::to_string(snap.info_.features.size()) + " features");
  }
  // The entity index; an empty or repeated entity is damage, named with its row.
  const size_t slots = std::bit_ceil(std::max<size_t>(n * 2, 16));
  ReserveHuge(snap.index_, slots);
  snap.index_.assign(slots, 0);
  for (uint32_t row = 0; row < n; ++row) {
    const std::string_view entity = snap.Entity(row);
    if (entity.empty()) {
      return DataLossError(file + ": entities row " + std::to_string(row + 1) + " is empty");
    }
    if (snap.IndexRow(row) != 0) {
      return DataLossError(file + ": entities row " + std::to_string(row + 1) +
                           " repeats entity \"" + std::string(entity) + "\"");
    }
  }
  return snap;
}

std::optional<size_t> OnlineSnapshot::Find(std::string_view entity) const {
  if (index_.empty()) return std::nullopt;
  const size_t mask = index_.size() - 1;
  for (size_t h = std::hash<std::string_view>{}(entity)&mask;; h = (h + 1) & mask) {
    const uint32_t slot = index_[h];
    if (slot == 0) return std::nullopt;
    if (Entity(slot - 1) == entity) return slot - 1;
  }
}

uint32_t OnlineSnapshot::IndexRow(uint32_t row) {
  const std::string_view entity = Entity(row);
  const size_t mask = index_.size() - 1;
  for (size_t h = std::hash<std::string_view>{}(entity)&mask;; h = (h + 1) & mask) {
    const uint32_t slot = index_[h];
    if (slot == 0) {
      index_[h] = row + 1;
      return 0;
    }
    if (Entity(slot - 1) == entity) return slot;
  }
}

std::optional<size_t> OnlineSnapshot::FeatureIndex(std::string_view name) const {
  for (size_t i = 0; i < info_.features.size(); ++i) {
    if (info_.features[i].name == name) return i;
  }
  return std::nullopt;
}

std::string_view OnlineSnapshot::Entity(size_t row) const {
  const std::vector<uint64_t>& at = cells_.entity_offsets;
  return std::string_view(cells_.entities).substr(at[row], at[row + 1] - at[row]);
}

std::optional<double> OnlineSnapshot::Number(size_t row, size_t feature) const {
  if (!info_.features[feature].numeric) return std::nullopt;
  const size_t cell = row * numeric_count_ + slot_[feature];
  if (cells_.valid[cell] == 0) return std::nullopt;
  return cells_.numbers[cell];
}

std::optional<std::string_view> OnlineSnapshot::Text(size_t row, size_t feature) const {
  if (info_.features[feature].numeric) return std::nullopt;
  const uint32_t code = cells_.text_codes[row * text_count_ + slot_[feature]];
  if (code == 0) return std::nullopt;
  return std::string_view(cells_.dictionaries[slot_[feature]][code - 1]);
}

OnlineValue OnlineSnapshot::Value(size_t row, size_t feature) const {
  if (info_.features[feature].numeric) {
    if (auto v = Number(row, feature)) return *v;
  } else if (auto t = Text(row, feature)) {
    return *t;
  }
  return std::monostate{};
}

}  // namespace riskpipe::features
