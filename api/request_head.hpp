// RequestHead: the request line and header fields of one HTTP/1.x request, parsed strictly from
// the bytes the reactor buffered, so a request can be admitted (framing, token, body limit)
// before any byte of its body is read. ChunkScanner: the strict grammar of a chunked body, fed
// as the bytes arrive, to know where the body ends and to refuse malformed chunks.
// Thread safety: plain values; use one object per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cmdb/status.hpp"

namespace cmdb::api {

struct RequestHead {
  std::string method;  // as sent ("GET", ...)
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  std::string target;  // the request target, with its query string
  std::string path;    // the target without its query string
  std::multimap<std::string, std::string> headers;  // names lower-cased, values trimmed
  size_t size = 0;     // bytes of the request line and header fields, with the blank line

  size_t Count(const std::string& lower_name) const { return headers.count(lower_name); }
  std::string Get(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Parses the head at the start of `data` (which holds at least the blank line that ends it).
// Refuses (400, naming what) control characters other than tab in a field, folded lines, names
// that are not tokens and request lines that are not "METHOD target HTTP/1.x".
Result<RequestHead> ParseRequestHead(std::string_view data);

// The parameters of a request target's query string ("?a=1&b=x%20y"), strictly: '&' separates
// parameters (';' does not), the first '=' separates a name from its value, %XX and '+' are
// decoded. Refuses (400) empty parameters ("a=1&&b", a trailing '&'), names or values that are
// empty, malformed percent-encoding and text that is not UTF-8 once decoded.
Result<std::multimap<std::string, std::string>> ParseQuery(std::string_view target);

// How a request's body is framed: none, a Content-Length, or chunked. Refuses conflicting or
// malformed framing (400).
struct BodyFraming {
  bool chunked = false;
  int64_t length = 0;  // when not chunked
};
Result<BodyFraming> FramingOf(const RequestHead& head);

class ChunkScanner {
 public:
  enum class State { kMore, kDone, kMalformed };
  // Consumes body bytes; returns kDone once the last chunk and its blank line have been seen
  // (`consumed()` then tells how many of the fed bytes belong to the body), kMalformed on any
  // violation of the chunked grammar (trailer fields are refused too).
  State Feed(std::string_view bytes);
  size_t consumed() const { return consumed_; }
  const std::string& error() const { return error_; }

 private:
  State Fail(std::string why) {
    error_ = std::move(why);
    return state_ = State::kMalformed;
  }
  enum class Step { kSize, kExtension, kSizeLf, kData, kDataCr, kDataLf, kLastCr, kLastLf };
  Step step_ = Step::kSize;
  State state_ = State::kMore;
  uint64_t size_ = 0;
  int digits_ = 0;
  size_t consumed_ = 0;
  std::string error_;
};

}  // namespace cmdb::api
