// Hostile queries: nesting, long chains, regular expressions, memory budgets, integer overflow,
// characters versus bytes, string escapes, AS OF outside the history and bad timeouts. Each of
// these once killed the server (stack overflow, memory) or answered wrongly; each must now end in
// the right answer or an exact error, with the process alive.
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <string>

#include "cmdb/time_util.hpp"
#include "query/common/error_handler.hpp"
#include "query/engine.hpp"
#include "query/parser/parse.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::gql;

namespace {

struct H {
  explicit H(QueryOptions options = QueryOptions{}) : engine(*t.db, options) {}
  cmdb::testing::TestDb t{true};
  QueryEngine engine;

  Result<QueryResult> Run(const std::string& text, QMap params = {}, int64_t timeout_ms = 0) {
    QueryRequest r;
    r.text = text;
    r.parameters = std::move(params);
    r.timeout_ms = timeout_ms;
    r.meta.actor = "tester";
    return engine.Run(r);
  }
  // "Code/Type: message" of a failing query.
  std::string Error(const std::string& text, QMap params = {}, int64_t timeout_ms = 0) {
    auto r = Run(text, std::move(params), timeout_ms);
    REQUIRE_FALSE(r.ok());
    return std::string(StatusCodeName(r.status().code())) + "/" + r.status().type() + ": " + r.status().message();
  }
  QValue One(const std::string& text, QMap params = {}) {
    auto r = Run(text, std::move(params));
    INFO(text.substr(0, 200) << " -> " << r.status().message().substr(0, 300));
    REQUIRE(r.ok());
    REQUIRE(r->rows.size() == 1);
    REQUIRE(r->rows[0].size() == 1);
    return r->rows[0][0];
  }
};

// The whole text of a located error as H::Error gives it: "Code/Type: line L, column C: message",
// then the text of line L and a caret under column C.
std::string Located(const std::string& kinds, int line, size_t column, const std::string& message,
                    const std::string& line_text) {
  return kinds + ": line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
         message + "\n" + line_text + "\n" + std::string(column - 1, ' ') + "^";
}

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("deeply nested brackets are a located error, not a stack overflow") {
  H h;
  const std::string kTooDeep = "brackets and CASE nest deeper than 64 levels";
  // 700 parentheses overflowed the parser's stack.
  std::string deep = "RETURN " + Repeat("(", 700) + "1" + Repeat(")", 700);
  CHECK(h.Error(deep) ==
        "ResourceExhausted/SyntaxError: line 1, column 72: brackets and CASE nest deeper than 64 levels\n" + deep +
            "\n" + std::string(71, ' ') + "^");
  // At the limit it parses and answers.
  CHECK(h.One("RETURN " + Repeat("(", 64) + "1" + Repeat(")", 64)).as_int() == 1);
  // Lists, maps and CASE count alike; strings and comments do not.
  std::string lists = "RETURN " + Repeat("[", 5000) + Repeat("]", 5000);
  CHECK(h.Error(lists) == Located("ResourceExhausted/SyntaxError", 1, 72, kTooDeep, lists));
  std::string maps = "RETURN " + Repeat("{a: ", 5000) + "1" + Repeat("}", 5000);
  CHECK(h.Error(maps) == Located("ResourceExhausted/SyntaxError", 1, 264, kTooDeep, maps));
  std::string cases = "RETURN\n" + Repeat("CASE WHEN true THEN ", 3000) + "1" + Repeat(" END", 3000);
  CHECK(h.Error(cases) ==
        Located("ResourceExhausted/SyntaxError", 2, 1281, kTooDeep, cases.substr(cases.find('\n') + 1)));
  CHECK(h.One("RETURN '" + Repeat("(", 1000) + "' /* " + Repeat("[", 1000) + " */").as_string() == Repeat("(", 1000));
  // A function named like END does not close a level.
  std::string ends = "RETURN " + Repeat("end(", 3000) + Repeat(")", 3000);
  CHECK(h.Error(ends) == Located("ResourceExhausted/SyntaxError", 1, 267, kTooDeep, ends));
  // The impact endpoint and baseline scopes run the same engine.
  CHECK_FALSE(h.Run("MATCH (n) WHERE " + Repeat("(", 700) + "true" + Repeat(")", 700) + " RETURN n").ok());
}

TEST_CASE("long flat chains of AND, OR, + and comparisons evaluate without recursion") {
  H h;
  CHECK(h.One("RETURN 1" + Repeat("+1", 10000)).as_int() == 10001);
  CHECK(h.One("RETURN 100000" + Repeat(" - 1 + 2", 10000)).as_int() == 110000);
  CHECK(h.One("RETURN 2" + Repeat(" * 1", 10000) + " / 2 % 5").as_int() == 1);
  CHECK(h.One("WITH true AS a RETURN a" + Repeat(" AND a", 10000)).as_bool());
  CHECK(h.One("WITH false AS a RETURN a" + Repeat(" OR a", 10000) + " OR true").as_bool());
  CHECK(h.One("WITH true AS a RETURN a" + Repeat(" XOR a", 10001)).as_bool() == false);
  CHECK(h.One("RETURN 'a'" + Repeat(" + 'b'", 10000) + " + 1").as_string() == "a" + Repeat("b", 10000) + "1");
  CHECK(h.One("RETURN 0" + Repeat(" < 1", 1) + Repeat(" <= 1", 10000)).as_bool());
  CHECK(h.One("MATCH (n:BusinessService) WHERE n.name <> 'x'" + Repeat(" AND n.name <> 'x'", 10000) +
              " RETURN count(n)").as_int() == 4);
  // Null and short cuts as the nested form: false wins over null, null over true.
  CHECK(h.One("RETURN null AND true AND false").as_bool() == false);
  CHECK(h.One("RETURN true AND null AND true").is_null());
  CHECK(h.One("RETURN null OR false OR true").as_bool());
  CHECK(h.One("RETURN 1 + 2 + 'x' + 1 + 2").as_string() == "3x12");
  CHECK(h.Error("RETURN 1 + 9223372036854775807 + 0") ==
        "BadRequest/ArgumentError: line 1, column 8: integer overflow\n"
        "RETURN 1 + 9223372036854775807 + 0\n"
        "       ^");
}

TEST_CASE("long chains of prefix and postfix operators are a located error") {
  H h;
  std::string minus = "RETURN " + Repeat("- ", 20000) + "1";
  CHECK(h.Error(minus) == "ResourceExhausted/SyntaxError: line 1, column 8: the expression nests deeper than 500 levels\n" +
                              minus + "\n       ^");
  std::string nots = "RETURN " + Repeat("NOT ", 20000) + "true";
  const std::string too_deep = "the expression nests deeper than 500 levels";
  CHECK(h.Error(nots) == Located("ResourceExhausted/SyntaxError", 1, 8, too_deep, nots));
  std::string props = "WITH {} AS m RETURN m" + Repeat(".a", 20000);
  // At the 501st ".a": column 21 + 500 * 2.
  CHECK(h.Error(props) == Located("ResourceExhausted/SyntaxError", 1, 1021, too_deep, props));
  std::string nulls = "RETURN 1" + Repeat(" IS NULL", 20000);
  CHECK(h.Error(nulls) == Located("ResourceExhausted/SyntaxError", 1, 8, too_deep, nulls));
  CHECK(h.One("RETURN " + Repeat("- ", 400) + "1").as_int() == 1);
}

TEST_CASE("patterns longer than the limit are refused") {
  H h;
  std::string chain = "MATCH (a)" + Repeat("--()", 5000) + " RETURN count(*)";
  CHECK(h.Error(chain) == "ResourceExhausted/ResourceExhausted: line 1, column 1: the pattern has 5001 nodes, more than the limit of 200\n" +
                              chain + "\n^");
  std::string parts = "MATCH (a)" + Repeat(", ()", 5000) + " RETURN count(*)";
  CHECK(h.Error(parts) == Located("ResourceExhausted/ResourceExhausted", 1, 1,
                                  "the pattern has 5001 nodes, more than the limit of 200", parts));
}

TEST_CASE("deeply nested parameters are refused without recursion") {
  H h;
  QValue deep(int64_t(1));
  for (int i = 0; i < 20000; ++i) deep = QValue(QList{deep});
  CHECK(h.Error("RETURN $p", {{"p", deep}}) == "ResourceExhausted/: parameter $p nests deeper than 100 levels");
  QValue ok(int64_t(1));
  for (int i = 0; i < 99; ++i) ok = QValue(QMap{{"a", ok}});
  CHECK(h.One("RETURN $p.a.a.a", {{"p", ok}}).kind() == QValue::Kind::kMap);
  // Take the deep value apart iteratively so the test itself does not recurse 20,000 deep.
  while (deep.kind() == QValue::Kind::kList) {
    QValue inner = deep.as_list()[0];
    deep = std::move(inner);
  }
}

TEST_CASE("=~ uses RE2: full match, linear time, clear errors for bad patterns") {
  H h;
  CHECK(h.One("RETURN 'shop-api' =~ 'shop-.*'").as_bool());
  CHECK_FALSE(h.One("RETURN 'shop-api' =~ 'shop'").as_bool());  // the whole string must match
  CHECK(h.One("RETURN 'Shop' =~ '(?i)shop'").as_bool());
  CHECK(h.One("RETURN '世界' =~ '..'").as_bool());  // characters, not bytes
  // These overflowed std::regex's recursive matcher or ran for minutes.
  std::string a30k(30000, 'a'), ab20k;
  for (int i = 0; i < 10000; ++i) ab20k += "ab";
  CHECK(h.One("RETURN $s =~ '.*'", {{"s", QValue(a30k)}}).as_bool());
  CHECK(h.One("RETURN $s =~ '(a|b)*'", {{"s", QValue(ab20k)}}).as_bool());
  CHECK_FALSE(h.One("RETURN $s =~ '(a+)+$'", {{"s", QValue(a30k + "b")}}).as_bool());
  std::string big(10 << 20, 'x');
  CHECK(h.One("RETURN $s =~ '.*foo.*'", {{"s", QValue(big + "foo" + big)}}).as_bool());
  CHECK(h.Error("RETURN 'a' =~ '(a'") ==
        "BadRequest/ArgumentError: line 1, column 8: invalid regular expression '(a': missing ): (a\n"
        "RETURN 'a' =~ '(a'\n"
        "       ^");
  CHECK(h.Error("RETURN 'aa' =~ '(a)\\\\1'") ==
        "BadRequest/ArgumentError: line 1, column 8: invalid regular expression '(a)\\1': invalid escape sequence: \\1\n"
        "RETURN 'aa' =~ '(a)\\\\1'\n"
        "       ^");
  CHECK(h.Error("RETURN 'a' =~ 'a{2000}'") ==
        "BadRequest/ArgumentError: line 1, column 8: invalid regular expression 'a{2000}': invalid repetition size: {2000}\n"
        "RETURN 'a' =~ 'a{2000}'\n"
        "       ^");
  // Past the memory bound of one pattern.
  std::string huge = Repeat("\\pL{1000}", 10);
  CHECK(h.Error("RETURN 'a' =~ $p", {{"p", QValue(huge)}}) ==
        "BadRequest/ArgumentError: line 1, column 8: invalid regular expression '" + huge +
            "': pattern too large - compile failed\nRETURN 'a' =~ $p\n       ^");
  // A pattern per row compiles once per query.
  CHECK(h.One("UNWIND range(1, 10000) AS i WITH i WHERE toString(i) =~ '[0-9]*7' RETURN count(*)").as_int() == 1000);
}

TEST_CASE("per-query row and byte budgets") {
  QueryOptions small;
  small.max_query_rows = 1000;
  small.max_query_bytes = 1 << 20;
  H h(small);
  CHECK(h.Error("MATCH (a), (b) RETURN a, b") ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1000 rows in memory at once (the row budget, max_query_rows)");
  CHECK(h.Error("UNWIND range(1, 100) AS i RETURN i, $s", {{"s", QValue(std::string(100000, 'x'))}}) !=
        "");  // shared parameter payloads are counted once: see the next line for the byte budget
  CHECK(h.Error("UNWIND range(1, 100) AS i RETURN i + $s AS s", {{"s", QValue(std::string(100000, 'x'))}}) ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at once (the byte budget, max_query_bytes)");
  // (each $s + x is charged before it is built, with the list that holds the ones before it)
  CHECK(h.Error("RETURN [x IN range(1, 100) | $s + x]", {{"s", QValue(std::string(100000, 'x'))}}) ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at once (the byte budget, max_query_bytes)");
  // Aggregation over a MATCH streams: 144^2 = 20736 pairs counted, none held.
  CHECK(h.One("MATCH (a), (b) RETURN count(*)").as_int() == 20736);
  CHECK(h.One("MATCH (a), (b) WITH a.name AS n, count(b) AS c RETURN count(*)").as_int() == 144);
  // collect() keeps what it collects: charged.
  CHECK(h.Error("MATCH (a), (b) RETURN collect([a.name, b.name])") ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at "
        "once (the byte budget, max_query_bytes)");
}

TEST_CASE("variable-length expansion streams into count and honours the timeout") {
  H h;
  auto r = h.Run("MATCH p=(a)-[*..1000]-(b) RETURN count(p)", {}, 300);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK(r.status().message() == "the query ran past its time limit and was stopped");
  // Same answer as before the iterative expansion.
  CHECK(h.One("MATCH (s:BusinessService {name: 'Payments'})-[*1..3]->(x) RETURN count(*)").as_int() ==
        h.One("MATCH (s:BusinessService {name: 'Payments'})-[*1..3]->(x) WITH s, x RETURN count(*)").as_int());
}

TEST_CASE("integer overflow is an error, never a wrapped value") {
  H h;
  CHECK(h.Error("RETURN abs(-9223372036854775808)") ==
        "BadRequest/ArgumentError: line 1, column 8: abs(-9223372036854775808) does not fit in a 64-bit integer\n"
        "RETURN abs(-9223372036854775808)\n"
        "       ^");
  CHECK(h.Error("RETURN toInteger(1e300)") ==
        "BadRequest/ArgumentError: line 1, column 8: toInteger(1e+300) does not fit in a 64-bit integer\n"
        "RETURN toInteger(1e300)\n"
        "       ^");
  CHECK(h.Error("RETURN toInteger('99999999999999999999')") ==
        "BadRequest/ArgumentError: line 1, column 8: toInteger('99999999999999999999') does not fit in a 64-bit integer\n"
        "RETURN toInteger('99999999999999999999')\n"
        "       ^");
  CHECK(h.Error("RETURN toInteger('1e19')") ==
        "BadRequest/ArgumentError: line 1, column 8: toInteger(1e+19) does not fit in a 64-bit integer\n"
        "RETURN toInteger('1e19')\n"
        "       ^");
  CHECK(h.One("RETURN toInteger(-9223372036854775808.0)").as_int() == INT64_MIN);
  CHECK(h.One("RETURN toInteger('-9223372036854775808')").as_int() == INT64_MIN);
  CHECK(h.One("RETURN toInteger(2.9)").as_int() == 2);
  for (auto [q, column] : std::vector<std::pair<std::string, size_t>>{
           {"RETURN -9223372036854775808 - 1", 8}, {"RETURN 9223372036854775807 + 1", 8},
           {"RETURN 4611686018427387904 * 2", 8}, {"RETURN -9223372036854775808 / -1", 8},
           {"WITH -9223372036854775808 AS x RETURN -x", 39}}) {
    CHECK(h.Error(q) == Located("BadRequest/ArgumentError", 1, column, "integer overflow", q));
  }
  CHECK(h.One("RETURN -9223372036854775808 % -1").as_int() == 0);
  CHECK(h.One("RETURN size(range(9223372036854775800, 9223372036854775807, 5))").as_int() == 2);
}

TEST_CASE("string functions count characters, not bytes") {
  H h;
  CHECK(h.One("RETURN size('世界')").as_int() == 2);
  CHECK(h.One("RETURN reverse('世界')").as_string() == "界世");
  CHECK(h.One("RETURN substring('世界x', 1, 1)").as_string() == "界");
  CHECK(h.One("RETURN substring('世界x', 1)").as_string() == "界x");
  CHECK(h.One("RETURN substring('世界', 5)").as_string() == "");
  CHECK(h.One("RETURN left('世界x', 1)").as_string() == "世");
  CHECK(h.One("RETURN right('世界x', 2)").as_string() == "界x");
  CHECK(h.One("RETURN right('世', 5)").as_string() == "世");
  CHECK(h.One("RETURN split('世界', '')").as_list().size() == 2);
  CHECK(h.One("RETURN split('a世b', '世')").as_list()[1].as_string() == "b");
  CHECK(h.One("RETURN trim('  世界  ')").as_string() == "世界");
  CHECK(h.One("RETURN toUpper('é')").as_string() == "É");  // a character, never a byte
}

TEST_CASE("string escapes never produce invalid UTF-8") {
  H h;
  CHECK(h.Error("RETURN 'ab\\uD800c'") ==
        "BadRequest/SyntaxError: line 1, column 11: invalid unicode escape \\uD800: a lone surrogate is not a character\n"
        "RETURN 'ab\\uD800c'\n"
        "          ^");
  CHECK(h.Error("RETURN 'x\\uDE00'") ==
        "BadRequest/SyntaxError: line 1, column 10: invalid unicode escape \\uDE00: a lone surrogate is not a character\n"
        "RETURN 'x\\uDE00'\n"
        "         ^");
  CHECK(h.Error("RETURN '\\U00110000'") ==
        "BadRequest/SyntaxError: line 1, column 9: invalid unicode escape \\U00110000: past U+10FFFF\n"
        "RETURN '\\U00110000'\n"
        "        ^");
  CHECK(h.One("RETURN '\\uD83D\\uDE00'").as_string() == "\xF0\x9F\x98\x80");
  CHECK(h.One("RETURN size('\\uD83D\\uDE00')").as_int() == 1);
  CHECK(h.One("RETURN '\\u00e9'").as_string() == "\xC3\xA9");
  CHECK(h.Error("RETURN 'a\xFF'") ==
        "BadRequest/SyntaxError: line 1, column 10: the query is not valid UTF-8 text\n"
        "RETURN 'a\xFF'\n"
        "         ^");
}

namespace {

// The time of the first transaction of `db`, as errors show it (it varies with the run).
std::string FirstTxTime(Database& db) {
  auto first = db.store()->Transactions(0, 1);
  REQUIRE(first.ok());
  REQUIRE_FALSE(first->empty());
  return FormatTimestamp(first->front().time);
}

}  // namespace

TEST_CASE("AS OF outside the history and negative timeouts are errors") {
  H h;
  const std::string before = "AS OF '1999-01-01T00:00:00Z' MATCH (n) RETURN count(n)";
  CHECK(h.Error(before) ==
        Located("BadRequest/ArgumentError", 1, 7,
                "AS OF '1999-01-01T00:00:00Z' is before the first transaction (" +
                    FirstTxTime(*h.t.db) + ")",
                before));
  CHECK(h.Error("AS OF '2999-01-01T00:00:00Z' MATCH (n) RETURN count(n)") ==
        "BadRequest/ArgumentError: line 1, column 7: AS OF '2999-01-01T00:00:00Z' is in the future\n"
        "AS OF '2999-01-01T00:00:00Z' MATCH (n) RETURN count(n)\n"
        "      ^");
  TxId last = h.t.db->Read().tx();
  std::string past_end = "AS OF " + std::to_string(last + 1) + " MATCH (n) RETURN count(n)";
  CHECK(h.Error(past_end) == "BadRequest/ArgumentError: line 1, column 7: AS OF " + std::to_string(last + 1) +
                                 ": there is no such transaction (the history runs from 1 to " + std::to_string(last) +
                                 ")\n" + past_end + "\n      ^");
  CHECK(h.Error("AS OF 0 MATCH (n) RETURN count(n)") ==
        Located("BadRequest/ArgumentError", 1, 7,
                "AS OF 0: there is no such transaction (the history runs from 1 to " +
                    std::to_string(last) + ")",
                "AS OF 0 MATCH (n) RETURN count(n)"));
  CHECK(h.One("AS OF " + std::to_string(last) + " MATCH (n) RETURN count(n)").as_int() == 144);
  CHECK(h.Error("RETURN 1", {}, -5) ==
        "BadRequest/: timeout_ms must not be negative (0 means the server's limit of 30000 ms), got -5");
}

TEST_CASE("collect() and other aggregate state count against the byte budget") {
  QueryOptions small;
  small.max_query_bytes = 1 << 20;
  H h(small);
  // 144^3 = 2,985,984 triples once took 21 GB and ignored the timeout; now it stops after a
  // few thousand rows.
  CHECK(h.Error("MATCH (a), (b), (c) RETURN collect([a, b, c])") ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at once (the byte budget, max_query_bytes)");
  // DISTINCT sets and percentile lists too.
  CHECK(h.Error("MATCH (a), (b) RETURN count(DISTINCT [a, b])") ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at once (the byte budget, max_query_bytes)");
  CHECK(h.Error("MATCH (a), (b), (c) RETURN percentileDisc(1, 0.5)") ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at once (the byte budget, max_query_bytes)");
  CHECK(h.Error("MATCH (a), (b) RETURN DISTINCT [a, b]") ==
        "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at once (the byte budget, max_query_bytes)");
  // Within the budget the answers are unchanged.
  CHECK(h.One("MATCH (a) RETURN size(collect([a, a]))").as_int() == 144);
  CHECK(h.One("MATCH (a), (b) RETURN count(DISTINCT a)").as_int() == 144);
  // collect() of a list shared between rows holds little memory but would be rendered in full:
  // its list is held to the budget written out in full.
  CHECK(h.Error("UNWIND range(1, 40) AS i WITH $l AS l, i RETURN collect(l)", {{"l", QValue(QList(1000, QValue(1)))}}) ==
        "ResourceExhausted/ResourceExhausted: line 1, column 49: collect() needs more than 1048576 bytes (the byte budget, max_query_bytes)\n"
        "UNWIND range(1, 40) AS i WITH $l AS l, i RETURN collect(l)\n"
        "                                                ^");
}

TEST_CASE("values the query builds count against the byte budget") {
  QueryOptions small;
  small.max_query_bytes = 1 << 20;
  H h(small);
  QMap s{{"s", QValue(std::string(600000, 'x'))}};
  auto located = [](const std::string& query, size_t column, const std::string& what) {
    return "ResourceExhausted/ResourceExhausted: line 1, column " + std::to_string(column) + ": " + what +
           " needs more than 1048576 bytes (the byte budget, max_query_bytes)\n" + query + "\n" +
           std::string(column - 1, ' ') + "^";
  };
  CHECK(h.Error("RETURN size(range(1, 1000000))") == located("RETURN size(range(1, 1000000))", 13, "range()"));
  CHECK(h.Error("RETURN size($s + $s)", s) == located("RETURN size($s + $s)", 13, "string concatenation"));
  CHECK(h.Error("RETURN size([$s, $s])", s) == located("RETURN size([$s, $s])", 13, "a value built here"));
  CHECK(h.Error("RETURN size({a: $s, b: $s})", s) == located("RETURN size({a: $s, b: $s})", 13, "a value built here"));
  CHECK(h.Error("RETURN size(split($s, ''))", s) == located("RETURN size(split($s, ''))", 13, "split()"));
  QMap t{{"s", QValue(std::string(2000, 'x'))}};
  CHECK(h.Error("RETURN size(replace($s, 'x', $s))", t) == located("RETURN size(replace($s, 'x', $s))", 13, "replace()"));
  // Doubling a shared list costs no memory but renders, hashes and compares in full: 2^15
  // elements written out pass the budget.
  std::string doubling = "WITH [1] AS x";
  for (int i = 0; i < 15; ++i) doubling += " WITH [x, x] AS x";
  doubling += " RETURN size(x)";
  size_t at = 0;  // the 13th doubling passes 1 MiB: 184 * 2^13 bytes
  for (int i = 0; i < 13; ++i) at = doubling.find("[x, x]", at + 1);
  CHECK(h.Error(doubling) == located(doubling, at + 1, "a value built here"));
  CHECK(h.One("RETURN size(range(1, 20000)) AS n").as_int() == 20000);
}

TEST_CASE("the answer counts against the byte budget, records included") {
  QueryOptions small;
  small.max_query_bytes = 20000;
  H h(small);
  // The aggregation holds 144 node ids (about 6 KB); the answer renders 144 CIs with their
  // attributes.
  CHECK(h.Error("MATCH (a) RETURN collect(a)") ==
        "ResourceExhausted/ResourceExhausted: the answer needs more than 20000 bytes in memory at once (the byte budget, max_query_bytes)");
  CHECK(h.Error("MATCH (a) RETURN a") ==
        "ResourceExhausted/ResourceExhausted: the answer needs more than 20000 bytes in memory at once (the byte budget, max_query_bytes)");
  auto r = h.Run("MATCH (a) RETURN collect(a)[0..3] AS a");
  REQUIRE(r.ok());
  REQUIRE(r->rows[0][0].as_list().size() == 3);
  CHECK(r->rows[0][0].as_list()[0].as_node().record != nullptr);  // records attached
  // The row cap still applies first.
  QueryOptions few;
  few.max_rows = 10;
  H f(few);
  auto t = f.Run("UNWIND range(1, 1000) AS i RETURN i");
  REQUIRE(t.ok());
  CHECK(t->rows.size() == 10);
  CHECK(t->truncated);
}

TEST_CASE("values built at run time nest at most 100 levels") {
  H h;
  std::string q = "WITH 1 AS x";
  for (int i = 0; i < 101; ++i) q += " WITH [x] AS x";
  q += " RETURN x";
  size_t last = q.rfind("[x]");
  CHECK(h.Error(q) == "ResourceExhausted/ResourceExhausted: line 1, column " + std::to_string(last + 1) +
                          ": a value built here nests lists and maps deeper than 100 levels\n" + q + "\n" +
                          std::string(last, ' ') + "^");
  // 100 levels are fine, and so is a parameter of 100 levels...
  q = "WITH 1 AS x";
  for (int i = 0; i < 100; ++i) q += " WITH {a: x} AS x";
  CHECK(h.One(q + " RETURN size(keys(x))").as_int() == 1);
  QValue deep(int64_t{1});
  for (int i = 0; i < 100; ++i) deep = QValue(QList{deep});
  CHECK(h.One("RETURN size($p)", {{"p", deep}}).as_int() == 1);
  // ... but not one level more, built by a list, a function or collect().
  CHECK(h.Error("RETURN [$p]", {{"p", deep}}) ==
        "ResourceExhausted/ResourceExhausted: line 1, column 8: a value built here nests lists and maps deeper than "
        "100 levels\nRETURN [$p]\n       ^");
  CHECK(h.Error("UNWIND [1, 2] AS i RETURN collect($p)", {{"p", deep}}) ==
        "ResourceExhausted/ResourceExhausted: line 1, column 27: a value built here nests lists and maps deeper than "
        "100 levels\nUNWIND [1, 2] AS i RETURN collect($p)\n                          ^");
}

TEST_CASE("a server-wide budget bounds what all running queries hold together") {
  QueryOptions opts;
  opts.max_total_query_bytes = 4 << 20;
  H h(opts);
  const std::string query = "UNWIND range(1, 20000) AS i RETURN i";  // about 1.3 MB of rows
  REQUIRE(h.Run(query).ok());
  CHECK(h.engine.memory().used() == 0);  // all given back
  // Other queries hold all but 512 KiB.
  REQUIRE(h.engine.memory().Reserve((4 << 20) - (512 << 10)));
  CHECK(h.Error(query) ==
        "ResourceExhausted/ResourceExhausted: the running queries together need more than 4194304 bytes in memory "
        "(the server-wide budget, max_total_query_bytes)");
  CHECK(h.engine.memory().used() == (4 << 20) - (512 << 10));  // the failed query gave back its part
  h.engine.memory().Release((4 << 20) - (512 << 10));
  CHECK(h.Run(query).ok());
  // A budget failure releases too.
  QueryOptions small;
  small.max_query_bytes = 1 << 20;
  H s(small);
  CHECK_FALSE(s.Run("MATCH (a), (b), (c) RETURN collect([a, b, c])").ok());
  CHECK(s.engine.memory().used() == 0);
}

TEST_CASE("long loops inside expressions honour the timeout") {
  H h;
  // 10^12 steps that hold no memory: only the deadline stops them.
  for (const char* q : {"RETURN any(x IN range(1, 1000000) WHERE any(y IN range(1, 1000000) WHERE y < 0)) AS a",
                        "RETURN size([x IN range(1, 1000000) WHERE size([y IN range(1, 1000000) WHERE y < 0]) > 0]) AS a"}) {
    auto r = h.Run(q, {}, 200);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(r.status().message() == "the query ran past its time limit and was stopped");
  }
}

TEST_CASE("the nesting scan ends comments and strings where the grammar does") {
  H h;
  // "\r" ends a // comment for the grammar: the brackets after it are code. The scan once read
  // on to "\n", never saw them, and 700 levels overflowed the parser's stack.
  for (const char* end : {"\r", "\n", "\r\n"}) {
    std::string q = std::string("RETURN 1 AS x // c") + end + ", " + Repeat("(", 1000) + "1" + Repeat(")", 1000) + " AS y";
    INFO((end[0] == '\r' ? "CR" : "LF"));
    std::string error = h.Error(q);
    size_t at = q.find('(') + 64;  // the 65th bracket
    std::string message = "brackets and CASE nest deeper than 64 levels";
    // (located errors count a bare "\r" as a line end too)
    size_t second = q.find(end) + std::string(end).size();  // where line 2 starts
    CHECK(error ==
          Located("ResourceExhausted/SyntaxError", 2, at - second + 1, message, q.substr(second)));
  }
  // Unterminated strings and comments are no tokens: the brackets after them count.
  const std::string too_deep = "brackets and CASE nest deeper than 64 levels";
  std::string in_string = "RETURN '" + Repeat("(", 100);
  CHECK(h.Error(in_string) == Located("ResourceExhausted/SyntaxError", 1, 73, too_deep, in_string));
  std::string in_comment = "RETURN 1 /* " + Repeat("(", 100);
  CHECK(h.Error(in_comment) == Located("ResourceExhausted/SyntaxError", 1, 77, too_deep, in_comment));
  // CASE with a bracketed subject, and CASE as a map value or after a slice's dots, nests too.
  std::string subjects = "RETURN " + Repeat("CASE(", 40) + "1" + Repeat(") WHEN 1 THEN 1 END", 40);
  CHECK(h.Error(subjects) == Located("ResourceExhausted/SyntaxError", 1, 168, too_deep, subjects));
  std::string values = "RETURN " + Repeat("{a: CASE WHEN 1 THEN ", 40) + "1" + Repeat(" END}", 40);
  CHECK(h.Error(values) == Located("ResourceExhausted/SyntaxError", 1, 680, too_deep, values));
  // At the limit the same text parses.
  auto ok = h.Run("RETURN 1 AS x // c\r, " + Repeat("(", 64) + "1" + Repeat(")", 64) + " AS y");
  REQUIRE(ok.ok());
  CHECK(ok->rows[0][1].as_int() == 1);
}

TEST_CASE("differential: the grammar never nests deeper than the scan counts") {
  // Random texts from brackets, quotes, escapes, comment markers, line ends (\r, \n, U+2028,
  // U+0085), CASE/END and a few tokens: whatever the grammar makes of them, its expression
  // levels never pass the scan's bracket levels + 1 (the top level).
  const std::vector<std::string> pieces = {
      "(", ")", "[", "]", "{", "}", "'", "\"", "`", "\\", "//", "/*", "*/", "/", "*", "\r", "\n",
      "\xE2\x80\xA8", "\xC2\x85", " ", "CASE ", " WHEN 1 THEN ", " END", "1", "a", ":", ".", "..", "$",
      ",", "|", " IN ", "x", "{a: ", "RETURN ", "MATCH (n) WHERE ", "end(", "CASE("};
  std::mt19937 rng(20260101);
  int checked = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = round % 2 ? "RETURN " : "";
    size_t len = 1 + rng() % 40;
    for (size_t i = 0; i < len; ++i) text += pieces[rng() % pieces.size()];
    auto grammar = detail::GrammarNestingDepth(text);
    int scan = detail::ScanNestingDepth(text);
    INFO(text);
    REQUIRE(grammar.has_value());  // short texts stay under the grammar's own limit
    REQUIRE(*grammar <= scan + 1);
    if (*grammar > 1) ++checked;
  }
  CHECK(checked > 1000);  // the texts did nest
}

TEST_CASE("syntax errors name what was expected in words, never a C++ type") {
  H h;
  const std::string clause =
      "expected clause (MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN, CREATE, INSERT, MERGE, SET, "
      "REMOVE, DELETE, DETACH DELETE, FOREACH, CALL or OPTIONAL CALL), found ";
  CHECK(h.Error("   ") == "BadRequest/SyntaxError: line 1, column 4: " + clause + "the end of the query\n   \n   ^");
  CHECK(h.Error("") == "BadRequest/SyntaxError: line 1, column 1: " + clause + "the end of the query\n\n^");
  CHECK(h.Error("// c") == "BadRequest/SyntaxError: line 1, column 5: " + clause + "the end of the query\n// c\n    ^");
  CHECK(h.Error("/* c */") == "BadRequest/SyntaxError: line 1, column 8: " + clause + "the end of the query\n/* c */\n       ^");
  CHECK(h.Error(";") == "BadRequest/SyntaxError: line 1, column 1: " + clause + "';'\n;\n^");
  CHECK(h.Error("EXPLAIN") == "BadRequest/SyntaxError: line 1, column 8: " + clause + "the end of the query\nEXPLAIN\n       ^");
  CHECK(h.Error("AS OF 1") == "BadRequest/SyntaxError: line 1, column 8: " + clause + "the end of the query\nAS OF 1\n       ^");
  CHECK(h.Error("PROFILE ;") == "BadRequest/SyntaxError: line 1, column 9: " + clause + "';'\nPROFILE ;\n        ^");
  CHECK(h.Error("RETURN 1 foo") ==
        "BadRequest/SyntaxError: line 1, column 10: expected the end of the query, found "
        "'foo'\nRETURN 1 foo\n         ^");
  // Lists and alternatives behind an expectation have names too.
  CHECK(h.Error("MATCH (n) RETURN n ORDER BY") ==
        "BadRequest/SyntaxError: line 1, column 28: expected sort item, found the end of the query\n"
        "MATCH (n) RETURN n ORDER BY\n                           ^");
  CHECK(h.Error("MERGE (n) ON DELETE SET n.a = 1") ==
        "BadRequest/SyntaxError: line 1, column 14: expected MATCH or CREATE, found 'DELETE'\n"
        "MERGE (n) ON DELETE SET n.a = 1\n             ^");
  CHECK(h.Error("RETURN CASE 1 END") ==
        "BadRequest/SyntaxError: line 1, column 15: expected WHEN, found 'END'\nRETURN CASE 1 "
        "END\n              ^");
  CHECK(h.Error("MATCH (n) SET n.a = ") ==
        "BadRequest/SyntaxError: line 1, column 21: expected expression, found the end of the query\n"
        "MATCH (n) SET n.a = \n                    ^");
  CHECK(h.Error("RETURN [1][") ==
        "BadRequest/SyntaxError: line 1, column 12: expected expression, found the end of the query\nRETURN [1][\n           ^");
  // The safety net for any expectation X3 would name by its C++ type.
  CHECK(parsing::ReadableExpectation("N5boost6spirit2x38sequenceINS2_IS3_E", "a query") == "a query");
  CHECK(parsing::ReadableExpectation("')'", "a query") == "')'");
}

TEST_CASE("operators and functions that build lists and strings charge before they allocate") {
  QueryOptions small;
  small.max_query_bytes = 1 << 20;
  H h(small);
  const std::string budget =
      "ResourceExhausted/ResourceExhausted: the query needs more than 1048576 bytes in memory at once (the byte budget, "
      "max_query_bytes)";
  // Each list is within the budget, together they are not: the outside tester's
  // range(1,10000000) + range(1,10000000) + range(1,10000000) took 3.75 GB against 1 GiB.
  CHECK(h.Error("RETURN size(range(1, 10000) + range(1, 10000) + range(1, 10000)) AS n") == budget);
  CHECK(h.Error("RETURN size(range(1, 10000) + range(1, 10000)) AS n") == budget);
  QMap s{{"s", QValue(std::string(300000, 'x'))}};
  CHECK(h.Error("RETURN size($s + $s + $s) AS n", s) == budget);
  CHECK(h.Error("RETURN size(reverse(range(1, 15000))) AS n") == budget);
  CHECK(h.Error("RETURN size(tail(range(1, 15000))) AS n") == budget);
  CHECK(h.Error("RETURN size(range(1, 15000)[1..]) AS n") == budget);
  CHECK(h.Error("RETURN size([x IN range(1, 10000) | x]) AS n") == budget);
  CHECK(h.Error("RETURN size(split($s + $s, 'y')) AS n", s) == budget);
  CHECK(h.Error("RETURN size(replace($s, 'y', 'z') + $s + $s) AS n", s) == budget);
  CHECK(h.Error("RETURN size(toUpper($s) + toLower($s)) AS n", s) == budget);
  // A list alone past the budget names what built it, before it is built.
  CHECK(h.Error("RETURN size($l + $l) AS n", {{"l", QValue(QList(15000, QValue(1)))}}) ==
        "ResourceExhausted/ResourceExhausted: line 1, column 13: list concatenation needs more than 1048576 bytes (the "
        "byte budget, max_query_bytes)\nRETURN size($l + $l) AS n\n            ^");
  // What one row's expression built is given back when it is done: row after row is fine.
  CHECK(h.One("UNWIND range(1, 50) AS i WITH size(range(1, 10000) + [i]) AS n RETURN sum(n) AS s").as_int() ==
        50 * 10001);
  CHECK(h.One("RETURN size(range(1, 5000) + range(1, 5000)) AS n").as_int() == 10000);
  // The server-wide account is charged too, and everything is given back.
  QueryOptions shared;
  shared.max_total_query_bytes = 4 << 20;
  H w(shared);
  REQUIRE(w.engine.memory().Reserve((4 << 20) - (512 << 10)));
  CHECK(w.Error("RETURN size(range(1, 10000) + range(1, 10000)) AS n") ==
        "ResourceExhausted/ResourceExhausted: the running queries together need more than 4194304 bytes in memory "
        "(the server-wide budget, max_total_query_bytes)");
  CHECK(w.engine.memory().used() == (4 << 20) - (512 << 10));
  w.engine.memory().Release((4 << 20) - (512 << 10));
  CHECK(w.One("RETURN size(range(1, 10000) + range(1, 10000)) AS n").as_int() == 20000);
  CHECK(w.engine.memory().used() == 0);
}

TEST_CASE("AS OF refuses impossible times with the reason") {
  H h;
  auto refused = [&](const std::string& time, const std::string& why) {
    std::string q = "AS OF '" + time + "' MATCH (n) RETURN count(n)";
    CHECK(h.Error(q) == "BadRequest/ArgumentError: line 1, column 7: AS OF '" + time + "': " + why + "\n" + q +
                            "\n      ^");
  };
  refused("2026-01-01T00:00:00+25:00", "the time zone offset +25:00 is past +-18:00");
  refused("2026-01-01T00:00:00-18:01", "the time zone offset -18:01 is past +-18:00");
  refused("2026-01-01T00:00:00+01:60", "the time zone offset +01:60 has minutes past 59");
  refused("2026-01-01T00:60:00Z", "minute 60 does not exist (00 to 59)");
  refused("2026-01-01T00:00:60Z", "second 60 does not exist (00 to 59)");
  refused("2026-01-01T24:00:00Z", "hour 24 does not exist (00 to 23)");
  refused("2025-04-31", "day 31 does not exist in 2025-04");
  refused("2025-02-29T00:00:00Z", "day 29 does not exist in 2025-02");
  refused("2025-13-01", "month 13 does not exist");
  CHECK(h.Error("AS OF '2025-01-01T00:00:00Zjunk' RETURN 1") ==
        "BadRequest/ArgumentError: line 1, column 7: AS OF needs an ISO-8601 date-time such as '2026-01-31T12:00:00Z'\n"
        "AS OF '2025-01-01T00:00:00Zjunk' RETURN 1\n      ^");
  // Real times with offsets up to 18:00 are read as before.
  const std::string offset = "AS OF '2024-02-29T23:59:59.5-18:00' MATCH (n) RETURN count(n)";
  CHECK(h.Error(offset) ==
        Located("BadRequest/ArgumentError", 1, 7,
                "AS OF '2024-02-29T23:59:59.5-18:00' is before the first transaction (" +
                    FirstTxTime(*h.t.db) + ")",
                offset));
}

TEST_CASE("toUpper, toLower and trim work on characters: simple case mappings, Unicode white space") {
  H h;
  // The outside tester's inputs: once returned unchanged.
  CHECK(h.One("RETURN toUpper('ǆß😀')").as_string() == "Ǆß😀");  // ß's upper case is two characters
  CHECK(h.One("RETURN toLower('ǅİ')").as_string() == "ǆi");
  CHECK(h.One("RETURN trim('\u3000 x\u00A0\u2028')").as_string() == "x");
  CHECK(h.One("RETURN ltrim('\u3000x\u3000')").as_string() == "x\u3000");
  CHECK(h.One("RETURN rtrim('\u3000x\u3000')").as_string() == "\u3000x");
  // Latin, Greek, Cyrillic and full-width letters both ways.
  CHECK(h.One("RETURN toUpper('àéîõüÿāłőž')").as_string() == "ÀÉÎÕÜŸĀŁŐŽ");
  CHECK(h.One("RETURN toLower('ÀÉÎÕÜŸĀŁŐŽ')").as_string() == "àéîõüÿāłőž");
  CHECK(h.One("RETURN toUpper('αβγςωάώ')").as_string() == "ΑΒΓΣΩΆΏ");
  CHECK(h.One("RETURN toLower('ΑΒΓΣΩΆΏ')").as_string() == "αβγσωάώ");
  CHECK(h.One("RETURN toUpper('привет ёї')").as_string() == "ПРИВЕТ ЁЇ");
  CHECK(h.One("RETURN toLower('ПРИВЕТ ЁЇ')").as_string() == "привет ёї");
  CHECK(h.One("RETURN toUpper('ａｂｃ')").as_string() == "ＡＢＣ");
  CHECK(h.One("RETURN toLower('ＡＢＣ')").as_string() == "ａｂｃ");
  CHECK(h.One("RETURN toUpper('世界 1x')").as_string() == "世界 1X");
  CHECK(h.One("RETURN trim('  世界  ')").as_string() == "世界");
}

TEST_CASE("variable-length bounds are integer literals; anything else is a located error") {
  // Found by the query fuzzer: `*...1` reads as `*` `..` `.1`, and the float bound threw a C++
  // exception out of the binder.
  H h;
  CHECK(h.Error("MATCH (a)-[r*...1]->(b) RETURN r") ==
        "BadRequest/SyntaxError: line 1, column 16: a variable-length bound must be an integer, not .1\n"
        "MATCH (a)-[r*...1]->(b) RETURN r\n"
        "               ^");
  CHECK(h.Error("MATCH (a)-[r*1.5]->(b) RETURN r") ==
        "BadRequest/SyntaxError: line 1, column 14: a variable-length bound must be an integer, not 1.5\n"
        "MATCH (a)-[r*1.5]->(b) RETURN r\n"
        "             ^");
  CHECK(h.Error("MATCH (a)-[r*..99999999999999999999]->(b) RETURN r") ==
        "BadRequest/SyntaxError: line 1, column 16: integer literal 99999999999999999999 is out of range\n"
        "MATCH (a)-[r*..99999999999999999999]->(b) RETURN r\n"
        "               ^");
  CHECK(h.Error("MATCH (a)-[r*0o9]->(b) RETURN r") ==
        "BadRequest/SyntaxError: line 1, column 14: invalid octal literal 0o9\n"
        "MATCH (a)-[r*0o9]->(b) RETURN r\n"
        "             ^");
  // Hex and octal bounds mean what they say (they used to read as 0).
  const char* q = "MATCH (s:BusinessService {name: 'Payments'})-[*%s]->(x) RETURN count(*)";
  auto count = [&](const char* range) {
    char text[200];
    std::snprintf(text, sizeof text, q, range);
    return h.One(text).as_int();
  };
  CHECK(count("2..3") > 0);
  CHECK(count("0x2..0o3") == count("2..3"));
  CHECK(count("0x2..0o3") != count("0..0"));
}

TEST_CASE("a flat chain as long as a request body allows binds in one pass") {
  // Found by the query fuzzer: re-reading every operand's depth after each one made a 40,000-term
  // sum take seconds, so a 1 MiB query of `+1` would have held a worker for hours.
  H h;
  CHECK(h.One("RETURN 1" + Repeat("+1", 400000)).as_int() == 400001);
  CHECK(h.One("RETURN 0" + Repeat(" < 1 <= 1", 60000)).as_bool() == false);
  CHECK(h.One("RETURN 0 < 1" + Repeat(" <= 1", 100000)).as_bool());
}

TEST_CASE("found by the outside tester: unbounded shortest paths, reduce's budget, duration overflow") {
  H h;
  // An unbounded undirected shortestPath between two different CIs is a pruned breadth-first
  // search; it used to enumerate every trail from the first one, looking for cycles back to it.
  CHECK(h.One("MATCH p = shortestPath((a:Application {name: 'shop-api'})-[*]-(s:Switch {name: 'fra1-core-sw1'})) "
              "RETURN length(p)").as_int() ==
        h.One("MATCH p = shortestPath((a:Application {name: 'shop-api'})-[*..6]-(s:Switch {name: 'fra1-core-sw1'})) "
              "RETURN length(p)").as_int());
  CHECK(h.One("MATCH p = ANY SHORTEST (a:Application {name: 'shop-api'})-[*]-(s:Switch {name: 'fra1-core-sw1'}) "
              "RETURN length(p)").as_int() == 4);
  // Only reduce()'s accumulator stays built, not every intermediate value.
  CHECK(h.One("RETURN size(reduce(t = [], x IN range(1, 20000) | t + [x]))").as_int() == 20000);
  CHECK(h.One("RETURN size(reduce(s = '', x IN range(1, 60000) | s + 'abcde'))").as_int() == 300000);
  CHECK(h.Error("RETURN duration({hours: 3000000}).nanoseconds") ==
        "BadRequest/ArgumentError: line 1, column 35: duration.nanoseconds does not fit in a 64-bit integer\n"
        "RETURN duration({hours: 3000000}).nanoseconds\n"
        "                                  ^");
  CHECK(h.One("RETURN toString(duration.inSeconds(datetime('2026-01-01T00:00Z'), datetime('2026-01-02T01:00Z')))")
            .as_string() == "PT25H");
  CHECK(h.One("RETURN duration.inSeconds(date('2026-01-01'), date('2026-01-03')).seconds").as_int() == 172800);
}

TEST_CASE("a DATE attribute in a pattern's property map compares as a date, as in WHERE") {
  // Found by the outside tester: the stored text equalled a string in `{eol_date: '...'}`.
  H h;
  const std::string when = h.One("MATCH (sw:Software) WHERE sw.eol_date IS NOT NULL "
                                 "RETURN toString(min(sw.eol_date))").as_string();
  CHECK(h.One("MATCH (sw:Software {eol_date: '" + when + "'}) RETURN count(sw)").as_int() == 0);
  CHECK(h.One("MATCH (sw:Software {eol_date: $d}) RETURN count(sw)", QMap{{"d", QValue(when)}}).as_int() == 0);
  CHECK(h.One("MATCH (sw:Software) WHERE sw.eol_date = '" + when + "' RETURN count(sw)").as_int() == 0);
  CHECK(h.One("MATCH (sw:Software {eol_date: date('" + when + "')}) RETURN count(sw)").as_int() ==
        h.One("MATCH (sw:Software) WHERE sw.eol_date = date('" + when + "') RETURN count(sw)").as_int());
  CHECK(h.One("MATCH (sw:Software {eol_date: date('" + when + "')}) RETURN count(sw)").as_int() >= 1);
}
