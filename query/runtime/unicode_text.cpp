#include "query/runtime/unicode_text.hpp"

#include "cmdb/utf8.hpp"

namespace cmdb::gql {
namespace {

// Decodes the character at `i` of valid UTF-8 (an invalid lead byte reads as itself, one byte).
uint32_t Decode(std::string_view s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

// A range where upper and lower case alternate: the upper case is the even (or odd) one.
bool InPairs(uint32_t cp, uint32_t first, uint32_t last) { return cp >= first && cp <= last; }

struct Pairs {
  uint32_t first, last;
  bool upper_even;
};
constexpr Pairs kPairs[] = {
    {0x0100, 0x012F, true},  {0x0132, 0x0137, true},  {0x0139, 0x0148, false}, {0x014A, 0x0177, true},
    {0x0179, 0x017E, false}, {0x0182, 0x0185, true},  {0x01A0, 0x01A5, true},  {0x01CD, 0x01DC, false},
    {0x01DE, 0x01EF, true},  {0x01F4, 0x01F5, true},  {0x01F8, 0x021F, true},  {0x0222, 0x0233, true},
    {0x0246, 0x024F, true},  {0x03D8, 0x03EF, true},  {0x0460, 0x0481, true},  {0x048A, 0x04BF, true},
    {0x04C1, 0x04CE, false}, {0x04D0, 0x052F, true},
};

}  // namespace

uint32_t SimpleUpper(uint32_t cp) {
  if (cp < 0x80) return cp >= 'a' && cp <= 'z' ? cp - 0x20 : cp;
  if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)) return cp - 0x20;
  if (cp == 0xFF) return 0x178;
  if (cp == 0xB5) return 0x39C;    // micro sign -> capital mu
  if (cp == 0x131) return 'I';     // dotless i
  if (cp == 0x17F) return 'S';     // long s
  for (const Pairs& p : kPairs)
    if (InPairs(cp, p.first, p.last)) return ((cp % 2 == 0) == p.upper_even) ? cp : cp - 1;
  // DŽ, LJ, NJ, DZ: upper, title and lower case in threes.
  for (uint32_t base : {0x1C4u, 0x1C7u, 0x1CAu, 0x1F1u})
    if (cp == base + 1 || cp == base + 2) return base;
  if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) return cp - 0x20;  // Greek
  if (cp == 0x3C2) return 0x3A3;                                    // final sigma
  if (cp >= 0x3CA && cp <= 0x3CB) return cp - 0x20;
  if (cp == 0x3AC) return 0x386;
  if (cp >= 0x3AD && cp <= 0x3AF) return cp - 0x25;
  if (cp == 0x3CC) return 0x38C;
  if (cp >= 0x3CD && cp <= 0x3CE) return cp - 0x3F;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;  // Cyrillic
  if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
  if (cp == 0x4CF) return 0x4C0;
  if (cp >= 0xFF41 && cp <= 0xFF5A) return cp - 0x20;  // full-width Latin
  return cp;
}

uint32_t SimpleLower(uint32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 0x20 : cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp == 0x178) return 0xFF;
  if (cp == 0x130) return 'i';  // I with dot above (its full lower case is two characters)
  for (const Pairs& p : kPairs)
    if (InPairs(cp, p.first, p.last)) return ((cp % 2 == 0) == p.upper_even) ? cp + 1 : cp;
  for (uint32_t base : {0x1C4u, 0x1C7u, 0x1CAu, 0x1F1u})
    if (cp == base || cp == base + 1) return base + 2;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;  // Greek
  if (cp >= 0x3AA && cp <= 0x3AB) return cp + 0x20;
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
  if (cp == 0x38C) return 0x3CC;
  if (cp >= 0x38E && cp <= 0x38F) return cp + 0x3F;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;  // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  if (cp == 0x4C0) return 0x4CF;
  if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 0x20;  // full-width Latin
  return cp;
}

bool IsUnicodeSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

namespace {
std::string MapText(std::string_view s, uint32_t (*f)(uint32_t)) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = Decode(s, i);
    uint32_t mapped = f(cp);
    if (mapped == cp) out.append(s.substr(start, i - start));
    else AppendUtf8(out, mapped);
  }
  return out;
}
}  // namespace

std::string ToUpperText(std::string_view text) { return MapText(text, SimpleUpper); }
std::string ToLowerText(std::string_view text) { return MapText(text, SimpleLower); }

std::string_view TrimText(std::string_view s, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e) {
      size_t next = b;
      if (!IsUnicodeSpace(Decode(s, next))) break;
      b = next;
    }
  }
  if (right) {
    while (e > b) {
      size_t start = e - 1;  // back to the character's first byte
      while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      size_t next = start;
      if (!IsUnicodeSpace(Decode(s, next))) break;
      e = start;
    }
  }
  return s.substr(b, e - b);
}

}  // namespace cmdb::gql
