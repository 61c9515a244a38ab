#include "api/http_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "api/connection.hpp"
#include "api/reactor.hpp"
#include "api/request_head.hpp"
#include "cmdb/clock.hpp"
#include "cmdb/time_util.hpp"

namespace cmdb::api {
namespace {

using Clock = std::chrono::steady_clock;

// One request's view of its connection for cpp-httplib's request parser: reads come from the
// bytes the reactor buffered first, then from the socket with an idle limit per wait and a
// minimum average rate for the body (past a grace period), so no client holds a worker for long.
class ConnStream final : public httplib::Stream {
 public:
  // `head_size`: the bytes of the request head (the body follows); `chunked`: the body's chunks
  // are checked against the grammar as they pass (cpp-httplib's reader is lenient).
  ConnStream(Connection& c, const ServerOptions& o, size_t head_size, bool chunked)
      : c_(c),
        head_size_(head_size),
        chunks_(chunked ? std::make_unique<ChunkScanner>() : nullptr),
        idle_(std::chrono::seconds(o.read_timeout_s)),
        write_idle_(std::chrono::seconds(o.write_timeout_s)),
        min_rate_(std::max<int64_t>(1, o.min_body_bytes_per_s)),
        grace_(std::chrono::milliseconds(o.body_grace_ms)),
        start_(Clock::now()) {}

  bool is_readable() const override { return c_.WaitReadable(idle_); }
  bool is_writable() const override { return true; }  // writes wait themselves, with a limit

  ssize_t read(char* ptr, size_t size) override {
    // The body must keep up the minimum rate once the grace period is over: this read may wait
    // until the moment the bytes so far (plus one) would fall below it.
    auto allowed = std::max<Clock::duration>(
        grace_, std::chrono::milliseconds((read_ + 1) * 1000 / min_rate_));
    ssize_t n = c_.Read(ptr, size, idle_, start_ + allowed);
    if (n <= 0) return failed_ = true, n;
    size_t before = read_;
    read_ += static_cast<size_t>(n);
    if (chunks_ && read_ > head_size_) {
      size_t skip = before >= head_size_ ? 0 : head_size_ - before;
      if (chunks_->Feed(std::string_view(ptr + skip, static_cast<size_t>(n) - skip)) ==
          ChunkScanner::State::kMalformed)
        return failed_ = true, -1;
    }
    return n;
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (discard_writes) return static_cast<ssize_t>(size);
    if (!c_.WriteAll(ptr, size, write_idle_)) return failed_ = true, -1;
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.peer_ip();
    port = c_.peer_port();
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_ip();
    port = c_.local_port();
  }
  socket_t socket() const override { return c_.fd(); }

  bool failed() const { return failed_; }
  // Why the chunks were refused, or "".
  std::string chunk_error() const { return chunks_ ? chunks_->error() : ""; }
  size_t bytes_read() const { return read_; }
  // The request's body was not read to its end (or the answer asks to close): the connection
  // cannot carry another request.
  bool must_close = false;
  // The answer went out already (a streamed one, written by WriteStreamed): what cpp-httplib
  // writes after the handler is dropped, and the connection closes.
  bool discard_writes = false;

 private:
  Connection& c_;
  size_t head_size_;
  std::unique_ptr<ChunkScanner> chunks_;
  std::chrono::milliseconds idle_, write_idle_;
  int64_t min_rate_;
  std::chrono::milliseconds grace_;
  Clock::time_point start_;
  size_t read_ = 0;
  bool failed_ = false;
};

thread_local ConnStream* current_stream = nullptr;

// cpp-httplib's server with the request parser reachable for our own connection handling.
class Front : public httplib::Server {
 public:
  bool ServeRequest(httplib::Stream& strm, bool close_connection, bool& connection_closed) {
    return process_request(strm, close_connection, connection_closed, [](httplib::Request& req) {
      // HTTP/1.1: a request without Content-Length or Transfer-Encoding has no body (cpp-httplib
      // would otherwise read until the connection closes).
      if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
        req.set_header("Content-Length", "0");
    });
  }
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

struct HttpServer::Impl {
  Api& api;
  ServerOptions options;
  std::shared_ptr<TlsContext> tls;
  Status tls_status;
  Front server;
  std::unique_ptr<Reactor> reactor;
  std::atomic<int64_t> buffered_bodies{0};  // bytes reserved by bodies the reactor collects
  std::shared_ptr<EventLog> log;

