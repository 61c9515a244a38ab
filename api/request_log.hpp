// The request and event log of cmdbd (--log-format text|json) and request ids.
//
// Text (the default) keeps the historical lines: "TIME METHOD PATH STATUS 1.23ms" per request.
// JSON writes one object per line: per request {"time", "event": "request", "request_id",
// "method", "route", "path", "status", "latency_ms", "bytes", "actor", "remote"} and per notable
// event {"time", "event": "start"|"stop"|"import"|"error", ...}. Nothing secret is ever logged:
// no header (tokens), no query string, no body; the path is the request's path without its
// query. JSON strings are escaped, so no field can start a second line.
// Thread safety: EventLog's methods may be called from any thread (one mutex per log).
#pragma once

#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmdb::api {

enum class LogFormat { kText, kJson };

// Parses "text" or "json"; false otherwise.
bool ParseLogFormat(std::string_view text, LogFormat& out);

// The longest X-Request-Id taken from a client.
inline constexpr size_t kMaxRequestIdLength = 128;

// The request id of a request: `incoming` (its X-Request-Id) when it is 1 to kMaxRequestIdLength
// characters of [A-Za-z0-9._:-]; otherwise a fresh one (16 random hex digits).
std::string RequestIdFor(std::string_view incoming);

// One answered request, as the log records it.
struct RequestLogEntry {
  std::string request_id;
  std::string method;
  std::string route;  // the route's pattern ("/v1/cis/{id}"), "" when none matched
  std::string path;   // without the query string
  int status = 0;
  double latency_ms = 0;
  size_t bytes = 0;      // response body bytes
  std::string actor;     // the token's name; "" when unauthenticated or not known
  std::string remote;    // the client's address
  bool refused = false;  // answered before its body was read (text: "refused" for the latency)
};

class EventLog {
 public:
  // `out` may be null (no log); it must outlive the log.
  EventLog(std::ostream* out = nullptr, LogFormat format = LogFormat::kText)
      : out_(out), format_(format) {}
  bool enabled() const { return out_ != nullptr; }
  LogFormat format() const { return format_; }

  // One request line.
  void Request(const RequestLogEntry& e);
  // One event: `fields` are string name/value pairs (JSON: string members; text: name=value).
  // Text: "TIME cmdbd: EVENT name=value ...".
  void Event(std::string_view event,
             const std::vector<std::pair<std::string, std::string>>& fields);

 private:
  std::ostream* out_;
  LogFormat format_;
  std::mutex mu_;
};

}  // namespace cmdb::api
