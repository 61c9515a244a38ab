#include "cmdb/time_util.hpp"

#include <chrono>
#include <cstdio>

namespace cmdb {
namespace {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {  // Howard Hinnant's algorithm
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

unsigned DaysInMonth(int y, int m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return (m == 2 && leap) ? 29 : kDays[m - 1];
}

bool ParseDate(std::string_view s, int& y, int& m, int& d) {
  return s.size() >= 10 && Digits(s, 0, 4, y) && s[4] == '-' && Digits(s, 5, 2, m) &&
         s[7] == '-' && Digits(s, 8, 2, d) && m >= 1 && m <= 12 && d >= 1 &&
         d <= static_cast<int>(DaysInMonth(y, m));
}

}  // namespace

std::string FormatTimestamp(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000;
  int64_t frac = micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[96];
  if (frac) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  static_cast<long long>(frac));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  }
  return buf;
}

bool IsValidDate(std::string_view text) {
  int y, m, d;
  return text.size() == 10 && ParseDate(text, y, m, d);
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!ParseDate(s, y, mo, d)) return std::nullopt;
  int64_t micros = 0;
  size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    if (!Digits(s, pos + 1, 2, h) || s.size() < pos + 6 || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, mi))
      return std::nullopt;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 6) micros = micros * 10 + (s[pos] - '0');
          ++digits, ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (; digits < 6; ++digits) micros *= 10;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
    int offset_min = 0;
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int oh, om;
        if (!Digits(s, pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
            !Digits(s, pos + 4, 2, om))
          return std::nullopt;
        if (om > 59 || oh * 60 + om > 18 * 60) return std::nullopt;  // offsets run to +-18:00
        offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
      }
    }
    if (pos != s.size()) return std::nullopt;
    micros -= int64_t(offset_min) * 60 * 1000000;
  }
  int64_t days = DaysFromCivil(y, mo, d);
  return ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + micros;
}

std::optional<std::string> TimestampProblem(std::string_view s) {
  const std::string shape;  // not a date-time at all
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d))
    return shape;
  if (mo < 1 || mo > 12) return "month " + std::to_string(mo) + " does not exist";
  if (d < 1 || d > static_cast<int>(DaysInMonth(y, mo)))
    return "day " + std::to_string(d) + " does not exist in " + std::string(s.substr(0, 7));
  size_t pos = 10;
  if (pos == s.size()) return std::nullopt;
  if ((s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') || !Digits(s, pos + 1, 2, h) || s.size() < pos + 6 ||
      s[pos + 3] != ':' || !Digits(s, pos + 4, 2, mi))
    return shape;
  pos += 6;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, sec)) return shape;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      size_t digits = 0;
      for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) ++digits;
      if (digits == 0) return shape;
    }
  }
  if (h > 23) return "hour " + std::to_string(h) + " does not exist (00 to 23)";
  if (mi > 59) return "minute " + std::to_string(mi) + " does not exist (00 to 59)";
  if (sec > 59) return "second " + std::to_string(sec) + " does not exist (00 to 59)";
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, om))
      return shape;
    std::string offset(s.substr(pos, 6));
    if (om > 59) return "the time zone offset " + offset + " has minutes past 59";
    if (oh * 60 + om > 18 * 60) return "the time zone offset " + offset + " is past +-18:00";
    pos += 6;
  }
  if (pos != s.size()) return shape;
  return std::nullopt;
}


}  // namespace cmdb
