// The shell's one way to the server: HTTP(S) requests to cmdbd with the bearer token. The only
// unit of the shell that includes httplib.h is http_client.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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

  // The number of the latest call (1, 2, ...; 0 before the first). Lock-free, so a signal
  // handler may read it.
  uint64_t CallNumber() const { return call_number_.load(); }

  // Stops waiting for the answer of call number `call` if it is still in progress (on another
  // thread; Ctrl-C): that call returns false with "interrupted: ..."; the server may still finish
  // the request. A call that ended, or a later one, is left alone. Safe from any thread.
  void Interrupt(uint64_t call);

  // The server as given (for messages).
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string url_, prefix_, token_, invalid_;
  std::mutex call_mutex_;  // guards in_call_ and interrupted_ against Interrupt
  std::atomic<uint64_t> call_number_{0};
  static_assert(std::atomic<uint64_t>::is_always_lock_free,
                "CallNumber is read in a signal handler");
  bool in_call_ = false;
  bool interrupted_ = false;
};

// `text` percent-encoded for a URL path segment or query value.
std::string UrlEncode(const std::string& text);

}  // namespace cmdb::shell