  Impl(Api& a, ServerOptions o) : api(a), options(std::move(o)) {
    log = options.events ? options.events
                         : std::make_shared<EventLog>(options.log, options.log_format);
    if (!options.tls_cert.empty() || !options.tls_key.empty()) {
      auto loaded = TlsContext::Load(options.tls_cert, options.tls_key);
      if (loaded.ok()) tls = *loaded;
      else tls_status = loaded.status();
    }
  }

  static HttpRequest Convert(const httplib::Request& in) {
    HttpRequest out;
    out.method = in.method == "HEAD" ? "GET" : in.method;  // HEAD: GET's status and headers
    out.path = in.path;
    // The query string as ParseQuery reads it (checked before the request was admitted), not as
    // cpp-httplib splits it.
    if (auto query = ParseQuery(in.target); query.ok()) out.query = std::move(*query);
    for (const auto& [k, v] : in.headers) out.headers.emplace(Lower(k), v);
    return out;
  }

  void Send(const HttpResponse& r, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(r.body, r.content_type);
  }

  // Counts an answered request in the metrics and logs it.
  void Record(RequestLogEntry& e, const HttpResponse& r, double seconds) {
    e.status = r.status;
    e.route = r.route;
    e.actor = r.actor;
    e.bytes = r.body.size();
    e.latency_ms = seconds * 1000;
    static constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                    "PATCH", "DELETE", "OPTIONS"};
    std::string method = "other";
    for (std::string_view m : kMethods) {
      if (e.method == m) method = m;
    }
    if (options.record_metrics) {
      std::string route = r.route.empty() ? "unmatched" : r.route;
      ApiMetrics& m = api.api_metrics();
      m.requests.With({route, method, std::to_string(r.status)}).Inc();
      m.request_seconds.With({route, method}).Observe(seconds);
    }
    log->Request(e);
  }

  void Log(const httplib::Request& req, const HttpResponse& r, const std::string& id,
           Clock::time_point start) {
    RequestLogEntry e;
    e.request_id = id;
    e.method = req.method;
    e.path = req.path;
    e.remote = req.remote_addr;
    Record(e, r, std::chrono::duration<double>(Clock::now() - start).count());
  }

  // Writes a final answer to a request refused before its body was read; the connection closes.
  void Refuse(Connection& c, const RequestHead* head, HttpResponse r) {
    auto start = Clock::now();
    std::string id = RequestIdFor(head ? head->Get("x-request-id") : "");
    r.headers.emplace_back("X-Request-Id", id);
    static const std::map<int, const char*> kReasons = {
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {413, "Payload Too Large"}, {500, "Internal Server Error"},
        {503, "Service Unavailable"}};
    auto reason = kReasons.find(r.status);
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                      (reason == kReasons.end() ? "Error" : reason->second) + "\r\nContent-Type: " + r.content_type +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
    out += "\r\n";
    if (!head || head->method != "HEAD") out += r.body;
    c.WriteAll(out.data(), out.size(), std::chrono::seconds(options.write_timeout_s));
    c.close_after = true;
    RequestLogEntry e;
    e.request_id = id;
    if (head) e.method = head->method, e.path = head->path;
    e.remote = c.peer_ip();
    e.refused = true;
    Record(e, r, std::chrono::duration<double>(Clock::now() - start).count());
  }

  enum class Ready { kServe, kHandedBack, kRefused };

