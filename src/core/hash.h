#pragma once
// SHA-256 digests (OpenSSL) as lowercase hex: file content hashes for lineage and
// MANIFESTs, and salted one-way hashing of PII in silver. Thread-safe.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace riskpipe {

// Hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Hex SHA-256 of the salt, a 0x1f separator and the value: the irreversible PII token.
std::string SaltedSha256Hex(std::string_view salt, std::string_view value);
// Hex SHA-256 of a file's bytes, streamed. NotFound / Internal on I/O errors.
StatusOr<std::string> Sha256File(const std::filesystem::path& path);

// An incremental SHA-256: Update() with consecutive pieces, then HexDigest() once. Equal to
// Sha256Hex of their concatenation. Move-only; one thread at a time.
class Sha256Stream {
 public:
  Sha256Stream();
  Sha256Stream(Sha256Stream&&) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) noexcept;
  ~Sha256Stream();
  void Update(std::string_view data);
  // The digest of everything passed to Update(); the stream is finished afterwards.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace riskpipe
