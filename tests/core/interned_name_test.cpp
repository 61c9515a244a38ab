// InternedName: 4-byte numbers into the process-wide name pool.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cmdb/interned_name.hpp"
#include "cmdb/records.hpp"

using namespace cmdb;

TEST_CASE("interned names are numbers that read back as their strings") {
  InternedName none;
  CHECK(none.empty());
  CHECK(none.str().empty());
  CHECK(none == InternedName(""));

  InternedName a("VirtualMachine");
  InternedName b(std::string("Virtual") + "Machine");
  CHECK(a == b);
  CHECK(&a.str() == &b.str());
  CHECK(a.str() == "VirtualMachine");
  CHECK(a != InternedName("PhysicalHost"));
  CHECK(a < InternedName("Zone"));
  CHECK(InternAttrNameId("VirtualMachine") == InternAttrNameId("VirtualMachine"));
  CHECK(&AttrNameById(InternAttrNameId("VirtualMachine")) == &a.str());

  // Records keep the handle in 4 bytes: CI and relationship records fit 48 and 64 bytes.
  CHECK(sizeof(InternedName) == 4);
  CHECK(sizeof(CiRecord) == 48);
  CHECK(sizeof(RelRecord) == 64);
}

TEST_CASE("names interned on several threads past one segment read back on every thread") {
  // More names than one segment of the number table holds, interned from two threads at once.
  constexpr int kNames = 10'000;
  std::vector<uint32_t> ids[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([t, &ids] {
      for (int i = 0; i < kNames; ++i) {
        int n = t == 0 ? i : kNames - 1 - i;
        ids[t].push_back(InternAttrNameId("interned-test-" + std::to_string(n)));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint32_t> distinct;
  for (int i = 0; i < kNames; ++i) {
    CHECK(ids[0][i] == ids[1][kNames - 1 - i]);
    distinct.insert(ids[0][i]);
    if (AttrNameById(ids[0][i]) != "interned-test-" + std::to_string(i)) FAIL("name " << i);
  }
  CHECK(distinct.size() == size_t(kNames));
}