  // Before a byte of the body is read: the head's syntax, the framing, the caller's token and
  // the body limit. Then the body: when it has not all arrived and is small, the connection goes
  // back to the reactor to collect it (so a slow body holds no worker).
  Ready Prepare(Connection& c, RequestHead& head) {
    auto parsed = ParseRequestHead(c.Buffered());
    if (!parsed.ok()) return Refuse(c, nullptr, ErrorResponse(parsed.status())), Ready::kRefused;
    head = std::move(*parsed);
    auto framing = FramingOf(head);
    if (!framing.ok()) return Refuse(c, &head, ErrorResponse(framing.status())), Ready::kRefused;
    if (auto query = ParseQuery(head.target); !query.ok())
      return Refuse(c, &head, ErrorResponse(query.status())), Ready::kRefused;
    if (head.Count("authorization") > 1)
      return Refuse(c, &head, ErrorResponse(Status::Invalid("duplicate Authorization headers"))), Ready::kRefused;
    bool has_body = framing->chunked || framing->length > 0;
    if (has_body && (head.method == "GET" || head.method == "HEAD" || head.method == "OPTIONS"))
      return Refuse(c, &head, ErrorResponse(Status::Invalid("a " + head.method + " request may not carry a body"))),
             Ready::kRefused;
    HttpRequest req;
    req.method = head.method == "HEAD" ? "GET" : head.method;
    req.path = head.path;
    for (const auto& [k, v] : head.headers) req.headers.emplace(k, v);
    if (auto refused = api.Admit(req, framing->chunked ? -1 : framing->length))
      return Refuse(c, &head, *refused), Ready::kRefused;
    if (!has_body) return Ready::kServe;

    std::string_view body = c.Buffered().substr(head.size);
    size_t limit = std::min(api.BodyLimit(req.method, head.path), options.max_buffered_body_bytes);
    size_t expected;
    std::unique_ptr<ChunkScanner> chunks;
    if (framing->chunked) {
      chunks = std::make_unique<ChunkScanner>();
      auto state = chunks->Feed(body);
      if (state == ChunkScanner::State::kMalformed)
        return Refuse(c, &head, ErrorResponse(Status::Invalid("malformed chunked body (" + chunks->error() +
                                                              "); nothing was applied"))),
               Ready::kRefused;
      if (state == ChunkScanner::State::kDone || body.size() > limit) return Ready::kServe;
      expected = limit;
    } else {
      if (body.size() >= static_cast<size_t>(framing->length) || static_cast<size_t>(framing->length) > limit)
        return Ready::kServe;
      expected = static_cast<size_t>(framing->length);
    }
    // The server-wide budget of bodies being collected; past it the worker reads the body.
    int64_t want = static_cast<int64_t>(expected);
    if (buffered_bodies.fetch_add(want) + want > options.max_buffered_bodies_bytes) {
      buffered_bodies.fetch_sub(want);
      return Ready::kServe;
    }
    c.pool = &buffered_bodies;
    c.reserved = want;
    c.admitted = true;
    c.body_until = head.size + (framing->chunked ? 0 : expected);
    c.chunks = std::move(chunks);
    c.chunks_fed = framing->chunked ? c.Buffered().size() : 0;
    c.body_limit = head.size + limit;
    c.deadline = Clock::now() + std::chrono::milliseconds(options.body_grace_ms) +
                 std::chrono::milliseconds(static_cast<int64_t>(expected) * 1000 /
                                           std::max<int64_t>(1, options.min_body_bytes_per_s));
    if (Lower(head.Get("expect")) == "100-continue") {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      c.WriteAll(kContinue, sizeof kContinue - 1, std::chrono::seconds(options.write_timeout_s));
    }
    return Ready::kHandedBack;
  }

  void HandleSimple(const httplib::Request& req, httplib::Response& res) {
    auto start = Clock::now();
    HttpResponse r = api.Handle(Convert(req));
    std::string id = RequestIdFor(req.get_header_value("X-Request-Id"));
    r.headers.emplace_back("X-Request-Id", id);
    if (r.stream && current_stream) return WriteStreamed(*current_stream, req, res, r, id, start);
    Send(r, res);
    Log(req, r, id, start);
  }

