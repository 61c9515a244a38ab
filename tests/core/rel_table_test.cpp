// RelTable (cmdb/rel_table.hpp): relationships held in 32 bytes come back exactly as put, the
// rarely set fields through the side table.
#include <catch2/catch.hpp>

#include "cmdb/adjacency.hpp"
#include "cmdb/rel_table.hpp"

using namespace cmdb;

namespace {

RelRecord Rel(RelId id, CiId from, CiId to) {
  RelRecord r;
  r.id = id;
  r.type = InternedName("RUNS_ON");
  r.version = 3;
  r.from = from;
  r.to = to;
  r.created_at = r.updated_at = 1700000000000000 + id;
  r.valid_from = 42;
  return r;
}

void CheckSame(const RelRecord& a, const RelRecord& b) {
  CHECK(a.id == b.id);
  CHECK(a.type == b.type);
  CHECK(a.version == b.version);
  CHECK(a.retired == b.retired);
  CHECK(a.from == b.from);
  CHECK(a.to == b.to);
  CHECK(a.attrs == b.attrs);
  CHECK(a.created_at == b.created_at);
  CHECK(a.updated_at == b.updated_at);
  CHECK(a.valid_from == b.valid_from);
  CHECK(a.valid_to == b.valid_to);
}

}  // namespace

TEST_CASE("relationships come back from their packed form exactly as put") {
  RelTable t;
  RelRecord plain = Rel(1, 7, kMaxAdjId);  // a 40-bit end
  RelRecord rich = Rel(5000, int64_t{1} << 33, 9);
  rich.attrs.Set("port", Value(443));
  rich.updated_at += 1000;  // changed since created: the creation time goes to the side table
  RelRecord closed = Rel(5001, 2, 3);
  closed.valid_to = 77;
  closed.retired = true;
  for (const RelRecord* r : {&plain, &rich, &closed}) t.Put(RelRecord(*r));
  for (const RelRecord* r : {&plain, &rich, &closed}) {
    std::optional<RelRecord> back = t.Find(r->id);
    REQUIRE(back);
    CheckSame(*back, *r);
    REQUIRE(t.FindPacked(r->id));
    CHECK(t.FindPacked(r->id)->from() == r->from);
    CHECK(t.FindPacked(r->id)->to() == r->to);
  }
  CHECK_FALSE(t.Find(2));
  CHECK_FALSE(t.Has(0));
  CHECK(t.bound() == 5002);

  // Replacing a record drops or takes up its side entry; clearing removes it.
  RelRecord rich_again = Rel(5000, 4, 5);
  t.Put(RelRecord(rich_again));
  CheckSame(*t.Find(5000), rich_again);
  t.Put(RelRecord(rich));
  t.Clear(5000);
  CHECK_FALSE(t.Has(5000));
  t.Put(RelRecord(rich_again));  // no stale attributes come back
  CHECK(t.Find(5000)->attrs.empty());
  CHECK_THROWS_AS(t.Put(Rel(6000, 1, kMaxAdjId + 1)), std::out_of_range);
  CHECK_FALSE(t.Has(6000));
}
