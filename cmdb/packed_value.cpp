#include "cmdb/packed_value.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace cmdb::packed {
namespace {

enum Tag : uint8_t {
  kBool = 1, kInt = 2, kFloat = 3, kString = 4, kList = 5, kWholeFloat = 6, kIpv4 = 7
};
constexpr unsigned kLongString = 31;  // string length field: a 4-byte length follows
constexpr double kWholeLimit = 9007199254740992.0;  // 2^53

uint64_t ZigZag(int64_t x) { return (static_cast<uint64_t>(x) << 1) ^ static_cast<uint64_t>(x >> 63); }
int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1); }
unsigned ByteCount(uint64_t u) { return (static_cast<unsigned>(std::bit_width(u)) + 7) / 8; }

// Whether `d` packs as a whole float, and its integral value.
bool Whole(double d, int64_t& out) {
  if (!(std::fabs(d) < kWholeLimit) || d != std::trunc(d)) return false;  // NaN fails too
  if (d == 0 && std::signbit(d)) return false;                            // -0.0 keeps its sign
  out = static_cast<int64_t>(d);
  return true;
}

// Whether `s` is an IPv4 address in canonical dotted form ("10.1.0.7": four numbers up to 255,
// no leading zeros), which reads back exactly from its four bytes; fills `octets`.
bool CanonicalIpv4(std::string_view s, uint8_t octets[4]) {
  if (s.size() < 7 || s.size() > 15) return false;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0 && (i >= s.size() || s[i++] != '.')) return false;
    size_t start = i;
    unsigned n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) n = n * 10 + unsigned(s[i++] - '0');
    size_t digits = i - start;
    if (digits == 0 || n > 255 || (digits > 1 && s[start] == '0')) return false;
    octets[part] = static_cast<uint8_t>(n);
  }
  return i == s.size();
}

char* PutUint(uint64_t u, unsigned n, char* out) {
  for (unsigned i = 0; i < n; ++i) *out++ = static_cast<char>(u >> (8 * i));
  return out;
}

uint64_t GetUint(const char*& p, unsigned n) {
  uint64_t u = 0;
  for (unsigned i = 0; i < n; ++i) u |= uint64_t{static_cast<uint8_t>(*p++)} << (8 * i);
  return u;
}

char* PutU32(size_t n, char* out) { return PutUint(n, 4, out); }  // Size checked n

size_t CheckedCount(size_t n) {
  if (n > UINT32_MAX) throw std::length_error("attribute value too long (2^32 bytes or elements)");
  return n;
}

}  // namespace

size_t Size(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kBool: return 1;
    case Value::Kind::kInt: return 1 + ByteCount(ZigZag(v.as_int()));
    case Value::Kind::kFloat: {
      int64_t whole;
      return Whole(v.as_float(), whole) ? 1 + ByteCount(ZigZag(whole)) : 9;
    }
    case Value::Kind::kString: {
      uint8_t octets[4];
      if (CanonicalIpv4(v.as_string(), octets)) return 5;
      size_t len = CheckedCount(v.as_string().size());
      return 1 + (len < kLongString ? 0 : 4) + len;
    }
    case Value::Kind::kList: {
      size_t n = 5;
      CheckedCount(v.as_list().size());
      for (const Value& e : v.as_list()) n += Size(e);
      return n;
    }
    case Value::Kind::kNull: break;
  }
  throw std::logic_error("a null value is never packed");
}

char* Pack(const Value& v, char* out) {
  switch (v.kind()) {
    case Value::Kind::kBool:
      *out++ = static_cast<char>(kBool | (v.as_bool() ? 8 : 0));
      return out;
    case Value::Kind::kInt: {
      uint64_t u = ZigZag(v.as_int());
      unsigned n = ByteCount(u);
      *out++ = static_cast<char>(kInt | n << 3);
      return PutUint(u, n, out);
    }
    case Value::Kind::kFloat: {
      int64_t whole;
      double d = v.as_float();
      if (Whole(d, whole)) {
        uint64_t u = ZigZag(whole);
        unsigned n = ByteCount(u);
        *out++ = static_cast<char>(kWholeFloat | n << 3);
        return PutUint(u, n, out);
      }
      *out++ = static_cast<char>(kFloat);
      return PutUint(std::bit_cast<uint64_t>(d), 8, out);
    }
    case Value::Kind::kString: {
      std::string_view s = v.as_string();
      uint8_t octets[4];
      if (CanonicalIpv4(s, octets)) {
        *out++ = static_cast<char>(kIpv4);
        std::memcpy(out, octets, 4);
        return out + 4;
      }
      if (s.size() < kLongString) {
        *out++ = static_cast<char>(kString | s.size() << 3);
      } else {
        *out++ = static_cast<char>(kString | kLongString << 3);
        out = PutU32(s.size(), out);
      }
      if (!s.empty()) std::memcpy(out, s.data(), s.size());
      return out + s.size();
    }
    case Value::Kind::kList: {
      const ValueList& list = v.as_list();
      *out++ = static_cast<char>(kList);
      out = PutU32(list.size(), out);
      for (const Value& e : list) out = Pack(e, out);
      return out;
    }
    case Value::Kind::kNull: break;
  }
  throw std::logic_error("a null value is never packed");
}

Value Unpack(const char*& p) {
  uint8_t tag = static_cast<uint8_t>(*p++);
  unsigned arg = tag >> 3;
  switch (tag & 7) {
    case kBool: return Value(arg != 0);
    case kInt: return Value(UnZigZag(GetUint(p, arg)));
    case kWholeFloat: return Value(static_cast<double>(UnZigZag(GetUint(p, arg))));
    case kFloat: return Value(std::bit_cast<double>(GetUint(p, 8)));
    case kString: {
      size_t len = arg < kLongString ? arg : GetUint(p, 4);
      std::string_view s(p, len);
      p += len;
      return Value(s);
    }
    case kIpv4: {
      char text[16];
      size_t n = 0;
      for (int part = 0; part < 4; ++part) {
        if (part) text[n++] = '.';
        unsigned o = static_cast<uint8_t>(*p++);
        if (o >= 100) text[n++] = static_cast<char>('0' + o / 100);
        if (o >= 10) text[n++] = static_cast<char>('0' + o / 10 % 10);
        text[n++] = static_cast<char>('0' + o % 10);
      }
      return Value(std::string_view(text, n));
    }
    case kList: {
      size_t n = GetUint(p, 4);
      ValueList list;
      list.reserve(n);
      for (size_t i = 0; i < n; ++i) list.push_back(Unpack(p));
      return Value(std::move(list));
    }
  }
  throw std::logic_error("corrupt packed value");
}

const char* Skip(const char* p) {
  uint8_t tag = static_cast<uint8_t>(*p++);
  unsigned arg = tag >> 3;
  switch (tag & 7) {
    case kBool: return p;
    case kInt:
    case kWholeFloat: return p + arg;
    case kFloat: return p + 8;
    case kIpv4: return p + 4;
    case kString: {
      if (arg < kLongString) return p + arg;
      size_t len = GetUint(p, 4);
      return p + len;
    }
    case kList: {
      size_t n = GetUint(p, 4);
      for (size_t i = 0; i < n; ++i) p = Skip(p);
      return p;
    }
  }
  throw std::logic_error("corrupt packed value");
}

}  // namespace cmdb::packed
