// What an outside tester found in the query language (issue 22): reachability back to the start
// on the demo data, empty projections, map projections of unknown attributes, and messages for
// unterminated strings and comments, selectors, clause lists, CREATE labels, AS OF and bare CRs.
// Exact error texts with their caret lines.
#include <catch2/catch.hpp>

#include "query_util.hpp"

using namespace cmdb;
using namespace cmdb::gql;

namespace {
using Q = cmdb::testing::QueryHarness;
}  // namespace

TEST_CASE("reachability keeps the start when a cycle leads back to it (demo data)") {
  Q q;
  const std::string a = "MATCH (a:PhysicalServer {name:'ams1-esx15'})";
  REQUIRE(
      q.Ok("EXPLAIN " + a + "-[*1..3]-(b) RETURN DISTINCT b.name").plan.find("Reachability(BFS)") !=
      std::string::npos);
  REQUIRE(q.Ok("MATCH p = (a:PhysicalServer {name:'ams1-esx15'})-[*3]-(a) RETURN p LIMIT 1")
              .rows.size() == 1);
  auto names = q.Ok(a + "-[*1..3]-(b) RETURN DISTINCT b.name AS n").rows;
  int64_t count = q.Ok(a + "-[*1..3]-(b) RETURN count(DISTINCT b.name)").rows[0][0].as_int();
  CHECK(static_cast<int64_t>(names.size()) == count);
  bool start = false;
  for (const auto& r : names) start = start || r[0].as_string() == "ams1-esx15";
  CHECK(start);
  CHECK(q.Ok(a + "-[*1..3]-(b) WITH DISTINCT b RETURN count(b)").rows[0][0].as_int() == count);
  // A named relationship nothing reads afterwards is still reachability, with the same answer.
  CHECK(q.Ok("EXPLAIN " + a + "-[r*1..3]-(b) RETURN DISTINCT b.name")
            .plan.find("Reachability(BFS)") != std::string::npos);
  CHECK(q.Ok(a + "-[r*1..3]-(b) RETURN DISTINCT b.name").rows.size() == names.size());
  CHECK(q.Ok("EXPLAIN " + a + "-[r*1..3]-(b) RETURN DISTINCT b.name, size(r)")
            .plan.find("Reachability") == std::string::npos);
}

TEST_CASE("an empty projection is a syntax error at the place of the missing item") {
  Q q;
  CHECK(q.Error("RETURN") ==
        "SyntaxError: line 1, column 7: expected return item, found the end of the query\n"
        "RETURN\n"
        "      ^");
  CHECK(q.Error("RETURN;") ==
        "SyntaxError: line 1, column 7: expected return item, found ';'\n"
        "RETURN;\n"
        "      ^");
  CHECK(q.Error("RETURN DISTINCT") ==
        "SyntaxError: line 1, column 16: expected return item, found the end of the query\n"
        "RETURN DISTINCT\n"
        "               ^");
  CHECK(q.Error("RETURN LIMIT 1") ==
        "SyntaxError: line 1, column 8: expected return item, found 'LIMIT'\n"
        "RETURN LIMIT 1\n"
        "       ^");
  CHECK(q.Error("UNWIND [1,2] AS x RETURN ORDER BY x") ==
        "SyntaxError: line 1, column 26: expected return item, found 'ORDER'\n"
        "UNWIND [1,2] AS x RETURN ORDER BY x\n"
        "                         ^");
  CHECK(q.Error("MATCH (n) WITH RETURN 1") ==
        "SyntaxError: line 1, column 16: expected return item, found 'RETURN'\n"
        "MATCH (n) WITH RETURN 1\n"
        "               ^");
  CHECK(q.Error("CALL { RETURN } RETURN 1") ==
        "SyntaxError: line 1, column 15: expected return item, found '}'\n"
        "CALL { RETURN } RETURN 1\n"
        "              ^");
  // What stays valid: `*`, `*` and items, DISTINCT items, and WITH * before a clause.
  CHECK(q.Ok("UNWIND [1, 2] AS x RETURN *").rows.size() == 2);
  CHECK(q.Ok("UNWIND [1, 2] AS x WITH *, x + 1 AS y RETURN DISTINCT y ORDER BY y").rows.size() ==
        2);
  CHECK(
      q.Ok("UNWIND [1, 2] AS x WITH *\nMATCH (d:Datacenter) RETURN count(*)").rows[0][0].as_int() ==
      4);
}

TEST_CASE("a map projection of an attribute the class lacks is refused as the property is") {
  Q q;
  CHECK(q.Error("MATCH (a:Application) RETURN a {.nosuch} LIMIT 1") ==
        "SemanticError: line 1, column 34: class 'Application' has no attribute 'nosuch'\n"
        "MATCH (a:Application) RETURN a {.nosuch} LIMIT 1\n"
        "                                 ^");
  CHECK(q.Ok("MATCH (a:Application {name: 'shop-api'}) RETURN a {.name}").rows.size() == 1);
}

TEST_CASE("messages: unterminated pieces, selectors, the clause list, labels, AS OF, bare CR") {
  Q q;
  CHECK(q.Error("RETURN 'abc") ==
        "SyntaxError: line 1, column 8: unterminated string\n"
        "RETURN 'abc\n"
        "       ^");
  CHECK(q.Error("RETURN 1 + \"abc") ==
        "SyntaxError: line 1, column 12: unterminated string\n"
        "RETURN 1 + \"abc\n"
        "           ^");
  CHECK(q.Error("RETURN /* x") ==
        "SyntaxError: line 1, column 8: unterminated comment\n"
        "RETURN /* x\n"
        "       ^");
  CHECK(q.Error("MATCH p = SHORTEST 2 GROUPS (a)-[*..3]-(b) RETURN p") ==
        "SyntaxError: line 1, column 22: expected node pattern, found 'GROUPS'\n"
        "MATCH p = SHORTEST 2 GROUPS (a)-[*..3]-(b) RETURN p\n"
        "                     ^");
  CHECK(
      q.Error("FOO") ==
      "SyntaxError: line 1, column 1: expected clause (MATCH, OPTIONAL MATCH, WITH, UNWIND, "
      "RETURN, "
      "CREATE, INSERT, MERGE, SET, REMOVE, DELETE, DETACH DELETE, FOREACH, CALL or OPTIONAL CALL), "
      "found 'FOO'\n"
      "FOO\n"
      "^");
  CHECK(q.Error("CREATE (n:Application:Service {name:'x'})") ==
        "SemanticError: line 1, column 23: a CI has exactly one class; give one label\n"
        "CREATE (n:Application:Service {name:'x'})\n"
        "                      ^");
  CHECK(q.Error("AS OF -1 RETURN 1") ==
        "ArgumentError: line 1, column 7: AS OF -1: there is no such transaction (the history runs "
        "from 1 to 2)\n"
        "AS OF -1 RETURN 1\n"
        "      ^");
  // A bare CR ends a line, as it ends a `//` comment.
  CHECK(q.Error("MATCH (n)\rRETURN m") ==
        "SemanticError: line 2, column 8: variable 'm' is not defined\n"
        "RETURN m\n"
        "       ^");
  CHECK(q.Error("MATCH (n)\r\nRETURN m") ==
        "SemanticError: line 2, column 8: variable 'm' is not defined\n"
        "RETURN m\n"
        "       ^");
}
