// Issue 22's remaining gaps: error columns in characters, whole tokens and articles in messages,
// non-reserved keywords as names, type() of a deleted relationship, cmdb.created_tx and
// SHORTEST k on a dense graph. Exact error texts with their caret lines.
#include <catch2/catch.hpp>

#include "query_util.hpp"

using namespace cmdb;
using namespace cmdb::gql;

namespace {
using Q = cmdb::testing::QueryHarness;
}  // namespace

TEST_CASE("error columns count characters, not bytes, and the caret stands under the character") {
  Q q;
  // 'é' is two bytes, '€' three, '😀' four: each is one column.
  CHECK(q.Error("RETURN 'é' +") ==
        "SyntaxError: line 1, column 13: expected expression, found the end of the query\n"
        "RETURN 'é' +\n"
        "            ^");
  CHECK(q.Error("RETURN '€😀' + ) AS x") ==
        "SyntaxError: line 1, column 15: expected expression, found ')'\n"
        "RETURN '€😀' + ) AS x\n"
        "              ^");
  CHECK(q.Error("MATCH (n {name: 'Zürich'})\nRETURN 'ä', m") ==
        "SemanticError: line 2, column 13: variable 'm' is not defined\n"
        "RETURN 'ä', m\n"
        "            ^");
  // The column is also the "column" detail the HTTP body and the shell read.
  auto r = q.Run("RETURN 'ÅÄÖ', x");
  REQUIRE_FALSE(r.ok());
  int64_t column = 0;
  for (const auto& [key, value] : r.status().details())
    if (key == "column") column = value.as_int();
  CHECK(column == 15);
  // A tab stays a tab in the caret line, so it lines up under the source line.
  CHECK(q.Error("RETURN\t'é', y") ==
        "SemanticError: line 1, column 13: variable 'y' is not defined\n"
        "RETURN\t'é', y\n"
        "      \t     ^");
}

TEST_CASE("a syntax error names the whole token it found, and messages use a and an rightly") {
  Q q;
  CHECK(q.Error("MATCH (n RETURN n") ==
        "SyntaxError: line 1, column 10: expected ')', found 'RETURN'\n"
        "MATCH (n RETURN n\n"
        "         ^");
  CHECK(q.Error("RETURN 1 2") ==
        "SyntaxError: line 1, column 10: expected the end of the query, found '2'\n"
        "RETURN 1 2\n"
        "         ^");
  CHECK(q.Error("RETURN 1 'un été'") ==
        "SyntaxError: line 1, column 10: expected the end of the query, found ''un été''\n"
        "RETURN 1 'un été'\n"
        "         ^");
  CHECK(q.Error("RETURN 1 Überweisung") ==
        "SyntaxError: line 1, column 10: expected the end of the query, found 'Überweisung'\n"
        "RETURN 1 Überweisung\n"
        "         ^");
  CHECK(q.Error("RETURN 1 <= 2 >= 3 x") ==
        "SyntaxError: line 1, column 20: expected the end of the query, found 'x'\n"
        "RETURN 1 <= 2 >= 3 x\n"
        "                   ^");
  CHECK(q.Error("RETURN COUNT { CREATE (n:Application {name: 'x'}) }") ==
        "SemanticError: line 1, column 8: a COUNT subquery cannot write\n"
        "RETURN COUNT { CREATE (n:Application {name: 'x'}) }\n"
        "       ^");
  CHECK(q.Error("RETURN EXISTS { CREATE (n:Application {name: 'x'}) }") ==
        "SemanticError: line 1, column 8: an EXISTS subquery cannot write\n"
        "RETURN EXISTS { CREATE (n:Application {name: 'x'}) }\n"
        "       ^");
  CHECK(q.Error("RETURN 1 AND true") ==
        "SyntaxError: line 1, column 8: AND needs booleans, not an INTEGER\n"
        "RETURN 1 AND true\n"
        "       ^");
  CHECK(q.Error("RETURN 'x' OR true") ==
        "SyntaxError: line 1, column 8: OR needs booleans, not a STRING\n"
        "RETURN 'x' OR true\n"
        "       ^");
}

