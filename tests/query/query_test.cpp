// The query language end to end on the demo estate: constructs, writes through the write path,
// AS OF, limits, exact error texts, and long reads that do not stall writers.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "query/engine.hpp"
#include "query/query_util.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::gql;

namespace {

struct Q : cmdb::testing::QueryHarness {
  // The single value of a one-row, one-column result.
  QValue One(const std::string& text, QMap params = {}) {
    QueryResult r = Ok(text, std::move(params));
    REQUIRE(r.rows.size() == 1);
    REQUIRE(r.rows[0].size() == 1);
    return r.rows[0][0];
  }
};

std::vector<std::string> Strings(const QueryResult& r, size_t col = 0) {
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(row[col].is_null() ? "null" : row[col].as_string());
  return out;
}

}  // namespace

TEST_CASE(
    "a page of an ordered answer (SKIP, LIMIT: a partial sort) is that slice of the whole order") {
  Q q;
  // Few distinct environments: most keys tie, and ties keep the order of the unsorted rows.
  for (const char* dir : {"", " DESC"}) {
    std::string order = std::string(" ORDER BY v.environment") + dir;
    auto whole = Strings(q.Ok("MATCH (v:VirtualMachine) RETURN v.name" + order));
    REQUIRE(whole.size() > 10);
    for (size_t skip : {0, 1, 3, 7}) {
      for (size_t limit : {0, 1, 2, 5, 1000}) {
        auto page = Strings(q.Ok("MATCH (v:VirtualMachine) RETURN v.name" + order + " SKIP " +
                                 std::to_string(skip) + " LIMIT " + std::to_string(limit)));
        size_t end = std::min(whole.size(), skip + limit);
        INFO(order << " SKIP " << skip << " LIMIT " << limit);
        CHECK(page == std::vector<std::string>(
                          whole.begin() + static_cast<std::ptrdiff_t>(std::min(skip, end)),
                          whole.begin() + static_cast<std::ptrdiff_t>(end)));
      }
    }
  }
}

TEST_CASE("reading: patterns, filters, aggregation, ordering, paging") {
  Q q;
  CHECK(q.One("MATCH (n) RETURN count(*)").as_int() == 144);
  CHECK(q.One("MATCH (h:Hardware) RETURN count(h)").as_int() == 36);  // subclasses included
  auto services = q.Ok("MATCH (s:BusinessService) RETURN s.name ORDER BY s.name DESC SKIP 1 LIMIT 2");
  CHECK(services.columns == std::vector<std::string>{"s.name"});
  CHECK(Strings(services) == std::vector<std::string>{"Online Shop", "HR Self-Service"});
  auto two_hop = q.Ok(
      "MATCH (a:Application {name: 'shop-api'})<-[:INSTANCE_OF]-(i)-[:RUNS_ON]->(vm:VirtualMachine) "
      "RETURN vm.name ORDER BY vm.name");
  CHECK(two_hop.rows.size() == 3);
  auto grouped = q.Ok("MATCH (v:VirtualMachine) RETURN v.environment AS env, count(*) AS n ORDER BY env");
  REQUIRE(grouped.rows.size() == 3);
  CHECK(grouped.rows[1][0].as_string() == "production");
  CHECK(q.One("MATCH (v:VirtualMachine) WHERE v.name STARTS WITH 'shop-' AND v.cpu_count IN [2, 4, 8] "
              "RETURN count(DISTINCT v.environment)").as_int() >= 1);
  CHECK(q.One("MATCH (x:Application) WHERE x.name =~ 'shop-.*' RETURN collect(x.name)").as_list().size() == 2);
  CHECK(q.One("MATCH (s:BusinessService {name: 'Payments'}) OPTIONAL MATCH (s)-[:USES]->(t) RETURN t").is_null());
  CHECK(q.One("WITH [1, 2, 3] AS xs RETURN [x IN xs WHERE x > 1 | x * 10]").as_list().size() == 2);
  CHECK(q.One("RETURN all(x IN [2, 4] WHERE x % 2 = 0)").as_bool());
  CHECK(q.One("RETURN CASE WHEN 1 > 2 THEN 'a' ELSE 'b' END").as_string() == "b");
  CHECK(q.One("RETURN $p + 1", {{"p", QValue(41)}}).as_int() == 42);
  CHECK(q.Ok("RETURN 1 AS x UNION RETURN 1 AS x").rows.size() == 1);
  CHECK(q.Ok("RETURN 1 AS x UNION ALL RETURN 1 AS x").rows.size() == 2);
  auto path = q.One("MATCH p = (:BusinessService {name: 'Payments'})-[:DEPENDS_ON]->(:Application {name: 'fraud-check'}) RETURN p");
  CHECK(path.as_path().rels.size() == 1);
  CHECK(path.as_path().nodes[1].record->attrs.Get("name") == Value("fraud-check"));
}

