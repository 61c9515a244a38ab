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

Status LocatedError(StatusCode code, std::string_view source, size_t offset, const std::string& msg) {
  offset = std::min(offset, source.size());
  size_t line_start = offset == 0 ? 0 : source.rfind('\n', offset - 1);
  line_start = (line_start == std::string_view::npos || offset == 0) ? 0 : line_start + 1;
  size_t line_end = source.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = source.size();
  int64_t line = 1 + std::count(source.begin(), source.begin() + line_start, '\n');
  int64_t column = 1 + static_cast<int64_t>(offset - line_start);
  std::string text = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + msg +
                     "\n" + std::string(source.substr(line_start, line_end - line_start)) + "\n" +
                     std::string(column - 1, ' ') + "^";
  return Status(code, text).With("line", line).With("column", column);
}

}  // namespace cmdb::parsing
