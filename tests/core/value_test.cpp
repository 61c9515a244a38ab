#include <catch2/catch.hpp>
#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>


#include "cmdb/attr_codec.hpp"
#include "cmdb/attr_map.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/suggest.hpp"
#include "cmdb/time_util.hpp"

using namespace cmdb;

TEST_CASE("values compare by kind then value and print as literals") {
  CHECK(Value(1) < Value(2));
  CHECK(Value(int64_t(5)) != Value(5.0));  // INT and FLOAT are different kinds
  CHECK(Value("a") < Value("b"));
  CHECK(Value() < Value(false));
  CHECK(Value(ValueList{Value("a"), Value("b")}).ToLiteral() == "['a', 'b']");
  CHECK(Value("it's").ToLiteral() == "'it\\'s'");
  CHECK(Value(2.0).ToLiteral() == "2.0");
}

TEST_CASE("AttrMap keeps entries sorted and erases on null") {
  AttrMap m;
  m.Set("b", 2);
  m.Set("a", 1);
  m.Set("c", "x");
  REQUIRE(m.size() == 3);
  CHECK(m.begin()->first == "a");
  m.Set("b", Value());
  CHECK(m.size() == 2);
  CHECK_FALSE(m.Has("b"));
  CHECK(m.Get("zz").is_null());
}

TEST_CASE("attribute encoding round-trips every kind and rejects corrupt input") {
  AttrMap m;
  m.Set("i", int64_t(-1234567890123));
  m.Set("f", 3.25);
  m.Set("b", true);
  m.Set("s", std::string("h\0llo", 5));
  m.Set("l", ValueList{Value("x"), Value(7)});
  std::string bytes = EncodeAttrs(m);
  auto back = DecodeAttrs(bytes);
  REQUIRE(back.ok());
  CHECK(*back == m);
  CHECK_FALSE(DecodeAttrs(bytes.substr(0, bytes.size() - 1)).ok());
  CHECK_FALSE(DecodeAttrs(bytes + "x").ok());
}

TEST_CASE("timestamps parse ISO-8601 with offsets and format as UTC") {
  auto t = ParseTimestamp("2026-01-31T12:00:00Z");
  REQUIRE(t);
  CHECK(FormatTimestamp(*t) == "2026-01-31T12:00:00Z");
  CHECK(FormatTimestamp(*ParseTimestamp("2026-01-31T14:00:00+02:00")) == "2026-01-31T12:00:00Z");
  CHECK(FormatTimestamp(*ParseTimestamp("2026-01-31T12:00:00.5Z")) == "2026-01-31T12:00:00.500000Z");
  CHECK(FormatTimestamp(*ParseTimestamp("2024-02-29")) == "2024-02-29T00:00:00Z");
  CHECK_FALSE(ParseTimestamp("2023-02-29"));
  CHECK_FALSE(ParseTimestamp("2026-13-01T00:00:00Z"));
  CHECK_FALSE(ParseTimestamp("yesterday"));
  CHECK(FormatTimestamp(*ParseTimestamp("2026-01-31T12:00:00-18:00")) == "2026-02-01T06:00:00Z");
  CHECK_FALSE(ParseTimestamp("2026-01-31T12:00:00+25:00"));
  CHECK_FALSE(ParseTimestamp("2026-01-31T12:00:00+18:01"));
  CHECK_FALSE(ParseTimestamp("2026-01-31T12:00:00+01:60"));
  CHECK_FALSE(ParseTimestamp("2026-01-31T12:00:60Z"));
  CHECK_FALSE(ParseTimestamp("2026-04-31T12:00:00Z"));
  CHECK(IsValidDate("2026-12-31"));
  CHECK_FALSE(IsValidDate("2026-12-32"));
}

TEST_CASE("IP addresses are validated and canonicalized") {
  CHECK(CanonicalIp("10.0.0.1") == "10.0.0.1");
  CHECK(CanonicalIp("2001:DB8:0:0:0:0:0:1") == "2001:db8::1");
  CHECK_FALSE(CanonicalIp("10.0.0.256"));
  CHECK_FALSE(CanonicalIp("host.example.com"));
}

TEST_CASE("did-you-mean finds close names only") {
  CHECK(DidYouMean("Servr", {"Server", "Switch"}) == " (did you mean 'Server'?)");
  CHECK(DidYouMean("Quux", {"Server", "Switch"}).empty());
}

TEST_CASE("values keep short strings inline and long ones on the heap, copy and move safely") {
  static_assert(sizeof(Value) == 16);
  std::string fourteen(14, 'a'), fifteen(15, 'b'), empty;
  std::string with_nul("a\0b", 3);
  for (const std::string& s : {fourteen, fifteen, empty, with_nul, std::string(100000, 'x')}) {
    Value v(s);
    CHECK(v.is_string());
    CHECK(v.as_string() == s);
    Value copy = v;
    CHECK(copy.as_string() == s);
    CHECK(copy == v);
    Value moved = std::move(copy);
    CHECK(moved.as_string() == s);
    CHECK(copy.is_null());  // NOLINT: a moved-from Value is null
    copy = moved;           // assignment over a null
    moved = Value(int64_t{3});  // assignment replaces a string (no leak under ASan)
    CHECK(copy.as_string() == s);
    CHECK(moved.as_int() == 3);
    Value& same = v;
    v = same;  // self-assignment keeps the value
    CHECK(v.as_string() == s);
  }
  Value list(ValueList{Value("p"), Value(fifteen), Value(ValueList{Value(1.5)})});
  Value list_copy = list;
  CHECK(list_copy == list);
  CHECK(list_copy.as_list()[1].as_string() == fifteen);
  CHECK(list_copy.as_list()[2].as_list()[0].as_float() == 1.5);
  CHECK(list.ToLiteral() == "['p', 'bbbbbbbbbbbbbbb', [1.5]]");
  CHECK(Value(fourteen) < Value(fifteen));
  CHECK(Value(true).as_bool());
  CHECK(Value(-7).as_int() == -7);
  CHECK_THROWS_WITH(Value("x").as_int(), "a STRING value read as INT");
  CHECK_THROWS_WITH(Value().as_string(), "a NULL value read as STRING");
}

