#include "query/runtime/temporal.hpp"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "query/common/query_error.hpp"
#include "query/runtime/temporal_internal.hpp"
#include "query/runtime/time_zones.hpp"

namespace cmdb::gql {
namespace temporal_detail {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return {y + (m <= 2), m, d};
}
bool Leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int64_t MonthDays(int64_t y, int64_t m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && Leap(y) ? 29 : kDays[m - 1];
}
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }
// ISO day of week, 1 = Monday (1970-01-01 was a Thursday).
int64_t DayOfWeek(int64_t days) { return FloorMod(days + 3, 7) + 1; }
// ISO week-based year and week of a date.
std::pair<int64_t, int64_t> IsoWeek(int64_t days) {
  int64_t thursday = days - DayOfWeek(days) + 4;
  int64_t year = CivilFromDays(thursday).year;
  int64_t week = (thursday - DaysFromCivil(year, 1, 1)) / 7 + 1;
  return {year, week};
}

[[noreturn]] void Bad(const std::string& message, size_t offset) {
  ThrowArgument("InvalidArgumentValue", message, offset);
}

Temporal MakeDate(int64_t y, int64_t m, int64_t d, const std::string& what, size_t offset) {
  if (y < kMinYear || y > kMaxYear) Bad(what + ": the year " + std::to_string(y) + " is outside -9999..9999", offset);
  if (m < 1 || m > 12) Bad(what + ": there is no month " + std::to_string(m), offset);
  if (d < 1 || d > MonthDays(y, m))
    Bad(what + ": there is no day " + std::to_string(d) + " in " + std::to_string(y) + "-" + (m < 10 ? "0" : "") +
            std::to_string(m),
        offset);
  Temporal t;
  t.type = T::kDate;
  t.days = DaysFromCivil(y, m, d);
  return t;
}

int64_t TimeNanos(int64_t h, int64_t mi, int64_t s, int64_t ns, const std::string& what, size_t offset) {
  if (h < 0 || h > 23) Bad(what + ": there is no hour " + std::to_string(h), offset);
  if (mi < 0 || mi > 59) Bad(what + ": there is no minute " + std::to_string(mi), offset);
  if (s < 0 || s > 59) Bad(what + ": there is no second " + std::to_string(s), offset);
  if (ns < 0 || ns >= kNanosPerSecond) Bad(what + ": the fraction of a second is out of range", offset);
  return ((h * 60 + mi) * 60 + s) * kNanosPerSecond + ns;
}

