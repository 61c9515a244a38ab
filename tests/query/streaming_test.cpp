// Streamed answers (QueryRequest::stream, exports): the rows a stream receives are those of the
// same query answered whole (the oracle), in the same order, for queries that stream and for
// those with a blocking step; a LIMIT ends the search early; the output goes out at safe points
// and a receiver that is gone stops the query.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core_util.hpp"
#include "query/engine.hpp"
#include "query_util.hpp"

namespace cmdb::gql {
namespace {

// Collects what Run hands it; wants a flush every `flush_every` rows (0: never).
class Collector : public RowStream {
 public:
  explicit Collector(size_t flush_every = 0, bool gone_after_first_flush = false)
      : flush_every_(flush_every), gone_(gone_after_first_flush) {}
  void Columns(const std::vector<std::string>& columns) override {
    columns_ = columns;
    ++columns_calls_;
  }
  void Row(std::vector<QValue>& row) override {
    rows_.push_back(row);
    ++pending_;
  }
  bool WantsFlush() const override { return flush_every_ && pending_ >= flush_every_; }
  bool Flush() override {
    ++flushes_;
    pending_ = 0;
    if (on_flush_) on_flush_();
    return !(gone_ && flushes_ >= 1);
  }
  std::function<void()> on_flush_;  // runs in each Flush (with no read view held)
  std::vector<std::string> columns_;
  std::vector<std::vector<QValue>> rows_;
  int columns_calls_ = 0, flushes_ = 0;

 private:
  size_t flush_every_, pending_ = 0;
  bool gone_;
};

// A value as text: enough to tell the answers apart (a node or relationship by id, and whether
// it carries its record).
std::string Show(const QValue& v) {
  using K = QValue::Kind;
  switch (v.kind()) {
    case K::kNull:
      return "null";
    case K::kBool:
      return v.as_bool() ? "true" : "false";
    case K::kInt:
      return std::to_string(v.as_int());
    case K::kFloat:
      return FormatFloat(v.as_float());
    case K::kString:
      return "'" + v.as_string() + "'";
    case K::kList: {
      std::string out = "[";
      for (const auto& e : v.as_list()) out += Show(e) + ",";
      return out + "]";
    }
    case K::kMap: {
      std::string out = "{";
      for (const auto& [k, e] : v.as_map()) out += k + ":" + Show(e) + ",";
      return out + "}";
    }
    case K::kNode:
      return "node " + std::to_string(v.as_node().id) + (v.as_node().record ? "+" : "-");
    case K::kRel:
      return "rel " + std::to_string(v.as_rel().id) + (v.as_rel().record ? "+" : "-");
    default:
      return "other";
  }
}

std::string Text(const std::vector<std::vector<QValue>>& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (const auto& v : row) out += Show(v) + "|";
    out += '\n';
  }
  return out;
}

}  // namespace

TEST_CASE("a streamed answer has the rows of the whole answer, in order, for every kind of query") {
  cmdb::testing::QueryHarness h;
  const char* queries[] = {
      "MATCH (n:PhysicalServer) RETURN n.name AS name, n",
      "MATCH (n:PhysicalServer) RETURN n.name AS name SKIP 2 LIMIT 3",
      "MATCH (n:PhysicalServer) WITH n LIMIT 4 MATCH (n)-[r]-(m) RETURN n.name, type(r), m.name",
      "MATCH (n:PhysicalServer) WITH n, n.name AS name WHERE name ENDS WITH '1' RETURN name",
      "MATCH (n:PhysicalServer) WITH n SKIP 1 LIMIT 3 WHERE n.cpu_count > 0 RETURN n.name",
      "MATCH (n:Rack) OPTIONAL MATCH (n)<-[:LOCATED_IN]-(s:PhysicalServer) RETURN n.name, s.name",
      "UNWIND range(1, 5) AS x UNWIND [x, x * 10] AS y RETURN x, y",
      "UNWIND [1, null, [2, 3]] AS x RETURN x",
      "MATCH (n:Rack) RETURN n.name AS a UNION ALL MATCH (n:Datacenter) RETURN n.name AS a",
      "MATCH (n:Rack) RETURN n.name AS a UNION MATCH (n:Rack) RETURN n.name AS a",  // blocking
      "MATCH (n:PhysicalServer) RETURN n.name ORDER BY n.name DESC LIMIT 5",        // blocking
      "MATCH (n) RETURN labels(n)[0] AS class, count(*) AS n",                      // blocking
      "MATCH (n:PhysicalServer) RETURN DISTINCT n.environment",                     // blocking
      "MATCH (n) WITH labels(n)[0] AS c, count(*) AS k MATCH (m) WHERE labels(m)[0] = c RETURN c, "
      "k, m.name",
      "MATCH (n:Rack) WHERE EXISTS { (n)<-[:LOCATED_IN]-() } RETURN n.name",
      "MATCH (n:Rack) RETURN n.name LIMIT 0",
      "EXPLAIN MATCH (n:Rack) RETURN n",
      "MATCH (n:Rack) SET n.row = 'Z' RETURN n.name, n.row",  // a write: built whole
  };
  for (const char* text : queries) {
    INFO(text);
    auto whole = h.Run(text);
    REQUIRE(whole.ok());
    Collector c(7);
    QueryRequest r;
    r.text = text;
    r.stream = &c;
    auto streamed = h.engine.Run(r);
    REQUIRE(streamed.ok());
    CHECK(streamed->rows.empty());
    CHECK(c.columns_calls_ == 1);
    CHECK(c.columns_ == whole->columns);
    CHECK(Text(c.rows_) == Text(whole->rows));
  }
}

