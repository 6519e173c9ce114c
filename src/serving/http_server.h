#pragma once
// A small HTTP/1.1 server (keep-alive, JSON) on Boost.Beast: one event loop per thread, each
// with its own SO_REUSEPORT acceptor, so connections spread over cores without a shared
// queue (dependency-notes.md section 3). It enforces the limits a public endpoint needs: body
// (413) and header (431) limits, a whole-request deadline and an idle timeout (slow clients
// are cut off), 400 for malformed requests, a connection cap that keeps descriptors free for
// the rest of the process, accept errors that pause the loop instead of spinning, and a
// graceful stop. This header does not expose Boost; only http_server.cc includes it.
// Thread-safety: Stop() may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "serving/connection_budget.h"

namespace riskpipe::serving {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 address
  int port = 8080;                 // 0 = any free port (see HttpServer::port())
  int threads = 1;                 // event loops
  size_t body_limit = 64 * 1024;   // larger bodies get 413 (before they are read)
  size_t header_limit = 8 * 1024;  // request line + headers; larger get 431
  // From the first byte of a request to its last, and for writing the response.
  std::chrono::milliseconds request_timeout{10'000};
  // A keep-alive connection waiting for its next request is closed after this.
  std::chrono::milliseconds idle_timeout{30'000};
  // Stop() lets in-flight requests finish for at most this long.
  std::chrono::milliseconds drain_timeout{10'000};
  // Client connections held open at once. At the cap a new connection closes the one idle
  // the longest (waiting for its first or next request); when none is idle it is answered
  // 503 `over_capacity` with "Connection: close", and past kRefusalSlots such answers it is
  // closed unanswered. 0 = derived (see ConnectionBudget); a larger value is lowered to it.
  int max_connections = 0;
  // Descriptors the cap leaves free for the rest of the process: the files a hot reload opens
  // (one at a time, measured with strace), log rotation and the registry reopening its
  // database (three), with room to spare.
  int fd_reserve = 32;
};

// What happened to a connection, for metrics.
enum class ConnectionEvent {
  kOpened,        // accepted, to be served or refused (kClosed follows when its socket closes)
  kClosed,        // an opened connection's socket was closed
  kIdleClosed,    // an idle connection was closed to make room for a new one
  kRefused,       // answered 503 over_capacity
  kDropped,       // closed unanswered: over the cap with every refusal slot in use
  kAcceptFailed,  // accept() failed (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...); the loop pauses.
                  // The last event: metrics.h sizes its counters by it.
};

// One parsed request. Views are valid during the handler call only.
struct HttpRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // "/v1/features/42?x=1"
  std::string_view body;
  std::string_view api_key;  // the X-API-Key header, else the token of "Authorization: Bearer"
  std::string_view content_type;
  std::string_view request_id;  // assigned by the server, echoed as X-Request-Id
  int worker = 0;               // the event loop's index, 0..threads-1
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";  // must outlive the handler call
};

// Called on an event-loop thread for each well-formed request. An exception escaping it is
// answered 500.
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;
// Told about each request the server answered itself (status 400, 413, 431 or 500), for
// metrics and access logs.
using HttpRejectHook = std::function<void(int status, int worker, std::string_view request_id)>;
// Told about connection events on the event loop's thread; it must be cheap and thread-safe.
using HttpConnectionHook = std::function<void(ConnectionEvent event)>;

// The JSON error body every error response uses: {"error":{"code","message","request_id"}}.
std::string ErrorJson(std::string_view code, std::string_view message, std::string_view request_id);

class HttpServer {
 public:
  // Binds host:port (InvalidArgument for a bad address, Unavailable when the port is taken),
  // sets the connection cap (FailedPrecondition when the descriptor limit leaves no room for
  // a connection, naming the numbers) and starts `threads` event loops that call `handler`.
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                     HttpHandler handler,
                                                     HttpRejectHook on_reject = {},
                                                     HttpConnectionHook on_connection = {});
  ~HttpServer();  // Stop(), then Wait()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;                        // the bound port
  const ConnectionBudget& budget() const;  // the connection cap in force and its reasons
  // Stops accepting, closes idle connections, answers in-flight requests with
  // "Connection: close". Returns at once; idempotent.
  void Stop();
  // Blocks until Stop() was called and every connection finished (or drain_timeout passed
  // after Stop, when the rest are closed).
  void Wait();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace riskpipe::serving
