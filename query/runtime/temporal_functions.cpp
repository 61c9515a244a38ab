// The temporal functions of the catalogue: construction from texts, maps and other temporal
// values, the query's clock, truncation, durations between two instants.
#include <algorithm>
#include <cctype>
#include <tuple>
#include <vector>

#include "query/common/query_error.hpp"
#include "query/runtime/temporal.hpp"
#include "query/runtime/temporal_internal.hpp"

namespace cmdb::gql {
namespace {

using namespace temporal_detail;  // NOLINT
using K = QValue::Kind;
using Args = std::vector<QValue>;

// Map construction.
int64_t MapInt(const QMap& m, const char* key, int64_t fallback, const std::string& what, size_t offset) {
  auto it = m.find(key);
  if (it == m.end() || it->second.is_null()) return fallback;
  if (it->second.kind() != K::kInt) Bad(what + ": " + key + " must be an integer, not " + it->second.kind_name(), offset);
  return it->second.as_int();
}

void CheckKeys(const QMap& m, std::initializer_list<const char*> allowed, const std::string& what, size_t offset) {
  for (const auto& [k, v] : m) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Bad(what + ": unknown field '" + k + "' (fields: " + list + ")", offset);
    }
  }
}

// The map's timezone: an offset ("+01:00") into `t.offset`, or a zone name ("Europe/Berlin", a
// datetime only) into `t.zone`. Returns whether the map has one.
bool MapZone(const QMap& m, Temporal& t, const std::string& what, size_t offset) {
  auto it = m.find("timezone");
  if (it == m.end() || it->second.is_null()) return false;
  if (it->second.kind() != K::kString)
    Bad(what + ": timezone must be a string such as '+01:00' or 'Europe/Berlin'", offset);
  const std::string& text = it->second.as_string();
  if (IsOffsetText(text)) {
    Cursor c{text};
    bool bad = false;
    t.offset = *ParseOffset(c, bad);
    return true;
  }
  if (t.type != T::kDateTime)
    Bad(what + ": the timezone " + Quote(text) +
            " is not a UTC offset such as 'Z' or '+01:00' (a named zone needs a date: only a "
            "datetime takes one)",
        offset);
  t.zone = text;
  return true;
}

