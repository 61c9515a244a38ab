// HttpServer: serves an Api over HTTP(S). Connections are handled by an event-driven Reactor
// (api/reactor.hpp: slow and idle clients hold no worker); each request is parsed by cpp-httplib
// (http_server.cpp is the only file that includes httplib.h) and checked before its body is read
// (framing, token, body limit). Logs one line per request (api/request_log.hpp: text or JSON),
// counts it in the Api's metrics (ApiMetrics: route pattern, method, status, latency) and answers
// every request, refused ones included, with an X-Request-Id (the client's when well-formed).
// Thread safety: Serve() blocks the calling thread; Stop() may be called from any thread.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "api/api.hpp"

namespace cmdb::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Bind)
  int threads = 8;           // workers serving requests (see api/reactor.hpp for what queues where)
  int read_timeout_s = 30;   // a worker waits at most this long for each read of a body
  int write_timeout_s = 30;  // ... and for the client to take each part of an answer
  int header_timeout_ms = 10'000;      // a request header must be complete this long after its start
  int keep_alive_timeout_ms = 30'000;  // an idle connection is closed after this
  int64_t min_body_bytes_per_s = 16 * 1024;  // a body slower than this on average is cut off ...
  int body_grace_ms = 10'000;                // ... once this grace period has passed
  int max_connections = 2048;           // open connections in all (503 past it)
  int max_connections_per_client = 128;  // open connections per client address (503 past it)
  int max_requests_per_connection = 1000;
  size_t max_buffered_body_bytes = 1 << 20;            // bodies up to this size are collected by the
                                                      // reactor before a worker takes the request
  int64_t max_buffered_bodies_bytes = int64_t{256} << 20;  // all such bodies at once
  int keep_alive_linger_ms = 2;  // a worker waits this long for the next request before handing
                                 // the connection back to the reactor
  std::ostream* log = nullptr;  // request log; nullptr: none (unless `events` is set)
  LogFormat log_format = LogFormat::kText;  // of the request log on `log`
  // The log requests go to instead of `log` (shared with the composition root's events); null:
  // one made over `log` and `log_format`.
  std::shared_ptr<EventLog> events;
  bool record_metrics = true;  // count requests in the Api's metrics (false: a bench baseline)
  std::string tls_cert;  // PEM files; both set: serve HTTPS only
  std::string tls_key;
  int listen_fd = -1;  // a socket from ListenOn() (owned by the server from then on); -1: Bind() opens one
};

class HttpServer {
 public:
  // `api` must outlive the server.
  HttpServer(Api& api, ServerOptions options);
  ~HttpServer();

  // Fails when the TLS certificate or key cannot be loaded.
  Status Valid() const;
  // The same check before anything else starts (so a bad key changes nothing on disk).
  static Status CheckTls(const std::string& cert, const std::string& key);
  // Opens a listening socket before anything else starts (so a second server on the same address
  // stops before it touches a database); pass it as ServerOptions::listen_fd. Returns {fd, port}.
  static Result<std::pair<int, int>> ListenOn(const std::string& host, int port);
  // Binds the listening socket (or takes options.listen_fd); returns the bound port.
  Result<int> Bind();
  // Serves until Stop(). Call after Bind().
  void Serve();
  void Stop();
  // Serves the requests arriving on an already-connected socket `fd` (plain HTTP, owned from
  // now on) on the calling thread until the client closes it or an answer closes it. For tests
  // and the in-process HTTP fuzz target; Bind/Serve are not needed.
  void ServeSocket(int fd);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One HTTP(S) request from a command-line client (cmdbd import). `base` is "http://host:port" or
// "https://host:port" (the certificate is verified unless `insecure`). Returns the status and the
// body; transport failures are kUnavailable naming the address.
Result<std::pair<int, std::string>> HttpCall(const std::string& base, const std::string& method, const std::string& target,
                                             const std::vector<std::pair<std::string, std::string>>& headers,
                                             const std::string& body, bool insecure = false);

}  // namespace cmdb::api
