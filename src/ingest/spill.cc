#include "ingest/spill.h"

#include <cerrno>
#include <algorithm>
#include <cstring>

namespace riskpipe::ingest::internal {
namespace {

// Buffered bytes per writer before a write(): many months are open at once, so keep it small.
constexpr size_t kWriterBuffer = 256 << 10;

// Record header: line, duplicate_of, invalid_utf8_at, flags, field count, raw and extra sizes.
struct Header {
  int64_t line;
  int64_t duplicate_of;
  int64_t invalid_utf8_at;
  uint32_t flags;  // kUnterminated | kBadQuote | kQuarantine | kShortFields
  uint32_t nfields;
  uint32_t raw_len;
  uint32_t extra_len;
};

constexpr uint32_t kUnterminated = 1, kBadQuote = 2, kQuarantine = 4;
// The fields lie back to back in the raw bytes, one delimiter apart, each shorter than 256
// bytes (a typical unquoted record): one length byte per field replaces the 8-byte offset and
// length, so a month's spill is about a third smaller (less to copy into and out of the page
// cache).
constexpr uint32_t kShortFields = 8;

// True when `fields` can be stored as kShortFields: rebuilt from their lengths alone, every
// non-empty field is the very bytes of `raw` it was parsed from.
bool ShortFields(std::string_view raw, const std::vector<std::string_view>& fields) {
  size_t off = 0;
  for (std::string_view f : fields) {
    if (f.size() > 255 || (!f.empty() && f.data() != raw.data() + off)) return false;
    off += f.size() + 1;
  }
  return off == raw.size() + 1;
}

// Read-ahead per reader.
constexpr size_t kReaderBuffer = 1 << 20;

}  // namespace

StatusOr<std::unique_ptr<SpillWriter>> SpillWriter::Create(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return InternalError("cannot create " + path.string() + ": " + std::strerror(errno));
  auto w = std::unique_ptr<SpillWriter>(new SpillWriter(path, f));
  w->buf_.reserve(kWriterBuffer + 4096);
  return w;
}

SpillWriter::~SpillWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status SpillWriter::Flush() {
  if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
    return InternalError("cannot write " + path_.string() + ": " + std::strerror(errno));
  }
  buf_.clear();
  return OkStatus();
}

size_t SpillEncoder::Add(const CsvRecord& rec, int64_t duplicate_of, std::string& out) {
  extra_.clear();
  offsets_.clear();
  const bool short_fields = ShortFields(rec.raw, rec.fields);
  if (!short_fields) {
    const char* raw_begin = rec.raw.data();
    const char* raw_end = raw_begin + rec.raw.size();
    for (std::string_view f : rec.fields) {
      if (f.empty() || (f.data() >= raw_begin && f.data() + f.size() <= raw_end)) {
        offsets_.push_back(f.empty() ? 0 : static_cast<uint32_t>(f.data() - raw_begin));
      } else {  // an unescaped quoted field lives outside the raw bytes
        offsets_.push_back(static_cast<uint32_t>(rec.raw.size() + extra_.size()));
        extra_.append(f);
      }
      offsets_.push_back(static_cast<uint32_t>(f.size()));
    }
  }
  Header h{rec.line,
           duplicate_of,
           rec.invalid_utf8_at,
           (rec.unterminated_quote ? kUnterminated : 0u) | (rec.bad_quote ? kBadQuote : 0u) |
               (short_fields ? kShortFields : 0u),
           static_cast<uint32_t>(rec.fields.size()),
           static_cast<uint32_t>(rec.raw.size()),
           static_cast<uint32_t>(extra_.size())};
  const size_t at = out.size();
  const size_t table = short_fields ? rec.fields.size() : offsets_.size() * sizeof(uint32_t);
  out.resize(at + sizeof(h) + rec.raw.size() + extra_.size() + table);
  char* p = out.data() + at;
  std::memcpy(p, &h, sizeof(h));
  p += sizeof(h);
  std::memcpy(p, rec.raw.data(), rec.raw.size());
  p += rec.raw.size();
  if (short_fields) {
    for (std::string_view f : rec.fields) *p++ = static_cast<char>(static_cast<uint8_t>(f.size()));
  } else {
    std::memcpy(p, extra_.data(), extra_.size());
    std::memcpy(p + extra_.size(), offsets_.data(), offsets_.size() * sizeof(uint32_t));
  }
  return at;
}

void PatchSpillRecord(char* record, int64_t line_offset, int64_t duplicate_of) {
  Header h;
  std::memcpy(&h, record, sizeof(h));
  h.line += line_offset;
  h.duplicate_of = duplicate_of;
  std::memcpy(record, &h, sizeof(h));
}

