#include "api/http_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "cmdb/time_util.hpp"

namespace cmdb::api {

struct HttpServer::Impl {
  Api& api;
  ServerOptions options;
  std::unique_ptr<httplib::Server> owned;
  httplib::Server& server;
  std::mutex log_mu;

  static std::unique_ptr<httplib::Server> Make(const ServerOptions& o) {
    if (!o.tls_cert.empty() || !o.tls_key.empty())
      return std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
    return std::make_unique<httplib::Server>();
  }
  Impl(Api& a, ServerOptions o) : api(a), options(std::move(o)), owned(Make(options)), server(*owned) {}

  static HttpRequest Convert(const httplib::Request& in) {
    HttpRequest out;
    out.method = in.method;
    out.path = in.path;
    for (const auto& [k, v] : in.params) out.query.emplace(k, v);
    for (const auto& [k, v] : in.headers) {
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.headers.emplace(lower, v);
    }
    return out;
  }

  void Send(const HttpResponse& r, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(r.body, r.content_type);
  }

  void Log(const httplib::Request& req, int status, std::chrono::steady_clock::time_point start) {
    if (!options.log) return;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    char line[64];
    std::snprintf(line, sizeof line, " %d %.2fms\n", status, ms);
    std::lock_guard l(log_mu);
    *options.log << FormatTimestamp(NowMicros()) << " " << req.method << " " << req.path << line << std::flush;
  }

  void HandleSimple(const httplib::Request& req, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    HttpResponse r = api.Handle(Convert(req));
    Send(r, res);
    Log(req, r.status, start);
  }

  void HandleWithBody(const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& content_reader) {
    auto start = std::chrono::steady_clock::now();
    HttpRequest in = Convert(req);
    HttpResponse r;
    if (Api::IsStreamed(in.method, in.path)) {
      in.read_body = [&](const std::function<bool(const char*, size_t)>& sink) {
        return content_reader([&](const char* data, size_t len) { return sink(data, len); });
      };
      r = api.Handle(in);
    } else {
      size_t limit = api.BodyLimit(in.path);
      bool too_large = false;
      content_reader([&](const char* data, size_t len) {
        if (in.body.size() + len > limit) return too_large = true, false;
        in.body.append(data, len);
        return true;
      });
      if (too_large) {
        r = ErrorResponse(Status(StatusCode::kPayloadTooLarge,
                                 "request body exceeds the limit of " + std::to_string(limit) + " bytes")
                              .With("limit", static_cast<int64_t>(limit)));
        res.set_header("Connection", "close");
      } else {
        r = api.Handle(in);
      }
    }
    Send(r, res);
    Log(req, r.status, start);
  }
};

HttpServer::HttpServer(Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {
  auto& s = impl_->server;
  Impl* impl = impl_.get();
  int threads = std::max(1, impl->options.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_tcp_nodelay(true);  // small JSON answers must not wait for delayed ACKs
  s.set_read_timeout(impl->options.read_timeout_s, 0);
  s.set_write_timeout(impl->options.write_timeout_s, 0);
  s.set_payload_max_length(std::max(api.options().max_bulk_bytes, api.options().max_body_bytes));
  auto simple = [impl](const httplib::Request& req, httplib::Response& res) { impl->HandleSimple(req, res); };
  auto with_body = [impl](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) { impl->HandleWithBody(req, res, reader); };
  s.Get(".*", simple);
  s.Post(".*", with_body);
  s.Put(".*", with_body);
  s.Patch(".*", with_body);
  s.Delete(".*", with_body);
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(R"({"error":{"code":"Internal","message":"unexpected error","details":{}}})",
                    "application/json");
  });
}

HttpServer::~HttpServer() = default;

Status HttpServer::CheckTls(const std::string& cert, const std::string& key) {
  httplib::SSLServer probe(cert.c_str(), key.c_str());
  if (!probe.is_valid())
    return Status::Invalid("cannot use the TLS certificate '" + cert + "' and key '" + key +
                           "' (missing, unreadable or not matching)");
  return Status::Ok();
}

Status HttpServer::Valid() const {
  if (!impl_->server.is_valid())
    return Status::Invalid("cannot use the TLS certificate '" + impl_->options.tls_cert + "' and key '" +
                           impl_->options.tls_key + "' (missing, unreadable or not matching)");
  return Status::Ok();
}

Result<int> HttpServer::Bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    int port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) return Status::Internal("cannot listen on " + o.host + ": no free port");
    return port;
  }
  if (!impl_->server.bind_to_port(o.host, o.port))
    return Status::Internal("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                            " (address in use or not permitted)");
  return o.port;
}

void HttpServer::Serve() { impl_->server.listen_after_bind(); }

void HttpServer::Stop() { impl_->server.stop(); }

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
