// Temporal values: construction from strings and maps, components, arithmetic, comparison,
// truncation and the query's fixed now, checked against std::chrono's calendar (an independent
// implementation of the proleptic Gregorian calendar) on random dates; DATE and DATETIME
// attributes as temporal values; exact errors.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>

#include "api/api_client.hpp"
#include "query/engine.hpp"
#include "query/query_util.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::gql;
namespace chr = std::chrono;

namespace {

struct Q : cmdb::testing::QueryHarness {
  Q() : QueryHarness(&clock_) {}
  static inline ManualClock clock_{1'800'000'000'000'000};  // 2027-01-15T08:00:00Z
  QValue One(const std::string& text, QMap params = {}) {
    QueryResult r = Ok(text, std::move(params));
    REQUIRE(r.rows.size() == 1);
    return r.rows[0][0];
  }
  std::string Text(const std::string& expr) { return One("RETURN toString(" + expr + ")").as_string(); }
};

std::string Iso(chr::year_month_day d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()), unsigned(d.day()));
  return buf;
}

}  // namespace

TEST_CASE("dates agree with std::chrono's calendar: components, day and month arithmetic, differences") {
  Q q;
  std::mt19937 rng(22);
  std::uniform_int_distribution<int> day_dist(-150000, 150000);  // about 1559..2380
  std::uniform_int_distribution<int> delta_dist(-4000, 4000);
  std::uniform_int_distribution<int> month_dist(-40, 40);
  for (int k = 0; k < 150; ++k) {
    chr::sys_days a{chr::days{day_dist(rng)}};
    chr::year_month_day ymd{a};
    int dd = delta_dist(rng), dm = month_dist(rng);
    chr::year_month_day plus_days{a + chr::days{dd}};
    // Months: chrono's month arithmetic, then the day clamped to the month's end.
    chr::year_month_day m = ymd + chr::months{dm};
    if (!m.ok()) m = chr::year_month_day_last{m.year(), chr::month_day_last{m.month()}};
    chr::year_month_day other{a + chr::days{dd}};
    QMap p{{"d", QValue(Iso(ymd))}, {"dd", QValue(int64_t{dd})}, {"dm", QValue(int64_t{dm})},
           {"o", QValue(Iso(other))}};
    auto r = q.Ok(
        "WITH date($d) AS d RETURN d.year, d.month, d.day, d.dayOfWeek, d.ordinalDay, toString(d), "
        "toString(d + duration({days: $dd})), toString(d + duration({months: $dm})), "
        "(date($o) - d).days, date($o) > d, date({year: d.year, month: d.month, day: d.day}) = d",
        p);
    const auto& row = r.rows[0];
    INFO(Iso(ymd) << " + " << dd << " days, + " << dm << " months");
    CHECK(row[0].as_int() == int(ymd.year()));
    CHECK(row[1].as_int() == unsigned(ymd.month()));
    CHECK(row[2].as_int() == unsigned(ymd.day()));
    CHECK(row[3].as_int() == chr::weekday{a}.iso_encoding());
    CHECK(row[4].as_int() == (a - chr::sys_days{ymd.year() / 1 / 1}).count() + 1);
    CHECK(row[5].as_string() == Iso(ymd));
    CHECK(row[6].as_string() == Iso(plus_days));
    CHECK(row[7].as_string() == Iso(m));
    CHECK(row[8].as_int() == dd);
    CHECK(row[9].as_bool() == (dd > 0));
    CHECK(row[10].as_bool());
  }
}