TEST_CASE("attribute maps match a sorted map under random sets, erases, copies and moves") {
  std::mt19937 rng(7);
  AttrMap m;
  std::map<std::string, Value> model;
  auto same = [&](const AttrMap& a) {
    REQUIRE(a.size() == model.size());
    auto it = model.begin();
    for (const auto& [name, value] : a) {
      REQUIRE(name == it->first);
      REQUIRE(value == it->second);
      ++it;
    }
  };
  for (int step = 0; step < 5000; ++step) {
    std::string name = "attr_" + std::to_string(rng() % 12);
    switch (rng() % 5) {
      case 0: m.Erase(name), model.erase(name); break;
      case 1: {
        AttrMap copy = m;  // copy, then move back
        m = std::move(copy);
        break;
      }
      default: {
        Value v;
        switch (rng() % 6) {
          case 0: v = Value(int64_t(rng() % 100) - 50); break;
          case 1: v = Value(int64_t(rng()) << (rng() % 32)); break;
          case 2: v = Value(rng() % 2 ? double(rng() % 1000) : double(rng() % 1000) / 7); break;
          case 3: v = Value(rng() % 2 == 0); break;
          case 4: v = Value(ValueList{Value(int64_t(rng() % 9)), Value(std::string(rng() % 40, 'l'))}); break;
          default: v = Value(std::string(rng() % 40, 'v'));
        }
        if (rng() % 2) {
          m.Set(name, v);
        } else {  // through a builder, over the map's own entries
          AttrMap::Builder b;
          for (const auto& [n, old] : m) b.Add(n, old);
          b.Add(name, v);
          m = b.Build();
        }
        model[name] = v;
      }
    }
    if (step % 50 == 0) same(m);
  }
  same(m);
}

TEST_CASE("attribute maps built in one go equal maps built value by value") {
  AttrMap::Builder builder;
  builder.Add("b", Value(1));
  builder.Add("a", Value(2));
  builder.Add("c", Value("dropped"));
  builder.Add("b", Value(ValueList{Value(1.5), Value("x")}));  // the last of equal names wins
  builder.Add("c", Value());                                  // null erases
  AttrMap built = builder.Build();
  AttrMap by_set;
  by_set.Set("a", Value(2));
  by_set.Set("b", Value(ValueList{Value(1.5), Value("x")}));
  CHECK(built == by_set);
  CHECK(built.size() == 2);
  CHECK(built.begin()->first == "a");
  CHECK(builder.Build().empty());  // the builder starts over
  builder.Add("a", Value());
  CHECK(builder.Build() == AttrMap());
}

TEST_CASE("attribute maps with the same names share one shape that goes with the last map") {
  size_t before = AttrMap::ShapeCount();
  std::vector<AttrMap> maps;
  // Built on a thread of its own: its memo of shape transitions goes with it.
  std::thread([&] {
    for (int i = 0; i < 100; ++i) {
      AttrMap m;
      m.Set("shape_test_a", Value(int64_t{i}));
      m.Set("shape_test_b", Value("x"));
      maps.push_back(m);
    }
  }).join();
  CHECK(AttrMap::ShapeCount() == before + 1);  // {a, b}; the intermediate {a} is gone
  AttrMap copy = maps[0];
  copy.Erase("shape_test_a");
  CHECK(AttrMap::ShapeCount() == before + 2);  // {b}
  CHECK(copy.Get("shape_test_b") == Value("x"));
  copy = AttrMap();
  CHECK(AttrMap::ShapeCount() == before + 1);
  CHECK(maps[0] == maps[0]);
  CHECK_FALSE(maps[0] == maps[1]);  // same shape, other values
  maps.clear();
  CHECK(AttrMap::ShapeCount() == before);
}

TEST_CASE("attribute maps are copied and changed and dropped on several threads at once") {
  // Every thread works on copies of the same shared maps: shape references are counted and
  // shapes created and freed concurrently (run under ThreadSanitizer by scripts/test.sh --tsan).
  std::vector<AttrMap> shared(8);
  for (size_t i = 0; i < shared.size(); ++i) {
    for (size_t j = 0; j <= i; ++j) shared[i].Set("mt_" + std::to_string(j), Value(int64_t(j)));
  }
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int step = 0; step < 20000; ++step) {
        AttrMap m = shared[rng() % shared.size()];
        size_t before = m.size();
        std::string name = "mt_" + std::to_string(rng() % 10);
        bool had = m.Has(name);
        if (rng() % 2) {
          m.Set(name, Value(int64_t(step)));
          if (m.size() != before + (had ? 0 : 1)) ++mismatches;
        } else {
          m.Erase(name);
          if (m.size() != before - (had ? 1 : 0)) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
  for (size_t i = 0; i < shared.size(); ++i) CHECK(shared[i].size() == i + 1);
}
