#include "api/api.hpp"

#include "api/params.hpp"

#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>

#include "cmdb/last_commit.hpp"
#include "cmdb/text_position.hpp"

namespace cmdb::api {

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpResponse ErrorResponse(const Status& st) { return JsonResponse(HttpStatusOf(st.code()), ErrorJson(st)); }

Result<int64_t> ParseId(const std::string& text, const std::string& what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0)
    return Status::Invalid("invalid " + what + " '" + text + "': expected a positive integer")
        .With("parameter", what);
  return v;
}

Result<std::optional<int64_t>> ParseIfMatch(const std::string& header) {
  if (header.empty()) return std::optional<int64_t>();
  std::string v = header;
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  auto id = ParseId(v, "If-Match version");
  if (!id.ok()) return id.status();
  return std::optional<int64_t>(*id);
}

bool Api::AdmitQuery() {
  if (running_queries_.fetch_add(1) >= options_.max_concurrent_queries) {
    running_queries_.fetch_sub(1);
    return false;
  }
  return true;
}

bool Api::IsStreamed(const std::string& method, const std::string& path) {
  const Route* route = MatchRoute(Routes(), method, path).route;
  return route && route->serving == Serving::kStreamed;
}

namespace {

size_t LimitOf(const Route* route, const ApiOptions& options) {
  if (route && route->serving == Serving::kStreamed) return options.max_bulk_bytes;
  if (route && route->serving == Serving::kImport) return options.max_import_bytes;
  return options.max_body_bytes;
}

}  // namespace

size_t Api::BodyLimit(const std::string& method, const std::string& path) const {
  return LimitOf(MatchRoute(Routes(), method, path).route, options_);
}

TxMeta Api::MetaFor(const HttpRequest& req, const Principal& who, const char* source) const {
  TxMeta meta;
  meta.actor = who.name;
  meta.source = source;
  meta.change_ref = req.Header("x-change-id");
  if (meta.change_ref.empty()) meta.change_ref = req.Param("change");
  meta.message = req.Header("x-message");
  return meta;
}

Result<int> Api::PageLimit(const HttpRequest& req) const {
  std::string text = req.Param("limit");
  if (text.empty()) return options_.default_page;
  auto v = ParseId(text, "limit");
  if (!v.ok()) return v.status();
  return static_cast<int>(std::min<int64_t>(*v, options_.max_page));
}

namespace {

// A refused token: 401 with the challenge that names the scheme, or what else went wrong.
HttpResponse AuthenticationError(const Status& st) {
  HttpResponse r = ErrorResponse(st);
  if (st.code() == StatusCode::kUnauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"cmdb\"");
  return r;
}

// `r` with the route's pattern and the caller's name, for the log and metrics.
HttpResponse WithRoute(const Route* route, const std::string& actor, HttpResponse r) {
  if (route) r.route = route->pattern;
  r.actor = actor;
  return r;
}

}  // namespace

std::optional<HttpResponse> Api::Admit(const HttpRequest& head, int64_t content_length) {
  try {
    // The console's files need no token (api/console.hpp).
    if (options_.console && WebConsole::Owns(head.method, head.path)) return std::nullopt;
    const Route* route = MatchRoute(Routes(), head.method, head.path).route;
    std::string actor;
    if (!route || route->access.token) {
      auto who = auth_.Authenticate(head.Header("authorization"));
      if (!who.ok()) {
        HttpResponse r = AuthenticationError(who.status());
        if (route) r.route = route->pattern;
        return r;
      }
      actor = who->name;
    }
    size_t limit = LimitOf(route, options_);
    if (content_length > 0 && static_cast<uint64_t>(content_length) > limit)
      return WithRoute(route, actor, ErrorResponse(Status(StatusCode::kPayloadTooLarge,
                                  "request body of " + std::to_string(content_length) +
                                      " bytes exceeds the limit of " + std::to_string(limit) +
                                      " bytes")
                               .With("limit", static_cast<int64_t>(limit))));
    return std::nullopt;
  } catch (const std::exception& e) {
    return ErrorResponse(Status::Internal(std::string("unexpected error: ") + e.what()));
  }
}

namespace {

// What an {id} of a pattern names, for "invalid CI id 'abc'": by the collection before it.
std::string IdNoun(const std::vector<std::string>& segments, size_t at) {
  static const std::pair<std::string_view, std::string_view> kNouns[] = {
      {"cis", "CI id"},         {"relationships", "relationship id"}, {"changes", "change id"},
      {"windows", "window id"}, {"releases", "release id"},           {"audits", "audit id"},
      {"webhooks", "webhook id"}};
  if (at > 0) {
    for (const auto& [collection, noun] : kNouns) {
      if (segments[at - 1] == collection) return std::string(noun);
    }
  }
  return "id";
}

}  // namespace

ApiMetrics::ApiMetrics(MetricsRegistry& r)
    : requests(r.Counter("cmdb_http_requests_total",
                         "HTTP requests answered, by route pattern, method and status.",
                         {"route", "method", "status"})),
      request_seconds(r.Histogram("cmdb_http_request_duration_seconds",
                                  "HTTP request latency (head read to answer written), by route "
                                  "pattern and method.",
                                  {"route", "method"}, DurationBuckets())),
      query_seconds(r.Histogram("cmdb_query_duration_seconds",
                                "POST /v1/query: time in the handler (parse, plan, run, encode).",
                                {}, DurationBuckets())),
      impact_seconds(r.Histogram("cmdb_impact_duration_seconds",
                                 "POST /v1/impact: time in the handler.", {}, DurationBuckets())),
      imports(r.Counter("cmdb_imports_total", "Imports (POST /v1/imports) by source and outcome.",
                        {"source", "outcome"})) {}