TEST_CASE("temporal values: texts, maps, components, arithmetic, comparison, truncation and now") {
  Q q;
  CHECK(q.Text("date('2026-02-28') + duration('P1D')") == "2026-03-01");
  CHECK(q.Text("date('2024-01-31') + duration('P1M')") == "2024-02-29");
  CHECK(q.Text("date('20261203')") == "2026-12-03");
  CHECK(q.Text("localtime('12:31:14.645876123')") == "12:31:14.645876123");
  CHECK(q.Text("localtime('12:31:14.5')") == "12:31:14.500");
  CHECK(q.Text("time('12:00+01:00')") == "12:00+01:00");
  CHECK(q.Text("localdatetime('2015-07-21T21:40:32.142')") == "2015-07-21T21:40:32.142");
  CHECK(q.Text("datetime('2015-07-21T21:40:32.142+0100')") == "2015-07-21T21:40:32.142+01:00");
  CHECK(q.Text("datetime('2015-07-21')") == "2015-07-21T00:00Z");
  CHECK(q.Text("datetime({year: 1984, month: 10, day: 11, hour: 12, timezone: '-05:00'})") == "1984-10-11T12:00-05:00");
  CHECK(q.Text("datetime({epochMillis: 1800000000000})") == "2027-01-15T08:00Z");
  CHECK(q.Text("duration('P1Y2M10DT2H30M')") == "P1Y2M10DT2H30M");
  CHECK(q.Text("duration('PT0.5S') + duration('PT0.75S')") == "PT1.25S");
  CHECK(q.Text("duration({weeks: 2, hours: 36})") == "P14DT36H");
  CHECK(q.Text("duration('-PT90M')") == "PT-1H-30M");
  CHECK(q.Text("duration('P0D')") == "PT0S");
  CHECK(q.Text("duration({days: 1.5})") == "P1DT12H");
  CHECK(q.Text("duration({months: 0.5})") == "P15DT5H14M33S");  // half of 2,629,746 s
  CHECK(q.Text("duration('P1DT2H') * 2") == "P2DT4H");
  CHECK(q.Text("3 * duration('PT20M')") == "PT1H");
  CHECK(q.Text("duration('P1D') * 1.5") == "P1DT12H");
  CHECK(q.Text("duration('PT1H') / 4") == "PT15M");
  CHECK(q.Text("duration('P1M') / 2") == "P15DT5H14M33S");
  CHECK(q.Text("duration('P0.75M')") == "P22DT19H51M49.5S");  // an average month: 2,629,746 s
  CHECK(q.Text("duration('P2.5W')") == "P17DT12H");
  CHECK(q.Text("duration('P1.5Y')") == "P1Y6M");
  CHECK(q.Text("duration('PT0.75M')") == "PT45S");
  CHECK(q.Text("date('2015-W30-2')") == "2015-07-21");
  CHECK(q.Text("date('2015W30')") == "2015-07-20");
  CHECK(q.Text("date('2015-202')") == "2015-07-21");
  CHECK(q.Text("date('201507')") == "2015-07-01");
  CHECK(q.Text("localdatetime('2015202T21')") == "2015-07-21T21:00");
  CHECK(q.Text("datetime.transaction()") == "2027-01-15T08:00Z");
  CHECK(q.One("RETURN date.realtime() = date.statement()").as_bool());
  CHECK(q.Text("datetime('2026-12-03T10:00Z') - datetime('2026-12-01T08:30Z')") == "P2DT1H30M");
  CHECK(q.Text("localtime('10:00') - duration('PT11H')") == "23:00");
  CHECK(q.Text("time('23:30Z') + duration('PT1H')") == "00:30Z");
  // Components.
  CHECK(q.One("RETURN datetime('2026-12-03T10:15:30.25+01:00').hour").as_int() == 10);
  CHECK(q.One("RETURN datetime('2026-12-03T10:15:30.25+01:00').millisecond").as_int() == 250);
  CHECK(q.One("RETURN datetime('2026-12-03T10:15:30.25+01:00').timezone").as_string() == "+01:00");
  CHECK(q.One("RETURN datetime('1970-01-01T01:00+01:00').epochSeconds").as_int() == 0);
  CHECK(q.One("RETURN date('2026-12-31').week").as_int() == 53);
  CHECK(q.One("RETURN date('2027-01-01').weekYear").as_int() == 2026);
  CHECK(q.One("RETURN date('2026-11-15').quarter").as_int() == 4);
  CHECK(q.One("RETURN duration('P1Y2M3DT4H').months").as_int() == 14);
  CHECK(q.One("RETURN duration('P1Y2M3DT4H').minutes").as_int() == 240);
  // Comparison: zoned values by their instant; different types and durations do not compare.
  CHECK(q.One("RETURN datetime('2026-12-03T10:00+01:00') = datetime('2026-12-03T09:00Z')").as_bool());
  CHECK(q.One("RETURN datetime('2026-12-03T10:00+01:00') < datetime('2026-12-03T09:30Z')").as_bool());
  CHECK(q.One("RETURN date('2026-12-03') < datetime('2026-12-04')").is_null());
  CHECK(q.One("RETURN duration('P1D') < duration('P2D')").is_null());
  CHECK(q.One("RETURN duration('P1D') = duration('PT24H')").as_bool() == false);
  CHECK(q.One("RETURN date('2026-12-03') = '2026-12-03'").as_bool() == false);
  auto sorted = q.Ok("UNWIND [date('2026-12-03'), date('2025-01-01'), date('2026-01-01')] AS d RETURN toString(d) ORDER BY d");
  CHECK(sorted.rows[0][0].as_string() == "2025-01-01");
  CHECK(sorted.rows[2][0].as_string() == "2026-12-03");
  CHECK(q.One("UNWIND [date('2026-12-03'), date('2026-12-03'), date('2026-12-04')] AS d RETURN count(DISTINCT d)").as_int() == 2);
  // Truncation.
  CHECK(q.Text("date.truncate('month', date('2026-12-03'))") == "2026-12-01");
  CHECK(q.Text("date.truncate('week', date('2026-12-03'))") == "2026-11-30");
  CHECK(q.Text("datetime.truncate('hour', datetime('2026-12-03T10:15:30+02:00'))") == "2026-12-03T10:00+02:00");
  CHECK(q.Text("localtime.truncate('minute', localtime('10:15:30.5'))") == "10:15");
  CHECK(q.Text("date.truncate('quarter', datetime('2026-12-03T10:15Z'))") == "2026-10-01");
  // The query's now: the database clock, fixed for the whole query.
  CHECK(q.Text("date()") == "2027-01-15");
  CHECK(q.Text("datetime()") == "2027-01-15T08:00Z");
  CHECK(q.Text("localtime()") == "08:00");
  CHECK(q.One("UNWIND range(1, 3000) AS i WITH datetime() AS t RETURN count(DISTINCT t)").as_int() == 1);
  CHECK(q.One("RETURN duration.inDays(date('2026-01-01'), date('2027-01-01')).days").as_int() == 365);
  CHECK(q.One("RETURN duration.inSeconds(datetime('2026-01-01T00:00Z'), datetime('2026-01-01T01:00+00:30')).seconds").as_int() == 1800);
  // Nulls in, null out; a temporal value stored is its ISO text.
  CHECK(q.One("RETURN date(null)").is_null());
  CHECK(q.One("RETURN date('2026-12-03') + null").is_null());
}

