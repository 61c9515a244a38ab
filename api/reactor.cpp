#include "api/reactor.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cmdb::api {
namespace {

using Clock = std::chrono::steady_clock;

std::string Canned(int status, const char* reason, const std::string& code, const std::string& message) {
  std::string body = "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\",\"details\":{}}}";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Where the request header ends in `data` (just past the blank line), or npos.
size_t HeaderEnd(std::string_view data) {
  size_t crlf = data.find("\r\n\r\n");
  size_t lf = data.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf)) return crlf + 4;
  return lf + 2;
}

}  // namespace

struct Reactor::Impl {
  ReactorOptions options;
  ServeFn serve;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::atomic<bool> stopping{false};

  // Connections the reactor waits on, by socket.
  std::unordered_map<int, std::unique_ptr<Connection>> waiting;

  std::mutex mu;  // guards everything below
  std::condition_variable work_cv;
  std::deque<std::unique_ptr<Connection>> ready;     // complete headers, for the workers
  std::vector<std::unique_ptr<Connection>> returned;  // kept alive by workers, for the reactor
  std::unordered_map<std::string, int> per_client;
  std::vector<Connection*> active;  // being served
  int total = 0;
  std::vector<std::thread> workers;

  Impl(ReactorOptions o, ServeFn s) : options(std::move(o)), serve(std::move(s)) {}
  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  void Forget(const Connection& c) {
    std::lock_guard l(mu);
    --total;
    auto it = per_client.find(c.peer_ip());
    if (it != per_client.end() && --it->second == 0) per_client.erase(it);
  }

