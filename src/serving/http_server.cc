// Boost.Beast event loops behind HttpServer. Each connection is a Session that lives on one
// io_context (so its state needs no locks): it waits for a request under the idle timeout,
// reads it under the whole-request deadline with header and body limits, calls the handler
// and writes the response.

// Boost 1.74 Asio with GCC 12 in C++20 needs <utility> first (dependency-notes.md).
#include <utility>

#include "serving/http_server.h"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "serving/json_writer.h"

namespace riskpipe::serving {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

std::string ErrorJson(std::string_view code, std::string_view message,
                      std::string_view request_id) {
  JsonWriter w;
  w.BeginObject();
  w.Key("error");
  w.BeginObject();
  w.Field("code", code);
  w.Field("message", message);
  w.Field("request_id", request_id);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

namespace {

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

// After an error response the server closes the connection. Closing a socket with unread
// input sends a reset that can destroy the response in the client's buffer, so the rest of
// the input is read and dropped first, for at most this long and this many bytes.
constexpr auto kLingerTime = std::chrono::milliseconds(500);
constexpr size_t kLingerBytes = 1 << 20;

}  // namespace

struct Worker {
  explicit Worker(int i) : index(i) {}
  int index;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::unordered_set<class Session*> sessions;  // touched only on this worker's thread
  bool stopping = false;                        // likewise
  uint64_t next_request = 0;
  HttpServer::Impl* server = nullptr;
};

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  HttpRejectHook on_reject;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  std::string id_prefix;  // random per process, so request ids are unique across restarts
  int port = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
  int running = 0;
  bool waited = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Worker& worker)
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        worker_(worker),
        options_(worker.server->options) {}
  ~Session() { worker_.sessions.erase(this); }

  void Start() {
    worker_.sessions.insert(this);
    WaitForRequest();
  }

  // Called on the worker's thread when the server stops.
  void OnStop() {
    if (idle_) Close();
  }

 private:
  void WaitForRequest() {
    if (worker_.stopping) return Close();
    if (buffer_.size() > 0) return ReadRequest();  // a pipelined request is already here
    idle_ = true;
    timer_.expires_after(options_.idle_timeout);
    timer_.async_wait([self = shared_from_this()](ErrorCode ec) {
      if (!ec && self->idle_) self->Close();
    });
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](ErrorCode ec) {
      self->idle_ = false;
      self->timer_.cancel();
      if (ec || self->worker_.stopping) return self->Close();
      self->ReadRequest();
    });
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    stream_.expires_after(options_.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](ErrorCode ec, size_t) { self->OnRead(ec); });
  }

  std::string NextRequestId() {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-%d-%llx", worker_.server->id_prefix.c_str(), worker_.index,
                  static_cast<unsigned long long>(++worker_.next_request));
    return buf;
  }

  void OnRead(ErrorCode ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    request_id_ = NextRequestId();
    if (ec) {
      if (ec == http::error::body_limit) {
        return Reject(413, "body_too_large",
                      "the request body exceeds " + std::to_string(options_.body_limit) + " bytes");
      }
      if (ec == http::error::header_limit) {
        return Reject(431, "headers_too_large",
                      "the request line and headers exceed " +
                          std::to_string(options_.header_limit) + " bytes");
      }
      return Reject(400, "malformed_request", "malformed HTTP request: " + ec.message());
    }
    auto& req = parser_->get();
    HttpRequest request;
    request.method = View(req.method_string());
    request.target = View(req.target());
    request.body = req.body();
    request.content_type = View(req[http::field::content_type]);
    request.api_key = View(req["X-API-Key"]);
    if (request.api_key.empty()) {
      const std::string_view auth = View(req[http::field::authorization]);
      if (auth.starts_with("Bearer ")) request.api_key = auth.substr(7);
    }
    request.request_id = request_id_;
    request.worker = worker_.index;
    HttpResponse response;
    try {
      worker_.server->handler(request, response);
    } catch (const std::exception& e) {
      response.status = 500;
      response.body = ErrorJson("internal", "internal error", request_id_);
      response.content_type = "application/json";
    }
    const bool close = !req.keep_alive() || worker_.stopping;
    Write(std::move(response), close, /*linger=*/false);
  }

  void Reject(int status, std::string_view code, const std::string& message) {
    if (worker_.server->on_reject) worker_.server->on_reject(status, worker_.index, request_id_);
    HttpResponse response;
    response.status = status;
    response.body = ErrorJson(code, message, request_id_);
    Write(std::move(response), /*close=*/true, /*linger=*/true);
  }

  void Write(HttpResponse response, bool close, bool linger) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(response.status));
    res_.set(http::field::server, "riskpipe");
    res_.set(http::field::content_type,
             beast::string_view(response.content_type.data(), response.content_type.size()));
    res_.set("X-Request-Id", request_id_);
    res_.body() = std::move(response.body);
    res_.keep_alive(!close);
    res_.prepare_payload();
    stream_.expires_after(options_.request_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), close, linger](ErrorCode ec, size_t) {
                        if (ec) return self->Close();
                        if (!close) return self->WaitForRequest();
                        if (linger) return self->Linger();
                        self->Close();
                      });
  }

  // Half-closes, then reads and drops the client's remaining input (see kLingerTime).
  void Linger() {
    ErrorCode ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    stream_.expires_after(kLingerTime);
    scratch_.resize(16 * 1024);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](ErrorCode ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes) return self->Close();
                              self->DrainSome();
                            });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    idle_ = false;
    timer_.cancel();
    ErrorCode ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  Worker& worker_;
  const HttpServerOptions& options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::string request_id_;
  std::vector<char> scratch_;
  size_t drained_ = 0;
  bool idle_ = false;
  bool closed_ = false;
};

