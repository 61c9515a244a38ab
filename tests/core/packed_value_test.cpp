// Packed values (cmdb/packed_value.hpp): every kind round-trips and takes the bytes the layout
// promises.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "cmdb/attr_map.hpp"
#include "cmdb/packed_value.hpp"

using namespace cmdb;

namespace {

// Packs `v`, checks the size it claimed, unpacks and skips it; returns the bytes used.
size_t RoundTrip(const Value& v, Value& back) {
  size_t n = packed::Size(v);
  std::string buf(n + 1, '\xee');  // one guard byte
  char* end = packed::Pack(v, buf.data());
  REQUIRE(size_t(end - buf.data()) == n);
  CHECK(buf[n] == '\xee');
  const char* p = buf.data();
  back = packed::Unpack(p);
  CHECK(p == end);
  CHECK(packed::Skip(buf.data()) == end);
  return n;
}

size_t Bytes(const Value& v) {
  Value back;
  size_t n = RoundTrip(v, back);
  CHECK(back.kind() == v.kind());
  CHECK(back == v);
  CHECK(back.ToLiteral() == v.ToLiteral());
  return n;
}

}  // namespace

TEST_CASE("packed values round-trip every kind in the bytes the layout promises") {
  CHECK(Bytes(Value(true)) == 1);
  CHECK(Bytes(Value(false)) == 1);
  CHECK(Bytes(Value(0)) == 1);
  CHECK(Bytes(Value(-1)) == 2);
  CHECK(Bytes(Value(127)) == 2);  // zigzag 254: one byte
  CHECK(Bytes(Value(128)) == 3);
  CHECK(Bytes(Value(int64_t{1} << 40)) == 7);
  CHECK(Bytes(Value(std::numeric_limits<int64_t>::min())) == 9);
  CHECK(Bytes(Value(std::numeric_limits<int64_t>::max())) == 9);
  CHECK(Bytes(Value(16.0)) == 2);   // a whole float packs as its integer
  CHECK(Bytes(Value(-3.0)) == 2);
  CHECK(Bytes(Value(1.5)) == 9);
  CHECK(Bytes(Value(1e300)) == 9);  // whole but too large for an exact integer
  CHECK(Bytes(Value(std::numeric_limits<double>::infinity())) == 9);
  CHECK(Bytes(Value("")) == 1);
  CHECK(Bytes(Value("production")) == 11);
  CHECK(Bytes(Value(std::string(30, 'x'))) == 31);
  CHECK(Bytes(Value(std::string(31, 'x'))) == 36);  // from 31 characters a 4-byte length
  CHECK(Bytes(Value(std::string(100000, 'y'))) == 100005);
  CHECK(Bytes(Value("10.1.0.7")) == 5);  // an IPv4 address in canonical form: its four bytes
  CHECK(Bytes(Value("255.255.255.255")) == 5);
  CHECK(Bytes(Value("0.0.0.0")) == 5);
  for (const char* not_canonical : {"01.2.3.4", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4 ",
                                    "1..2.3", "1.2.3.1000", "a.b.c.d", "1.2.3.-4"}) {
    CHECK(Bytes(Value(not_canonical)) == 1 + std::string_view(not_canonical).size());
  }
  CHECK(Bytes(Value(ValueList{})) == 5);
  CHECK(Bytes(Value(ValueList{Value(1), Value("ab"), Value(ValueList{Value(2.5)})})) ==
        5 + 2 + 3 + (5 + 9));

  Value back;
  RoundTrip(Value(-0.0), back);  // not whole: the sign survives
  CHECK(std::signbit(back.as_float()));
  RoundTrip(Value(std::nan("")), back);
  CHECK(std::isnan(back.as_float()));
  CHECK_THROWS_AS(packed::Size(Value()), std::logic_error);
}

TEST_CASE("attribute maps hold their values packed and compare 0.0 and -0.0 as equal") {
  AttrMap vm;
  vm.Set("name", Value("vm-0000001"));
  vm.Set("cpu_count", Value(16));
  vm.Set("memory_gb", Value(16.0));
  vm.Set("status", Value("live"));
  CHECK(vm.PackedBytes() == 11 + 2 + 2 + 5);
  vm.Set("ip_address", Value("10.1.0.7"));
  CHECK(vm.Get("ip_address") == Value("10.1.0.7"));
  CHECK(vm.PackedBytes() == 11 + 2 + 2 + 5 + 5);
  vm.Erase("ip_address");
  CHECK(vm.Get("memory_gb").is_float());
  CHECK(vm.Get("memory_gb").as_float() == 16.0);
  vm.Set("cpu_count", Value(8));  // same size: rewritten in place
  CHECK(vm.Get("cpu_count") == Value(8));
  vm.Set("cpu_count", Value(100000));
  CHECK(vm.Get("cpu_count") == Value(100000));
  CHECK(vm.Get("status") == Value("live"));
  CHECK(vm.PackedBytes() == 11 + 4 + 2 + 5);
  AttrMap a, b;
  a.Set("x", Value(0.0));
  b.Set("x", Value(-0.0));
  CHECK(a == b);
  b.Set("x", Value(0.5));
  CHECK_FALSE(a == b);
}