TEST_CASE(
    "non-reserved keywords name variables, aliases and properties; reserved ones are refused") {
  Q q;
  for (const char* word : {"all", "any", "none", "single", "count", "exists", "shortest", "collect",
                           "filter", "extract", "reduce", "type"}) {
    INFO(word);
    std::string w = word;
    CHECK(q.Ok("RETURN 1 AS " + w).columns == std::vector<std::string>{w});
    CHECK(q.Ok("WITH 2 AS " + w + " RETURN " + w + " + 1 AS v").rows[0][0].as_int() == 3);
    CHECK(q.Ok("UNWIND [3] AS " + w + " RETURN " + w).rows[0][0].as_int() == 3);
    CHECK(q.Ok("WITH {" + w + ": 4} AS m RETURN m." + w).rows[0][0].as_int() == 4);
  }
  // The keyword forms still work beside the names.
  CHECK(q.Ok("WITH [1, 2] AS all RETURN all(x IN all WHERE x > 0) AS a, any(x IN all WHERE x > 1) "
             "AS b")
            .rows[0][0]
            .as_bool());
  CHECK(q.Ok("WITH 5 AS count RETURN count(*) AS c, count").rows[0][1].as_int() == 5);
  CHECK(q.Ok("RETURN 1 AS all UNION ALL RETURN 2 AS all").rows.size() == 2);
  CHECK(q.Error("RETURN 1 AS match") ==
        "SyntaxError: line 1, column 13: expected variable, found 'match' (a reserved word; write "
        "`match` "
        "to use it as a name)\n"
        "RETURN 1 AS match\n"
        "            ^");
  CHECK(q.Ok("RETURN 1 AS `match`").columns == std::vector<std::string>{"match"});
}

TEST_CASE("type() of a relationship deleted by the same query is its type") {
  Q q;
  auto r = q.Ok(
      "MATCH (:Application {name: 'shop-api'})<-[r:INSTANCE_OF]-(i) WITH r, i LIMIT 1 "
      "DELETE r RETURN type(r) AS t");
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0][0].as_string() == "INSTANCE_OF");
  // Its properties are gone, as openCypher says.
  auto gone = q.Run(
      "MATCH (:Application {name: 'shop-api'})<-[r:INSTANCE_OF]-() WITH r LIMIT 1 DELETE r RETURN "
      "r.x");
  CHECK_FALSE(gone.ok());
}

TEST_CASE("cmdb.created_tx: the transaction that created a CI, also after it changed") {
  Q q;
  auto before = q.Ok(
      "MATCH (a:Application {name: 'shop-api'}) RETURN cmdb.created_tx(a), cmdb.updated_tx(a)");
  int64_t created = before.rows[0][0].as_int();
  CHECK(created == before.rows[0][1].as_int());  // never changed: version 1
  q.Ok("MATCH (a:Application {name: 'shop-api'}) SET a.vendor = 'changed'");
  q.Ok("MATCH (a:Application {name: 'shop-api'}) SET a.vendor = 'changed again'");
  auto after = q.Ok(
      "MATCH (a:Application {name: 'shop-api'}) RETURN cmdb.created_tx(a), cmdb.updated_tx(a), "
      "cmdb.version(a)");
  CHECK(after.rows[0][0].as_int() == created);
  CHECK(after.rows[0][1].as_int() > created);
  CHECK(after.rows[0][2].as_int() == 3);
  // A relationship has one too; null in, null out; what the query creates has none yet.
  CHECK(q.Ok("MATCH (:Application {name: 'shop-api'})<-[r:INSTANCE_OF]-() RETURN "
             "cmdb.created_tx(r) LIMIT 1")
            .rows[0][0]
            .as_int() > 0);
  CHECK(q.Ok("RETURN cmdb.created_tx(null)").rows[0][0].is_null());
  // What the query creates: the transaction it commits as.
  auto fresh =
      q.Ok("CREATE (t:Application {name: 'fresh'}) RETURN cmdb.created_tx(t), cmdb.updated_tx(t)");
  CHECK(fresh.rows[0][0].as_int() == fresh.rows[0][1].as_int());
  CHECK(
      q.Error("RETURN cmdb.created_tx(1)") ==
      "TypeError: line 1, column 8: cmdb.created_tx() expects a node or relationship, got INTEGER\n"
      "RETURN cmdb.created_tx(1)\n"
      "       ^");
}

