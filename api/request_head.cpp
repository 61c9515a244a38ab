#include "api/request_head.hpp"

#include "cmdb/utf8.hpp"

#include <algorithm>
#include <cctype>

namespace cmdb::api {
namespace {

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<RequestHead> ParseRequestHead(std::string_view data) {
  RequestHead head;
  size_t pos = 0;
  // Blank lines before a request are allowed (RFC 9112, 2.2).
  while (data.substr(pos, 2) == "\r\n") pos += 2;
  while (pos < data.size() && data[pos] == '\n') ++pos;
  bool first = true;
  for (;;) {
    size_t lf = data.find('\n', pos);
    if (lf == std::string_view::npos) return Status::Invalid("the request header is incomplete");
    std::string_view line = data.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = lf + 1;
    for (unsigned char c : line) {
      if ((c < 0x20 && c != '\t') || c == 0x7F)
        return Status::Invalid("the request header holds a control character (byte " + std::to_string(c) + ")");
    }
    if (first) {
      first = false;
      size_t sp1 = line.find(' ');
      size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return Status::Invalid("malformed request line: expected 'METHOD target HTTP/1.1'");
      head.method = std::string(line.substr(0, sp1));
      head.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
      std::string_view version = line.substr(sp2 + 1);
      if (head.method.empty() || !std::all_of(head.method.begin(), head.method.end(), [](unsigned char c) { return IsTokenChar(c); }))
        return Status::Invalid("malformed request line: the method is not a token");
      head.version = std::string(version);
      if (version != "HTTP/1.1" && version != "HTTP/1.0")
        return Status::Invalid("unsupported protocol version '" + std::string(version.substr(0, 16)) + "' (HTTP/1.1 or HTTP/1.0)");
      if (head.target.empty() || head.target[0] != '/')
        return Status::Invalid("malformed request line: the target must start with '/'");
      head.path = head.target.substr(0, head.target.find('?'));
      continue;
    }
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t')
      return Status::Invalid("folded header lines are not accepted");
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos)
      return Status::Invalid("malformed header line (expected 'Name: value')");
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return IsTokenChar(c); }))
      return Status::Invalid("malformed header name '" + std::string(name.substr(0, 40)) + "'");
    head.headers.emplace(Lower(name), std::string(Trim(line.substr(colon + 1))));
  }
  head.size = pos;
  return head;
}

Result<std::multimap<std::string, std::string>> ParseQuery(std::string_view target) {
  std::multimap<std::string, std::string> out;
  size_t q = target.find('?');
  if (q == std::string_view::npos || q + 1 == target.size()) return out;
  std::string_view qs = target.substr(q + 1);
  auto decode = [](std::string_view in, std::string* text) -> bool {
    text->clear();
    for (size_t i = 0; i < in.size(); ++i) {
      char c = in[i];
      if (c == '+') {
        *text += ' ';
      } else if (c == '%') {
        if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(in[i + 2])))
          return false;
        *text += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        *text += c;
      }
    }
    return true;
  };
  for (size_t start = 0; start <= qs.size();) {
    size_t amp = std::min(qs.find('&', start), qs.size());
    std::string_view part = qs.substr(start, amp - start);
    if (part.empty()) return Status::Invalid("the query string has an empty parameter (\"&&\" or a trailing '&')");
    size_t eq = part.find('=');
    std::string name, value;
    if (!decode(part.substr(0, eq), &name) ||
        (eq != std::string_view::npos && !decode(part.substr(eq + 1), &value)))
      return Status::Invalid("malformed percent-encoding in the query parameter '" + std::string(part.substr(0, 60)) + "'");
    if (name.empty()) return Status::Invalid("a query parameter has no name ('" + std::string(part.substr(0, 60)) + "')");
    if (!IsValidUtf8(name) || !IsValidUtf8(value))
      return Status::Invalid("the query parameter '" + std::string(part.substr(0, 60)) + "' is not UTF-8 once decoded");
    if (value.empty()) return Status::Invalid("the query parameter '" + name + "' has no value");
    out.emplace(std::move(name), std::move(value));
    start = amp + 1;
    if (amp == qs.size()) break;
  }
  return out;
}

Result<BodyFraming> FramingOf(const RequestHead& head) {
  BodyFraming f;
  size_t lengths = head.Count("content-length");
  size_t encodings = head.Count("transfer-encoding");
  if (encodings > 0) {
    if (encodings > 1) return Status::Invalid("duplicate Transfer-Encoding headers");
    std::string te = Lower(head.Get("transfer-encoding"));
    if (te != "chunked")
      return Status::Invalid("unsupported Transfer-Encoding '" + head.Get("transfer-encoding").substr(0, 40) +
                             "' (only chunked is accepted)");
    if (lengths > 0) return Status::Invalid("a request may not carry both Content-Length and Transfer-Encoding");
    if (head.version == "HTTP/1.0") return Status::Invalid("HTTP/1.0 has no chunked transfer coding");
    f.chunked = true;
    return f;
  }
  if (lengths == 0) return f;
  auto range = head.headers.equal_range("content-length");
  std::string first = range.first->second;
  for (auto it = range.first; it != range.second; ++it)
    if (it->second != first) return Status::Invalid("conflicting Content-Length headers");
  bool digits = !first.empty() && first.size() <= 18 &&
                std::all_of(first.begin(), first.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!digits) return Status::Invalid("invalid Content-Length '" + first.substr(0, 40) + "': expected a number of bytes");
  f.length = std::stoll(first);
  return f;
}

ChunkScanner::State ChunkScanner::Feed(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size() && state_ == State::kMore) {
    char c = bytes[i];
    switch (step_) {
      case Step::kSize:
        if (std::isxdigit(static_cast<unsigned char>(c))) {
          if (++digits_ > 15) return Fail("a chunk size is too large");
          size_ = size_ * 16 + static_cast<uint64_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
        } else if (digits_ > 0 && (c == ';' || c == ' ' || c == '\t')) {
          step_ = Step::kExtension;
        } else if (digits_ > 0 && c == '\r') {
          step_ = Step::kSizeLf;
        } else {
          return Fail("malformed chunk size");
        }
        break;
      case Step::kExtension:
        if (c == '\r') step_ = Step::kSizeLf;
        else if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t')) return Fail("malformed chunk extension");
        break;
      case Step::kSizeLf:
        if (c != '\n') return Fail("a chunk size line must end with CRLF");
        step_ = size_ == 0 ? Step::kLastCr : Step::kData;
        break;
      case Step::kData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(size_, bytes.size() - i));
        size_ -= take;
        i += take;
        consumed_ += take;
        if (size_ == 0) step_ = Step::kDataCr;
        continue;
      }
      case Step::kDataCr:
        if (c != '\r') return Fail("chunk data must be followed by CRLF");
        step_ = Step::kDataLf;
        break;
      case Step::kDataLf:
        if (c != '\n') return Fail("chunk data must be followed by CRLF");
        step_ = Step::kSize;
        size_ = 0;
        digits_ = 0;
        break;
      case Step::kLastCr:
        if (c != '\r') return Fail("chunked trailer fields are not accepted");
        step_ = Step::kLastLf;
        break;
      case Step::kLastLf:
        if (c != '\n') return Fail("the last chunk must be followed by CRLF");
        state_ = State::kDone;
        break;
    }
    ++i;
    ++consumed_;
  }
  return state_;
}

}  // namespace cmdb::api
