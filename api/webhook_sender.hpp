// The webhook sender: the only file that uses libcurl. Checks a destination against the allow
// list (--webhook-allow), resolves its host once and pins that address (so DNS rebinding cannot
// move a checked name to an internal address), signs the body (HMAC-SHA-256) and posts it with
// TLS certificates verified and redirects not followed.
// Thread safety: the functions are reentrant; Send may run on any thread (libcurl is initialized
// once, at the first call, under a lock).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cmdb/status.hpp"

namespace cmdb::api {

// Where a webhook may send: entries "HOST", "HOST:PORT" or "*" (any public host). Loopback,
// private, link-local and other internal addresses are reachable only through an entry that names
// the host itself (not "*").
struct AllowList {
  std::vector<std::string> entries;
  // Parses "HOST[:PORT],..." (spaces ignored); an error names the bad entry.
  static Result<AllowList> Parse(const std::string& text);
};

// A checked destination: the URL's parts and the address to pin.
struct Destination {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets
  int port = 0;
  bool listed = false;  // the host is named by an entry (not only "*")
  std::string pinned;   // the resolved address (after Resolve)
};

// Parses `url` and checks it against `allow` (no DNS): a URL that is not http(s)://host[:port]/...
// or whose host is not allowed fails with kInvalidArgument, type "WebhookDestinationRefused".
Result<Destination> CheckDestination(const AllowList& allow, const std::string& url);
// Resolves dest.host and sets dest.pinned to its first address; refuses (like CheckDestination)
// an internal address unless dest.listed.
Status Resolve(Destination& dest);

// 32 random bytes as hex (a secret the server generates when none is given).
std::string RandomSecret();

// Lower-case hex of HMAC-SHA-256(secret, data).
std::string HmacSha256Hex(const std::string& secret, const std::string& data);

// What one POST did.
struct SendResult {
  int64_t status = 0;  // the HTTP status; 0 when none arrived
  std::string error;   // empty when the status is 2xx
  int64_t latency_us = 0;
};

// POSTs `body` to `url` at the pinned address of `dest` with `headers` ("Name: value"), within
// `timeout_ms`. A 3xx is a failure ("redirect not followed").
SendResult Send(const std::string& url, const Destination& dest,
                const std::vector<std::string>& headers, const std::string& body, int timeout_ms);

}  // namespace cmdb::api