  void Close(std::unique_ptr<Connection> c) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd(), nullptr);
    Forget(*c);
  }

  // Answers a waiting connection with a final error, then keeps reading (and dropping) what the
  // client still sends for a moment, so the answer is not lost to a reset.
  void Finish(Connection& c, const std::string& answer) {
    c.WriteNow(answer);
    c.ShutdownWrite();
    c.Discard();
    c.draining = true;
    c.deadline = Clock::now() + std::chrono::seconds(2);
    Watch(c, EPOLLIN, false);
  }

  void Watch(Connection& c, uint32_t events, bool add) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c.fd();
    epoll_ctl(epoll_fd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd(), &ev);
  }

  void Accept() {
    for (;;) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors until some close
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small answers go out at once
      auto c = std::make_unique<Connection>(fd, options.tls);
      bool refused = false;
      {
        std::lock_guard l(mu);
        int& mine = per_client[c->peer_ip()];
        if (total >= options.max_connections || mine >= options.max_connections_per_client) {
          refused = true;
          if (mine == 0) per_client.erase(c->peer_ip());
        } else {
          ++total, ++mine;
        }
      }
      if (refused) {
        c->WriteNow(Canned(503, "Service Unavailable", "Unavailable",
                           "too many connections from this address; retry in a moment"));
        continue;  // closed as it goes out of scope
      }
      c->deadline = Clock::now() + options.header_timeout;
      Watch(*c, EPOLLIN, true);
      int key = c->fd();
      waiting.emplace(key, std::move(c));
      Advance(key);
    }
  }

  // Moves a waiting connection on after an event: handshake, read, dispatch or close.
  void Advance(int fd) {
    auto it = waiting.find(fd);
    if (it == waiting.end()) return;
    Connection& c = *it->second;
    if (c.draining) {
      Connection::Step step = c.Fill(64 * 1024);
      c.Discard();
      if (step == Connection::Step::kClosed) {
        std::unique_ptr<Connection> conn = std::move(it->second);
        waiting.erase(it);
        Close(std::move(conn));
      }
      return;
    }
    if (c.admitted) {
      AdvanceBody(it);
      return;
    }
    Connection::Step step = c.Handshake();
    if (step == Connection::Step::kDone) step = c.Fill(options.max_header_bytes + 1);
    std::string_view data = c.Buffered();
    while (data.substr(0, 2) == "\r\n") data.remove_prefix(2);  // blank lines between requests
    if (!data.empty() && !c.header_started) {
      c.header_started = true;
      c.deadline = std::min(c.deadline, Clock::now() + options.header_timeout);
    }
    if (HeaderEnd(data) != std::string_view::npos) {
      std::unique_ptr<Connection> conn = std::move(it->second);
      waiting.erase(it);
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      Dispatch(std::move(conn));
      return;
    }
    if (data.size() > options.max_header_bytes) {
      Finish(c, Canned(431, "Request Header Fields Too Large", "BadRequest",
                       "the request header is larger than " + std::to_string(options.max_header_bytes) + " bytes"));
      return;
    }
    if (step == Connection::Step::kClosed) {
      std::unique_ptr<Connection> conn = std::move(it->second);
      waiting.erase(it);
      Close(std::move(conn));
      return;
    }
    Watch(c, step == Connection::Step::kWantWrite ? EPOLLOUT : EPOLLIN, false);
  }

  // A connection whose admitted request's body is still arriving: read on until it is whole
  // (then a worker serves it), malformed (400) or late (408).
  void AdvanceBody(std::unordered_map<int, std::unique_ptr<Connection>>::iterator it) {
    Connection& c = *it->second;
    Connection::Step step = c.Fill(c.chunks ? c.body_limit + 1 : c.body_until);
    std::string_view data = c.Buffered();
    bool whole = false;
    if (c.chunks) {
      if (data.size() > c.chunks_fed) {
        auto state = c.chunks->Feed(data.substr(c.chunks_fed));
        c.chunks_fed = data.size();
        if (state == ChunkScanner::State::kMalformed) {
          Finish(c, Canned(400, "Bad Request", "BadRequest",
                           "malformed chunked body (" + c.chunks->error() + "); nothing was applied"));
          return;
        }
        whole = state == ChunkScanner::State::kDone || data.size() > c.body_limit;
      }
    } else {
      whole = data.size() >= c.body_until;
    }
    if (whole || step == Connection::Step::kClosed) {
      // Whole, or cut short by the client: a worker serves it either way (and answers that the
      // body ended early, applying nothing).
      std::unique_ptr<Connection> conn = std::move(it->second);
      waiting.erase(it);
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, conn->fd(), nullptr);
      Dispatch(std::move(conn));
      return;
    }
    Watch(c, step == Connection::Step::kWantWrite ? EPOLLOUT : EPOLLIN, false);
  }

  void Dispatch(std::unique_ptr<Connection> c) {
    std::unique_lock l(mu);
    if (ready.size() >= options.max_queued) {
      l.unlock();
      c->WriteNow(Canned(503, "Service Unavailable", "Unavailable", "the server is busy; retry in a moment"));
      Forget(*c);
      return;
    }
    ready.push_back(std::move(c));
    l.unlock();
    work_cv.notify_one();
  }

  // Takes back connections the workers kept alive.
  void TakeReturned() {
    std::vector<std::unique_ptr<Connection>> back;
    {
      std::lock_guard l(mu);
      back.swap(returned);
    }
    for (auto& c : back) {
      c->header_started = c->admitted;
      if (!c->admitted) c->deadline = Clock::now() + options.keep_alive_timeout;
      int fd = c->fd();
      Watch(*c, EPOLLIN, true);
      waiting.emplace(fd, std::move(c));
      Advance(fd);  // bytes of a next request may already be buffered
    }
  }

  void Expire() {
    auto now = Clock::now();
    std::vector<int> late;
    for (auto& [fd, c] : waiting)
      if (c->deadline <= now) late.push_back(fd);
    for (int fd : late) {
      auto it = waiting.find(fd);
      Connection& c = *it->second;
      if (c.admitted && !c.draining) {
        Finish(c, Canned(408, "Request Timeout", "BadRequest",
                         "the request body was not received in time (at least " +
                             std::to_string(options.min_body_bytes_per_s) +
                             " bytes per second after a grace period); nothing was applied"));
        continue;
      }
      if (c.header_started && !c.draining) {
        Finish(c, Canned(408, "Request Timeout", "BadRequest",
                         "the request header was not received within " +
                             std::to_string(options.header_timeout.count()) + " ms"));
        continue;
      }
      std::unique_ptr<Connection> conn = std::move(it->second);
      waiting.erase(it);
      Close(std::move(conn));
    }
  }

  void Work() {
    for (;;) {
      std::unique_ptr<Connection> c;
      {
        std::unique_lock l(mu);
        work_cv.wait(l, [&] { return !ready.empty() || stopping; });
        if (ready.empty()) return;
        c = std::move(ready.front());
        ready.pop_front();
        active.push_back(c.get());
      }
      c->close_after = stopping.load();
      serve(*c);
      bool keep = !c->close_after && !stopping;
      {
        std::lock_guard l(mu);
        std::erase(active, c.get());
      }
      if (keep) {
        {
          std::lock_guard l(mu);
          returned.push_back(std::move(c));
        }
        Wake();
      } else {
        c->LingeringClose();
        Forget(*c);
      }
    }
  }

  void Loop() {
    epoll_event events[64];
    while (!stopping) {
      int n = epoll_wait(epoll_fd, events, 64, 250);
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == listen_fd) {
          Accept();
        } else if (fd == wake_fd) {
          uint64_t v;
          [[maybe_unused]] ssize_t r = ::read(wake_fd, &v, sizeof v);
          TakeReturned();
        } else {
          Advance(fd);
        }
      }
      Expire();
    }
  }
};

