// Connection: one client connection of the HTTP server: its socket, its TLS session (when the
// server speaks HTTPS) and the bytes read but not yet consumed. Reads and writes block the calling
// thread with deadlines, so a worker thread never waits on a client longer than its limits allow.
// TlsContext: the server's certificate and key (OpenSSL), shared by every connection.
//
// Ownership: a Connection owns its socket and TLS session and closes them when destroyed.
// Thread safety: a Connection is used by one thread at a time (the reactor while it waits for a
// request header, then one worker while that request is served); `Abort` may be called from any
// thread. TlsContext is immutable after Load and safe to share.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <sys/types.h>

#include "api/request_head.hpp"
#include "cmdb/status.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace cmdb::api {

using SteadyTime = std::chrono::steady_clock::time_point;

class TlsContext {
 public:
  // Loads a PEM certificate chain and its private key; fails naming both files when either is
  // missing, unreadable or they do not match. TLS 1.2 at least.
  static Result<std::shared_ptr<TlsContext>> Load(const std::string& cert, const std::string& key);
  ~TlsContext();
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class Connection {
 public:
  // Takes ownership of `fd` (set non-blocking here). `tls` null: plain HTTP.
  Connection(int fd, const std::shared_ptr<TlsContext>& tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }
  const std::string& peer_ip() const { return peer_ip_; }
  int peer_port() const { return peer_port_; }
  const std::string& local_ip() const { return local_ip_; }
  int local_port() const { return local_port_; }

  // --- Non-blocking steps, for the reactor. Each returns kDone, kWantRead, kWantWrite or kClosed.
  enum class Step { kDone, kWantRead, kWantWrite, kClosed };
  // Advances the TLS handshake (kDone at once for plain connections).
  Step Handshake();
  // Reads what is available into the buffer (at most `max_buffer` bytes in all).
  Step Fill(size_t max_buffer);
  // The bytes buffered and not yet consumed.
  std::string_view Buffered() const { return std::string_view(buf_).substr(pos_); }
  // True when TLS holds decrypted bytes not yet moved into the buffer.
  bool TlsPending() const;

  // --- Blocking I/O with deadlines, for a worker. A read returns the bytes read (buffered ones
  // first), 0 at the end of the stream and -1 on an error, a deadline or Abort. `idle` bounds
  // each wait for the client; `deadline` bounds the whole call.
  ssize_t Read(char* out, size_t size, std::chrono::milliseconds idle, SteadyTime deadline);
  bool WaitReadable(std::chrono::milliseconds idle);
  // Writes everything or fails (the client went away or stopped reading for `idle`).
  bool WriteAll(const char* data, size_t size, std::chrono::milliseconds idle);
  // Best-effort write of a short answer without blocking (the reactor's own answers).
  void WriteNow(std::string_view data);

  // Makes every blocked and later read or write fail at once.
  void Abort();
  // Drops the bytes buffered so far.
  void Discard() { buf_.clear(), pos_ = 0; }
  // Half-closes the sending side (after a final answer), so the client reads the answer to its end.
  void ShutdownWrite();
  // Closes the connection after a short lingering read, so that an answer sent while the client
  // is still sending a body is not destroyed by a reset.
  void LingeringClose();

  // Bookkeeping for the reactor and workers.
  SteadyTime deadline;    // the reactor closes the connection past it
  bool header_started = false;
  int requests = 0;       // requests served on this connection
  bool close_after = false;  // answer with Connection: close and close
  bool draining = false;     // answered and half-closed: the reactor reads on and drops the bytes

  // A request admitted by a worker whose body the reactor collects before a worker serves it:
  // complete when `body_until` bytes are buffered, or, for a chunked body, when `chunks` says so
  // (fed from byte `chunks_fed` of the buffer on).
  bool admitted = false;
  size_t body_until = 0;
  std::unique_ptr<ChunkScanner> chunks;
  size_t chunks_fed = 0;
  size_t body_limit = 0;  // the most the reactor buffers for this body before a worker takes it
  // Bytes of the server's body-buffering budget this connection holds; given back to `pool` when
  // the body is served or the connection closes.
  int64_t reserved = 0;
  std::atomic<int64_t>* pool = nullptr;
  void Unreserve() {
    if (pool && reserved) pool->fetch_sub(reserved);
    reserved = 0;
  }

 private:
  bool Wait(short events, std::chrono::milliseconds idle, SteadyTime deadline);
  ssize_t RawRead(char* out, size_t size, Step* step);

  int fd_;
  SSL* ssl_ = nullptr;
  std::string buf_;
  size_t pos_ = 0;
  std::atomic<bool> aborted_{false};
  std::string peer_ip_, local_ip_;
  int peer_port_ = 0, local_port_ = 0;
};

}  // namespace cmdb::api
