// UTF-8 checks against an independent oracle: the table of well-formed byte sequences of the
// Unicode standard (Table 3-7), applied byte range by byte range.
#include <catch2/catch.hpp>

#include <random>

#include "cmdb/utf8.hpp"

using namespace cmdb;

namespace {

// Table 3-7: the first byte decides the allowed range of the second; later bytes are 80..BF.
std::optional<size_t> Oracle(std::string_view text) {
  auto in = [](unsigned char c, int lo, int hi) { return c >= lo && c <= hi; };
  size_t i = 0;
  while (i < text.size()) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
    size_t left = text.size() - i;
    unsigned char c = b(0);
    size_t len = 0;
    if (c <= 0x7F) len = 1;
    else if (in(c, 0xC2, 0xDF)) len = left >= 2 && in(b(1), 0x80, 0xBF) ? 2 : 0;
    else if (c == 0xE0) len = left >= 3 && in(b(1), 0xA0, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF))
      len = left >= 3 && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    else if (c == 0xED) len = left >= 3 && in(b(1), 0x80, 0x9F) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    else if (c == 0xF0)
      len = left >= 4 && in(b(1), 0x90, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    else if (in(c, 0xF1, 0xF3))
      len = left >= 4 && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    else if (c == 0xF4)
      len = left >= 4 && in(b(1), 0x80, 0x8F) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("FirstInvalidUtf8 agrees with the standard's table on edge cases and random text") {
  for (std::string s : {std::string(""), std::string("plain ascii text, long enough for words"),
                        std::string("\xC3\xA9t\xC3\xA9"), std::string("\xE4\xB8\x96\xE7\x95\x8C"),
                        std::string("\xF0\x9F\x98\x80"), std::string("\xC0\x80"), std::string("\xED\xA0\x80"),
                        std::string("\xF4\x90\x80\x80"), std::string("abcdefgh\xFF"), std::string("\xE4\xB8"),
                        std::string("abcdefghijklmno\xC3")}) {
    INFO(s);
    CHECK(FirstInvalidUtf8(s) == Oracle(s));
  }
  std::mt19937 rng(7);
  const unsigned char pieces[] = {'a', 'z', 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xA0, 0xED,
                                  0x9F, 0xEF, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF};
  for (int round = 0; round < 200000; ++round) {
    std::string s(rng() % 24, ' ');
    for (char& c : s) c = static_cast<char>(rng() % 3 == 0 ? 'x' : pieces[rng() % sizeof pieces]);
    INFO(round);
    REQUIRE(FirstInvalidUtf8(s) == Oracle(s));
  }
}

TEST_CASE("UTF-8 character counts and offsets") {
  std::string s = "a\xE4\xB8\x96\xF0\x9F\x98\x80z";  // a, U+4E16, U+1F600, z
  CHECK(Utf8Length(s) == 4);
  CHECK(Utf8Offset(s, 0) == 0);
  CHECK(Utf8Offset(s, 2) == 4);
  CHECK(Utf8Offset(s, 3) == 8);
  CHECK(Utf8Offset(s, 9) == s.size());
  std::string out;
  for (uint32_t cp : {0x61u, 0x4E16u, 0x1F600u, 0x7Au}) AppendUtf8(out, cp);
  CHECK(out == s);
}