TEST_CASE("EXPLAIN and PROFILE: the query's mode reaches the result with its plan") {
  Q q;
  std::string text = "MATCH (a:Application {app_code: 'SHOP_API'}) RETURN a.name";
  QueryResult run = q.Ok(text);
  CHECK(run.mode == QueryMode::kRun);
  CHECK(run.plan.empty());
  CHECK(run.rows.size() == 1);
  QueryResult explain = q.Ok("explain " + text);
  CHECK(explain.mode == QueryMode::kExplain);
  CHECK(explain.plan == "Match\n  UniqueSeek(:Application.app_code)\nProjection\n");
  CHECK(explain.rows.empty());
  QueryResult profile = q.Ok("PROFILE " + text);
  CHECK(profile.mode == QueryMode::kProfile);
  CHECK(profile.rows.size() == 1);
  INFO(profile.plan);
  CHECK(profile.plan.rfind("Match: 1 rows, ", 0) == 0);
  CHECK(profile.plan.find("\nReturn: 1 rows, ") != std::string::npos);
}

TEST_CASE("variable length: enumeration, GQL quantifier, reachability and the depth cap") {
  Q q;
  std::string from = "MATCH (s:BusinessService {name: 'Online Shop'})";
  int64_t reach = q.One(from + "-[:DEPENDS_ON|USES*]->(x) RETURN count(DISTINCT x)").as_int();
  auto distinct = q.Ok(from + "-[:DEPENDS_ON|USES*]->(x) RETURN DISTINCT x");
  CHECK(static_cast<int64_t>(distinct.rows.size()) == reach);
  auto gql = q.Ok(from + "-[:DEPENDS_ON|USES]->{1,20}(x) RETURN DISTINCT x");
  CHECK(gql.rows.size() == distinct.rows.size());
  auto plan = q.Ok("EXPLAIN " + from + "-[:DEPENDS_ON*]->(x) RETURN DISTINCT x");
  CHECK(plan.plan ==
        "Match\n"
        "  KeySeek(:BusinessService)\n"
        "  Reachability(BFS)(pattern 0, relationship 0)\n"
        "Projection(distinct)\n");
  CHECK(plan.rows.empty());
  auto unique = q.Ok("EXPLAIN MATCH (a:Application {app_code: 'SHOP_API'}) RETURN a");
  CHECK(unique.plan ==
        "Match\n"
        "  UniqueSeek(:Application.app_code)\n"
        "Projection\n");
  CHECK(q.One("MATCH (a:Application {app_code: 'SHOP_API'}) RETURN a.name").as_string() == "shop-api");
  CHECK(q.Ok("MATCH (h:Hardware {serial_number: 'DELL00001FRA1'}) RETURN h").rows.size() == 1);  // via a subclass
  CHECK(q.Ok("MATCH (l:Location {name: 'dc-fra1'}) RETURN l").rows.size() == 1);  // KEY of an abstract class
  auto one_hop = q.Ok(from + "-[:DEPENDS_ON*1..1]->(x) RETURN x");
  CHECK(one_hop.rows.size() == 4);  // shop-web, shop-api, catalog, checkout
  // A long chain hits the default cap of 20 and says so.
  q.Ok("UNWIND range(1, 30) AS i CREATE (:VirtualMachine {name: 'chain-' + toString(i)})");
  q.Ok("UNWIND range(1, 29) AS i MATCH (a:VirtualMachine {name: 'chain-' + toString(i)}), "
       "(b:VirtualMachine {name: 'chain-' + toString(i + 1)}) CREATE (a)-[:DEPENDS_ON]->(b)");
  auto capped = q.Ok("MATCH (:VirtualMachine {name: 'chain-1'})-[:DEPENDS_ON*]->(x) RETURN DISTINCT x");
  CHECK(capped.rows.size() == 20);
  CHECK(capped.stats.depth_capped);
  CHECK_FALSE(q.Ok("MATCH (:VirtualMachine {name: 'chain-1'})-[:DEPENDS_ON*..40]->(x) RETURN DISTINCT x").stats.depth_capped);
}

