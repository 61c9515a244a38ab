// Transport-neutral HTTP request and response, so handlers are testable without a socket and
// only http_server.cpp knows cpp-httplib.
// Thread safety: plain values.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cmdb::api {

// Reads the body in chunks: calls `sink` for each chunk until it returns false or the body
// ends. Returns false when the client went away or the sink stopped early.
using BodyReader = std::function<bool(const std::function<bool(const char*, size_t)>& sink)>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;       // the whole body, except for streamed routes
  BodyReader read_body;   // set for streamed routes (bulk); body is empty then

  // The first value of a query parameter, or `fallback`.
  std::string Param(const std::string& name, const std::string& fallback = "") const {
    auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
  }
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // For the request log and metrics (not sent): the matched route's pattern ("" when none) and
  // the caller's token name ("" when not authenticated). Set by Api::Handle and Api::Admit.
  std::string route;
  std::string actor;
  // A streamed answer (exports, the feed's event stream): when set, `body` is ignored and the
  // server sends the answer with chunked transfer encoding (and closes the connection after it),
  // calling `stream` once, on the worker that served the request, after the status and headers
  // went out. `stream` calls `write` for
  // each piece; `write` returns false once the client is gone (stop then). `stream` returns
  // false when it could not finish: the answer is cut off (no final chunk), so the client sees
  // it incomplete. Whatever `stream` captures must stay valid until it returns.
  using Writer = std::function<bool(std::string_view piece)>;
  std::function<bool(const Writer& write)> stream;
  // With `stream`, optional: the status and headers wait for the stream's first piece, and a
  // stream that returns false before writing any is answered with fallback() instead (an
  // ordinary answer: an export whose query failed before its first row went out answers the
  // error as any request would). Called once, after `stream` returned, on the same thread.
  std::function<HttpResponse()> fallback;
};

}  // namespace cmdb::api