Status SpillWriter::Add(const CsvRecord& rec, int64_t duplicate_of) {
  encoder_.Add(rec, duplicate_of, buf_);
  if (buf_.size() >= kWriterBuffer) return Flush();
  return OkStatus();
}

Status SpillWriter::AddEncoded(std::string_view records) {
  if (buf_.size() + records.size() < kWriterBuffer) {
    buf_.append(records);
    return OkStatus();
  }
  RETURN_IF_ERROR(Flush());
  if (std::fwrite(records.data(), 1, records.size(), file_) != records.size()) {
    return InternalError("cannot write " + path_.string() + ": " + std::strerror(errno));
  }
  return OkStatus();
}

Status SpillWriter::AddQuarantine(int64_t line, std::string_view raw, std::string_view reason) {
  Header h{line, -1, -1, kQuarantine, 0, static_cast<uint32_t>(raw.size()),
           static_cast<uint32_t>(reason.size())};
  Put(&h, sizeof(h));
  Put(raw.data(), raw.size());
  Put(reason.data(), reason.size());
  if (buf_.size() >= kWriterBuffer) return Flush();
  return OkStatus();
}

Status SpillWriter::Close() {
  RETURN_IF_ERROR(Flush());
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return InternalError("cannot close " + path_.string() + ": " + std::strerror(errno));
  return OkStatus();
}

StatusOr<std::unique_ptr<SpillReader>> SpillReader::Open(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return InternalError("cannot open " + path.string() + ": " + std::strerror(errno));
  auto r = std::unique_ptr<SpillReader>(new SpillReader(path, f));
  r->buf_.resize(kReaderBuffer);
  return r;
}

SpillReader::~SpillReader() { std::fclose(file_); }

bool SpillReader::Ensure(size_t n) {
  if (end_ - pos_ >= n) return true;
  // Move the unread tail to the front; grow for records larger than the buffer.
  std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
  end_ -= pos_;
  pos_ = 0;
  if (buf_.size() < n) buf_.resize(std::max(n, buf_.size() * 2));
  while (end_ < n) {
    const size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_);
    if (got == 0) return false;
    end_ += got;
  }
  return true;
}

Status SpillReader::Damaged(int64_t line) const {
  return DataLossError(path_.string() + ": damaged spill record at line " + std::to_string(line));
}

StatusOr<bool> SpillReader::Next(SpillRecord& rec) {
  if (!Ensure(sizeof(Header))) {
    if (end_ == pos_) return false;
    return DataLossError(path_.string() + ": truncated spill record");
  }
  Header h;
  std::memcpy(&h, buf_.data() + pos_, sizeof(h));
  const bool short_fields = (h.flags & kShortFields) != 0;
  const size_t table =
      short_fields ? h.nfields : static_cast<size_t>(h.nfields) * 2 * sizeof(uint32_t);
  const size_t body = static_cast<size_t>(h.raw_len) + h.extra_len + table;
  if (!Ensure(sizeof(Header) + body)) return DataLossError(path_.string() + ": truncated spill record");
  const char* data = buf_.data() + pos_ + sizeof(Header);
  const size_t data_len = static_cast<size_t>(h.raw_len) + h.extra_len;
  pos_ += sizeof(Header) + body;
  rec.line = h.line;
  rec.duplicate_of = h.duplicate_of;
  rec.invalid_utf8_at = h.invalid_utf8_at;
  rec.unterminated_quote = (h.flags & kUnterminated) != 0;
  rec.bad_quote = (h.flags & kBadQuote) != 0;
  rec.raw = std::string_view(data, h.raw_len);
  rec.fields.clear();
  rec.reason = std::string_view();
  if ((h.flags & kQuarantine) != 0) {
    rec.reason = std::string_view(data + h.raw_len, h.extra_len);
    return true;
  }
  if (short_fields) {
    const auto* lengths = reinterpret_cast<const uint8_t*>(data + data_len);
    size_t off = 0;
    for (uint32_t i = 0; i < h.nfields; ++i) {
      if (off + lengths[i] > h.raw_len) return Damaged(h.line);
      rec.fields.emplace_back(data + off, lengths[i]);
      off += lengths[i] + 1;
    }
    return true;
  }
  offsets_.resize(static_cast<size_t>(h.nfields) * 2);
  std::memcpy(offsets_.data(), data + data_len, offsets_.size() * sizeof(uint32_t));
  for (uint32_t i = 0; i < h.nfields; ++i) {
    const uint32_t off = offsets_[2 * i], len = offsets_[2 * i + 1];
    if (static_cast<size_t>(off) + len > data_len) return Damaged(h.line);
    rec.fields.emplace_back(data + off, len);
  }
  return true;
}

}  // namespace riskpipe::ingest::internal
