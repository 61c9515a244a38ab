// Time helpers: UTC timestamps as microseconds since the Unix epoch, and their ISO-8601 forms.
// Thread safety: all functions are pure (the time itself comes from a Clock: cmdb/clock.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cmdb {

// "2026-11-21T10:15:30.123456Z" (fraction omitted when zero).
std::string FormatTimestamp(int64_t micros);

// Parses ISO-8601 date-times: "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" followed by "Z", "+HH:MM" or
// "-HH:MM" (or nothing, read as UTC); also a plain date "YYYY-MM-DD" (midnight UTC).
// Returns nullopt when the text is not such a time or names an impossible date.
std::optional<int64_t> ParseTimestamp(std::string_view text);

// Validates "YYYY-MM-DD" as a real calendar date.
bool IsValidDate(std::string_view text);

// Why `text` is not a timestamp ParseTimestamp accepts, for messages: nullopt when it is
// "YYYY-MM-DD" or "YYYY-MM-DD(T| )HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM]" with a real calendar
// date, hour 00-23, minute and second 00-59 and an offset within +-18:00; otherwise what is wrong
// ("the time zone offset +25:00 is past +-18:00"), or "" when the text does not have that shape.
std::optional<std::string> TimestampProblem(std::string_view text);

}  // namespace cmdb