std::optional<int64_t> Cursor::Digits(size_t n) {
  if (i + n > s.size()) return std::nullopt;
  int64_t v = 0;
  for (size_t k = 0; k < n; ++k) {
    if (!std::isdigit(static_cast<unsigned char>(s[i + k]))) return std::nullopt;
    v = v * 10 + (s[i + k] - '0');
  }
  i += n;
  return v;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// The number of digits from the cursor on.
size_t DigitRun(const Cursor& c) {
  size_t n = 0;
  while (c.i + n < c.s.size() && std::isdigit(static_cast<unsigned char>(c.s[c.i + n]))) ++n;
  return n;
}

// A week date: year, ISO week and day of week (1 = Monday).
Temporal MakeWeekDate(int64_t y, int64_t w, int64_t d, const std::string& what, size_t offset) {
  if (y < kMinYear || y > kMaxYear) Bad(what + ": the year " + std::to_string(y) + " is outside -9999..9999", offset);
  int64_t jan4 = DaysFromCivil(y, 1, 4);
  int64_t days = jan4 - (DayOfWeek(jan4) - 1) + (w - 1) * 7 + (d - 1);
  if (w < 1 || d < 1 || d > 7 || IsoWeek(days).first != y)
    Bad(what + ": there is no week " + std::to_string(w) + " day " + std::to_string(d) + " in " + std::to_string(y),
        offset);
  Temporal t;
  t.days = days;
  return t;
}

// YYYY-MM-DD, YYYYMMDD, YYYY-MM, YYYYMM, YYYY; week dates YYYY-Www-D, YYYYWwwD, YYYY-Www;
// ordinal dates YYYY-DDD, YYYYDDD (a leading - or + for the sign of the year).
std::optional<Temporal> ParseDatePart(Cursor& c, const std::string& what, size_t offset) {
  int64_t sign = c.Eat('-') ? -1 : (c.Eat('+'), 1);
  auto y = c.Digits(4);
  if (!y) return std::nullopt;
  const int64_t year = sign * *y;
  bool dash = c.Eat('-');
  if (c.Eat('W')) {
    auto w = c.Digits(2);
    if (!w) return std::nullopt;
    int64_t d = 1;
    if ((dash && c.Eat('-')) || (!dash && DigitRun(c) == 1)) {
      auto dd = c.Digits(1);
      if (!dd) return std::nullopt;
      d = *dd;
    }
    return MakeWeekDate(year, *w, d, what, offset);
  }
  size_t run = DigitRun(c);
  if (!dash && run == 0) return MakeDate(year, 1, 1, what, offset);
  if (run == 3) {  // ordinal day
    int64_t ord = *c.Digits(3);
    if (ord < 1 || ord > (Leap(year) ? 366 : 365))
      Bad(what + ": there is no day " + std::to_string(ord) + " in " + std::to_string(year), offset);
    Temporal t = MakeDate(year, 1, 1, what, offset);
    t.days += ord - 1;
    return t;
  }
  auto m = c.Digits(2);
  if (!m) return std::nullopt;
  int64_t d = 1;
  if ((dash && c.Eat('-')) || (!dash && DigitRun(c) >= 2)) {
    auto dd = c.Digits(2);
    if (!dd) return std::nullopt;
    d = *dd;
  }
  return MakeDate(year, *m, d, what, offset);
}

// HH[:MM[:SS[.fffffffff]]] or HHMM[SS[.f]]: nanos of the day.
std::optional<int64_t> ParseTimePart(Cursor& c, const std::string& what, size_t offset) {
  auto h = c.Digits(2);
  if (!h) return std::nullopt;
  int64_t mi = 0, s = 0, ns = 0;
  bool colon = c.Eat(':');
  if (colon || (!c.done() && std::isdigit(static_cast<unsigned char>(c.s[c.i])))) {
    auto m = c.Digits(2);
    if (!m) return std::nullopt;
    mi = *m;
    if ((colon && c.Eat(':')) || (!colon && !c.done() && std::isdigit(static_cast<unsigned char>(c.s[c.i])))) {
      auto ss = c.Digits(2);
      if (!ss) return std::nullopt;
      s = *ss;
      if (c.Eat('.') || c.Eat(',')) {
        size_t n = 0;
        while (!c.done() && std::isdigit(static_cast<unsigned char>(c.s[c.i]))) {
          if (n < 9) ns = ns * 10 + (c.s[c.i] - '0');
          ++n, ++c.i;
        }
        if (n == 0) return std::nullopt;
        for (; n < 9; ++n) ns *= 10;
      }
    }
  }
  return TimeNanos(*h, mi, s, ns, what, offset);
}

// Z, +HH, +HH:MM, +HHMM (or -): seconds east of UTC; nullopt when none is written.
std::optional<int32_t> ParseOffset(Cursor& c, bool& bad) {
  if (c.Eat('Z') || c.Eat('z')) return 0;
  if (!c.Peek('+') && !c.Peek('-')) return std::nullopt;
  int sign = c.s[c.i++] == '-' ? -1 : 1;
  auto h = c.Digits(2);
  int64_t m = 0;
  if (!h) return bad = true, std::nullopt;
  if (c.Eat(':') || (!c.done() && std::isdigit(static_cast<unsigned char>(c.s[c.i])))) {
    auto mm = c.Digits(2);
    if (!mm) return bad = true, std::nullopt;
    m = *mm;
  }
  if (*h > 18 || m > 59 || *h * 60 + m > 18 * 60) return bad = true, std::nullopt;
  return static_cast<int32_t>(sign * (*h * 3600 + m * 60));
}

namespace {

[[noreturn]] void UnknownZone(const std::string& zone, const std::string& what, size_t offset) {
  Bad(what + ": unknown time zone " + Quote(zone) +
          " (a name of the tz database such as 'Europe/Berlin', or an offset such as '+01:00')",
      offset);
}

}  // namespace

void ResolveZone(Temporal& t, const std::string& what, size_t offset) {
  i128 local = i128(t.days) * kSecondsPerDay + t.nanos / kNanosPerSecond;
  std::optional<ZoneResolution> r = ZoneOffsetAtLocal(t.zone, static_cast<int64_t>(local));
  if (!r) UnknownZone(t.zone, what, offset);
  if (r->shift_seconds != 0) {  // in a daylight-saving gap: forward by its length
    i128 n = i128(t.nanos) + i128(r->shift_seconds) * kNanosPerSecond;
    i128 carry = n >= 0 ? n / kNanosPerDay : -((-n + kNanosPerDay - 1) / kNanosPerDay);
    t.nanos = static_cast<int64_t>(n - carry * kNanosPerDay);
    t.days += static_cast<int64_t>(carry);
  }
  t.offset = r->offset;
}

void ShowInZone(Temporal& t, const std::string& zone, const std::string& what, size_t offset) {
  i128 utc_nanos = i128(t.days) * kNanosPerDay + t.nanos - i128(t.offset) * kNanosPerSecond;
  i128 utc_seconds = utc_nanos >= 0 ? utc_nanos / kNanosPerSecond
                                    : -((-utc_nanos + kNanosPerSecond - 1) / kNanosPerSecond);
  std::optional<int32_t> off = ZoneOffsetAtUtc(zone, static_cast<int64_t>(utc_seconds));
  if (!off) UnknownZone(zone, what, offset);
  i128 local = utc_nanos + i128(*off) * kNanosPerSecond;
  i128 days = local >= 0 ? local / kNanosPerDay : -((-local + kNanosPerDay - 1) / kNanosPerDay);
  t.days = static_cast<int64_t>(days);
  t.nanos = static_cast<int64_t>(local - days * kNanosPerDay);
  t.offset = *off;
  t.zone = zone;
}

void ShowAtOffset(Temporal& t, int32_t offset) {
  i128 local = i128(t.days) * kNanosPerDay + t.nanos + (i128(offset) - t.offset) * kNanosPerSecond;
  i128 days = local >= 0 ? local / kNanosPerDay : -((-local + kNanosPerDay - 1) / kNanosPerDay);
  t.days = static_cast<int64_t>(days);
  t.nanos = static_cast<int64_t>(local - days * kNanosPerDay);
  t.offset = offset;
  t.zone.clear();
}

bool IsOffsetText(std::string_view text) {
  Cursor c{text};
  bool bad = false;
  auto off = ParseOffset(c, bad);
  return off && !bad && c.done();
}

Temporal ParseInstant(T type, std::string_view text, const std::string& what, size_t offset) {
  Cursor c{text};
  Temporal t;
  t.type = type;
  auto fail = [&]() -> Temporal {
    Bad(what + ": " + Quote(text) + " is not an ISO-8601 " + TemporalTypeName(type) + " text", offset);
  };
  if (HasDate(type)) {
    auto d = ParseDatePart(c, what, offset);
    if (!d) return fail();
    t.days = d->days;
    if (type == T::kDate) {
      if (!c.done()) return fail();
      return t;
    }
    if (c.done()) return t;  // a date alone: midnight (UTC when zoned)
    if (!c.Eat('T') && !c.Eat('t') && !c.Eat(' ')) return fail();
  }
  auto ns = ParseTimePart(c, what, offset);
  if (!ns) return fail();
  t.nanos = *ns;
  bool bad = false;
  auto off = ParseOffset(c, bad);
  // A named zone in brackets after the time (or after its offset): 2026-07-01T10:00[Europe/Berlin].
  std::string zone;
  if (!bad && c.Eat('[')) {
    size_t close = text.find(']', c.i);
    if (close == std::string_view::npos || close + 1 != text.size()) return fail();
    zone = std::string(text.substr(c.i, close - c.i));
    c.i = close + 1;
    if (type != T::kDateTime)
      Bad(what + ": " + Quote(text) + " names a time zone; only a datetime takes one (a " +
              TemporalTypeName(type) + " has no date to place it in)",
          offset);
  }
  if (bad || !c.done()) return fail();
  if (off && !Zoned(type))
    Bad(what + ": " + Quote(text) + " has a time zone offset; a " + TemporalTypeName(type) + " has none", offset);
  t.offset = off.value_or(0);
  if (!zone.empty()) {
    t.zone = zone;
    ResolveZone(t, what, offset);
    if (off && *off != t.offset) {
      // The offset written must be one the zone has at that local time (either of an hour that
      // occurs twice).
      Temporal other = t;
      other.offset = *off;
      ShowInZone(other, zone, what, offset);
      if (other.days != t.days || other.nanos != t.nanos)
        Bad(what + ": " + Quote(text) + ": " + FormatOffset(*off) + " is not an offset of " + zone +
                " at that time (it is " + FormatOffset(t.offset) + ")",
            offset);
      t = other;
    }
  }
  return t;
}

// P[nY][nM][nW][nD][T[nH][nM][n[.f]S]], each number optionally negative.
Temporal ParseDuration(std::string_view text, size_t offset) {
  Cursor c{text};
  auto fail = [&]() -> Temporal { Bad("duration(): " + Quote(text) + " is not an ISO-8601 duration text", offset); };
  Temporal t;
  t.type = T::kDuration;
  bool negate = c.Eat('-');
  if (!c.Eat('P') && !c.Eat('p')) return fail();
  bool in_time = false, any = false;
  i128 months = 0, days = 0, secs = 0, nanos = 0;  // i128: repeated units cannot overflow them
  while (!c.done()) {
    if (!in_time && (c.Eat('T') || c.Eat('t'))) {
      in_time = true;
      continue;
    }
    int64_t sign = c.Eat('-') ? -1 : 1;
    size_t start = c.i;
    while (!c.done() && std::isdigit(static_cast<unsigned char>(c.s[c.i]))) ++c.i;
    if (c.i == start || c.i - start > 15) return fail();
    int64_t n = std::strtoll(std::string(text.substr(start, c.i - start)).c_str(), nullptr, 10) * sign;
    int64_t frac = 0;  // in billionths
    if (c.Eat('.') || c.Eat(',')) {
      size_t k = 0;
      while (!c.done() && std::isdigit(static_cast<unsigned char>(c.s[c.i]))) {
        if (k < 9) frac = frac * 10 + (c.s[c.i] - '0');
        ++k, ++c.i;
      }
      if (k == 0) return fail();
      for (; k < 9; ++k) frac *= 10;
      frac *= sign;
    }
    if (c.done()) return fail();
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c.s[c.i++])));
    any = true;
    // A fraction goes down the units: of a year into months, of a month (an average Gregorian
    // month, 2,629,746 s) into days and time, of a week or day into days and time.
    i128 frac_months = 0;
    if (!in_time && u == 'Y') {
      months += i128(n) * 12;
      frac_months = i128(frac) * 12;
      months += frac_months / kNanosPerSecond;
      frac_months %= kNanosPerSecond;
    } else if (!in_time && u == 'M') {
      months += n;
      frac_months = frac;
    } else if (!in_time && u == 'W') {
      days += i128(n) * 7;
      i128 f = i128(frac) * 7;
      days += f / kNanosPerSecond;
      nanos += f % kNanosPerSecond * kSecondsPerDay;
    } else if (!in_time && u == 'D') {
      days += n;
      nanos += i128(frac) * kSecondsPerDay;
    } else if (in_time && u == 'H') {
      secs += i128(n) * 3600, nanos += i128(frac) * 3600;
    } else if (in_time && u == 'M') {
      secs += i128(n) * 60, nanos += i128(frac) * 60;
    } else if (in_time && u == 'S') {
      secs += n, nanos += frac;
    } else {
      return fail();
    }
    if (frac_months) {
      i128 f = frac_months * 2'629'746;  // nanoseconds
      days += f / kNanosPerDay;
      nanos += f % kNanosPerDay;
    }
  }
  if (!any) return fail();
  i128 total = secs * kNanosPerSecond + nanos;
  if (negate) total = -total, months = -months, days = -days;
  const i128 kLimit = i128(INT64_MAX) / 2;  // durations add to each other and to dates unchecked below this
  if (months > kLimit || months < -kLimit || days > kLimit || days < -kLimit || total / kNanosPerSecond > kLimit ||
      total / kNanosPerSecond < -kLimit)
    Bad("duration(): " + Quote(text) + " is too long", offset);
  t.months = static_cast<int64_t>(months);
  t.days = static_cast<int64_t>(days);
  t.seconds = static_cast<int64_t>(total >= 0 ? total / kNanosPerSecond : -((-total + kNanosPerSecond - 1) / kNanosPerSecond));
  t.nanos = static_cast<int64_t>(total - i128(t.seconds) * kNanosPerSecond);
  return t;
}

