#include "query/common/location.hpp"

#include <algorithm>
#include <cctype>

namespace cmdb::parsing {

size_t NextToken(std::string_view s, size_t offset) {
  while (offset < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[offset]))) {
      ++offset;
    } else if (s.substr(offset, 2) == "--" || s.substr(offset, 2) == "//") {
      while (offset < s.size() && s[offset] != '\n' && s[offset] != '\r') ++offset;
    } else if (s.substr(offset, 2) == "/*" && s.find("*/", offset + 2) != std::string_view::npos) {
      offset = s.find("*/", offset + 2) + 2;
    } else {
      break;
    }
  }
  return offset;
}

namespace {
bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }
bool WordByte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}
}  // namespace

std::string TokenAt(std::string_view s, size_t offset) {
  constexpr size_t kMaxToken = 40;
  if (offset >= s.size()) return "";
  size_t end = offset + 1;
  char c = s[offset];
  if (WordByte(c)) {
    while (end < s.size() && WordByte(s[end])) ++end;
  } else if (c == '\'' || c == '"' || c == '`') {
    while (end < s.size() && s[end] != c && s[end] != '\n')
      end += s[end] == '\\' && end + 1 < s.size() ? 2 : 1;
    if (end < s.size() && s[end] == c) ++end;
  } else {
    static constexpr std::string_view kPairs[] = {"<=", ">=", "<>", "!=", "=~",
                                                  "..", "->", "<-", "+=", "::"};
    for (std::string_view p : kPairs)
      if (s.substr(offset, 2) == p) end = offset + 2;
  }
  end = std::min(end, s.size());
  bool cut = end - offset > kMaxToken;
  if (cut) {
    end = offset + kMaxToken;
    while (end > offset && Continuation(s[end])) --end;
  }
  return std::string(s.substr(offset, end - offset)) + (cut ? "..." : "");
}

Status LocatedError(StatusCode code, std::string_view source, size_t offset, const std::string& msg) {
  offset = std::min(offset, source.size());
  // An offset inside a character counts from that character's start.
  while (offset > 0 && offset < source.size() && Continuation(source[offset])) --offset;
  // A line ends at "\n", "\r\n" or a bare "\r" (as a `//` comment does).
  size_t line_start = 0;
  int64_t line = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (source[i] != '\n' && source[i] != '\r') continue;
    size_t next =
        source[i] == '\r' && i + 1 < source.size() && source[i + 1] == '\n' ? i + 2 : i + 1;
    if (next > offset) break;  // the offset is on the "\n" of a "\r\n": still this line
    ++line;
    line_start = next;
    i = next - 1;
  }
  size_t line_end = source.find_first_of("\r\n", line_start);
  if (line_end == std::string_view::npos) line_end = source.size();
  // The column counts characters (code points), not bytes; the caret line keeps the tabs before
  // it and has one space for every other character.
  std::string caret;
  for (size_t i = line_start; i < offset; ++i) {
    if (Continuation(source[i])) continue;
    caret += source[i] == '\t' ? '\t' : ' ';
  }
  int64_t column = 1 + static_cast<int64_t>(caret.size());
  std::string text = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
                     msg + "\n" + std::string(source.substr(line_start, line_end - line_start)) +
                     "\n" + caret + "^";
  return Status(code, text).With("line", line).With("column", column);
}

}  // namespace cmdb::parsing
