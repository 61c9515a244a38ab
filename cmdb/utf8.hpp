// UTF-8 checks and character arithmetic shared by every front end and the write path.
// Invalid UTF-8 (overlong forms, surrogates U+D800..U+DFFF, code points past U+10FFFF, truncated
// sequences) is never stored: front ends refuse it with the byte offset of the first bad byte.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cmdb {

// The byte offset of the first byte that does not start a valid UTF-8 sequence, or nullopt when
// the whole text is valid.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);
inline bool IsValidUtf8(std::string_view text) { return !FirstInvalidUtf8(text).has_value(); }

// The number of characters (code points) of valid UTF-8 text.
size_t Utf8Length(std::string_view text);
// The byte offset of character `chars` (clamped to the text's end) in valid UTF-8 text.
size_t Utf8Offset(std::string_view text, size_t chars);
// Appends code point `cp` (at most U+10FFFF, not a surrogate) encoded as UTF-8.
void AppendUtf8(std::string& out, uint32_t cp);

}  // namespace cmdb