Reactor::Reactor(ReactorOptions options, ServeFn serve)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(serve))) {}

Reactor::~Reactor() = default;

Result<Listener> Listen(const std::string& host, int port_number) {
  std::string where = host + ":" + std::to_string(port_number);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(port_number);
  if (int e = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); e != 0)
    return Status::Invalid("cannot listen on " + where + ": " + gai_strerror(e));
  std::string why = "no usable address";
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR lets a restarted server bind past connections in TIME_WAIT; unlike
    // SO_REUSEPORT it never lets two servers listen on one address.
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      why = errno == EADDRINUSE ? "the address is in use (is another cmdbd or another program listening there?)"
                                : std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return Status(StatusCode::kUnavailable, "cannot listen on " + where + ": " + why);
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  int bound = sa.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
  return Listener{fd, bound};
}

Result<int> Reactor::Bind() {
  auto& o = impl_->options;
  if (o.listen_fd >= 0) {
    impl_->listen_fd = o.listen_fd;
    o.listen_fd = -1;
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&sa), &len);
    return sa.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
  }
  auto l = Listen(o.host, o.port);
  if (!l.ok()) return l.status();
  impl_->listen_fd = l->fd;
  return l->port;
}

void Reactor::Run() {
  Impl& m = *impl_;
  m.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  m.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = m.listen_fd;
  epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.listen_fd, &ev);
  ev.data.fd = m.wake_fd;
  epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.wake_fd, &ev);
  for (int i = 0; i < std::max(1, m.options.workers); ++i) m.workers.emplace_back([&m] { m.Work(); });

  m.Loop();

  // Stopping: no new connections; idle ones close; requests in service get a grace period.
  ::close(m.listen_fd);
  m.listen_fd = -1;
  for (auto& [fd, c] : m.waiting) m.Forget(*c);
  m.waiting.clear();
  {
    std::lock_guard l(m.mu);
    for (auto& c : m.ready) c->Abort();
  }
  m.work_cv.notify_all();
  auto grace = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    {
      std::lock_guard l(m.mu);
      if (m.active.empty() && m.ready.empty()) break;
      if (Clock::now() >= grace)
        for (Connection* c : m.active) c->Abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& t : m.workers) t.join();
  m.workers.clear();
  std::lock_guard l(m.mu);
  m.returned.clear();
}

void Reactor::Stop() {
  impl_->stopping = true;
  impl_->work_cv.notify_all();
  if (impl_->wake_fd >= 0) impl_->Wake();
}

}  // namespace cmdb::api
