#include "cmdb/staged_records.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace cmdb;

TEST_CASE("staged records keep staging order and find own ids and older ids and far ids") {
  StagedRecords<std::string> staged(100);  // ids from 100 on are the transaction's own
  CHECK(staged.empty());
  CHECK(staged.Find(100) == nullptr);
  *staged.Emplace(101).first = "new 101";
  *staged.Emplace(7).first = "old 7";
  *staged.Emplace(100).first = "new 100";
  const int64_t far = 100 + (int64_t{1} << 40);  // past the dense span: kept in the hash map
  *staged.Emplace(far).first = "far";
  auto [again, inserted] = staged.Emplace(7);
  CHECK_FALSE(inserted);
  *again = "old 7 v2";
  CHECK(staged.size() == 4);
  CHECK(*staged.Find(7) == "old 7 v2");
  CHECK(*staged.Find(101) == "new 101");
  CHECK(*staged.Find(far) == "far");
  CHECK(staged.Find(102) == nullptr);
  CHECK(staged.Find(99) == nullptr);
  CHECK_FALSE(staged.Contains(5000));
  const std::string* stable = staged.Find(101);
  for (int64_t id = 200; id < 5000; ++id) staged.Emplace(id);
  CHECK(stable == staged.Find(101));  // references survive growth
  auto taken = staged.Take();
  REQUIRE(taken.size() == 4 + 4800);
  CHECK(taken[0] == "new 101");
  CHECK(taken[1] == "old 7 v2");
  CHECK(taken[2] == "new 100");
  CHECK(taken[3] == "far");
  CHECK(staged.empty());
  CHECK(staged.Find(101) == nullptr);
}

TEST_CASE("the staged relationship index lists each CI's relationships oldest first") {
  StagedRelIndex index(10);
  index.Add(10, 1);
  index.Add(3, 1);  // an older CI
  index.Add(12, 2);
  index.Add(10, 2);
  index.Add(10, 5);
  CHECK(index.Of(10) == std::vector<int64_t>{1, 2, 5});
  CHECK(index.Of(3) == std::vector<int64_t>{1});
  CHECK(index.Of(12) == std::vector<int64_t>{2});
  CHECK(index.Of(11).empty());
  CHECK(index.Of(4).empty());
  CHECK(index.Of(int64_t{1} << 50).empty());
  index.Clear();
  CHECK(index.Of(10).empty());
}
