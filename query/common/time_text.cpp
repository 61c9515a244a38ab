#include "query/common/time_text.hpp"

namespace cmdb::gql {
namespace {

bool Digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int DaysIn(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

std::optional<std::string> TimeTextProblem(std::string_view s) {
  const std::string shape;  // not a date-time at all
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d))
    return shape;
  if (mo < 1 || mo > 12) return "month " + std::to_string(mo) + " does not exist";
  if (d < 1 || d > DaysIn(y, mo))
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

}  // namespace cmdb::gql