std::string Two(int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(v));
  return buf;
}

std::string FormatDate(int64_t days) {
  Civil c = CivilFromDays(days);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%s%04lld-%02lld-%02lld", c.year < 0 ? "-" : "",
                static_cast<long long>(c.year < 0 ? -c.year : c.year), static_cast<long long>(c.month),
                static_cast<long long>(c.day));
  return buf;
}

// HH:MM, then :SS when seconds or a fraction are not zero, the fraction in 3, 6 or 9 digits.
std::string FormatTime(int64_t nanos) {
  int64_t secs = nanos / kNanosPerSecond, ns = nanos % kNanosPerSecond;
  std::string out = Two(secs / 3600) + ":" + Two(secs / 60 % 60);
  if (secs % 60 || ns) out += ":" + Two(secs % 60);
  if (ns) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(ns));
    std::string f = buf;
    while (f.size() > 3 && f.compare(f.size() - 3, 3, "000") == 0) f.resize(f.size() - 3);
    out += "." + f;
  }
  return out;
}

std::string FormatOffset(int32_t offset) {
  if (offset == 0) return "Z";
  int32_t a = offset < 0 ? -offset : offset;
  std::string out = std::string(offset < 0 ? "-" : "+") + Two(a / 3600) + ":" + Two(a / 60 % 60);
  if (a % 60) out += ":" + Two(a % 60);
  return out;
}

