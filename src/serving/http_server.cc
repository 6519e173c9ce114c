// Boost.Beast event loops behind HttpServer. Each connection is a Session that lives on one
// io_context (so its state needs no locks): it waits for a request under the idle timeout,
// reads it under the whole-request deadline with header and body limits, calls the handler
// and writes the response. The loops share one count of open connections, which Admit holds
// to the cap, making room by closing idle sessions (each loop keeps its own oldest first).

// Boost 1.74 Asio with GCC 12 in C++20 needs <utility> first (dependency-notes.md).
#include <utility>

#include "serving/http_server.h"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
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

// A failed accept (EMFILE, ENFILE, ENOBUFS, ENOMEM) leaves the client queued, so the listener
// stays readable and accepting again at once would spin a core until a descriptor frees up.
// The loop pauses instead, from kAcceptPauseMin doubling to kAcceptPauseMax (the longest a
// queued client then waits), and the pause resets at the next accepted connection.
constexpr auto kAcceptPauseMin = std::chrono::milliseconds(5);
constexpr auto kAcceptPauseMax = std::chrono::milliseconds(500);

}  // namespace

class Session;

// The idle sessions of one loop, oldest first, linked through their own nodes so that a
// request costs no allocation for it.
struct IdleNode {
  IdleNode* prev = nullptr;
  IdleNode* next = nullptr;
  Session* session = nullptr;
};

struct IdleList {
  IdleList() { head.prev = head.next = &head; }
  IdleList(const IdleList&) = delete;
  IdleList& operator=(const IdleList&) = delete;
  void PushBack(IdleNode& n) {
    n.prev = head.prev;
    n.next = &head;
    head.prev->next = &n;
    head.prev = &n;
    ++size;
  }
  void Remove(IdleNode& n) {
    n.prev->next = n.next;
    n.next->prev = n.prev;
    n.prev = n.next = nullptr;
    --size;
  }
  Session* Oldest() const { return size > 0 ? head.next->session : nullptr; }
  IdleNode head;  // sentinel
  int size = 0;
};

struct Worker {
  explicit Worker(int i) : index(i) {}
  int index;
  HttpServer::Impl* server = nullptr;
  // Touched only on this worker's thread. Declared before the io_context so that they outlive
  // it: destroying it destroys pending handlers, and with them sessions that unlink themselves.
  std::unordered_set<Session*> sessions;
  IdleList idle;
  std::atomic<int> idle_count{0};  // idle.size, for the other loops
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_timer{ioc};  // the pause after a failed accept
  std::chrono::milliseconds accept_pause{0};
  bool stopping = false;  // this worker's thread only
  uint64_t next_request = 0;
};

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  HttpRejectHook on_reject;
  HttpConnectionHook on_connection;
  ConnectionBudget budget;
  // Client sockets open (served and being refused), over every loop; kept within
  // budget.max_connections + kRefusalSlots. Declared before the workers, which use it to the end.
  std::atomic<int> open{0};
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

namespace {

void Notify(HttpServer::Impl& server, ConnectionEvent event) {
  if (server.on_connection) server.on_connection(event);
}

}  // namespace

// A session holds one of the server's open places (Impl::open) from its construction until
// its socket is closed.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Worker& worker)
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        worker_(worker),
        options_(worker.server->options) {
    idle_node_.session = this;
    Notify(*worker_.server, ConnectionEvent::kOpened);
  }
  ~Session() {
    SetIdle(false);
    worker_.sessions.erase(this);
    Release();
  }

  void Start() {
    worker_.sessions.insert(this);
    WaitForRequest();
  }

  // Answers 503 over_capacity at once, without reading a request, and closes.
  void Refuse() {
    worker_.sessions.insert(this);
    Notify(*worker_.server, ConnectionEvent::kRefused);
    refused_ = true;
    request_id_ = NextRequestId();
    HttpResponse response;
    response.status = 503;
    response.body = ErrorJson("over_capacity",
                              "the server holds its maximum of " +
                                  std::to_string(worker_.server->budget.max_connections) +
                                  " connections; retry shortly",
                              request_id_);
    Write(std::move(response), /*close=*/true, /*linger=*/true);
  }

  // Closes an idle session to make room for a new connection.
  void Evict() {
    Notify(*worker_.server, ConnectionEvent::kIdleClosed);
    Close();
  }

  // Called on the worker's thread when the server stops.
  void OnStop() {
    if (idle_) Close();
  }

 private:
  void SetIdle(bool idle) {
    if (idle == idle_) return;
    idle_ = idle;
    if (idle) {
      worker_.idle.PushBack(idle_node_);
    } else {
      worker_.idle.Remove(idle_node_);
    }
    worker_.idle_count.store(worker_.idle.size, std::memory_order_relaxed);
  }

  // Gives the session's open place back, once.
  void Release() {
    if (released_) return;
    released_ = true;
    worker_.server->open.fetch_sub(1, std::memory_order_relaxed);
    Notify(*worker_.server, ConnectionEvent::kClosed);
  }

  void WaitForRequest() {
    if (worker_.stopping) return Close();
    if (buffer_.size() > 0) return ReadRequest();  // a pipelined request is already here
    SetIdle(true);
    timer_.expires_after(options_.idle_timeout);
    timer_.async_wait([self = shared_from_this()](ErrorCode ec) {
      if (!ec && self->idle_) self->Close();
    });
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](ErrorCode ec) {
      self->SetIdle(false);
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
    if (refused_) res_.set(http::field::retry_after, "1");
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
    SetIdle(false);
    timer_.cancel();
    ErrorCode ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    Release();
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
  IdleNode idle_node_;  // in worker_.idle while idle_
  bool idle_ = false;
  bool closed_ = false;
  bool released_ = false;
  bool refused_ = false;
};

