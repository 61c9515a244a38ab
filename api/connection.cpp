#include "api/connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cmdb::api {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Waits are cut into slices so that Abort is noticed while a worker waits on a client.
constexpr std::chrono::milliseconds kSlice{200};

void Address(const sockaddr_storage& sa, std::string* ip, int* port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
    *port = ntohs(in->sin6_port);
  }
  *ip = text;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::Load(const std::string& cert, const std::string& key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  auto fail = [&] {
    if (ctx) SSL_CTX_free(ctx);
    ERR_clear_error();
    return Status::Invalid("cannot use the TLS certificate '" + cert + "' and key '" + key +
                           "' (missing, unreadable or not matching)");
  };
  if (!ctx) return fail();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1)
    return fail();
  return std::shared_ptr<TlsContext>(new TlsContext(ctx));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Connection::Connection(int fd, const std::shared_ptr<TlsContext>& tls) : fd_(fd) {
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL, 0) | O_NONBLOCK);
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0) Address(sa, &peer_ip_, &peer_port_);
  len = sizeof sa;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0) Address(sa, &local_ip_, &local_port_);
  if (tls) {
    ssl_ = SSL_new(tls->get());
    SSL_set_fd(ssl_, fd_);
    SSL_set_accept_state(ssl_);
  }
}

Connection::~Connection() {
  Unreserve();
  if (ssl_) SSL_free(ssl_);
  ::close(fd_);
}

Connection::Step Connection::Handshake() {
  if (!ssl_ || SSL_is_init_finished(ssl_)) return Step::kDone;
  int r = SSL_do_handshake(ssl_);
  if (r == 1) return Step::kDone;
  int err = SSL_get_error(ssl_, r);
  ERR_clear_error();
  if (err == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (err == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  return Step::kClosed;
}

bool Connection::TlsPending() const { return ssl_ && SSL_pending(ssl_) > 0; }

ssize_t Connection::RawRead(char* out, size_t size, Step* step) {
  if (aborted_) return *step = Step::kClosed, -1;
  if (ssl_) {
    int n = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    if (n > 0) return *step = Step::kDone, n;
    int err = SSL_get_error(ssl_, n);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ) return *step = Step::kWantRead, -1;
    if (err == SSL_ERROR_WANT_WRITE) return *step = Step::kWantWrite, -1;
    if (err == SSL_ERROR_ZERO_RETURN) return *step = Step::kClosed, 0;
    return *step = Step::kClosed, -1;
  }
  ssize_t n = ::recv(fd_, out, size, 0);
  if (n > 0) return *step = Step::kDone, n;
  if (n == 0) return *step = Step::kClosed, 0;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return *step = Step::kWantRead, -1;
  return *step = Step::kClosed, -1;
}

Connection::Step Connection::Fill(size_t max_buffer) {
  if (pos_ > 0 && pos_ == buf_.size()) buf_.clear(), pos_ = 0;
  for (;;) {
    size_t have = buf_.size() - pos_;
    if (have >= max_buffer) return Step::kDone;
    size_t room = std::min(kReadChunk, max_buffer - have);
    size_t old = buf_.size();
    buf_.resize(old + room);
    Step step;
    ssize_t n = RawRead(buf_.data() + old, room, &step);
    buf_.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n <= 0) return step;
    if (!ssl_ && static_cast<size_t>(n) < room) return Step::kWantRead;
  }
}

bool Connection::Wait(short events, std::chrono::milliseconds idle, SteadyTime deadline) {
  auto until = std::min(deadline, std::chrono::steady_clock::now() + idle);
  for (;;) {
    if (aborted_) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now) + std::chrono::milliseconds(1);
    pollfd p{fd_, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

bool Connection::WaitReadable(std::chrono::milliseconds idle) {
  if (pos_ < buf_.size() || TlsPending()) return true;
  return Wait(POLLIN, idle, SteadyTime::max());
}

ssize_t Connection::Read(char* out, size_t size, std::chrono::milliseconds idle, SteadyTime deadline) {
  if (size == 0) return 0;
  if (pos_ < buf_.size()) {
    size_t n = std::min(size, buf_.size() - pos_);
    std::memcpy(out, buf_.data() + pos_, n);
    pos_ += n;
    if (pos_ == buf_.size()) buf_.clear(), pos_ = 0;
    return static_cast<ssize_t>(n);
  }
  for (;;) {
    Step step;
    ssize_t n = RawRead(out, size, &step);
    if (n >= 0) return n;
    if (step == Step::kClosed) return -1;
    if (!Wait(step == Step::kWantWrite ? POLLOUT : POLLIN, idle, deadline)) return -1;
  }
}

bool Connection::WriteAll(const char* data, size_t size, std::chrono::milliseconds idle) {
  while (size > 0) {
    if (aborted_) return false;
    ssize_t n;
    short want = POLLOUT;
    if (ssl_) {
      int r = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (r > 0) {
        n = r;
      } else {
        int err = SSL_get_error(ssl_, r);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_READ) want = POLLIN;
        else if (err != SSL_ERROR_WANT_WRITE) return false;
        n = -1;
      }
    } else {
      n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    }
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
    } else if (!Wait(want, idle, SteadyTime::max())) {
      return false;
    }
  }
  return true;
}

void Connection::WriteNow(std::string_view data) {
  if (ssl_) {
    if (SSL_is_init_finished(ssl_)) SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    ERR_clear_error();
    return;
  }
  [[maybe_unused]] ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Connection::Abort() {
  aborted_ = true;
  ::shutdown(fd_, SHUT_RDWR);
}

void Connection::ShutdownWrite() {
  if (ssl_ && SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  if (ssl_) ERR_clear_error();
  ::shutdown(fd_, SHUT_WR);
}

void Connection::LingeringClose() {
  if (aborted_) return;
  if (ssl_) {
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
  // Drain what the client still sends for a moment (at most 256 KiB or one second).
  char sink[16 * 1024];
  size_t drained = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (drained < 256 * 1024) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    pollfd p{fd_, POLLIN, 0};
    int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()) + 1;
    if (::poll(&p, 1, ms) <= 0) break;
    ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

}  // namespace cmdb::api