TEST_CASE("named time zones: offsets with daylight saving time, gaps, repeated hours, arithmetic") {
  Q q;
  CHECK(q.Text("datetime('2026-07-01T10:00[Europe/Berlin]')") == "2026-07-01T10:00+02:00[Europe/Berlin]");
  CHECK(q.Text("datetime('2026-01-01T10:00[Europe/Berlin]')") == "2026-01-01T10:00+01:00[Europe/Berlin]");
  CHECK(q.Text("datetime('2026-01-01T10:00[Europe/Berlin]').timezone") == "Europe/Berlin");
  CHECK(q.Text("datetime('2026-01-01T10:00[Europe/Berlin]').offset") == "+01:00");
  // 02:30 does not exist on 29 March 2026 in Berlin (02:00 -> 03:00): forward by the gap.
  CHECK(q.Text("datetime('2026-03-29T02:30[Europe/Berlin]')") == "2026-03-29T03:30+02:00[Europe/Berlin]");
  // 02:30 occurs twice on 25 October: the earlier offset, unless the text names the later one.
  CHECK(q.Text("datetime('2026-10-25T02:30[Europe/Berlin]')") == "2026-10-25T02:30+02:00[Europe/Berlin]");
  CHECK(q.Text("datetime('2026-10-25T02:30+01:00[Europe/Berlin]')") == "2026-10-25T02:30+01:00[Europe/Berlin]");
  // A day is the same clock time the next day; 24 hours are 24 hours.
  CHECK(q.Text("datetime('2026-03-28T12:00[Europe/Berlin]') + duration('P1D')") ==
        "2026-03-29T12:00+02:00[Europe/Berlin]");
  CHECK(q.Text("datetime('2026-03-28T12:00[Europe/Berlin]') + duration('PT24H')") ==
        "2026-03-29T13:00+02:00[Europe/Berlin]");
  CHECK(q.Text("datetime('2026-03-29T12:00[Europe/Berlin]') - duration('P1M')") ==
        "2026-02-28T12:00+01:00[Europe/Berlin]");
  CHECK(q.Text("datetime.truncate('day', datetime('2026-03-29T12:00[Europe/Berlin]'))") ==
        "2026-03-29T00:00+01:00[Europe/Berlin]");
  CHECK(q.Text("datetime({year: 2026, month: 7, day: 1, hour: 9, timezone: 'America/New_York'})") ==
        "2026-07-01T09:00-04:00[America/New_York]");
  CHECK(q.Text("datetime({epochMillis: 1800000000000, timezone: 'Asia/Tokyo'})") ==
        "2027-01-15T17:00+09:00[Asia/Tokyo]");
  CHECK(q.Text("datetime({epochMillis: 1800000000000, timezone: '+05:30'})") == "2027-01-15T13:30+05:30");
  // The query's now in a zone (the clock is 2027-01-15T08:00Z).
  CHECK(q.Text("datetime({timezone: 'Asia/Tokyo'})") == "2027-01-15T17:00+09:00[Asia/Tokyo]");
  CHECK(q.Text("datetime.transaction('America/New_York')") == "2027-01-15T03:00-05:00[America/New_York]");
  CHECK(q.Text("time.statement('+01:00')") == "09:00+01:00");
  // The same instant in two zones is equal; it sorts by the instant.
  CHECK(q.One("RETURN datetime('2026-07-01T10:00[Europe/Berlin]') = datetime('2026-07-01T08:00Z')").as_bool());
  CHECK(q.One("RETURN datetime('2026-07-01T10:00[Europe/Berlin]') < datetime('2026-07-01T09:00+00:00')").as_bool());
}