HttpResponse Api::Handle(const HttpRequest& req) {
  std::string_view route = "";
  std::string actor;
  ThreadLastCommit() = 0;
  HttpResponse r = Dispatch(req, route, actor);
  // A request that committed says which transaction it wrote (the last one when several):
  // read-your-writes for clients, on SQLite and PostgreSQL alike.
  if (TxId tx = ThreadLastCommit(); tx != 0 && r.status < 400)
    r.headers.emplace_back("X-Tx", std::to_string(tx));
  r.route = route;
  r.actor = std::move(actor);
  if (r.status >= 500 && options_.events)
    options_.events->Event("error", {{"method", req.method},
                                     {"path", req.path},
                                     {"status", std::to_string(r.status)},
                                     {"body", r.body.substr(0, 500)}});
  return r;
}

HttpResponse Api::CallHandler(const Route& route, const Call& call) {
  if (route.handler != &Api::Query && route.handler != &Api::Impact &&
      route.handler != &Api::Import)
    return (this->*route.handler)(call);
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = (this->*route.handler)(call);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (route.handler == &Api::Query) {
    // A streamed export runs later, in its answer's stream, which observes its duration itself.
    if (!r.stream) api_metrics_.query_seconds.With({}).Observe(seconds);
  } else if (route.handler == &Api::Impact) {
    api_metrics_.impact_seconds.With({}).Observe(seconds);
  } else {
    // The source as the handler validated it (its charset); refused parameters count as "-".
    std::string source = call.req.Param("source").empty() ? call.req.Param("format")
                                                          : call.req.Param("source");
    bool valid = !source.empty() && source.size() <= 64;
    for (char c : source) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) ||
                                            c == '-' || c == '_' || c == '.');
    std::string outcome = r.status < 300 ? "ok" : r.status < 500 ? "refused" : "failed";
    api_metrics_.imports.With({valid ? source : "-", outcome}).Inc();
    if (options_.events)
      options_.events->Event("import", {{"source", valid ? source : "-"},
                                        {"format", call.req.Param("format")},
                                        {"actor", call.who.name},
                                        {"outcome", outcome},
                                        {"status", std::to_string(r.status)},
                                        {"seconds", std::to_string(seconds)}});
  }
  return r;
}

HttpResponse Api::Dispatch(const HttpRequest& req, std::string_view& route_name,
                           std::string& actor) {
  try {
    if (options_.console && WebConsole::Owns(req.method, req.path)) {
      route_name = "console";
      return options_.console->Serve(req.path);
    }
    RouteMatch match = MatchRoute(Routes(), req.method, req.path);
    const Route* route = match.route;
    if (route) route_name = route->pattern;
    Principal who;
    if (!route || route->access.token) {
      auto authenticated = auth_.Authenticate(req.Header("authorization"));
      if (!authenticated.ok()) return AuthenticationError(authenticated.status());
      who = std::move(*authenticated);
      actor = who.name;
    }
    if (!route && match.allowed.empty())
      return ErrorResponse(Status::NotFound("no such endpoint: " + req.method + " " + req.path));
    if (!route) {
      std::string allow = AllowHeader(match.allowed);
      HttpResponse r = JsonResponse(
          405, ErrorJson(Status::Invalid("method " + req.method + " is not allowed on " + req.path)
                             .With("allowed", allow)));
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    if (route->access.token && !Allows(who.role, route->access.permission))
      return Denied(who, route->access.permission);
    Call call{req, who, *route, Segments(match.segments.begin(), match.segments.end())};
    // The path's arguments: a pattern has at most one {id} or {name}.
    const std::vector<std::string_view>& pattern = route->parts;
    for (size_t i = 0; i < pattern.size() && i < call.segments.size(); ++i) {
      if (pattern[i] == "{id}") {
        auto id = ParseId(call.segments[i], IdNoun(call.segments, i));
        if (!id.ok()) return ErrorResponse(id.status());
        call.id = *id;
      } else if (pattern[i] == "{name}") {
        call.name = call.segments[i];
      }
    }
    if (Status st = CheckParams(req, route->params); !st.ok()) return ErrorResponse(st);
    if (route->serving != Serving::kQuery) return CallHandler(*route, call);
    if (!AdmitQuery()) {
      HttpResponse busy = ErrorResponse(Status(StatusCode::kUnavailable,
                                               "too many queries are running (" +
                                                   std::to_string(options_.max_concurrent_queries) +
                                                   "); retry in a moment"));
      busy.headers.emplace_back("Retry-After", "1");
      return busy;
    }
    struct Release {
      Api* api;
      ~Release() { api->ReleaseQuery(); }
    } release{this};
    return CallHandler(*route, call);
  } catch (const std::exception& e) {
    return ErrorResponse(Status::Internal(std::string("unexpected error: ") + e.what()));
  } catch (...) {
    return ErrorResponse(Status::Internal("unexpected error"));
  }
}

}  // namespace cmdb::api