TEST_CASE("writing: one transaction through the validated write path, all or nothing") {
  Q q;
  auto created = q.Ok("CREATE (v:VirtualMachine {name: 'q-vm', cpu_count: 2}) RETURN v");
  CHECK(created.stats.nodes_created == 1);
  CHECK(created.tx > 0);
  q.Ok("MATCH (v:VirtualMachine {name: 'q-vm'}), (h:PhysicalServer {name: 'fra1-esx01'}) CREATE (v)-[:HOSTED_ON]->(h)");
  auto set = q.Ok("MATCH (v:VirtualMachine {name: 'q-vm'}) SET v.cpu_count = 4, v.os = 'linux' RETURN v.cpu_count");
  CHECK(set.rows[0][0].as_int() == 4);
  CHECK(set.stats.properties_set == 2);
  auto log = q.t.store.Transactions(0, 1000);
  CHECK(log->back().actor == "tester");
  CHECK(log->back().source == "query");
  // Schema checks apply: a wrong type fails the whole query and changes nothing.
  size_t before = q.t.store.Transactions(0, 1000)->size();
  auto bad = q.Run("CREATE (:VirtualMachine {name: 'q-2'}) WITH 1 AS x MATCH (v:VirtualMachine {name: 'q-vm'}) SET v.cpu_count = 'many'");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kSchemaViolation);
  CHECK(bad.status().message() == "VirtualMachine.cpu_count: expected INT, got STRING 'many'");
  CHECK(q.One("MATCH (v:VirtualMachine {name: 'q-2'}) RETURN count(v)").as_int() == 0);
  CHECK(q.t.store.Transactions(0, 1000)->size() == before);
  // KEY conflicts, MERGE, DELETE rules.
  CHECK(q.Run("CREATE (:VirtualMachine {name: 'q-vm'})").status().code() == StatusCode::kConflict);
  CHECK(q.Ok("MERGE (v:VirtualMachine {name: 'q-vm'}) ON MATCH SET v.os = 'bsd' RETURN v.os").rows[0][0].as_string() == "bsd");
  CHECK(q.Ok("MERGE (v:VirtualMachine {name: 'q-new'}) RETURN v").stats.nodes_created == 1);
  CHECK(q.Error("MATCH (v:VirtualMachine {name: 'q-vm'}) DELETE v").rfind("ConstraintVerificationFailed: CI", 0) == 0);
  auto del = q.Ok("MATCH (v:VirtualMachine {name: 'q-vm'}) DETACH DELETE v");
  CHECK(del.stats.nodes_deleted == 1);
  CHECK(del.stats.relationships_deleted == 1);
  auto hist = q.t.store.CiHistory(created.rows[0][0].as_node().id);
  CHECK(hist->back().retired);
}

TEST_CASE("AS OF reads the state at a transaction or a time") {
  Q q;
  TxId demo_tx = q.t.store.Info()->last_tx;
  q.Ok("MATCH (s:BusinessService {name: 'Payments'}) SET s.criticality = 'low'");
  CHECK(q.One("MATCH (s:BusinessService {name: 'Payments'}) RETURN s.criticality").as_string() == "low");
  auto past = q.Ok("AS OF " + std::to_string(demo_tx) + " MATCH (s:BusinessService {name: 'Payments'}) RETURN s.criticality");
  CHECK(past.rows[0][0].as_string() == "critical");
  CHECK(past.as_of_tx == demo_tx);
  // Before the history: an error now, not an empty answer (hostile_test.cpp has the exact texts).
  CHECK(q.Error("AS OF '2000-01-01T00:00:00Z' MATCH (n) RETURN count(n)")
            .rfind("ArgumentError: line 1, column 7: AS OF '2000-01-01T00:00:00Z' is before the first transaction (", 0) == 0);
  CHECK(q.One("AS OF $t MATCH (n) RETURN count(n)", {{"t", QValue(demo_tx)}}).as_int() == 144);
  CHECK(q.Error("AS OF 'yesterday' MATCH (n) RETURN n").find("AS OF needs an ISO-8601 date-time") != std::string::npos);
}

