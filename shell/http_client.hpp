// The shell's one way to the server: HTTP(S) requests to cmdbd with the bearer token. The only
// unit of the shell that includes httplib.h is http_client.cpp.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cmdb::shell {

// An answer from the server: the HTTP status and the body as sent.
struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string content_type;
};

// A keep-alive connection to one server. Not thread-safe; one per thread.
class HttpClient {
 public:
  // `url` is http[s]://host[:port][/prefix] (a prefix is put before every target); `token` is
  // sent as "Authorization: Bearer <token>" when not empty; `insecure_tls` skips the check of
  // the server's certificate. Check Valid() before calling.
  HttpClient(const std::string& url, std::string token, bool insecure_tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Empty when the URL was understood; else why not ("--url: ...").
  const std::string& Invalid() const { return invalid_; }

  // Sends `method` (GET, POST) to `target` (a path with its query string); a POST carries
  // `body` as `content_type`. True with the answer in *out, or false with the reason the server
  // could not be reached (connection refused, TLS, timeout) in *error. `timeout_s` bounds the
  // wait for the answer; `headers` are sent besides the token's.
  bool Call(const std::string& method, const std::string& target, const std::string& body,
            const std::string& content_type, HttpAnswer* out, std::string* error,
            int timeout_s = 600,
            const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Stops waiting for the answer of a call in progress on another thread (Ctrl-C): that call
  // returns false with "interrupted: ..."; the server may still finish the request. Safe to call
  // from any thread, also when no call is in progress (the next call reconnects).
  void Interrupt();

  // The server as given (for messages).
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string url_, prefix_, token_, invalid_;
  std::atomic<bool> interrupted_{false};
};

// `text` percent-encoded for a URL path segment or query value.
std::string UrlEncode(const std::string& text);

}  // namespace cmdb::shell