std::string FormatDuration(const Temporal& t) {
  std::string out = "P";
  int64_t years = t.months / 12, months = t.months % 12;
  if (years) out += std::to_string(years) + "Y";
  if (months) out += std::to_string(months) + "M";
  if (t.days) out += std::to_string(t.days) + "D";
  i128 total = i128(t.seconds) * kNanosPerSecond + t.nanos;
  if (total != 0) {
    out += "T";
    bool neg = total < 0;
    i128 a = neg ? -total : total;
    int64_t secs = static_cast<int64_t>(a / kNanosPerSecond), ns = static_cast<int64_t>(a % kNanosPerSecond);
    std::string sign = neg ? "-" : "";
    if (secs / 3600) out += sign + std::to_string(secs / 3600) + "H";
    if (secs / 60 % 60) out += sign + std::to_string(secs / 60 % 60) + "M";
    if (secs % 60 || ns) {
      out += sign + std::to_string(secs % 60);
      if (ns) {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(ns));
        std::string f = buf;
        while (!f.empty() && f.back() == '0') f.pop_back();
        out += "." + f;
      }
      out += "S";
    }
  }
  if (out == "P") out = "PT0S";
  return out;
}

// The instant's position on one line for comparison: UTC for zoned ones.
i128 Instant(const Temporal& t) {
  i128 local = i128(t.days) * kNanosPerDay + t.nanos;
  return Zoned(t.type) ? local - i128(t.offset) * kNanosPerSecond : local;
}