TEST_CASE("AS OF sees relationships: traversals, aggregates and impact as the present had them") {
  Q q;
  TxId demo_tx = q.t.store.Info()->last_tx;
  const std::string as_of = "AS OF " + std::to_string(demo_tx) + " ";
  // Nothing changed since: the past answers exactly what the present does (the oracle).
  for (std::string query : {
           std::string("MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS c ORDER BY t"),
           std::string("MATCH (s:BusinessService)-[:DEPENDS_ON]->(a)-[*1..3]->(x) RETURN s.name, count(DISTINCT x) "
                       "ORDER BY s.name"),
           std::string("MATCH (d:Datacenter {name: 'dc-fra1'}) CALL impact(d, {max_depth: 10}) YIELD ci, distance "
                       "RETURN ci.name, distance ORDER BY ci.name"),
       }) {
    INFO(query);
    QueryResult now = q.Ok(query);
    REQUIRE(!now.rows.empty());
    QueryResult past = q.Ok(as_of + query);
    REQUIRE(past.rows.size() == now.rows.size());
    for (size_t i = 0; i < now.rows.size(); ++i) {
      REQUIRE(past.rows[i].size() == now.rows[i].size());
      for (size_t j = 0; j < now.rows[i].size(); ++j) CHECK(Equivalent(past.rows[i][j], now.rows[i][j]));
    }
  }
  CHECK(q.One(as_of + "MATCH ()-[r]->() RETURN count(r)").as_int() == 306);
  // A relationship created later is not in the past; the present has it.
  q.Ok("MATCH (a:BusinessService {name: 'Payments'}), (b:BusinessService {name: 'Online Shop'}) "
       "CREATE (a)-[:DEPENDS_ON]->(b)");
  const std::string link = "MATCH (:BusinessService {name: 'Payments'})-[r:DEPENDS_ON]->(:BusinessService {name: 'Online Shop'}) RETURN count(r)";
  CHECK(q.One(link).as_int() == 1);
  CHECK(q.One(as_of + link).as_int() == 0);
}

TEST_CASE("limits: timeout, row cap") {
  Q q;
  QueryRequest r;
  r.text = "MATCH (a), (b), (c) WHERE id(a) + id(b) + id(c) < 0 RETURN count(*)";  // 144^3 combinations
  r.timeout_ms = 1;
  auto slow = q.engine.Run(r);
  REQUIRE_FALSE(slow.ok());
  CHECK(slow.status().code() == StatusCode::kUnavailable);
  CHECK(slow.status().message() == "the query ran past its time limit and was stopped");
  QueryEngine capped(*q.t.db, QueryOptions{20, 30000, 10});
  QueryRequest all;
  all.text = "MATCH (n) RETURN n";
  auto res = capped.Run(all);
  REQUIRE(res.ok());
  CHECK(res->rows.size() == 10);
  CHECK(res->truncated);
}

TEST_CASE("errors name the kind, the place and what was expected") {
  Q q;
  CHECK(q.Error("MATCH (n:Sevice) RETURN n") ==
        "SemanticError: line 1, column 10: unknown class 'Sevice' (did you mean 'Service'?)\n"
        "MATCH (n:Sevice) RETURN n\n"
        "         ^");
  CHECK(q.Error("MATCH (n) RETURN m") ==
        "SemanticError: line 1, column 18: variable 'm' is not defined\n"
        "MATCH (n) RETURN m\n"
        "                 ^");
  CHECK(q.Error("MATCH (n)-[:RUN_ON]->(m) RETURN m") ==
        "SemanticError: line 1, column 13: unknown relationship type 'RUN_ON' (did you mean 'RUNS_ON'?)\n"
        "MATCH (n)-[:RUN_ON]->(m) RETURN m\n"
        "            ^");
  CHECK(q.Error("MATCH (v:VirtualMachine) RETURN v.cpu_cnt") ==
        "SemanticError: line 1, column 35: class 'VirtualMachine' has no attribute 'cpu_cnt' (did you mean 'cpu_count'?)\n"
        "MATCH (v:VirtualMachine) RETURN v.cpu_cnt\n"
        "                                  ^");
  CHECK(q.Error("MATCH (n)\nRETURN n ORDER n") ==
        "SyntaxError: line 2, column 16: expected BY, found 'n'\n"
        "RETURN n ORDER n\n"
        "               ^");
  CHECK(q.Error("MATCH (n RETURN n") ==
        "SyntaxError: line 1, column 10: expected ')', found 'RETURN'\n"
        "MATCH (n RETURN n\n"
        "         ^");
  CHECK(q.Error("RETURN count(count(*))") ==
        "SemanticError: line 1, column 14: aggregates cannot be nested\n"
        "RETURN count(count(*))\n"
        "             ^");
  CHECK(q.Error("MATCH (n) WHERE count(n) > 1 RETURN n") ==
        "SemanticError: line 1, column 17: count() is only allowed in WITH and RETURN\n"
        "MATCH (n) WHERE count(n) > 1 RETURN n\n"
        "                ^");
  CHECK(q.Error("RETURN toUpper(1)") ==
        "TypeError: line 1, column 8: toUpper() expects a string, got INTEGER\n"
        "RETURN toUpper(1)\n"
        "       ^");
  CHECK(q.Error("RETURN fooBar(1)") ==
        "SemanticError: line 1, column 8: unknown function 'fooBar'\n"
        "RETURN fooBar(1)\n"
        "       ^");
  CHECK(q.Error("MATCH (n) WITH n.name RETURN 1") ==
        "SemanticError: line 1, column 16: an expression in WITH needs an alias: n.name AS name\n"
        "MATCH (n) WITH n.name RETURN 1\n"
        "               ^");
}

