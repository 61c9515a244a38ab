#include "cmdb/hash_index.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "cmdb/attr_map.hpp"

using namespace cmdb;

namespace {

std::multiset<int64_t> Found(const HashIndex& index, uint64_t hash) {
  std::multiset<int64_t> out;
  index.FindIf(hash, [&](int64_t id) { return out.insert(id), false; });
  return out;
}

}  // namespace

TEST_CASE("hash index keeps several ids per hash and finds each") {
  HashIndex index;
  index.Insert(7, 1);
  index.Insert(7, 2);
  index.Insert(7, 2);  // a pair is stored once
  index.Insert(8, 3);
  CHECK(index.size() == 3);
  CHECK(Found(index, 7) == std::multiset<int64_t>{1, 2});
  CHECK(Found(index, 8) == std::multiset<int64_t>{3});
  CHECK(Found(index, 9).empty());
  CHECK(index.FindIf(7, [](int64_t id) { return id == 2; }));
  CHECK_FALSE(index.FindIf(7, [](int64_t id) { return id == 3; }));
  index.Erase(7, 1);
  index.Erase(7, 5);  // absent: no-op
  CHECK(Found(index, 7) == std::multiset<int64_t>{2});
  CHECK(index.size() == 2);
  // Hash 0 is the empty marker inside; it still works as a key.
  index.Insert(0, 9);
  CHECK(Found(index, 0) == std::multiset<int64_t>{9});
}

TEST_CASE("hash index matches a reference model under random inserts and erases") {
  // Few distinct hashes, chosen so probe runs collide, cluster and wrap around the table end
  // (a tag's first slot is tag * size / 2^32: the largest tags start in the last slot, the
  // smallest in the first): this exercises the backward-shift deletion.
  std::mt19937_64 rng(42);
  HashIndex index;
  std::set<std::pair<uint64_t, int64_t>> model;
  std::vector<uint64_t> hashes;
  for (uint64_t k = 0; k < 12; ++k) hashes.push_back(0xFFFFFFFFu - k), hashes.push_back(k + 1);
  for (int step = 0; step < 20000; ++step) {
    uint64_t hash = hashes[rng() % hashes.size()];
    int64_t id = static_cast<int64_t>(rng() % 40);
    if (rng() % 3) {
      index.Insert(hash, id);
      model.insert({hash, id});
    } else {
      index.Erase(hash, id);
      model.erase({hash, id});
    }
    if (step % 97 == 0) {
      REQUIRE(index.size() == model.size());
      for (uint64_t h : hashes) {
        std::multiset<int64_t> want;
        for (const auto& [mh, mid] : model) if (mh == h) want.insert(mid);
        REQUIRE(Found(index, h) == want);
      }
    }
  }
  index.Clear();
  CHECK(index.size() == 0);
  CHECK(Found(index, 14).empty());
}

TEST_CASE("hash index keeps ids past 32 bits beside the table and finds them with the others") {
  HashIndex index;
  int64_t big = (int64_t(1) << 40) - 1, bigger = int64_t(1) << 33;
  index.Insert(7, 1);
  index.Insert(7, big);
  index.Insert(7, big);  // stored once
  index.Insert(7, bigger);
  index.Insert(8, big);
  CHECK(index.size() == 4);
  CHECK(Found(index, 7) == std::multiset<int64_t>{1, big, bigger});
  CHECK(Found(index, 8) == std::multiset<int64_t>{big});
  // Only the low 32 bits of a hash are kept: a hash agreeing in them yields the same candidates,
  // which the caller tells apart (hash 7 + 2^32 is such a hash).
  CHECK(Found(index, 7 + (uint64_t(1) << 32)) == std::multiset<int64_t>{1, big, bigger});
  index.Erase(7, big);
  index.Erase(7, big);  // absent now: no-op
  CHECK(Found(index, 7) == std::multiset<int64_t>{1, bigger});
  CHECK(index.size() == 3);
  for (int64_t i = 0; i < 1000; ++i) index.Insert(100 + i, i);  // rehashes keep the side entries
  CHECK(Found(index, 8) == std::multiset<int64_t>{big});
  CHECK(Found(index, 500) == std::multiset<int64_t>{400});
  index.Clear();
  CHECK(index.size() == 0);
  CHECK(Found(index, 8).empty());
}

TEST_CASE("attribute names are interned: equal names share one string") {
  const std::string& a = InternAttrName("ip_address");
  const std::string& b = InternAttrName(std::string("ip_") + "address");
  CHECK(&a == &b);
  CHECK(&InternAttrName("ip_addresses") != &a);
  AttrMap m1, m2;
  m1.Set("zeta", Value(1));
  m1.Set("alpha", Value("x"));
  m2.Set("alpha", Value("x"));
  m2.Set("zeta", Value(1));
  CHECK(m1 == m2);
  std::vector<std::string> names;
  for (const auto& [name, value] : m1) names.push_back(name);
  CHECK(names == std::vector<std::string>{"alpha", "zeta"});
  CHECK(m1.begin()->first == "alpha");
  m2.Set("zeta", Value(2));
  CHECK_FALSE(m1 == m2);
  m2.Erase("zeta");
  CHECK(m2.size() == 1);
  CHECK(m2.Get("zeta").is_null());
}