Temporal FromMap(T type, const QMap& m, const std::string& what, size_t offset) {
  Temporal t;
  t.type = type;
  if (type == T::kDuration) {
    CheckKeys(m, {"years", "quarters", "months", "weeks", "days", "hours", "minutes", "seconds", "milliseconds",
                  "microseconds", "nanoseconds"}, what, offset);
    // Each field a number times its unit; fractions go down the units (as in duration texts).
    static const std::vector<std::tuple<const char*, i128, i128, i128>> kUnits = {
        {"years", 12, 0, 0}, {"quarters", 3, 0, 0}, {"months", 1, 0, 0}, {"weeks", 0, 7, 0}, {"days", 0, 1, 0},
        {"hours", 0, 0, 3600 * kNanosPerSecond}, {"minutes", 0, 0, 60 * kNanosPerSecond},
        {"seconds", 0, 0, kNanosPerSecond}, {"milliseconds", 0, 0, 1'000'000}, {"microseconds", 0, 0, 1000},
        {"nanoseconds", 0, 0, 1}};
    i128 months = 0, days = 0, nanos = 0;
    for (const auto& [key, um, ud, un] : kUnits) {
      auto it = m.find(key);
      if (it == m.end() || it->second.is_null()) continue;
      if (!it->second.is_number())
        Bad(what + ": " + key + " must be a number, not " + it->second.kind_name(), offset);
      if (!AddScaled(it->second, um, ud, un, months, days, nanos)) Bad(what + ": the duration is too long", offset);
    }
    std::optional<Temporal> d = MakeDuration(months, days, nanos);
    if (!d) Bad(what + ": the duration is too long", offset);
    t = *d;
    return t;
  }
  if (type == T::kDateTime && (m.count("epochSeconds") || m.count("epochMillis"))) {
    CheckKeys(m, {"epochSeconds", "epochMillis", "nanosecond", "timezone"}, what, offset);
    i128 ns = i128(MapInt(m, "epochSeconds", 0, what, offset)) * kNanosPerSecond +
              i128(MapInt(m, "epochMillis", 0, what, offset)) * 1'000'000 + MapInt(m, "nanosecond", 0, what, offset);
    i128 days = ns >= 0 ? ns / kNanosPerDay : -((-ns + kNanosPerDay - 1) / kNanosPerDay);
    if (days > 3'000'000 || days < -3'000'000) Bad(what + ": the time is outside the years -9999..9999", offset);
    t.days = static_cast<int64_t>(days);
    t.nanos = static_cast<int64_t>(ns - days * kNanosPerDay);
    Temporal zoned = t;  // the instant, shown at the map's offset or in its zone
    if (MapZone(m, zoned, what, offset)) {
      if (zoned.zone.empty())
        ShowAtOffset(t, zoned.offset);
      else
        ShowInZone(t, zoned.zone, what, offset);
    }
    return t;
  }
  std::vector<const char*> keys;
  if (HasDate(type)) keys.insert(keys.end(), {"year", "month", "day"});
  if (HasTime(type)) keys.insert(keys.end(), {"hour", "minute", "second", "millisecond", "microsecond", "nanosecond"});
  if (Zoned(type)) keys.push_back("timezone");
  for (const auto& [k, v] : m) {
    bool ok = false;
    for (const char* a : keys) ok = ok || k == a;
    if (!ok) {
      std::string list;
      for (const char* a : keys) list += (list.empty() ? "" : ", ") + std::string(a);
      Bad(what + ": unknown field '" + k + "' (fields: " + list + ")", offset);
    }
  }
  if (HasDate(type)) {
    if (!m.count("year")) Bad(what + ": the map needs a year", offset);
    t.days = MakeDate(MapInt(m, "year", 0, what, offset), MapInt(m, "month", 1, what, offset),
                      MapInt(m, "day", 1, what, offset), what, offset)
                 .days;
  }
  if (HasTime(type)) {
    if (type != T::kLocalDateTime && type != T::kDateTime && !m.count("hour")) Bad(what + ": the map needs an hour", offset);
    int64_t ms = MapInt(m, "millisecond", 0, what, offset), us = MapInt(m, "microsecond", 0, what, offset),
            ns = MapInt(m, "nanosecond", 0, what, offset);
    if (ms < 0 || ms > 999 || us < 0 || us > 999'999 || ns < 0 || ns > 999'999'999)
      Bad(what + ": millisecond, microsecond or nanosecond out of range", offset);
    t.nanos = TimeNanos(MapInt(m, "hour", 0, what, offset), MapInt(m, "minute", 0, what, offset),
                        MapInt(m, "second", 0, what, offset), (ms * 1'000'000 + us * 1000 + ns) % kNanosPerSecond, what,
                        offset);
  }
  if (Zoned(type) && MapZone(m, t, what, offset) && !t.zone.empty()) ResolveZone(t, what, offset);
  return t;
}

// The query's time as a value of `type` (UTC).
Temporal Now(T type, int64_t now_micros) {
  Temporal t;
  t.type = type;
  int64_t days = FloorDiv(now_micros, kSecondsPerDay * 1'000'000);
  t.days = HasDate(type) ? days : 0;
  t.nanos = HasTime(type) ? (now_micros - days * kSecondsPerDay * 1'000'000) * 1000 : 0;
  return t;
}

// The query's time as a value of `type` in the time zone `zone` (an offset or, for a datetime,
// a zone name; null: UTC).
Temporal NowIn(T type, int64_t now_micros, const QValue& zone, const std::string& what, size_t offset) {
  Temporal utc = Now(T::kDateTime, now_micros);
  if (zone.is_null()) return Now(type, now_micros);
  if (zone.kind() != K::kString || !Zoned(type))
    Bad(what + ": the time zone must be a string such as '+01:00' or 'Europe/Berlin'" +
            std::string(Zoned(type) ? "" : " (and only a zoned type takes one)"),
        offset);
  Temporal t = utc;
  const std::string& text = zone.as_string();
  if (IsOffsetText(text)) {
    Cursor c{text};
    bool bad = false;
    ShowAtOffset(t, *ParseOffset(c, bad));
  } else {
    ShowInZone(t, text, what, offset);
    if (type != T::kDateTime) t.zone.clear();  // a time keeps the offset only
  }
  t.type = type;
  if (!HasDate(type)) t.days = 0;
  return t;
}

// The value of type `type` made from another temporal value: its date part, time part, or both.
Temporal Convert(T type, const Temporal& from, const std::string& what, size_t offset) {
  if (from.type == T::kDuration || (HasDate(type) && !HasDate(from.type)) || (HasTime(type) && !HasTime(from.type) && type != T::kLocalDateTime && type != T::kDateTime))
    Bad(what + ": cannot make a " + TemporalTypeName(type) + " from a " + TemporalTypeName(from.type), offset);
  Temporal t;
  t.type = type;
  t.days = HasDate(type) ? from.days : 0;
  t.nanos = HasTime(type) && HasTime(from.type) ? from.nanos : 0;
  t.offset = Zoned(type) && Zoned(from.type) ? from.offset : 0;
  if (type == T::kDateTime) t.zone = from.zone;
  return t;
}

template <T kType>
QValue Construct(const Args& args, const FnEnv& env) {
  static const std::string what = std::string(kType == T::kDate            ? "date"
                                              : kType == T::kLocalTime     ? "localtime"
                                              : kType == T::kTime          ? "time"
                                              : kType == T::kLocalDateTime ? "localdatetime"
                                              : kType == T::kDateTime      ? "datetime"
                                                                           : "duration") + "()";
  if (args.empty()) {
    if (kType == T::kDuration) Bad("duration() needs a text or a map", env.offset);
    return QValue(Now(kType, env.now_micros));
  }
  const QValue& a = args[0];
  // A map of only a timezone: the query's time there (datetime({timezone: 'Europe/Berlin'})).
  if (a.kind() == K::kMap && kType != T::kDuration && a.as_map().size() == 1 &&
      a.as_map().count("timezone"))
    return QValue(NowIn(kType, env.now_micros, a.as_map().at("timezone"), what, env.offset));
  switch (a.kind()) {
    case K::kNull: return QValue();
    case K::kString:
      return QValue(kType == T::kDuration ? ParseDuration(a.as_string(), env.offset)
                                          : ParseInstant(kType, a.as_string(), what, env.offset));
    case K::kMap: return QValue(FromMap(kType, a.as_map(), what, env.offset));
    case K::kTemporal:
      if (kType == T::kDuration) {
        if (a.as_temporal().type != T::kDuration) break;
        return a;
      }
      return QValue(Convert(kType, a.as_temporal(), what, env.offset));
    default: break;
  }
  ThrowType("InvalidArgumentType", what + " expects a string or a map, got " + a.kind_name(), env.offset);
}

// <type>.transaction(), .statement(), .realtime(): all the query's time (one moment per query).
template <T kType>
QValue QueryClock(const Args& args, const FnEnv& env) {
  if (args.empty()) return QValue(Now(kType, env.now_micros));
  if (args[0].is_null()) return QValue();
  return QValue(NowIn(kType, env.now_micros, args[0], std::string(TemporalTypeName(kType)) + " clock",
                      env.offset));
}

// <type>.truncate(unit, value): the value with every field below `unit` at its smallest.
template <T kType>
QValue Truncate(const Args& args, const FnEnv& env) {
  static const std::string what = std::string(kType == T::kDate            ? "date"
                                              : kType == T::kLocalTime     ? "localtime"
                                              : kType == T::kTime          ? "time"
                                              : kType == T::kLocalDateTime ? "localdatetime"
                                                                           : "datetime") + ".truncate()";
  if (args[0].is_null() || args[1].is_null()) return QValue();
  if (args[0].kind() != K::kString) ThrowType("InvalidArgumentType", what + " expects a unit name first", env.offset);
  if (args[1].kind() != K::kTemporal || args[1].as_temporal().type == T::kDuration)
    ThrowType("InvalidArgumentType", what + " expects a date or time, got " + args[1].kind_name(), env.offset);
  Temporal t = Convert(kType, args[1].as_temporal(), what, env.offset);
  if (Zoned(kType) && !Zoned(args[1].as_temporal().type)) t.offset = 0;
  std::string unit = args[0].as_string();
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Civil c = CivilFromDays(t.days);
  static const std::vector<std::pair<std::string, int64_t>> kTimeUnits = {
      {"day", kNanosPerDay}, {"hour", 3600 * kNanosPerSecond}, {"minute", 60 * kNanosPerSecond},
      {"second", kNanosPerSecond}, {"millisecond", 1'000'000}, {"microsecond", 1000}};
  auto date_unit = [&](int64_t y, int64_t m, int64_t d) {
    if (!HasDate(kType)) Bad(what + ": a " + TemporalTypeName(kType) + " has no " + unit, env.offset);
    t.days = DaysFromCivil(y, m, d);
    t.nanos = 0;
  };
  if (unit == "millennium") date_unit(FloorDiv(c.year, 1000) * 1000, 1, 1);
  else if (unit == "century") date_unit(FloorDiv(c.year, 100) * 100, 1, 1);
  else if (unit == "decade") date_unit(FloorDiv(c.year, 10) * 10, 1, 1);
  else if (unit == "year") date_unit(c.year, 1, 1);
  else if (unit == "quarter") date_unit(c.year, (c.month - 1) / 3 * 3 + 1, 1);
  else if (unit == "month") date_unit(c.year, c.month, 1);
  else if (unit == "week") {
    if (!HasDate(kType)) Bad(what + ": a " + TemporalTypeName(kType) + " has no week", env.offset);
    t.days -= DayOfWeek(t.days) - 1;
    t.nanos = 0;
  } else {
    auto it = std::find_if(kTimeUnits.begin(), kTimeUnits.end(), [&](const auto& u) { return u.first == unit; });
    if (it == kTimeUnits.end())
      Bad(what + ": unknown unit " + Quote(args[0].as_string()) +
              " (millennium, century, decade, year, quarter, month, week, day, hour, minute, second, millisecond, "
              "microsecond)",
          env.offset);
    if (!HasTime(kType) && unit != "day") Bad(what + ": a " + TemporalTypeName(kType) + " has no " + unit, env.offset);
    t.nanos -= t.nanos % it->second;
  }
  if (!t.zone.empty()) ResolveZone(t, what, env.offset);  // the zone's offset at the new time
  return QValue(t);
}

// floor(a / b) for a wide a.
i128 FloorDivWide(i128 a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

enum class Span { kBetween, kMonths, kDays, kSeconds };

// duration.between(a, b), duration.inMonths/inDays/inSeconds(a, b): b - a as openCypher says.
// Mixed types compare what both have: a missing date ignores the other's date, a missing time is
// midnight, a local value is read in the other's offset (two zoned values in a's). between()
// counts whole months first (as java.time does), then whole days, then the time; inMonths,
// inDays and inSeconds keep only that unit (toward zero), inSeconds all of it in seconds.
template <Span kSpan>
QValue DurationIn(const Args& args, const FnEnv& env) {
  const char* what = kSpan == Span::kBetween  ? "duration.between()"
                     : kSpan == Span::kMonths ? "duration.inMonths()"
                     : kSpan == Span::kDays   ? "duration.inDays()"
                                              : "duration.inSeconds()";
  if (args[0].is_null() || args[1].is_null()) return QValue();
  for (const QValue& a : args) {
    if (a.kind() != K::kTemporal || a.as_temporal().type == T::kDuration)
      ThrowType("InvalidArgumentType", std::string(what) + " expects two dates or times, got " + a.kind_name(), env.offset);
  }
  const Temporal &a = args[0].as_temporal(), &b = args[1].as_temporal();
  const bool dates = HasDate(a.type) && HasDate(b.type);
  // Both as (days, nanos of the day) on one local time line.
  auto local = [&](const Temporal& t, bool shift) {
    i128 v = (dates ? i128(t.days) * kNanosPerDay : 0) + (HasTime(t.type) ? t.nanos : 0);
    if (shift) v += (i128(a.offset) - t.offset) * kNanosPerSecond;
    return v;
  };
  const bool both_zoned = Zoned(a.type) && Zoned(b.type);
  const i128 la = local(a, false), lb = local(b, both_zoned);
  i128 months = 0;
  i128 start = la;
  if (dates && kSpan != Span::kDays && kSpan != Span::kSeconds) {
    // a moved by `m` months, its day cut to the month's last when it has fewer.
    auto plus_months = [&](int64_t m) {
      Civil c = CivilFromDays(a.days);
      int64_t total = c.year * 12 + (c.month - 1) + m;
      int64_t y = FloorDiv(total, 12), mo = FloorMod(total, 12) + 1;
      return i128(DaysFromCivil(y, mo, std::min(c.day, MonthDays(y, mo)))) * kNanosPerDay +
             (la - i128(a.days) * kNanosPerDay);
    };
    // Whole months as java.time counts them (LocalDateTime.until(MONTHS)): b's date moved a day
    // toward a when its time of day has not reached a's, then months by (month, day of month).
    int64_t end_days = static_cast<int64_t>(FloorDivWide(lb, kNanosPerDay));
    const i128 end_time = lb - i128(end_days) * kNanosPerDay,
               start_time = la - i128(a.days) * kNanosPerDay;
    if (end_days > a.days && end_time < start_time) --end_days;
    if (end_days < a.days && end_time > start_time) ++end_days;
    Civil ca = CivilFromDays(a.days), cb = CivilFromDays(end_days);
    int64_t m = ((cb.year * 12 + cb.month - 1) * 32 + cb.day -
                 ((ca.year * 12 + ca.month - 1) * 32 + ca.day)) /
                32;
    months = m;
    start = plus_months(m);
  }
  i128 rest = lb - start, days = 0;
  if (kSpan == Span::kMonths) rest = 0;
  if (kSpan != Span::kSeconds && dates) {
    days = rest / kNanosPerDay;  // toward zero
    rest -= days * kNanosPerDay;
  }
  if (kSpan == Span::kDays) rest = 0;
  std::optional<Temporal> d = MakeDuration(months, days, rest);
  if (!d) ThrowArgument("IntegerOverflow", "the duration is too long", env.offset);
  return QValue(*d);
}

}  // namespace

void AddTemporalFunctions(const std::function<void(const char*, int, int, ScalarFn)>& add) {
  add("date", 0, 1, Construct<T::kDate>);
  add("localtime", 0, 1, Construct<T::kLocalTime>);
  add("time", 0, 1, Construct<T::kTime>);
  add("localdatetime", 0, 1, Construct<T::kLocalDateTime>);
  add("datetime", 0, 1, Construct<T::kDateTime>);
  add("duration", 1, 1, Construct<T::kDuration>);
  for (const char* clock : {"transaction", "statement", "realtime"}) {
    for (auto [type, fn] : {std::pair{"date", &QueryClock<T::kDate>}, {"localtime", &QueryClock<T::kLocalTime>},
                            {"time", &QueryClock<T::kTime>}, {"localdatetime", &QueryClock<T::kLocalDateTime>},
                            {"datetime", &QueryClock<T::kDateTime>}}) {
      add((std::string(type) + "." + clock).c_str(), 0, 1, fn);  // the catalogue copies the name
    }
  }
  add("date.truncate", 2, 2, Truncate<T::kDate>);
  add("localtime.truncate", 2, 2, Truncate<T::kLocalTime>);
  add("time.truncate", 2, 2, Truncate<T::kTime>);
  add("localdatetime.truncate", 2, 2, Truncate<T::kLocalDateTime>);
  add("datetime.truncate", 2, 2, Truncate<T::kDateTime>);
  add("duration.between", 2, 2, DurationIn<Span::kBetween>);
  add("duration.inMonths", 2, 2, DurationIn<Span::kMonths>);
  add("duration.inDays", 2, 2, DurationIn<Span::kDays>);
  add("duration.inSeconds", 2, 2, DurationIn<Span::kSeconds>);
}

}  // namespace cmdb::gql