TEST_CASE("a long read does not stall a writer") {
  Q q;
  std::atomic<bool> read_done{false}, write_done_first{false}, read_ok{false};
  std::thread reader([&] {  // no Catch2 assertions off the main thread: they are not thread-safe
    QueryRequest r;
    // ~3 million combinations checked, none kept: long, but light on memory.
    r.text = "MATCH (a), (b), (c) WHERE id(a) + id(b) + id(c) < 0 RETURN count(*)";
    read_ok = q.engine.Run(r).ok();
    read_done = true;
  });
  // Wait until the read holds its view, then write: the write must finish before the read.
  while (q.t.db->readers() == 0 && !read_done.load()) std::this_thread::yield();
  REQUIRE_FALSE(read_done.load());
  auto tx = q.t.db->Write(TxMeta{}, [](Txn& t) {
    return t.CreateCi("VirtualMachine", cmdb::testing::Attrs({{"name", "written-during-read"}})).status();
  });
  CHECK(tx.ok());
  write_done_first = !read_done.load();
  reader.join();
  CHECK(read_ok);
  CHECK(write_done_first);
}

TEST_CASE("CALL impact combines with MATCH, WHERE and RETURN") {
  Q q;
  auto services = q.Ok(
      "MATCH (d:Datacenter {name: 'dc-fra1'}) CALL impact(d, {max_depth: 10}) YIELD ci, distance, state "
      "WHERE ci:BusinessService RETURN ci.name ORDER BY ci.name");
  CHECK(Strings(services) == std::vector<std::string>{"Customer Portal", "HR Self-Service", "Online Shop", "Payments"});
  auto states = q.Ok("MATCH (h:PhysicalServer {name: 'fra1-esx02'}) CALL impact(h) YIELD state RETURN state, count(*) ORDER BY state");
  REQUIRE(states.rows.size() == 2);
  CHECK(states.rows[0][0].as_string() == "degraded");
  auto path = q.One("MATCH (d:Datacenter {name: 'dc-fra1'}) CALL impact(d) YIELD ci, path WHERE ci.name = 'Online Shop' RETURN path");
  CHECK(path.as_path().nodes.front().record->attrs.Get("name") == Value("dc-fra1"));
  CHECK(q.Error("CALL impact('x') YIELD ci RETURN ci").rfind("TypeError: line 1, column 13: impact() seeds are CIs or CI ids, not STRING", 0) == 0);
  CHECK(q.Error("CALL impact(1, {depth: 2}) YIELD ci RETURN ci") ==
        "ArgumentError: line 1, column 16: unknown impact option 'depth'; options: direction, "
        "max_depth, types, classes, redundancy\n"
        "CALL impact(1, {depth: 2}) YIELD ci RETURN ci\n"
        "               ^");
}

TEST_CASE("timestamp() and the AS OF bound read the database's clock") {
  ManualClock clock(1'800'000'000'000'000);  // 2027-01-15T08:00:00Z
  cmdb::testing::TestDb t(true, false, &clock);
  QueryEngine engine{*t.db, QueryOptions{}};
  auto run = [&](const std::string& text) {
    QueryRequest r;
    r.text = text;
    return engine.Run(r);
  };
  auto now = run("RETURN timestamp() AS a, timestamp() AS b");
  REQUIRE(now.ok());
  CHECK(now->rows[0][0].as_int() == 1'800'000'000'000);
  CHECK(now->rows[0][1].as_int() == 1'800'000'000'000);
  auto future = run("AS OF '2027-01-15T08:00:01Z' MATCH (n) RETURN count(n)");
  REQUIRE_FALSE(future.ok());
  CHECK(future.status().message() ==
        "line 1, column 7: AS OF '2027-01-15T08:00:01Z' is in the future\n"
        "AS OF '2027-01-15T08:00:01Z' MATCH (n) RETURN count(n)\n"
        "      ^");
  clock.Advance(1'000'000);
  auto past = run("AS OF '2027-01-15T08:00:01Z' MATCH (n) RETURN count(n)");
  REQUIRE(past.ok());
  CHECK(past->rows[0][0].as_int() == 144);
}