TEST_CASE("UNION inside CALL { }: each part per row, distinct unless ALL, the same columns") {
  Q q;
  CHECK(q.Ok("CALL { RETURN 1 AS x UNION RETURN 1 AS x UNION RETURN 2 AS x } RETURN x ORDER BY x")
            .rows.size() == 2);
  CHECK(q.Ok("CALL { RETURN 1 AS x UNION ALL RETURN 1 AS x } RETURN x").rows.size() == 2);
  // Per outer row, with its imported variables; distinct within one call, not across calls.
  auto r = q.Ok(
      "UNWIND [1, 2] AS n CALL (n) { RETURN n AS x UNION RETURN n * 10 AS x UNION RETURN n AS x } "
      "RETURN n, x ORDER BY n, x");
  REQUIRE(r.rows.size() == 4);
  CHECK(r.rows[1][1].as_int() == 10);
  CHECK(r.rows[3][1].as_int() == 20);
  auto names = q.Ok(
      "MATCH (a:Application {name: 'shop-api'}) "
      "CALL (a) { MATCH (a)<-[:INSTANCE_OF]-(i) RETURN i.name AS x UNION RETURN a.name AS x } "
      "RETURN count(x)");
  auto instances = q.Ok(
      "MATCH (:Application {name: 'shop-api'})<-[:INSTANCE_OF]-(i) RETURN count(DISTINCT i.name)");
  CHECK(names.rows[0][0].as_int() == instances.rows[0][0].as_int() + 1);
  // An importing WITH in every part.
  CHECK(
      q.Ok("WITH 3 AS n CALL { WITH n RETURN n AS x UNION WITH n RETURN n + 1 AS x } RETURN sum(x)")
          .rows[0][0]
          .as_int() == 7);
  CHECK(q.Error("CALL { RETURN 1 AS x UNION RETURN 2 AS y } RETURN x") ==
        "SemanticError: line 1, column 28: every part of a UNION must return the same columns\n"
        "CALL { RETURN 1 AS x UNION RETURN 2 AS y } RETURN x\n"
        "                           ^");
  CHECK(q.Error("CALL { RETURN 1 AS x UNION RETURN 2 AS x UNION ALL RETURN 3 AS x } RETURN x") ==
        "SemanticError: line 1, column 52: UNION and UNION ALL cannot be mixed\n"
        "CALL { RETURN 1 AS x UNION RETURN 2 AS x UNION ALL RETURN 3 AS x } RETURN x\n"
        "                                                   ^");
}

TEST_CASE("duration.between, inMonths, inDays and inSeconds as openCypher computes them") {
  Q q;
  auto text = [&](const std::string& expr) {
    return q.Ok("RETURN toString(" + expr + ")").rows[0][0].as_string();
  };
  CHECK(text("duration.between(date('1984-10-11'), date('2015-06-24'))") == "P30Y8M13D");
  CHECK(text("duration.between(date('2015-06-24'), date('1984-10-11'))") == "P-30Y-8M-13D");
  CHECK(text("duration.between(date('1984-10-11'), localdatetime('2016-07-21T21:45:22.142'))") ==
        "P31Y9M10DT21H45M22.142S");
  CHECK(text("duration.between(date('1984-10-11'), datetime('2015-07-21T21:40:32.142+0100'))") ==
        "P30Y9M10DT21H40M32.142S");
  // java.time's months: 31 January to 28 February is no whole month.
  CHECK(text("duration.between(date('2015-01-31'), date('2015-02-28'))") == "P28D");
  CHECK(text("duration.between(date('2015-01-31'), date('2015-03-03'))") == "P1M3D");
  // A time of day not yet reached takes a day off the months' end.
  CHECK(text("duration.between(localdatetime('2015-01-10T12:00'), "
             "localdatetime('2015-02-10T11:00'))") == "P30DT23H");
  // Mixed: a time against a date (midnight), two zones (b read in a's offset).
  CHECK(text("duration.between(localtime('14:30'), date('2015-06-24'))") == "PT-14H-30M");
  CHECK(text("duration.between(time('12:00+01:00'), time('12:00Z'))") == "PT1H");
  CHECK(text("duration.inMonths(date('1984-10-11'), date('2015-06-24'))") == "P30Y8M");
  CHECK(text("duration.inDays(date('1984-10-11'), date('2015-06-24'))") == "P11213D");
  CHECK(text("duration.inDays(localdatetime('2015-01-01T12:00'), "
             "localdatetime('2015-01-03T11:00'))") == "P1D");
  CHECK(text("duration.inSeconds(localdatetime('2015-01-01T00:00'), "
             "localdatetime('2015-01-02T01:00'))") == "PT25H");
  CHECK(q.Ok("RETURN duration.between(null, date())").rows[0][0].is_null());
  CHECK(q.Error("RETURN duration.between(1, date())") ==
        "TypeError: line 1, column 8: duration.between() expects two dates or times, got INTEGER\n"
        "RETURN duration.between(1, date())\n"
        "       ^");
}