namespace {

void Accept(Worker& w) {
  w.acceptor.async_accept([&w](ErrorCode ec, tcp::socket socket) {
    if (!w.acceptor.is_open()) return;
    if (!ec) {
      ErrorCode ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), w)->Start();
    }
    Accept(w);
  });
}

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

Status Listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool reuse_port) {
  ErrorCode ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && reuse_port) acceptor.set_option(ReusePort(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("cannot listen on " + endpoint.address().to_string() + ":" +
                            std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return OkStatus();
}

std::string RandomPrefix() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                        HttpHandler handler,
                                                        HttpRejectHook on_reject) {
  ErrorCode ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgumentError("serve: \"" + options.host + "\" is not an IP address");
  if (options.threads < 1) return InvalidArgumentError("serve: threads must be >= 1");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->on_reject = std::move(on_reject);
  impl->id_prefix = RandomPrefix();
  // SO_REUSEPORT would let a second server share a port that is already served, splitting
  // its traffic; a plain bind first proves the port is free (and picks one for port 0).
  int port = options.port;
  {
    asio::io_context probe_ctx;
    tcp::acceptor probe(probe_ctx);
    RETURN_IF_ERROR(Listen(probe, tcp::endpoint(address, static_cast<uint16_t>(port)), false));
    port = probe.local_endpoint().port();
  }
  impl->port = port;
  for (int i = 0; i < options.threads; ++i) {
    auto w = std::make_unique<Worker>(i);
    w->server = impl.get();
    RETURN_IF_ERROR(Listen(w->acceptor, tcp::endpoint(address, static_cast<uint16_t>(port)), true));
    impl->workers.push_back(std::move(w));
  }
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  Impl* p = server->impl_.get();
  p->running = options.threads;
  for (auto& w : p->workers) {
    Accept(*w);
    p->threads.emplace_back([p, wp = w.get()] {
      wp->ioc.run();
      std::lock_guard lock(p->mu);
      --p->running;
      p->cv.notify_all();
    });
  }
  return server;
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stop_requested) return;
    impl_->stop_requested = true;
    impl_->cv.notify_all();
  }
  for (auto& w : impl_->workers) {
    asio::post(w->ioc, [wp = w.get()] {
      wp->stopping = true;
      ErrorCode ec;
      wp->acceptor.close(ec);
      // OnStop may close a session and so erase it from the set: iterate over a copy.
      const std::vector<Session*> sessions(wp->sessions.begin(), wp->sessions.end());
      for (Session* s : sessions) s->OnStop();
    });
  }
}

void HttpServer::Wait() {
  std::unique_lock lock(impl_->mu);
  if (impl_->waited) return;
  impl_->cv.wait(lock, [&] { return impl_->stop_requested; });
  const bool drained =
      impl_->cv.wait_for(lock, impl_->options.drain_timeout, [&] { return impl_->running == 0; });
  impl_->waited = true;
  lock.unlock();
  if (!drained) {
    for (auto& w : impl_->workers) w->ioc.stop();
  }
  for (auto& t : impl_->threads) t.join();
}

HttpServer::~HttpServer() {
  Stop();
  Wait();
}

}  // namespace riskpipe::serving