Temporal AddDuration(const Temporal& a, const Temporal& d, int sign, size_t offset) {
  Temporal r = a;
  if (HasDate(a.type)) {
    Civil c = CivilFromDays(a.days);
    int64_t months = c.year * 12 + (c.month - 1) + sign * d.months;
    int64_t y = FloorDiv(months, 12), m = FloorMod(months, 12) + 1;
    if (y < kMinYear || y > kMaxYear) Bad("the result is outside the years -9999..9999", offset);
    int64_t day = std::min(c.day, MonthDays(y, m));  // 31 January + 1 month = 28 (29) February
    r.days = DaysFromCivil(y, m, day) + sign * d.days;
  }
  i128 delta = (i128(d.seconds) * kNanosPerSecond + d.nanos) * sign;
  if (!r.zone.empty()) {
    // In a named zone, as java.time does: months and days on the local date (the offset then
    // the zone's), the time part on the instant (PT24H across a daylight-saving change is 24
    // hours, P1D the same clock time the next day).
    ResolveZone(r, "datetime arithmetic", offset);
    i128 utc = i128(r.days) * kNanosPerDay + r.nanos - i128(r.offset) * kNanosPerSecond + delta;
    i128 days = utc >= 0 ? utc / kNanosPerDay : -((-utc + kNanosPerDay - 1) / kNanosPerDay);
    r.days = static_cast<int64_t>(days);
    r.nanos = static_cast<int64_t>(utc - days * kNanosPerDay);
    r.offset = 0;
    int64_t y = CivilFromDays(r.days).year;
    if (y < kMinYear || y > kMaxYear) Bad("the result is outside the years -9999..9999", offset);
    ShowInZone(r, std::string(a.zone), "datetime arithmetic", offset);
    return r;
  }
  if (HasTime(a.type)) {
    i128 n = i128(r.nanos) + delta;
    i128 day_shift = n >= 0 ? n / kNanosPerDay : -((-n + kNanosPerDay - 1) / kNanosPerDay);
    r.nanos = static_cast<int64_t>(n - day_shift * kNanosPerDay);
    if (HasDate(a.type)) r.days += static_cast<int64_t>(day_shift);
  } else {
    r.days += static_cast<int64_t>(delta / kNanosPerDay);  // a date takes whole days of the time part
  }
  if (HasDate(r.type)) {
    int64_t y = CivilFromDays(r.days).year;
    if (y < kMinYear || y > kMaxYear) Bad("the result is outside the years -9999..9999", offset);
  }
  return r;
}

Temporal Between(const Temporal& a, const Temporal& b) {  // b - a
  Temporal d;
  d.type = T::kDuration;
  if (a.type == T::kDate) {
    d.days = b.days - a.days;
    return d;
  }
  i128 diff = Instant(b) - Instant(a);
  if (HasDate(a.type)) {
    d.days = static_cast<int64_t>(diff / kNanosPerDay);  // toward zero: P1DT-1H reads badly
    diff -= i128(d.days) * kNanosPerDay;
  }
  d.seconds = static_cast<int64_t>(diff >= 0 ? diff / kNanosPerSecond : -((-diff + kNanosPerSecond - 1) / kNanosPerSecond));
  d.nanos = static_cast<int64_t>(diff - i128(d.seconds) * kNanosPerSecond);
  return d;
}

