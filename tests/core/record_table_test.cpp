#include "cmdb/record_table.hpp"

#include <catch2/catch.hpp>

#include "cmdb/records.hpp"

using namespace cmdb;

namespace {

CiRecord Ci(CiId id, const std::string& name) {
  CiRecord c;
  c.id = id;
  c.class_name = "Host";
  c.attrs.Set("name", Value(name));
  return c;
}

}  // namespace

TEST_CASE("record table stores records by id across chunks") {
  RecordTable<CiRecord> table;
  CHECK(table.Find(1) == nullptr);
  CHECK(table.Find(0) == nullptr);
  CHECK(table.Find(-3) == nullptr);
  table.Put(Ci(1, "a"));
  table.Put(Ci(5000, "b"));  // a later chunk; the ones between stay unallocated
  CHECK(table.bound() == 5001);
  REQUIRE(table.Find(1));
  CHECK(table.Find(1)->attrs.Get("name") == Value("a"));
  CHECK(table.Find(5000)->attrs.Get("name") == Value("b"));
  CHECK(table.Find(2) == nullptr);
  CHECK(table.Find(3000) == nullptr);
  CHECK(table.Find(5001) == nullptr);
  table.Clear(1);
  table.Clear(3000);  // in a missing chunk: no-op
  table.Clear(99999);
  CHECK(table.Find(1) == nullptr);
  CHECK(table.bound() == 5001);
}

TEST_CASE("a shared record stays as it was when the table changes") {
  RecordTable<CiRecord> table;
  table.Put(Ci(7, "before"));
  table.Put(Ci(8, "neighbour"));
  std::shared_ptr<const CiRecord> snap = table.Share(7);
  REQUIRE(snap);
  table.Put(Ci(7, "after"));  // copies the chunk: the snapshot keeps the old one
  table.Clear(8);
  CHECK(snap->attrs.Get("name") == Value("before"));
  CHECK(table.Find(7)->attrs.Get("name") == Value("after"));
  CHECK(table.Find(8) == nullptr);
  std::shared_ptr<const CiRecord> again = table.Share(7);
  snap.reset();
  table.Put(Ci(7, "third"));
  CHECK(again->attrs.Get("name") == Value("after"));
  CHECK(table.Find(7)->attrs.Get("name") == Value("third"));
  CHECK(table.Share(8) == nullptr);
}
