// Subqueries and the constructs built on them (EXISTS/COUNT/COLLECT { }, pattern predicates,
// pattern comprehensions, CALL { }, FOREACH), reduce(), map projections, the ...OrNull and list
// conversion functions, cycles through a variable-length pattern, grouping keys beside
// aggregates, and the promise that no syntax error names a C++ type.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "query/engine.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::gql;

namespace {

struct Q {
  explicit Q(bool demo = true, bool open = false, QueryOptions options = {})
      : t(demo, open), engine(*t.db, options) {}
  cmdb::testing::TestDb t;
  QueryEngine engine;
  int64_t timeout_ms = 0;  // 0: the engine's limit

  Result<QueryResult> Run(const std::string& text) {
    QueryRequest r;
    r.text = text;
    r.timeout_ms = timeout_ms;
    r.meta.actor = "tester";
    return engine.Run(r);
  }
  QueryResult Ok(const std::string& text) {
    auto r = Run(text);
    INFO(text << " -> " << r.status().message());
    REQUIRE(r.ok());
    return *r;
  }
  std::string Error(const std::string& text) {
    auto r = Run(text);
    REQUIRE_FALSE(r.ok());
    return r.status().type() + ": " + r.status().message();
  }
  QValue One(const std::string& text) {
    QueryResult r = Ok(text);
    REQUIRE(r.rows.size() == 1);
    REQUIRE(r.rows[0].size() == 1);
    return r.rows[0][0];
  }
  // The first column, as strings, sorted.
  std::vector<std::string> Names(const std::string& text) {
    std::vector<std::string> out;
    for (const auto& row : Ok(text).rows) out.push_back(row[0].is_null() ? "null" : row[0].as_string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace

TEST_CASE("pattern predicates find the orphans that OPTIONAL MATCH finds") {
  Q q;
  q.Ok("CREATE (:PhysicalServer {name: 'orphan-1'}), (:PhysicalServer {name: 'orphan-2'})");
  // The oracle: an OPTIONAL MATCH counted per server, a different code path.
  auto oracle = q.Names(
      "MATCH (h:PhysicalServer) OPTIONAL MATCH (h)-[r:LOCATED_IN]->() WITH h, count(r) AS racks "
      "WHERE racks = 0 RETURN h.name");
  CHECK(oracle == std::vector<std::string>{"orphan-1", "orphan-2"});
  CHECK(q.Names("MATCH (h:PhysicalServer) WHERE NOT (h)-[:LOCATED_IN]->() RETURN h.name") == oracle);
  CHECK(q.Names("MATCH (h:PhysicalServer) WHERE NOT exists((h)-[:LOCATED_IN]->()) RETURN h.name") == oracle);
  CHECK(q.Names("MATCH (h:PhysicalServer) WHERE NOT EXISTS { (h)-[:LOCATED_IN]->() } RETURN h.name") == oracle);
  CHECK(q.Names("MATCH (h:PhysicalServer) WHERE NOT EXISTS { MATCH (h)-[:LOCATED_IN]->(r:Rack) RETURN r } "
                "RETURN h.name") == oracle);
  CHECK(q.Names("MATCH (h:PhysicalServer) WHERE COUNT { (h)-[:LOCATED_IN]->() } = 0 RETURN h.name") == oracle);
  // The predicate runs as a subquery that starts at the row's server and follows its adjacency.
  auto plan = q.Ok("EXPLAIN MATCH (h:PhysicalServer) WHERE NOT (h)-[:LOCATED_IN]->() RETURN h.name").plan;
  CHECK(plan.find("Subquery 0:\nMatch\n  Argument\n  Expand(pattern 0, relationship 0)\n") != std::string::npos);
  CHECK(plan.find("NodeScan(:PhysicalServer) + Filter(1)") != std::string::npos);
  // The complement: every other server is in a rack.
  int64_t all = q.One("MATCH (h:PhysicalServer) RETURN count(h)").as_int();
  CHECK(q.One("MATCH (h:PhysicalServer) WHERE (h)-[:LOCATED_IN]->() RETURN count(h)").as_int() ==
        all - static_cast<int64_t>(oracle.size()));
}

TEST_CASE("COUNT and COLLECT subqueries and pattern comprehensions agree with aggregation") {
  Q q;
  // Per application: its instances, three ways.
  auto counted = q.Ok(
      "MATCH (a:Application) RETURN a.name, COUNT { (a)<-[:INSTANCE_OF]-() } AS n ORDER BY a.name");
  auto grouped = q.Ok(
      "MATCH (a:Application) OPTIONAL MATCH (a)<-[r:INSTANCE_OF]-() RETURN a.name, count(r) AS n ORDER BY a.name");
  REQUIRE(counted.rows.size() == grouped.rows.size());
  for (size_t i = 0; i < counted.rows.size(); ++i) {
    CHECK(counted.rows[i][0].as_string() == grouped.rows[i][0].as_string());
    CHECK(counted.rows[i][1].as_int() == grouped.rows[i][1].as_int());
  }
  auto names = q.One(
      "MATCH (a:Application {name: 'shop-api'}) "
      "RETURN COLLECT { MATCH (a)<-[:INSTANCE_OF]-(i) RETURN i.name ORDER BY i.name }");
  auto comprehension = q.One(
      "MATCH (a:Application {name: 'shop-api'}) RETURN [(a)<-[:INSTANCE_OF]-(i) WHERE i.name IS NOT NULL | i.name]");
  auto collected = q.One(
      "MATCH (a:Application {name: 'shop-api'})<-[:INSTANCE_OF]-(i) WITH i.name AS n ORDER BY n RETURN collect(n)");
  REQUIRE(collected.as_list().size() >= 2);
  CHECK(Equivalent(names, collected));
  std::vector<std::string> sorted;
  for (const auto& v : comprehension.as_list()) sorted.push_back(v.as_string());
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(sorted.size() == collected.as_list().size());
  for (size_t i = 0; i < sorted.size(); ++i) CHECK(sorted[i] == collected.as_list()[i].as_string());
  // A subquery's own variables do not leak out; it sees the outer ones.
  CHECK(q.One("WITH 2 AS k RETURN COUNT { UNWIND range(1, 5) AS x WITH x WHERE x > k RETURN x }").as_int() == 3);
  CHECK(q.Error("RETURN COUNT { UNWIND [1] AS x RETURN x } AS c, x").rfind("SemanticError: line 1, column 49: "
                                                                            "variable 'x' is not defined", 0) == 0);
}

TEST_CASE("CALL subqueries: scope, per-row results, OPTIONAL CALL, unit subqueries") {
  Q q;
  auto per_app = q.Ok(
      "MATCH (a:Application) CALL (a) { MATCH (a)<-[:INSTANCE_OF]-(i) RETURN count(i) AS n } "
      "RETURN a.name, n ORDER BY a.name");
  auto oracle = q.Ok(
      "MATCH (a:Application) OPTIONAL MATCH (a)<-[:INSTANCE_OF]-(i) RETURN a.name, count(i) AS n ORDER BY a.name");
  REQUIRE(per_app.rows.size() == oracle.rows.size());
  for (size_t i = 0; i < oracle.rows.size(); ++i) CHECK(per_app.rows[i][1].as_int() == oracle.rows[i][1].as_int());
  // The importing WITH form.
  CHECK(q.One("UNWIND [1, 2, 3] AS x CALL { WITH x RETURN x * 10 AS y } RETURN sum(y)").as_int() == 60);
  // Rows multiply; without OPTIONAL a row whose subquery is empty goes.
  CHECK(q.Ok("UNWIND [1, 2] AS x CALL (x) { UNWIND range(1, x) AS k RETURN k } RETURN x, k").rows.size() == 3);
  CHECK(q.Ok("UNWIND [0, 2] AS x CALL (x) { UNWIND range(1, x) AS k RETURN k } RETURN x, k").rows.size() == 2);
  auto optional = q.Ok("UNWIND [0, 2] AS x OPTIONAL CALL (x) { UNWIND range(1, x) AS k RETURN k } RETURN x, k");
  CHECK(optional.rows.size() == 3);
  CHECK(optional.rows[0][1].is_null());
  // CALL () sees nothing from outside.
  CHECK(q.Error("WITH 1 AS x CALL () { RETURN x AS y } RETURN y") ==
        "SemanticError: line 1, column 30: variable 'x' is not defined\n"
        "WITH 1 AS x CALL () { RETURN x AS y } RETURN y\n"
        "                             ^");
  // A unit subquery writes and passes the row on.
  CHECK(q.One("UNWIND ['u-1', 'u-2'] AS n CALL (n) { CREATE (:Application {name: n}) } RETURN count(*)").as_int() == 2);
  CHECK(q.One("MATCH (a:Application) WHERE a.name STARTS WITH 'u-' RETURN count(a)").as_int() == 2);
  // ... and may end the query.
  CHECK(q.Ok("MATCH (a:Application) WHERE a.name STARTS WITH 'u-' CALL (a) { SET a.vendor = 'unit' }").rows.empty());
  CHECK(q.One("MATCH (a:Application {vendor: 'unit'}) RETURN count(a)").as_int() == 2);
}

TEST_CASE("FOREACH, reduce() and map projections") {
  Q q;
  q.Ok("FOREACH (n IN ['fe-1', 'fe-2', 'fe-3'] | CREATE (:Application {name: n}))");
  CHECK(q.One("MATCH (a:Application) WHERE a.name STARTS WITH 'fe-' RETURN count(a)").as_int() == 3);
  q.Ok("MATCH (a:Application) WHERE a.name STARTS WITH 'fe-' WITH collect(a) AS apps "
       "FOREACH (x IN apps | SET x.vendor = 'acme')");
  CHECK(q.One("MATCH (a:Application {vendor: 'acme'}) RETURN count(a)").as_int() == 3);
  CHECK(q.One("RETURN reduce(total = 0, x IN range(1, 10) | total + x)").as_int() == 55);
  CHECK(q.One("RETURN reduce(s = '', x IN ['a', 'b', 'c'] | s + x)").as_string() == "abc");
  CHECK(q.One("RETURN reduce(s = 0, x IN null | s + x)").is_null());
  // An attribute the class lacks is refused, as `a.missing` is (issue 22).
  CHECK(q.Error("MATCH (a:Application {name: 'fe-1'}) RETURN a {.name, .missing}") ==
        "SemanticError: line 1, column 56: class 'Application' has no attribute 'missing'\n"
        "MATCH (a:Application {name: 'fe-1'}) RETURN a {.name, .missing}\n"
        "                                                       ^");
  auto m = q.One(
      "MATCH (a:Application {name: 'fe-1'}) RETURN a {.name, .vendor, kind: 'app', missing: null}");
  REQUIRE(m.kind() == QValue::Kind::kMap);
  CHECK(m.as_map().at("name").as_string() == "fe-1");
  CHECK(m.as_map().at("vendor").as_string() == "acme");
  CHECK(m.as_map().at("kind").as_string() == "app");
  CHECK(m.as_map().at("missing").is_null());
  auto all = q.One("MATCH (a:Application {name: 'fe-1'}) RETURN a {.*, degree: COUNT { (a)--() }}");
  CHECK(all.as_map().at("vendor").as_string() == "acme");
  CHECK(all.as_map().at("degree").as_int() == 0);
  CHECK(q.One("WITH {a: 1, b: 2} AS m, 3 AS c RETURN m {.a, c}").as_map().size() == 2);
  CHECK(q.One("WITH null AS m RETURN m {.a}").is_null());
}

TEST_CASE("conversions that answer null and the list conversions") {
  Q q(false, true);
  CHECK(q.One("RETURN toIntegerOrNull('42')").as_int() == 42);
  CHECK(q.One("RETURN toIntegerOrNull('x')").is_null());
  CHECK(q.One("RETURN toIntegerOrNull([1])").is_null());  // toInteger([1]) is an error
  CHECK(q.Error("RETURN toInteger([1])").rfind("TypeError", 0) == 0);
  CHECK(q.One("RETURN toIntegerOrNull('99999999999999999999')").is_null());
  CHECK(q.One("RETURN toFloatOrNull('1.5')").as_float() == 1.5);
  CHECK(q.One("RETURN toFloatOrNull(true)").is_null());
  CHECK(q.One("RETURN toBooleanOrNull('TRUE')").as_bool());
  CHECK(q.One("RETURN toBooleanOrNull(1.5)").is_null());
  CHECK(q.One("RETURN toStringOrNull(12)").as_string() == "12");
  CHECK(q.One("RETURN toStringOrNull({a: 1})").is_null());
  auto ints = q.One("RETURN toIntegerList(['1', 2.9, 'x', null, [1]])").as_list();
  REQUIRE(ints.size() == 5);
  CHECK(ints[0].as_int() == 1);
  CHECK(ints[1].as_int() == 2);
  CHECK(ints[2].is_null());
  CHECK(ints[3].is_null());
  CHECK(ints[4].is_null());
  CHECK(q.One("RETURN toStringList([1, true, 'a'])").as_list()[1].as_string() == "true");
  CHECK(q.One("RETURN toFloatList(null)").is_null());
  CHECK(q.Error("RETURN toFloatList('1')").rfind("TypeError: line 1, column 8: toFloatList() expects a list", 0) == 0);
  CHECK(q.One("RETURN isEmpty([])").as_bool());
  CHECK_FALSE(q.One("RETURN isEmpty('a')").as_bool());
  CHECK(q.One("RETURN char_length('héllo')").as_int() == 5);
  CHECK(q.One("RETURN upper('a') + lower('B') + btrim('  c ')").as_string() == "Abc");
}

// Brute force: the lengths of every trail (no relationship twice) from `start` back to it.
std::vector<int64_t> ClosedTrails(const std::vector<std::pair<int, int>>& edges, int start) {
  std::vector<int64_t> out;
  std::vector<bool> used(edges.size(), false);
  std::function<void(int, int64_t)> walk = [&](int at, int64_t depth) {
    if (depth > 0 && at == start) out.push_back(depth);
    for (size_t e = 0; e < edges.size(); ++e) {
      if (used[e] || edges[e].first != at) continue;
      used[e] = true;
      walk(edges[e].second, depth + 1);
      used[e] = false;
    }
  };
  walk(start, 0);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("a variable-length pattern back to its start finds the cycles") {
  Q q(false, true);
  q.Ok("CREATE (a:P {id: 1}), (b:P {id: 2}), (c:P {id: 3}), (d:P {id: 4}) "
       "CREATE (a)-[:KNOWS]->(b), (b)-[:KNOWS]->(c), (c)-[:KNOWS]->(a), (c)-[:KNOWS]->(d), (d)-[:KNOWS]->(c)");
  const std::vector<std::pair<int, int>> edges = {{1, 2}, {2, 3}, {3, 1}, {3, 4}, {4, 3}};
  for (int start = 1; start <= 4; ++start) {
    std::vector<int64_t> want = ClosedTrails(edges, start);
    std::vector<int64_t> got;
    for (const auto& row :
         q.Ok("MATCH p = (x {id: " + std::to_string(start) + "})-[:KNOWS*]->(x) RETURN length(p) AS n ORDER BY n").rows)
      got.push_back(row[0].as_int());
    INFO("start " << start);
    CHECK(got == want);
    CHECK_FALSE(want.empty());
  }
  CHECK(ClosedTrails(edges, 3) == std::vector<int64_t>{2, 3, 5, 5});  // c-d-c, c-a-b-c, and both in turn
  CHECK(q.One("MATCH (x)-[:KNOWS]->(y)-[:KNOWS]->(x) RETURN count(*)").as_int() == 2);  // c<->d both ways
  // A dependency cycle as a CMDB asks for it: every node on a cycle.
  CHECK(q.One("MATCH (x:P) WHERE EXISTS { (x)-[:KNOWS*]->(x) } RETURN count(x)").as_int() == 4);
  // Self-loops.
  q.Ok("CREATE (l:L {id: 9})-[:LOOP]->(l)");
  CHECK(q.One("MATCH (n)-[r:LOOP]-(n) RETURN count(r)").as_int() == 1);
  CHECK(q.One("MATCH (n)-[r:LOOP]->(n) RETURN count(r)").as_int() == 1);
}

TEST_CASE("aggregates beside grouping keys: grouped correctly or refused") {
  Q q(false, true);
  q.Ok("CREATE (:N {p: 1}), (:N {p: 1}), (:N {p: 5})");
  // n is a grouping key: count(*) per node, compared with that node's property.
  auto rows = q.Ok("MATCH (n:N) RETURN n.p AS p, count(*) < n.p AS below ORDER BY p");
  REQUIRE(rows.rows.size() == 2);
  CHECK_FALSE(rows.rows[0][1].as_bool());  // p = 1: two nodes, 2 < 1 is false
  CHECK(rows.rows[1][1].as_bool());        // p = 5: one node
  CHECK(q.Error("MATCH (n:N) RETURN count(n) < n.p") ==
        "SemanticError: line 1, column 31: 'count(n) < n.p' mixes an aggregate with 'n', which is not a grouping "
        "key: return it on its own too\n"
        "MATCH (n:N) RETURN count(n) < n.p\n"
        "                              ^");
}

TEST_CASE("MERGE refuses a null property value") {
  Q q(false, true);
  CHECK(q.Error("MERGE (n:N {id: null}) RETURN n") ==
        "SemanticError: line 1, column 17: MERGE cannot create an entity whose property 'id' is null (it would "
        "never match itself); use a value, or MATCH\n"
        "MERGE (n:N {id: null}) RETURN n\n"
        "                ^");
  CHECK(q.One("MATCH (n) RETURN count(n)").as_int() == 0);  // nothing was written
}

TEST_CASE("errors of the new constructs name the place and what was expected") {
  Q q(false, true);
  CHECK(q.Error("MATCH (h) WHERE (h)-[:T]->(x) RETURN h") ==
        "SemanticError: line 1, column 28: variable 'x' is not defined: a pattern predicate cannot introduce "
        "variables (use EXISTS { MATCH ... } for that)\n"
        "MATCH (h) WHERE (h)-[:T]->(x) RETURN h\n"
        "                           ^");
  CHECK(q.Error("MATCH (h) RETURN (h)-->()") ==
        "SyntaxError: line 1, column 18: a pattern is a predicate here; to return its matches use a pattern "
        "comprehension [p = (a)-->(b) | p] or COUNT { ... }\n"
        "MATCH (h) RETURN (h)-->()\n"
        "                 ^");
  CHECK(q.Error("RETURN EXISTS { MATCH (n) RETURN n") ==
        "SyntaxError: line 1, column 35: expected '}', found the end of the query\n"
        "RETURN EXISTS { MATCH (n) RETURN n\n"
        "                                  ^");
  CHECK(q.Error("RETURN EXISTS { CREATE (n) }") ==
        "SemanticError: line 1, column 8: an EXISTS subquery cannot write\n"
        "RETURN EXISTS { CREATE (n) }\n"
        "       ^");
  CHECK(q.Error("RETURN COLLECT { UNWIND [1] AS x RETURN x, x AS y }") ==
        "SemanticError: line 1, column 8: a COLLECT subquery must end with a RETURN of exactly one column\n"
        "RETURN COLLECT { UNWIND [1] AS x RETURN x, x AS y }\n"
        "       ^");
  CHECK(q.Error("WITH 1 AS y CALL { RETURN 2 AS y } RETURN y") ==
        "SemanticError: line 1, column 13: the CALL subquery returns 'y', which is already defined outside it\n"
        "WITH 1 AS y CALL { RETURN 2 AS y } RETURN y\n"
        "            ^");
  CHECK(q.Error("CALL { MATCH (n) } RETURN 1") ==
        "SemanticError: line 1, column 1: a CALL subquery must end with RETURN or an updating clause\n"
        "CALL { MATCH (n) } RETURN 1\n"
        "^");
  CHECK(q.Error("WITH 1 AS x CALL { WITH x + 1 AS y RETURN y } RETURN y") ==
        "SemanticError: line 1, column 25: an importing WITH only names variables from outside the subquery "
        "(WITH x, not 'y'); compute in a later clause, or use CALL (x) { ... }\n"
        "WITH 1 AS x CALL { WITH x + 1 AS y RETURN y } RETURN y\n"
        "                        ^");
  CHECK(q.Error("WITH 1 AS x CALL { WITH x WHERE x > 0 RETURN x AS y } RETURN y") ==
        "SemanticError: line 1, column 13: an importing WITH cannot filter, sort, page or aggregate; do that in a "
        "later clause, or use CALL (x) { ... }\n"
        "WITH 1 AS x CALL { WITH x WHERE x > 0 RETURN x AS y } RETURN y\n"
        "            ^");
  CHECK(q.One("WITH 1 AS x CALL { WITH x WITH x + 1 AS y RETURN y } RETURN y").as_int() == 2);
  CHECK(q.One("WITH 1 AS x CALL (x) { WITH x + 1 AS y RETURN y } RETURN y").as_int() == 2);
  CHECK(q.Error("CALL (z) { RETURN 1 AS one } RETURN one") ==
        "SemanticError: line 1, column 7: variable 'z' is not defined\n"
        "CALL (z) { RETURN 1 AS one } RETURN one\n"
        "      ^");
  CHECK(q.Error("FOREACH (x IN [1] | MATCH (n) SET n.a = x)") ==
        "SemanticError: line 1, column 1: FOREACH can only hold updating clauses (CREATE, MERGE, SET, REMOVE, "
        "DELETE, FOREACH)\n"
        "FOREACH (x IN [1] | MATCH (n) SET n.a = x)\n"
        "^");
  CHECK(q.Error("FOREACH (x IN [1] CREATE (n))") ==
        "SyntaxError: line 1, column 19: expected '|', found 'CREATE'\n"
        "FOREACH (x IN [1] CREATE (n))\n"
        "                  ^");
  CHECK(q.Error("FOREACH (x IN 5 | CREATE (:N))") ==
        "TypeError: line 1, column 15: FOREACH expects a list, got INTEGER\n"
        "FOREACH (x IN 5 | CREATE (:N))\n"
        "              ^");
  CHECK(q.Error("RETURN reduce(s = 0, x IN [1] s + x)") ==
        "SyntaxError: line 1, column 31: expected '|', found 's'\n"
        "RETURN reduce(s = 0, x IN [1] s + x)\n"
        "                              ^");
  CHECK(q.Error("RETURN reduce(s = 0, s IN [1] | s)") ==
        "SemanticError: line 1, column 22: reduce() needs two different names, not 's' twice\n"
        "RETURN reduce(s = 0, s IN [1] | s)\n"
        "                     ^");
  CHECK(q.Error("WITH 1 AS n RETURN n {.a}") ==
        "TypeError: line 1, column 20: a map projection needs a node, relationship or map, got INTEGER\n"
        "WITH 1 AS n RETURN n {.a}\n"
        "                   ^");
  CHECK(q.Error("MATCH (n) RETURN size((n)-->())") ==
        "SyntaxError: line 1, column 23: size() of a pattern predicate: use COUNT { pattern } to count its "
        "matches\n"
        "MATCH (n) RETURN size((n)-->())\n"
        "                      ^");
  CHECK(q.Error("MATCH (a) RETURN [(a)-->(b) | ]") ==
        "SyntaxError: line 1, column 31: expected expression, found ']'\n"
        "MATCH (a) RETURN [(a)-->(b) | ]\n"
        "                              ^");
  CHECK(q.Error("RETURN COUNT { }") ==
        "SyntaxError: line 1, column 16: expected a pattern or a query, found '}'\n"
        "RETURN COUNT { }\n"
        "               ^");
  CHECK(q.Error("OPTIONAL CALL (x { RETURN 1 AS one } RETURN one") ==
        "SyntaxError: line 1, column 18: expected ')', found '{'\n"
        "OPTIONAL CALL (x { RETURN 1 AS one } RETURN one\n"
        "                 ^");
  CHECK(q.Error("RETURN [x IN [1] | count(x)]") ==
        "SemanticError: line 1, column 20: count() is only allowed in WITH and RETURN\n"
        "RETURN [x IN [1] | count(x)]\n"
        "                   ^");
}

TEST_CASE("hostile subqueries: deep nesting, budgets and timeouts inside them, nothing written on failure") {
  QueryOptions options;
  options.max_query_rows = 10000;
  Q q(false, true, options);
  // Nested as deep as brackets may: fine; one more: a located error, before anything runs.
  auto nest = [](int levels) {
    std::string text = "RETURN ";
    for (int i = 0; i < levels; ++i) text += "EXISTS { RETURN ";
    text += "1";
    for (int i = 0; i < levels; ++i) text += " }";
    return text;
  };
  CHECK(q.One(nest(30)).as_bool());
  auto deep = q.Run(nest(70));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().message().rfind("line 1, column ", 0) == 0);
  CHECK(deep.status().message().find("nest deeper than 64 levels") != std::string::npos);
  // The rows a subquery materializes count against the budget of the clause running it.
  auto rows = q.Run("UNWIND [1, 2] AS k RETURN COLLECT { UNWIND range(1, 20000) AS x RETURN x }");
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.status().message().find("rows in memory at once (the row budget, max_query_rows)") !=
        std::string::npos);
  // ... and are given back when it returns: many small subqueries stay within it.
  CHECK(q.One("UNWIND range(1, 5000) AS k WITH k WHERE COUNT { UNWIND range(1, 3) AS x RETURN x } = 3 "
              "RETURN count(k)").as_int() == 5000);
  // A writing query whose CALL subquery fails writes nothing.
  auto failed = q.Run("CREATE (:W {id: 1}) WITH 1 AS one CALL { UNWIND range(1, 20000) AS x RETURN x } RETURN x");
  REQUIRE_FALSE(failed.ok());
  CHECK(q.One("MATCH (w:W) RETURN count(w)").as_int() == 0);
  auto failed_foreach = q.Run("FOREACH (i IN range(1, 3) | CREATE (:W {id: i}) CREATE (:W {id: 1 / (i - 3)}))");
  REQUIRE_FALSE(failed_foreach.ok());
  CHECK(failed_foreach.status().message().rfind("line 1, column ", 0) == 0);
  CHECK(q.One("MATCH (w:W) RETURN count(w)").as_int() == 0);
  // A slow subquery stops at the timeout.
  Q unlimited(false, true);
  unlimited.timeout_ms = 200;
  auto slow = unlimited.Run(
      "UNWIND range(1, 1000000) AS k WITH k WHERE COUNT { UNWIND range(1, 100) AS x WITH x WHERE x > k RETURN x } > 0 "
      "RETURN count(k)");
  REQUIRE_FALSE(slow.ok());
  CHECK(slow.status().type() == "TransientError");
}

TEST_CASE("no syntax error names a C++ type, over the query fuzz corpus and regressions") {
  namespace fs = std::filesystem;
  Q q(false, true);
  q.timeout_ms = 200;  // fuzz inputs may be slow to run; only their errors matter here
  size_t inputs = 0, failures = 0;
  auto check = [&](const std::string& text, const std::string& where) {
    auto r = q.Run(text);
    ++inputs;
    if (r.ok()) return;
    ++failures;
    const std::string& m = r.status().message();
    bool cxx = m.find("boost") != std::string::npos || m.find("N5boost") != std::string::npos ||
               m.find("x3::") != std::string::npos || m.find("std::") != std::string::npos ||
               m.find("spirit") != std::string::npos || m.find("cmdb::") != std::string::npos;
    INFO(where << ": " << text << "\n-> " << m);
    CHECK_FALSE(cxx);
  };
  for (const char* kind : {"corpus", "regressions"}) {
    fs::path dir = fs::path(CMDB_SOURCE_DIR) / "tests" / "fuzz" / kind / "query";
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      std::string text = s.str();
      check(text, entry.path().filename().string());
      // Every prefix of a valid query is a broken one: where the parser stops, it must say what
      // it expected in words.
      for (size_t cut = 1; cut < text.size() && cut < 400; cut += 3)
        check(text.substr(0, cut), entry.path().filename().string() + " cut at " + std::to_string(cut));
    }
  }
  CHECK(inputs > 1000);
  CHECK(failures > 500);
}