  // A streamed answer (HttpResponse::stream), written here rather than by cpp-httplib: the head,
  // then each piece as a chunk, then the last chunk when the stream finished. The connection
  // closes after it (a stream cut off midway leaves no way to frame another answer). With a
  // `fallback`, the head waits for the first piece, and a stream that fails before it is
  // answered with fallback() instead, through `res` like any answer.
  void WriteStreamed(ConnStream& strm, const httplib::Request& req, httplib::Response& res,
                     const HttpResponse& r, const std::string& id, Clock::time_point start) {
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + (r.status == 200 ? " OK" : " Error") +
                       "\r\nContent-Type: " + r.content_type +
                       "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    bool head_sent = false;
    auto send_head = [&] {
      head_sent = true;
      Log(req, r, id, start);
      return strm.write(head.data(), head.size()) >= 0;
    };
    bool ok = r.fallback ? true : send_head();
    if (ok && req.method != "HEAD") {
      ok = r.stream([&](std::string_view piece) {
        if (piece.empty()) return true;
        if (!head_sent && !send_head()) return false;
        char size[32];
        int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        std::string chunk(size, static_cast<size_t>(n));
        chunk.append(piece).append("\r\n");
        return strm.write(chunk.data(), chunk.size()) >= 0;
      });
      if (!head_sent && !ok) {  // failed before its first piece: an ordinary answer
        HttpResponse answer = r.fallback();
        answer.route = r.route;
        answer.actor = r.actor;
        answer.headers.emplace_back("X-Request-Id", id);
        Send(answer, res);
        Log(req, answer, id, start);
        return;
      }
      if (ok && !head_sent) ok = send_head();
      if (ok) strm.write("0\r\n\r\n", 5);
    } else if (!head_sent) {
      send_head();
    }
    strm.discard_writes = true;
    strm.must_close = true;
  }

  void HandleWithBody(const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& content_reader) {
    auto start = Clock::now();
    HttpRequest in = Convert(req);
    HttpResponse r;
    bool complete = false;
    if (Api::IsStreamed(in.method, in.path)) {
      in.read_body = [&](const std::function<bool(const char*, size_t)>& sink) {
        complete = content_reader([&](const char* data, size_t len) { return sink(data, len); });
        return complete;
      };
      r = api.Handle(in);
    } else {
      size_t limit = api.BodyLimit(in.method, in.path);
      bool too_large = false;
      complete = content_reader([&](const char* data, size_t len) {
        if (in.body.size() + len > limit) return too_large = true, false;
        in.body.append(data, len);
        return true;
      });
      if (too_large) {
        r = ErrorResponse(Status(StatusCode::kPayloadTooLarge,
                                 "request body exceeds the limit of " + std::to_string(limit) + " bytes")
                              .With("limit", static_cast<int64_t>(limit)));
      } else if (!complete) {
        // Nothing of an incomplete body is ever applied.
        std::string chunk_error = current_stream ? current_stream->chunk_error() : "";
        r = ErrorResponse(chunk_error.empty()
                              ? IncompleteBody(req, in.body.size())
                              : Status::Invalid("malformed chunked body (" + chunk_error + "); nothing was applied"));
      } else {
        r = api.Handle(in);
      }
    }
    if (!complete && current_stream) current_stream->must_close = true;
    std::string id = RequestIdFor(req.get_header_value("X-Request-Id"));
    r.headers.emplace_back("X-Request-Id", id);
    if (r.stream && current_stream) return WriteStreamed(*current_stream, req, res, r, id, start);
    Send(r, res);
    Log(req, r, id, start);
  }

  Status IncompleteBody(const httplib::Request& req, size_t got) {
    std::string expected = req.has_header("Content-Length") ? " of " + req.get_header_value("Content-Length") : "";
    return Status::Invalid("the request body ended after " + std::to_string(got) + expected +
                           " bytes (connection closed, too slow or malformed chunks); nothing was applied")
        .With("received", static_cast<int64_t>(got));
  }

