#pragma once
// A minimal blocking HTTP/1.1 client over POSIX sockets for the serving tests: raw requests
// (to send malformed ones), keep-alive connections and slow senders. Not for production.

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace riskpipe::testing {

struct HttpReply {
  int status = 0;                              // 0 when the connection closed without a response
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpConnection {
 public:
  // Connects to 127.0.0.1:port; see connected().
  explicit HttpConnection(int port);
  bool connected() const { return connected_; }
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends bytes; false when the peer has closed.
  bool Send(std::string_view bytes);
  // Reads one response (Content-Length framed); status 0 on close or after `timeout`.
  HttpReply Read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the server closed the connection within `timeout` (reads and drops bytes).
  bool WaitClosed(std::chrono::milliseconds timeout);
  HttpReply Get(std::string_view path, std::string_view extra_headers = "");
  HttpReply Post(std::string_view path, std::string_view body, std::string_view extra_headers = "");

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// One request on a fresh connection.
HttpReply HttpGet(int port, std::string_view path, std::string_view extra_headers = "");
HttpReply HttpPost(int port, std::string_view path, std::string_view body,
                   std::string_view extra_headers = "");

}  // namespace riskpipe::testing
