// Internals shared by the temporal values (temporal.cpp) and the temporal functions
// (temporal_functions.cpp): the calendar, the ISO-8601 readers and the arithmetic they both use.
// Only those two files include it.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "query/runtime/value.hpp"

namespace cmdb::gql::temporal_detail {

using T = TemporalType;
__extension__ typedef __int128 i128;  // instants in nanoseconds span more than 64 bits

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kSecondsPerDay = 86'400;
inline constexpr int64_t kNanosPerDay = kSecondsPerDay * kNanosPerSecond;
// Years -999,999,999..999,999,999 as Cypher allows would overflow day arithmetic in corners;
// this engine keeps dates within years -9999..9999 (an error past them).
inline constexpr int64_t kMinYear = -9999, kMaxYear = 9999;

inline bool HasDate(T t) { return t == T::kDate || t == T::kLocalDateTime || t == T::kDateTime; }
inline bool HasTime(T t) {
  return t == T::kLocalTime || t == T::kTime || t == T::kLocalDateTime || t == T::kDateTime;
}
inline bool Zoned(T t) { return t == T::kTime || t == T::kDateTime; }

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d);
struct Civil {
  int64_t year, month, day;
};
Civil CivilFromDays(int64_t z);
bool Leap(int64_t y);
int64_t MonthDays(int64_t y, int64_t m);
int64_t FloorDiv(int64_t a, int64_t b);
int64_t FloorMod(int64_t a, int64_t b);
// ISO day of week, 1 = Monday.
int64_t DayOfWeek(int64_t days);
// ISO week-based year and week of a date.
std::pair<int64_t, int64_t> IsoWeek(int64_t days);

// Throws the ArgumentError (InvalidArgumentValue) of a temporal function.
[[noreturn]] void Bad(const std::string& message, size_t offset);
// A date, checked (`what` names the function in messages).
Temporal MakeDate(int64_t y, int64_t m, int64_t d, const std::string& what, size_t offset);
// Nanoseconds of the day, checked.
int64_t TimeNanos(int64_t h, int64_t mi, int64_t s, int64_t ns, const std::string& what, size_t offset);
std::string Quote(std::string_view s);
// A DATETIME's local date and time (days, nanos) in its named zone `t.zone`: sets t.offset to the
// zone's (a local time in a daylight-saving gap moves forward by the gap). An unknown zone name
// is an error naming it.
void ResolveZone(Temporal& t, const std::string& what, size_t offset);
// A DATETIME at the instant it denotes, shown in the named zone `zone`: the offset the zone has
// then, and the local date and time at that offset.
void ShowInZone(Temporal& t, const std::string& zone, const std::string& what, size_t offset);
// A DATETIME at the instant it denotes, shown at the fixed offset `offset` (no zone name).
void ShowAtOffset(Temporal& t, int32_t offset);
// Whether `text` reads as a UTC offset ("Z", "+01:00"); else it is taken as a zone name.
bool IsOffsetText(std::string_view text);

// A cursor over ISO-8601 text.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i == s.size(); }
  bool Eat(char c) {
    if (i < s.size() && s[i] == c) return ++i, true;
    return false;
  }
  bool Peek(char c) const { return i < s.size() && s[i] == c; }
  // Exactly n digits.
  std::optional<int64_t> Digits(size_t n);
};
// Z, +HH, +HH:MM, +HHMM (or -): seconds east of UTC; nullopt when none is written (`bad` set
// when one is written wrongly).
std::optional<int32_t> ParseOffset(Cursor& c, bool& bad);
// An instant of `type` from its ISO-8601 text; throws a located ArgumentError.
Temporal ParseInstant(T type, std::string_view text, const std::string& what, size_t offset);
// A duration from its ISO-8601 text; throws a located ArgumentError.
Temporal ParseDuration(std::string_view text, size_t offset);
// UTC offset written as Z or +HH:MM[:SS].
std::string FormatOffset(int32_t offset);
// The instant's position on one line, in nanoseconds: UTC for zoned ones.
i128 Instant(const Temporal& t);
// b - a, a duration: days for dates, days and a time part for datetimes, a time part for times.
Temporal Between(const Temporal& a, const Temporal& b);

// Adds `factor` (an integer or a float) times the duration (unit_months, unit_days, unit_nanos)
// to the accumulators. A fraction of a month goes into days and time (an average Gregorian month,
// 2,629,746 s), of a day into time. Integer factors are exact; a float one is rounded to the
// nanosecond. False when the product is past what a duration holds.
bool AddScaled(const QValue& factor, i128 unit_months, i128 unit_days, i128 unit_nanos, i128& months, i128& days,
               i128& nanos);
// The duration of these accumulators (nanos split into seconds and 0..999,999,999 nanos), or
// nullopt past the limits of a duration (half the 64-bit range in each field).
std::optional<Temporal> MakeDuration(i128 months, i128 days, i128 nanos);

}  // namespace cmdb::gql::temporal_detail