  // Serves the request whose header the reactor buffered, and any further complete ones.
  void Serve(Connection& c) {
    for (int i = 0; i < 16; ++i) {
      // Line ends between requests are allowed; drop them.
      char skip;
      while (!c.Buffered().empty() && (c.Buffered()[0] == '\r' || c.Buffered()[0] == '\n'))
        c.Read(&skip, 1, std::chrono::milliseconds(0), SteadyTime::max());
      RequestHead head;
      if (c.admitted) {  // its body is in: the head was checked when it was admitted
        head = *ParseRequestHead(c.Buffered());
      } else {
        Ready ready = Prepare(c, head);
        if (ready != Ready::kServe) return;
      }
      bool chunked = c.admitted ? c.chunks != nullptr : FramingOf(head)->chunked;
      c.admitted = false;
      c.chunks.reset();
      c.Unreserve();
      ++c.requests;
      ConnStream strm(c, options, head.size, chunked);
      current_stream = &strm;
      bool connection_closed = false;
      bool last = c.close_after || c.requests >= options.max_requests_per_connection;
      bool ok = server.ServeRequest(strm, last, connection_closed);
      current_stream = nullptr;
      if (!ok || connection_closed || last || strm.must_close || strm.failed()) {
        c.close_after = true;
        return;
      }
      // A client on keep-alive usually sends its next request as soon as it has the answer: wait
      // for it a moment here rather than hand the connection back to the reactor at once.
      auto complete = [&] {
        std::string_view next = c.Buffered();
        return next.find("\r\n\r\n") != std::string_view::npos || next.find("\n\n") != std::string_view::npos;
      };
      if (!complete() && c.WaitReadable(std::chrono::milliseconds(options.keep_alive_linger_ms))) {
        if (c.Fill(64 * 1024) == Connection::Step::kClosed && !complete()) {
          c.close_after = true;
          return;
        }
      }
      if (!complete()) return;
    }
  }
};

HttpServer::HttpServer(Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {
  auto& s = impl_->server;
  Impl* impl = impl_.get();
  s.set_keep_alive_max_count(static_cast<size_t>(impl->options.max_requests_per_connection));
  s.set_keep_alive_timeout(std::max(1, impl->options.keep_alive_timeout_ms / 1000));
  s.set_payload_max_length(std::max(api.options().max_bulk_bytes, api.options().max_body_bytes));
  auto simple = [impl](const httplib::Request& req, httplib::Response& res) { impl->HandleSimple(req, res); };
  auto with_body = [impl](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) { impl->HandleWithBody(req, res, reader); };
  s.Get(".*", simple);  // GET and HEAD
  s.Options(".*", simple);
  s.Post(".*", with_body);
  s.Put(".*", with_body);
  s.Patch(".*", with_body);
  s.Delete(".*", with_body);
  s.Delete(".*", simple);  // DELETE without a body
  // Answers cpp-httplib makes itself (a malformed request line, an unknown method) in our format.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("X-Request-Id", RequestIdFor(req.get_header_value("X-Request-Id")));
    std::string message = res.status == 404   ? "no such endpoint"
                          : res.status == 414 ? "the request target is too long"
                          : res.status == 413 ? "the request body is too large"
                                              : "malformed HTTP request";
    std::string code = res.status == 404 ? "NotFound" : "BadRequest";
    res.set_content(R"({"error":{"code":")" + code + R"(","message":")" + message + R"(","details":{}}})",
                    "application/json");
    if (current_stream && res.status != 404) current_stream->must_close = true;
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_header("X-Request-Id", RequestIdFor(req.get_header_value("X-Request-Id")));
    res.set_content(R"({"error":{"code":"Internal","message":"unexpected error","details":{}}})",
                    "application/json");
  });