TEST_CASE("named time zones agree with the C library's time zone code on random instants") {
  // A second reader of the same tz database: glibc's localtime_r under TZ=<zone>.
  Q q;
  const char* saved = std::getenv("TZ");
  std::string restore = saved ? saved : "";
  std::mt19937_64 rng(20261204);
  for (const char* zone : {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
                           "America/Sao_Paulo", "Pacific/Chatham", "Africa/Casablanca", "America/St_Johns"}) {
    ::setenv("TZ", zone, 1);
    ::tzset();
    std::uniform_int_distribution<int64_t> when(0, 2'100'000'000);  // 1970..2036
    for (int i = 0; i < 40; ++i) {
      int64_t s = when(rng);
      time_t t = static_cast<time_t>(s);
      struct tm tm {};
      ::localtime_r(&t, &tm);
      INFO(zone << " at " << s);
      CHECK(q.One("RETURN datetime({epochSeconds: $s, timezone: $z}).offsetSeconds",
                  {{"s", QValue(s)}, {"z", QValue(std::string(zone))}})
                .as_int() == tm.tm_gmtoff);
    }
  }
  if (saved) ::setenv("TZ", restore.c_str(), 1); else ::unsetenv("TZ");
  ::tzset();
}

TEST_CASE("DATE and DATETIME attributes are temporal values in queries") {
  Q q;
  // The cookbook's end-of-life check: software whose end of life is within 90 days of now.
  q.Ok("MATCH (sw:Software {name: 'MySQL 8.0'}) SET sw.eol_date = '2027-03-01'");
  auto soon = q.Ok("MATCH (sw:Software) WHERE sw.eol_date < date() + duration('P90D') RETURN sw.name, toString(sw.eol_date)");
  REQUIRE(soon.rows.size() >= 1);
  bool found = false;
  for (const auto& row : soon.rows) found = found || (row[0].as_string() == "MySQL 8.0" && row[1].as_string() == "2027-03-01");
  CHECK(found);
  CHECK(q.One("MATCH (sw:Software {name: 'MySQL 8.0'}) RETURN sw.eol_date.year").as_int() == 2027);
  // A temporal value written to a DATE attribute is stored as its ISO text and reads back as a date.
  q.Ok("MATCH (sw:Software {name: 'MySQL 8.0'}) SET sw.eol_date = date('2027-04-30') + duration('P1D')");
  CHECK(q.One("MATCH (sw:Software {name: 'MySQL 8.0'}) RETURN toString(sw.eol_date)").as_string() == "2027-05-01");
  CHECK(q.One("MATCH (sw:Software {eol_date: date('2027-05-01')}) RETURN sw.name").as_string() == "MySQL 8.0");
}

TEST_CASE("errors of temporal values: exact text and caret") {
  Q q;
  CHECK(q.Error("RETURN date('2026-02-30')") ==
        "ArgumentError: line 1, column 8: date(): there is no day 30 in 2026-02\n"
        "RETURN date('2026-02-30')\n"
        "       ^");
  CHECK(q.Error("RETURN date('03.12.2026')") ==
        "ArgumentError: line 1, column 8: date(): '03.12.2026' is not an ISO-8601 DATE text\n"
        "RETURN date('03.12.2026')\n"
        "       ^");
  CHECK(q.Error("RETURN localdatetime('2026-12-03T10:00+01:00')") ==
        "ArgumentError: line 1, column 8: localdatetime(): '2026-12-03T10:00+01:00' has a time zone offset; a LOCAL "
        "DATETIME has none\n"
        "RETURN localdatetime('2026-12-03T10:00+01:00')\n"
        "       ^");
  CHECK(q.Error("RETURN datetime({year: 2026, month: 12, timezone: 'Europe/Berlinn'})") ==
        "ArgumentError: line 1, column 8: datetime(): unknown time zone 'Europe/Berlinn' (a name of the tz database "
        "such as 'Europe/Berlin', or an offset such as '+01:00')\n"
        "RETURN datetime({year: 2026, month: 12, timezone: 'Europe/Berlinn'})\n"
        "       ^");
  CHECK(q.Error("RETURN time({hour: 10, timezone: 'Europe/Berlin'})") ==
        "ArgumentError: line 1, column 8: time(): the timezone 'Europe/Berlin' is not a UTC offset such as 'Z' or "
        "'+01:00' (a named zone needs a date: only a datetime takes one)\n"
        "RETURN time({hour: 10, timezone: 'Europe/Berlin'})\n"
        "       ^");
  CHECK(q.Error("RETURN datetime('2026-10-25T02:30+05:00[Europe/Berlin]')") ==
        "ArgumentError: line 1, column 8: datetime(): '2026-10-25T02:30+05:00[Europe/Berlin]': +05:00 is not an "
        "offset of Europe/Berlin at that time (it is +02:00)\n"
        "RETURN datetime('2026-10-25T02:30+05:00[Europe/Berlin]')\n"
        "       ^");
  CHECK(q.Error("RETURN date({year: 2026, hour: 3})") ==
        "ArgumentError: line 1, column 8: date(): unknown field 'hour' (fields: year, month, day)\n"
        "RETURN date({year: 2026, hour: 3})\n"
        "       ^");
  CHECK(q.Error("RETURN duration('P1D2H')") ==
        "ArgumentError: line 1, column 8: duration(): 'P1D2H' is not an ISO-8601 duration text\n"
        "RETURN duration('P1D2H')\n"
        "       ^");
  CHECK(q.Error("RETURN date('2026-12-03') + 1") ==
        "TypeError: line 1, column 8: arithmetic needs numbers, got DATE and INTEGER\n"
        "RETURN date('2026-12-03') + 1\n"
        "       ^");
  CHECK(q.Error("RETURN date('2026-12-03') + date('2026-12-03')") ==
        "TypeError: line 1, column 8: cannot add DATE to DATE\n"
        "RETURN date('2026-12-03') + date('2026-12-03')\n"
        "       ^");
  CHECK(q.Error("RETURN date('2026-12-03').hour") ==
        "TypeError: line 1, column 27: a DATE has no component 'hour'\n"
        "RETURN date('2026-12-03').hour\n"
        "                          ^");
  CHECK(q.Error("RETURN date.truncate('hour', date('2026-12-03'))") ==
        "ArgumentError: line 1, column 8: date.truncate(): a DATE has no hour\n"
        "RETURN date.truncate('hour', date('2026-12-03'))\n"
        "       ^");
  CHECK(q.Error("RETURN datetime.truncate('fortnight', datetime())") ==
        "ArgumentError: line 1, column 8: datetime.truncate(): unknown unit 'fortnight' (millennium, century, decade, "
        "year, quarter, month, week, day, hour, minute, second, millisecond, microsecond)\n"
        "RETURN datetime.truncate('fortnight', datetime())\n"
        "       ^");
  CHECK(q.Error("RETURN date('2015-W54-1')") ==
        "ArgumentError: line 1, column 8: date(): there is no week 54 day 1 in 2015\n"
        "RETURN date('2015-W54-1')\n"
        "       ^");
  CHECK(q.Error("RETURN date('2015-366')") ==
        "ArgumentError: line 1, column 8: date(): there is no day 366 in 2015\n"
        "RETURN date('2015-366')\n"
        "       ^");
  // Hostile: units repeated until they would overflow, a huge map field.
  std::string many = "P";
  for (int i = 0; i < 2000; ++i) many += "999999999999999Y";
  CHECK(q.Error("RETURN duration('" + many + "')").find("ArgumentError: line 1, column 8: duration(): 'P999999999999999Y") == 0);
  CHECK(q.Error("RETURN duration('" + many + "')").find("' is too long\n") != std::string::npos);
  CHECK(q.Error("RETURN duration({years: 9223372036854775807})") ==
        "ArgumentError: line 1, column 8: duration(): the duration is too long\n"
        "RETURN duration({years: 9223372036854775807})\n"
        "       ^");
  CHECK(q.Error("RETURN date('2026-12-03') + duration({days: 4000000000000000000})") ==
        "ArgumentError: line 1, column 8: the result is outside the years -9999..9999\n"
        "RETURN date('2026-12-03') + duration({days: 4000000000000000000})\n"
        "       ^");
  CHECK(q.Error("RETURN duration('PT1H') / 0") ==
        "ArgumentError: line 1, column 8: division by zero\n"
        "RETURN duration('PT1H') / 0\n"
        "       ^");
  CHECK(q.Error("RETURN duration('P1D') * 1e300") ==
        "ArgumentError: line 1, column 8: the duration is too long\n"
        "RETURN duration('P1D') * 1e300\n"
        "       ^");
  CHECK(q.Error("RETURN 2 / duration('P1D')") ==
        "TypeError: line 1, column 8: arithmetic needs numbers, got INTEGER and DURATION\n"
        "RETURN 2 / duration('P1D')\n"
        "       ^");
  CHECK(q.Error("RETURN duration({days: 'x'})") ==
        "ArgumentError: line 1, column 8: duration(): days must be a number, not STRING\n"
        "RETURN duration({days: 'x'})\n"
        "       ^");
  CHECK(q.Error("RETURN date(1)") ==
        "TypeError: line 1, column 8: date() expects a string or a map, got INTEGER\n"
        "RETURN date(1)\n"
        "       ^");
  CHECK(q.Error("RETURN date('9999-12-31') + duration('P1D')") ==
        "ArgumentError: line 1, column 8: the result is outside the years -9999..9999\n"
        "RETURN date('9999-12-31') + duration('P1D')\n"
        "       ^");
}

TEST_CASE("POST /v1/query answers temporal values as ISO-8601 text, and a DATE attribute as text in a node") {
  cmdb::testing::Client c;
  auto [status, body] = c.Call(
      "POST", "/v1/query",
      api::Json{{"query",
                 "MATCH (sw:Software {name: 'MySQL 8.0'}) RETURN sw.eol_date AS eol, sw.eol_date + duration('P1M') AS "
                 "later, datetime('2026-12-03T10:15:30.5+01:00') AS at, duration({hours: 36}) AS d, "
                 "[date('2026-01-01')] AS list, sw"}}
          .dump());
  REQUIRE(status == 200);
  REQUIRE(body["rows"].size() == 1);
  const auto& row = body["rows"][0];
  CHECK(row[0] == "2026-04-30");
  CHECK(row[1] == "2026-05-30");
  CHECK(row[2] == "2026-12-03T10:15:30.500+01:00");
  CHECK(row[3] == "PT36H");
  CHECK(row[4] == api::Json::array({"2026-01-01"}));
  CHECK(row[5]["attributes"]["eol_date"] == "2026-04-30");
}
