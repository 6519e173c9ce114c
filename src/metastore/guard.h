#pragma once
// Internal to the metastore: the one exception guard every public Metastore method runs its
// body in, so that no exception (bad_alloc, one from the injected clock or a caller's
// callback, or anything else thrown) leaves the module. Stateless; thread-safe.

#include <exception>
#include <filesystem>
#include <utility>

#include "core/status.h"
#include "metastore/sqlite.h"

namespace riskpipe::metastore {

// Runs `body` (returning Status or StatusOr<T>) and returns what it returns; an exception it
// throws becomes Internal "metastore <path>: <what()>", or "...: unknown exception" for one
// that is not a std::exception.
template <typename F>
auto CatchExceptions(const std::filesystem::path& path, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return InternalError("metastore " + path.string() + ": " + e.what());
  } catch (...) {
    return InternalError("metastore " + path.string() + ": unknown exception");
  }
}

// CatchExceptions on an open database; FailedPrecondition when `db` is null (a moved-from
// Metastore).
template <typename F>
auto Guard(const Database* db, F&& body) -> decltype(body()) {
  if (db == nullptr) return FailedPreconditionError("metastore: used after move");
  return CatchExceptions(db->path(), std::forward<F>(body));
}

}  // namespace riskpipe::metastore