  ReactorOptions r;
  r.host = impl->options.host;
  r.port = impl->options.port;
  r.workers = std::max(1, impl->options.threads);
  r.header_timeout = std::chrono::milliseconds(impl->options.header_timeout_ms);
  r.keep_alive_timeout = std::chrono::milliseconds(impl->options.keep_alive_timeout_ms);
  r.max_connections = impl->options.max_connections;
  r.max_connections_per_client = impl->options.max_connections_per_client;
  r.tls = impl->tls;
  r.listen_fd = impl->options.listen_fd;
  r.min_body_bytes_per_s = impl->options.min_body_bytes_per_s;
  impl->reactor = std::make_unique<Reactor>(r, [impl](Connection& c) { impl->Serve(c); });
}

HttpServer::~HttpServer() = default;

Status HttpServer::CheckTls(const std::string& cert, const std::string& key) {
  auto loaded = TlsContext::Load(cert, key);
  return loaded.ok() ? Status::Ok() : loaded.status();
}

Result<std::pair<int, int>> HttpServer::ListenOn(const std::string& host, int port) {
  auto l = Listen(host, port);
  if (!l.ok()) return l.status();
  return std::make_pair(l->fd, l->port);
}

Status HttpServer::Valid() const { return impl_->tls_status; }

Result<int> HttpServer::Bind() { return impl_->reactor->Bind(); }

void HttpServer::ServeSocket(int fd) {
  Connection c(fd, nullptr);
  auto header_done = [&] {
    std::string_view data = c.Buffered();
    return data.find("\r\n\r\n") != std::string_view::npos || data.find("\n\n") != std::string_view::npos;
  };
  while (!c.close_after) {
    Connection::Step step = Connection::Step::kWantRead;
    while (!header_done() && step != Connection::Step::kClosed && c.Buffered().size() <= 64 * 1024) {
      step = c.Fill(64 * 1024 + 1);
      if (step == Connection::Step::kWantRead && !c.WaitReadable(std::chrono::seconds(1))) break;
    }
    if (!header_done()) return;
    impl_->Serve(c);
    if (c.admitted) {  // no reactor here: wait for the body on this thread
      for (;;) {
        Connection::Step step = c.Fill(c.chunks ? c.body_limit + 1 : c.body_until);
        if (c.chunks) {
          if (c.Buffered().size() > c.chunks_fed) {
            auto state = c.chunks->Feed(c.Buffered().substr(c.chunks_fed));
            c.chunks_fed = c.Buffered().size();
            if (state != ChunkScanner::State::kMore) break;
          }
          if (c.Buffered().size() > c.body_limit) break;
        } else if (c.Buffered().size() >= c.body_until) {
          break;
        }
        if (step != Connection::Step::kWantRead || !c.WaitReadable(std::chrono::seconds(1))) break;
      }
      impl_->Serve(c);  // whole or cut short: answered either way
    }
  }
}

void HttpServer::Serve() { impl_->reactor->Run(); }

void HttpServer::Stop() {
  impl_->api.StopStreams();  // workers held by event streams return
  impl_->reactor->Stop();
}

Result<std::pair<int, std::string>> HttpCall(const std::string& base, const std::string& method, const std::string& target,
                                             const std::vector<std::pair<std::string, std::string>>& headers,
                                             const std::string& body, bool insecure) {
  httplib::Client client(base);
  client.enable_server_certificate_verification(!insecure);
  client.set_read_timeout(600, 0);
  client.set_write_timeout(600, 0);
  httplib::Headers h;
  std::string content_type = "application/octet-stream";
  for (const auto& [k, v] : headers) {
    if (k == "Content-Type") content_type = v;
    else h.emplace(k, v);
  }
  httplib::Result r = method == "GET" ? client.Get(target.c_str(), h) : client.Post(target.c_str(), h, body, content_type.c_str());
  if (!r) return Status(StatusCode::kUnavailable, "cannot reach " + base + ": " + httplib::to_string(r.error()));
  return std::make_pair(r->status, r->body);
}

}  // namespace cmdb::api
