#include "ingest/csv_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace riskpipe::ingest {
namespace {

// Read size per refill: big enough that fread cost is negligible, small enough for memory.
constexpr size_t kReadBlock = 4 << 20;
// Bytes a range reader reads past its stop in one go: most records end within them.
constexpr size_t kRangeTail = 64 << 10;

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Reject overlong forms, surrogates and code points past U+10FFFF.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    return 0;
  }
  return len;
}

bool AllAscii(std::string_view s) {
  unsigned char acc = 0;
  for (char c : s) acc |= static_cast<unsigned char>(c);
  return acc < 0x80;
}

}  // namespace

int64_t FindInvalidUtf8(std::string_view s) {
  if (AllAscii(s)) return -1;
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return static_cast<int64_t>(i);
    i += n;
  }
  return -1;
}

std::string EscapeInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      const auto b = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

StatusOr<std::unique_ptr<CsvReader>> CsvReader::Open(const std::filesystem::path& path,
                                                     char delimiter) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError(path.string() + ": no such file");
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgumentError(path.string() + ": is a folder, not a CSV file");
  }
  const uint64_t size = std::filesystem::file_size(path, ec);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return InternalError(path.string() + ": cannot open: " + std::strerror(errno));
  return std::unique_ptr<CsvReader>(new CsvReader(path, f, ec ? 0 : size, delimiter));
}

StatusOr<std::unique_ptr<CsvReader>> CsvReader::OpenRange(const std::filesystem::path& path,
                                                          char delimiter, uint64_t begin,
                                                          uint64_t stop, uint64_t give_up_at) {
  ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> reader, Open(path, delimiter));
  RETURN_IF_ERROR(reader->SetRange(begin, stop, give_up_at));
  return reader;
}

Status CsvReader::SetRange(uint64_t begin, uint64_t stop, uint64_t give_up_at) {
  if (::fseeko(file_, static_cast<off_t>(begin), SEEK_SET) != 0) {
    return InternalError(path_.string() + ": cannot seek: " + std::strerror(errno));
  }
  pos_ = end_ = 0;
  consumed_ = begin;
  eof_ = false;
  line_ = 0;
  stop_ = stop;
  give_up_at_ = give_up_at;
  gave_up_ = false;
  return OkStatus();
}

CsvReader::CsvReader(std::filesystem::path path, std::FILE* file, uint64_t size, char delimiter)
    : path_(std::move(path)), file_(file), file_size_(size), delim_(delimiter) {
  buf_.resize(kReadBlock);
}

CsvReader::~CsvReader() { std::fclose(file_); }

