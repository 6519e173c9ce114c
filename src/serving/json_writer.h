#pragma once
// Internal: appends JSON to a string without building a document (the hot path of every
// response), with RFC 8259 string escaping and shortest round-trip numbers. Not thread-safe;
// one writer per response.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace riskpipe::serving {

class JsonWriter {
 public:
  void BeginObject() {
    Separate();
    out_ += '{';
    first_ = true;
  }
  void EndObject() {
    out_ += '}';
    first_ = false;
  }
  void BeginArray() {
    Separate();
    out_ += '[';
    first_ = true;
  }
  void EndArray() {
    out_ += ']';
    first_ = false;
  }
  // The key of the next value in an object.
  void Key(std::string_view key) {
    Separate();
    AppendString(key);
    out_ += ':';
    first_ = true;  // the value follows without a comma
  }
  void String(std::string_view s) {
    Separate();
    AppendString(s);
  }
  // Non-finite numbers are written as null (JSON has no NaN).
  void Number(double v) {
    Separate();
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void Int(int64_t v) {
    Separate();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void Bool(bool v) {
    Separate();
    out_ += v ? "true" : "false";
  }
  void Null() {
    Separate();
    out_ += "null";
  }
  // Already-serialised JSON.
  void Raw(std::string_view json) {
    Separate();
    out_ += json;
  }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, const char* value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, double value) {
    Key(key);
    Number(value);
  }
  void Field(std::string_view key, int64_t value) {
    Key(key);
    Int(value);
  }
  void Field(std::string_view key, bool value) {
    Key(key);
    Bool(value);
  }

  std::string Take() { return std::move(out_); }
  const std::string& str() const { return out_; }
  void Reserve(size_t n) { out_.reserve(n); }

 private:
  void Separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  void AppendString(std::string_view s) {
    out_ += '"';
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"') {
        out_ += "\\\"";
      } else if (c == '\\') {
        out_ += "\\\\";
      } else if (c < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 15];
      } else {
        out_ += ch;
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool first_ = true;
};

}  // namespace riskpipe::serving