bool AddScaled(const QValue& factor, i128 unit_months, i128 unit_days, i128 unit_nanos, i128& months, i128& days,
               i128& nanos) {
  const i128 kCap = i128(1) << 100;
  auto abs = [](i128 v) { return v < 0 ? -v : v; };
  if (factor.kind() == QValue::Kind::kInt) {
    i128 k = factor.as_int();
    for (i128 unit : {unit_months, unit_days, unit_nanos})
      if (unit != 0 && abs(k) > kCap / abs(unit)) return false;
    months += k * unit_months, days += k * unit_days, nanos += k * unit_nanos;
    return abs(months) < kCap && abs(days) < kCap && abs(nanos) < kCap;
  }
  long double x = factor.as_number();
  if (!std::isfinite(x)) return false;
  const long double kFloatCap = 1e29L;
  long double m = x * static_cast<long double>(unit_months), d = x * static_cast<long double>(unit_days);
  long double n = x * static_cast<long double>(unit_nanos);
  if (fabsl(m) > kFloatCap || fabsl(d) > kFloatCap || fabsl(n) > kFloatCap) return false;
  long double whole_m = truncl(m), whole_d = truncl(d);
  long double month_part = (m - whole_m) * 2'629'746e9L;  // whole days of it, then time
  long double month_days = truncl(month_part / static_cast<long double>(kNanosPerDay));
  n += month_part - month_days * static_cast<long double>(kNanosPerDay) +
       (d - whole_d) * static_cast<long double>(kNanosPerDay);
  months += static_cast<i128>(whole_m);
  days += static_cast<i128>(whole_d) + static_cast<i128>(month_days);
  nanos += static_cast<i128>(roundl(n));
  return abs(months) < kCap && abs(days) < kCap && abs(nanos) < kCap;
}

std::optional<Temporal> MakeDuration(i128 months, i128 days, i128 nanos) {
  const i128 kLimit = i128(INT64_MAX) / 2;
  if (months > kLimit || months < -kLimit || days > kLimit || days < -kLimit || nanos / kNanosPerSecond > kLimit ||
      nanos / kNanosPerSecond < -kLimit)
    return std::nullopt;
  Temporal t;
  t.type = T::kDuration;
  t.months = static_cast<int64_t>(months);
  t.days = static_cast<int64_t>(days);
  t.seconds = static_cast<int64_t>(nanos >= 0 ? nanos / kNanosPerSecond : -((-nanos + kNanosPerSecond - 1) / kNanosPerSecond));
  t.nanos = static_cast<int64_t>(nanos - i128(t.seconds) * kNanosPerSecond);
  return t;
}

}  // namespace temporal_detail

using namespace temporal_detail;  // NOLINT
using K = QValue::Kind;

const char* TemporalTypeName(TemporalType t) {
  switch (t) {
    case T::kDate: return "DATE";
    case T::kLocalTime: return "LOCAL TIME";
    case T::kTime: return "ZONED TIME";
    case T::kLocalDateTime: return "LOCAL DATETIME";
    case T::kDateTime: return "ZONED DATETIME";
    case T::kDuration: return "DURATION";
  }
  return "?";
}

std::string FormatTemporal(const Temporal& t) {
  switch (t.type) {
    case T::kDate: return FormatDate(t.days);
    case T::kLocalTime: return FormatTime(t.nanos);
    case T::kTime: return FormatTime(t.nanos) + FormatOffset(t.offset);
    case T::kLocalDateTime: return FormatDate(t.days) + "T" + FormatTime(t.nanos);
    case T::kDateTime:
      return FormatDate(t.days) + "T" + FormatTime(t.nanos) + FormatOffset(t.offset) +
             (t.zone.empty() ? "" : "[" + t.zone + "]");
    case T::kDuration: return FormatDuration(t);
  }
  return "";
}

bool TemporalEquals(const Temporal& a, const Temporal& b) {
  if (a.type != b.type) return false;
  if (a.type == T::kDuration) return a.months == b.months && a.days == b.days && a.seconds == b.seconds && a.nanos == b.nanos;
  return Instant(a) == Instant(b);
}

std::optional<int> TemporalCompare(const Temporal& a, const Temporal& b) {
  if (a.type != b.type || a.type == T::kDuration) return std::nullopt;
  i128 x = Instant(a), y = Instant(b);
  return x < y ? -1 : x > y;
}