StatusOr<bool> CsvReader::Refill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    consumed_ += pos_;
    end_ -= pos_;
    pos_ = 0;
  }
  if (buf_.size() - end_ < kReadBlock / 2) buf_.resize(buf_.size() * 2);
  size_t want = buf_.size() - end_;
  const uint64_t read_at = consumed_ + end_;
  if (read_at >= give_up_at_) {
    gave_up_ = true;
    return false;
  }
  // A range reader reads little past its stop: just enough to finish the last record.
  if (stop_ != UINT64_MAX && read_at < stop_) {
    want = static_cast<size_t>(std::min<uint64_t>(want, stop_ - read_at + kRangeTail));
  }
  const size_t n = std::fread(buf_.data() + end_, 1, want, file_);
  if (n == 0) {
    if (std::ferror(file_)) return InternalError(path_.string() + ": read error");
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool CsvReader::ParseRecord(CsvRecord& rec) {
  const char* const base = buf_.data();
  const char* p = base + pos_;
  const char* const end = base + end_;
  rec.fields.clear();
  rec.blank = rec.unterminated_quote = rec.bad_quote = false;
  rec.invalid_utf8_at = -1;
  scratch_.clear();
  int64_t newlines = 0;
  const char* const start = p;

  if (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))) {
    rec.blank = true;
    rec.raw = std::string_view();
    const char* nl = *p == '\n' ? p : p + 1;
    rec.line = line_;
    line_ += 1;
    pos_ = static_cast<size_t>(nl + 1 - base);
    return true;
  }
  if (p < end && *p == '\r' && p + 1 >= end && !eof_) return false;

  const char* record_end = nullptr;  // position of the terminating '\n' or end
  bool need_scratch_reserve = true;
  while (true) {
    if (p < end && *p == '"') {
      // Quoted field: find the closing quote, unescaping "" on the way.
      const char* q = p + 1;
      const char* seg = q;
      bool escaped = false;
      const size_t scratch_start = scratch_.size();
      std::string_view field;
      while (true) {
        const char* quote = static_cast<const char*>(std::memchr(q, '"', static_cast<size_t>(end - q)));
        if (quote == nullptr) {
          if (!eof_) return false;
          // The file ended inside the quotes: keep what there is, flagged.
          for (const char* c = q; c < end; ++c) newlines += *c == '\n';
          rec.unterminated_quote = true;
          if (escaped) {
            scratch_.append(seg, static_cast<size_t>(end - seg));
          }
          field = escaped ? std::string_view() : std::string_view(seg, static_cast<size_t>(end - seg));
          p = end;
          break;
        }
        for (const char* c = q; c < quote; ++c) newlines += *c == '\n';
        if (quote + 1 < end && quote[1] == '"') {
          if (need_scratch_reserve) {
            scratch_.reserve(static_cast<size_t>(end - start));
            need_scratch_reserve = false;
          }
          escaped = true;
          scratch_.append(seg, static_cast<size_t>(quote + 1 - seg));
          q = seg = quote + 2;
          continue;
        }
        if (quote + 1 >= end && !eof_) return false;
        if (escaped) scratch_.append(seg, static_cast<size_t>(quote - seg));
        field = escaped ? std::string_view() : std::string_view(seg, static_cast<size_t>(quote - seg));
        p = quote + 1;
        break;
      }
      if (escaped) {
        // The unescaped text was appended to scratch_ (reserved once per record, so earlier
        // views stay valid).
        field = std::string_view(scratch_.data() + scratch_start, scratch_.size() - scratch_start);
      }
      rec.fields.push_back(field);
      if (rec.unterminated_quote) {
        record_end = end;
        break;
      }
      // After the closing quote: delimiter, line end, or stray text (kept, flagged).
      const char* stray = p;
      while (p < end && *p != delim_ && *p != '\n') ++p;
      if (p == end && !eof_) return false;
      const char* stray_end = p;
      if (stray_end > stray && stray_end[-1] == '\r' && p < end && *p == '\n') --stray_end;
      if (stray_end > stray) rec.bad_quote = true;
    } else {
      const char* q = p;
      while (q < end && *q != delim_ && *q != '\n') ++q;
      if (q == end && !eof_) return false;
      const char* fe = q;
      if (q < end && *q == '\n' && fe > p && fe[-1] == '\r') --fe;
      if (q == end && fe > p && fe[-1] == '\r') --fe;
      rec.fields.emplace_back(p, static_cast<size_t>(fe - p));
      p = q;
    }
    if (p < end && *p == delim_) {
      ++p;
      if (p == end && !eof_) return false;
      if (p == end) {  // delimiter as the last byte of the file: one more empty field
        rec.fields.emplace_back();
        record_end = end;
        break;
      }
      continue;
    }
    record_end = p;  // at '\n' or end of data
    break;
  }
  const char* raw_end = record_end;
  if (raw_end > start && raw_end[-1] == '\r') --raw_end;
  rec.raw = std::string_view(start, static_cast<size_t>(raw_end - start));
  rec.line = line_;
  line_ += newlines + 1;
  pos_ = static_cast<size_t>((record_end < end ? record_end + 1 : end) - base);
  rec.invalid_utf8_at = FindInvalidUtf8(rec.raw);
  return true;
}

StatusOr<bool> CsvReader::Next(CsvRecord& rec) {
  if (bytes_consumed() >= stop_) return false;
  while (true) {
    if (pos_ >= end_) {
      ASSIGN_OR_RETURN(bool more, Refill());
      if (!more) return false;
    }
    if (ParseRecord(rec)) return true;
    ASSIGN_OR_RETURN(bool more, Refill());
    // At EOF ParseRecord accepts a partial record on the next pass.
    if (!more && gave_up_) return false;
  }
}

StatusOr<std::vector<std::string>> CsvReader::ReadHeader() {
  ASSIGN_OR_RETURN(bool more, Refill());
  if (!more) return InvalidArgumentError(path_.string() + ": the file is empty (no header line)");
  if (end_ - pos_ >= 3 && std::memcmp(buf_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
  CsvRecord rec;
  ASSIGN_OR_RETURN(bool got, Next(rec));
  if (!got || rec.blank) {
    return InvalidArgumentError(path_.string() + ": line 1: the header line is empty");
  }
  if (rec.unterminated_quote || rec.bad_quote || rec.invalid_utf8_at >= 0) {
    return InvalidArgumentError(path_.string() + ": line 1: the header is not valid CSV text");
  }
  std::vector<std::string> names;
  for (std::string_view f : rec.fields) names.emplace_back(f);
  return names;
}

}  // namespace riskpipe::ingest