TEST_CASE("a streamed answer is never truncated, and flushes at safe points while it runs") {
  cmdb::testing::QueryHarness h;
  // Five rows for each pair of CIs: past the 100,000 rows of an answer taken whole.
  auto whole = h.Ok("MATCH (a), (b) UNWIND range(1, 5) AS k RETURN count(*)");
  int64_t expected = whole.rows[0][0].as_int();
  REQUIRE(expected > 100000);
  Collector c(1000);
  QueryRequest r;
  r.text = "MATCH (a), (b) UNWIND range(1, 5) AS k RETURN id(a), id(b), k";
  r.stream = &c;
  auto streamed = h.engine.Run(r);
  REQUIRE(streamed.ok());
  CHECK(!streamed->truncated);
  CHECK(static_cast<int64_t>(c.rows_.size()) == expected);
  CHECK(c.flushes_ > 10);  // during the run, not only at its end
  CHECK(h.Ok("MATCH (a), (b) UNWIND range(1, 5) AS k RETURN id(a), id(b), k").truncated);
}

TEST_CASE("a streamed answer whose receiver is gone stops the query") {
  cmdb::testing::QueryHarness h;
  Collector c(100, true);
  QueryRequest r;
  r.text = "MATCH (a), (b), (c) RETURN id(a), id(b), id(c)";
  r.stream = &c;
  auto streamed = h.engine.Run(r);
  REQUIRE_FALSE(streamed.ok());
  CHECK(streamed.status().code() == StatusCode::kUnavailable);
  CHECK(streamed.status().message() == "the client went away");
  CHECK(c.flushes_ == 1);
  CHECK(c.rows_.size() < 10000);
}

TEST_CASE("a streamed read keeps one snapshot while a writer commits during its flushes") {
  cmdb::testing::QueryHarness h;
  int64_t cis = h.Ok("MATCH (n) RETURN count(n)").rows[0][0].as_int();
  Collector c(500);  // some 40 flushes: the write lands after the first
  std::atomic<bool> wrote{false};
  std::thread writer;
  c.on_flush_ = [&] {  // the first flush: a write commits while the stream sends (no view held)
    if (c.flushes_ != 1) return;
    writer = std::thread([&] {
      auto tx = h.t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
        CMDB_RETURN_IF_ERROR(
            txn.CreateCi("Software",
                         cmdb::testing::Attrs({{"name", Value("written-during-export")}}))
                .status());
        CiId last = 0;
        for (CiId id = 1; id < txn.graph().ci_id_bound(); ++id) {
          if (txn.GetCi(id)) last = id;
        }
        return txn.RetireCi(last, std::nullopt);
      });
      wrote = tx.ok();
    });
    writer.join();  // the write does not wait for the export
  };
  QueryRequest r;
  r.text = "MATCH (a), (b) RETURN id(a), id(b), b.name";
  r.stream = &c;
  auto streamed = h.engine.Run(r);
  REQUIRE(streamed.ok());
  CHECK(wrote.load());
  CHECK(c.flushes_ > 5);
  CHECK(static_cast<int64_t>(c.rows_.size()) == cis * cis);  // the CIs before the write
  bool saw_new = false;
  for (const auto& row : c.rows_)
    saw_new = saw_new || row[2].kind() == QValue::Kind::kString &&
                             row[2].as_string() == "written-during-export";
  CHECK_FALSE(saw_new);
  CHECK(h.Ok("MATCH (n) RETURN count(n)").rows[0][0].as_int() == cis);  // one more, one fewer
  CHECK(h.Ok("MATCH (n {name: 'written-during-export'}) RETURN count(n)").rows[0][0].as_int() == 1);
}

}  // namespace cmdb::gql
