// Simple (one character to one character) Unicode case mappings and Unicode white space, for
// toUpper, toLower, trim, ltrim and rtrim. docs/query-language.md lists the blocks covered.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cmdb::gql {

// The upper / lower case of one code point under the simple mappings of Basic Latin, Latin-1,
// Latin Extended-A and -B, Greek, Cyrillic (with Supplement) and the full-width Latin letters;
// any other code point (and one whose case is more than one character, such as U+00DF) is itself.
uint32_t SimpleUpper(uint32_t cp);
uint32_t SimpleLower(uint32_t cp);
// Unicode White_Space (U+0009-U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000-U+200A,
// U+2028, U+2029, U+202F, U+205F, U+3000).
bool IsUnicodeSpace(uint32_t cp);

// `text` (valid UTF-8) with every character mapped.
std::string ToUpperText(std::string_view text);
std::string ToLowerText(std::string_view text);
// `text` without the Unicode white space at its start (`left`) and/or end (`right`).
std::string_view TrimText(std::string_view text, bool left, bool right);

}  // namespace cmdb::gql