int TemporalSortCompare(const Temporal& a, const Temporal& b) {
  // Cypher's order of the temporal types: datetime, localdatetime, date, time, localtime, duration.
  auto rank = [](T t) {
    switch (t) {
      case T::kDateTime: return 0;
      case T::kLocalDateTime: return 1;
      case T::kDate: return 2;
      case T::kTime: return 3;
      case T::kLocalTime: return 4;
      case T::kDuration: return 5;
    }
    return 6;
  };
  if (a.type != b.type) return rank(a.type) < rank(b.type) ? -1 : 1;
  if (a.type == T::kDuration) {
    for (auto [x, y] : {std::pair{a.months, b.months}, {a.days, b.days}, {a.seconds, b.seconds}, {a.nanos, b.nanos}})
      if (x != y) return x < y ? -1 : 1;
    return 0;
  }
  i128 x = Instant(a), y = Instant(b);
  if (x != y) return x < y ? -1 : 1;
  return a.offset < b.offset ? -1 : a.offset > b.offset;
}

size_t TemporalHash(const Temporal& t) {
  size_t h = std::hash<int>()(static_cast<int>(t.type));
  for (int64_t x : {t.days, t.nanos, int64_t{t.offset}, t.months, t.seconds}) h = h * 31 + std::hash<int64_t>()(x);
  return h;
}

std::optional<QValue> TemporalArithmetic(bool subtract, const QValue& a, const QValue& b, size_t offset) {
  if (a.kind() != K::kTemporal || b.kind() != K::kTemporal) return std::nullopt;
  const Temporal &x = a.as_temporal(), &y = b.as_temporal();
  const int sign = subtract ? -1 : 1;
  if (x.type == T::kDuration && y.type == T::kDuration) {
    Temporal d;
    d.type = T::kDuration;
    if (__builtin_add_overflow(x.months, sign * y.months, &d.months) ||
        __builtin_add_overflow(x.days, sign * y.days, &d.days))
      ThrowArgument("IntegerOverflow", "the duration is too long", offset);
    i128 total = i128(x.seconds) * kNanosPerSecond + x.nanos + sign * (i128(y.seconds) * kNanosPerSecond + y.nanos);
    d.seconds = static_cast<int64_t>(total >= 0 ? total / kNanosPerSecond : -((-total + kNanosPerSecond - 1) / kNanosPerSecond));
    d.nanos = static_cast<int64_t>(total - i128(d.seconds) * kNanosPerSecond);
    return QValue(d);
  }
  if (y.type == T::kDuration) return QValue(AddDuration(x, y, sign, offset));
  if (x.type == T::kDuration && !subtract) return QValue(AddDuration(y, x, 1, offset));
  if (subtract && x.type == y.type) return QValue(Between(y, x));
  return std::nullopt;
}

std::optional<QValue> TemporalScale(Op op, const QValue& a, const QValue& b, size_t offset) {
  auto is_duration = [](const QValue& v) {
    return v.kind() == K::kTemporal && v.as_temporal().type == T::kDuration;
  };
  const QValue* d = is_duration(a) && b.is_number() ? &a : nullptr;
  const QValue* k = d ? &b : nullptr;
  if (!d && op == Op::kMul && a.is_number() && is_duration(b)) d = &b, k = &a;
  if (!d || (op != Op::kMul && op != Op::kDiv) || (op == Op::kDiv && d != &a)) return std::nullopt;
  QValue factor = *k;
  if (op == Op::kDiv) {
    if (k->as_number() == 0) throw QueryError("ArgumentError", "DivisionByZero", "division by zero", offset);
    factor = QValue(1.0 / k->as_number());
  }
  const Temporal& t = d->as_temporal();
  i128 months = 0, days = 0, nanos = 0;
  std::optional<Temporal> r;
  if (AddScaled(factor, t.months, t.days, i128(t.seconds) * kNanosPerSecond + t.nanos, months, days, nanos))
    r = MakeDuration(months, days, nanos);
  if (!r) ThrowArgument("IntegerOverflow", "the duration is too long", offset);
  return QValue(*r);
}