namespace {

// Takes one of `limit` open places; false when all are taken.
bool TakePlace(std::atomic<int>& open, int limit) {
  int n = open.load(std::memory_order_relaxed);
  while (n < limit) {
    if (open.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

// The other loop with the most idle sessions, or null when no other loop has one.
Worker* IdlestOtherWorker(const Worker& w) {
  Worker* best = nullptr;
  int most = 0;
  for (const auto& other : w.server->workers) {
    const int n = other->idle_count.load(std::memory_order_relaxed);
    if (other.get() != &w && n > most) {
      best = other.get();
      most = n;
    }
  }
  return best;
}

// Runs on w's thread, posted by another loop that admitted a connection over the cap on the
// strength of w's idle sessions (using a refusal slot's place until this closes one).
void EvictIfOverCap(Worker& w) {
  const HttpServer::Impl& s = *w.server;
  if (w.stopping || s.open.load(std::memory_order_relaxed) <= s.budget.max_connections) return;
  if (Session* oldest = w.idle.Oldest()) oldest->Evict();
}

// Serves a new connection within the cap, making room by closing the oldest idle session of
// this loop, else of another loop; refuses it with 503 while refusal slots last; else closes it.
void Admit(Worker& w, tcp::socket socket) {
  HttpServer::Impl& s = *w.server;
  const int cap = s.budget.max_connections;
  bool serve = TakePlace(s.open, cap);
  if (!serve && w.idle.size > 0) {
    w.idle.Oldest()->Evict();
    serve = TakePlace(s.open, cap + kRefusalSlots);
  }
  if (!serve) {
    Worker* donor = IdlestOtherWorker(w);
    serve = donor != nullptr && TakePlace(s.open, cap + kRefusalSlots);
    if (serve) asio::post(donor->ioc, [donor] { EvictIfOverCap(*donor); });
  }
  if (serve) {
    ErrorCode ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), w)->Start();
  } else if (TakePlace(s.open, cap + kRefusalSlots)) {
    std::make_shared<Session>(std::move(socket), w)->Refuse();
  } else {
    Notify(s, ConnectionEvent::kDropped);
    ErrorCode ignored;
    socket.close(ignored);
  }
}

void Accept(Worker& w);

void PauseAccepting(Worker& w) {
  Notify(*w.server, ConnectionEvent::kAcceptFailed);
  w.accept_pause = std::clamp(w.accept_pause * 2, kAcceptPauseMin, kAcceptPauseMax);
  w.accept_timer.expires_after(w.accept_pause);
  w.accept_timer.async_wait([&w](ErrorCode ec) {
    if (!ec && w.acceptor.is_open()) Accept(w);
  });
}

void Accept(Worker& w) {
  w.acceptor.async_accept([&w](ErrorCode ec, tcp::socket socket) {
    if (!w.acceptor.is_open() || ec == asio::error::operation_aborted) return;
    if (ec) return PauseAccepting(w);
    w.accept_pause = {};
    Admit(w, std::move(socket));
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
                                                        HttpRejectHook on_reject,
                                                        HttpConnectionHook on_connection) {
  ErrorCode ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgumentError("serve: \"" + options.host + "\" is not an IP address");
  if (options.threads < 1) return InvalidArgumentError("serve: threads must be >= 1");
  if (options.max_connections < 0 || options.fd_reserve < 0) {
    return InvalidArgumentError("serve: max_connections and fd_reserve must be >= 0");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->on_reject = std::move(on_reject);
  impl->on_connection = std::move(on_connection);
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
  // Counted with the listeners and event loops open, so that only connections come on top.
  ASSIGN_OR_RETURN(impl->budget, MakeConnectionBudget(options.max_connections, options.fd_reserve));
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

const ConnectionBudget& HttpServer::budget() const { return impl_->budget; }

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
      wp->accept_timer.cancel();
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
