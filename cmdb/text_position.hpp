// Line and column of a byte offset in a text, for error messages of every front end.
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string_view>

namespace cmdb {

struct TextPosition {
  int64_t line = 1;    // 1-based
  int64_t column = 1;  // 1-based, in bytes
};

inline TextPosition PositionAt(std::string_view text, size_t offset) {
  TextPosition p;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n')
      ++p.line, p.column = 1;
    else
      ++p.column;
  }
  return p;
}

}  // namespace cmdb
