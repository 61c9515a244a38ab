// Reactor: the HTTP server's connection handling, event-driven so that slow or idle clients cost
// no worker thread. One thread accepts connections and waits (epoll) until each holds a complete
// request header, within deadlines and per-client caps; only then is the connection handed to
// one of a fixed pool of worker threads, which serves that request (reading its body with
// deadlines of its own) and hands the connection back for the next one.
//
// What queues where:
//   - connections waiting for a request header: in the reactor, at most `max_connections` in all
//     and `max_connections_per_client` per client address; past either, a new connection gets a
//     503 and is closed. A header must be complete `header_timeout` after its first byte (408
//     otherwise) and at most `max_header_bytes` long (431); an idle keep-alive connection is
//     closed after `keep_alive_timeout`.
//   - requests with a complete header: in one FIFO queue for the workers, at most `max_queued`;
//     past it the request is answered 503 at once. A worker admits the request (framing, token,
//     body limit) and, when its body has not arrived yet and is small, hands the connection back
//     (Connection::admitted): the reactor collects the body (408 when it is late, 400 when chunks
//     are malformed) and queues the request again, so slow bodies hold no worker either.
//   - requests being served: one per worker (`workers` threads).
// Thread safety: Bind, then Run on one thread; Stop from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/connection.hpp"
#include "cmdb/status.hpp"

namespace cmdb::api {

struct ReactorOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int workers = 8;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds keep_alive_timeout{30'000};
  size_t max_header_bytes = 64 * 1024;
  int max_connections = 2048;
  int max_connections_per_client = 128;
  size_t max_queued = 1024;
  int64_t min_body_bytes_per_s = 16 * 1024;  // for the message of a late body
  std::shared_ptr<TlsContext> tls;  // null: plain HTTP
  int listen_fd = -1;  // a socket from Listen() to serve on (owned from then on); -1: Bind() opens one
};

// A listening socket and the port it is bound to.
struct Listener {
  int fd = -1;
  int port = 0;
};
// Opens a listening socket on host:port (port 0: any free one), without SO_REUSEPORT, so a second
// server on the same address fails here with a clear message. The caller owns the socket.
Result<Listener> Listen(const std::string& host, int port);

class Reactor {
 public:
  // Serves the request whose header `conn` holds (and any further complete ones already
  // buffered), on a worker thread. Sets conn.close_after when the connection must be closed, or
  // conn.admitted (with the body's extent and deadline) to have the reactor collect a body first.
  using ServeFn = std::function<void(Connection& conn)>;

  Reactor(ReactorOptions options, ServeFn serve);
  ~Reactor();

  // Opens the listening socket with Listen() unless options.listen_fd holds one. Returns the
  // bound port.
  Result<int> Bind();
  // Accepts and dispatches until Stop(); then lets the workers finish the requests they serve
  // (aborting their I/O after a grace period) and returns.
  void Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cmdb::api