QValue TemporalComponent(const Temporal& t, const std::string& key, size_t offset) {
  if (t.type == T::kDuration) {
    i128 nanos = i128(t.seconds) * kNanosPerSecond + t.nanos;
    auto I = [&](i128 v) {  // a component past 64 bits is an error, never a wrapped value
      if (v > i128(INT64_MAX) || v < i128(INT64_MIN))
        ThrowArgument("IntegerOverflow", "duration." + key + " does not fit in a 64-bit integer", offset);
      return QValue(static_cast<int64_t>(v));
    };
    if (key == "years") return QValue(t.months / 12);
    if (key == "quarters") return QValue(t.months / 3);
    if (key == "months") return QValue(t.months);
    if (key == "monthsOfYear") return QValue(t.months % 12);
    if (key == "monthsOfQuarter") return QValue(t.months % 3);
    if (key == "weeks") return QValue(t.days / 7);
    if (key == "days") return QValue(t.days);
    if (key == "daysOfWeek") return QValue(t.days % 7);
    if (key == "hours") return QValue(t.seconds / 3600);
    if (key == "minutes") return QValue(t.seconds / 60);
    if (key == "minutesOfHour") return QValue(t.seconds / 60 % 60);
    if (key == "seconds") return QValue(t.seconds);
    if (key == "secondsOfMinute") return QValue(t.seconds % 60);
    if (key == "milliseconds") return I(nanos / 1'000'000);
    if (key == "microseconds") return I(nanos / 1000);
    if (key == "nanoseconds") return I(nanos);
    if (key == "millisecondsOfSecond") return QValue(t.nanos / 1'000'000);
    if (key == "microsecondsOfSecond") return QValue(t.nanos / 1000);
    if (key == "nanosecondsOfSecond") return QValue(t.nanos);
  } else {
    if (HasDate(t.type)) {
      Civil c = CivilFromDays(t.days);
      if (key == "year") return QValue(c.year);
      if (key == "quarter") return QValue((c.month - 1) / 3 + 1);
      if (key == "month") return QValue(c.month);
      if (key == "day") return QValue(c.day);
      if (key == "week") return QValue(IsoWeek(t.days).second);
      if (key == "weekYear") return QValue(IsoWeek(t.days).first);
      if (key == "dayOfWeek" || key == "weekDay") return QValue(DayOfWeek(t.days));
      if (key == "ordinalDay") return QValue(t.days - DaysFromCivil(c.year, 1, 1) + 1);
      if (key == "dayOfQuarter") return QValue(t.days - DaysFromCivil(c.year, (c.month - 1) / 3 * 3 + 1, 1) + 1);
    }
    if (HasTime(t.type)) {
      int64_t secs = t.nanos / kNanosPerSecond;
      if (key == "hour") return QValue(secs / 3600);
      if (key == "minute") return QValue(secs / 60 % 60);
      if (key == "second") return QValue(secs % 60);
      if (key == "millisecond") return QValue(t.nanos % kNanosPerSecond / 1'000'000);
      if (key == "microsecond") return QValue(t.nanos % kNanosPerSecond / 1000);
      if (key == "nanosecond") return QValue(t.nanos % kNanosPerSecond);
    }
    if (Zoned(t.type)) {
      if (key == "timezone" && !t.zone.empty()) return QValue(t.zone);
      if (key == "timezone" || key == "offset") return QValue(FormatOffset(t.offset) == "Z" ? std::string("Z") : FormatOffset(t.offset));
      if (key == "offsetMinutes") return QValue(int64_t{t.offset / 60});
      if (key == "offsetSeconds") return QValue(int64_t{t.offset});
    }
    if (t.type == T::kDateTime) {
      i128 utc = Instant(t);
      i128 secs = utc >= 0 ? utc / kNanosPerSecond : -((-utc + kNanosPerSecond - 1) / kNanosPerSecond);
      if (key == "epochSeconds") return QValue(static_cast<int64_t>(secs));
      if (key == "epochMillis")
        return QValue(static_cast<int64_t>(utc >= 0 ? utc / 1'000'000 : -((-utc + 999'999) / 1'000'000)));
    }
  }
  ThrowType("InvalidArgumentType",
            std::string("a ") + TemporalTypeName(t.type) + " has no component '" + key + "'", offset);
}

QValue AttrToQValue(const Schema& schema, std::string_view owner, bool relationship, std::string_view key,
                    const Value& v) {
  if (!v.is_string()) return FromValue(v);
  const AttributeDef* def = nullptr;
  if (relationship) {
    if (const RelTypeDef* rt = schema.FindRelType(owner)) {
      for (const AttributeDef& a : rt->attributes) if (a.name == key) def = &a;
    }
  } else {
    def = schema.FindAttribute(owner, key);
  }
  if (!def || (def->type != AttrType::kDate && def->type != AttrType::kDateTime)) return FromValue(v);
  std::string_view text = v.as_string();
  try {
    // Stored values are canonical (schema validation): a date, or a time with Z or an offset.
    return QValue(ParseInstant(def->type == AttrType::kDate ? T::kDate : T::kDateTime, text, "", 0));
  } catch (const QueryError&) {
    return FromValue(v);  // a value stored before the attribute was typed: left as text
  }
}

}  // namespace cmdb::gql
