// Parsing one bulk line: the fast way (simdjson) must read every line it accepts exactly as the
// document way (nlohmann) does, and decline the rest.
#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "query/ddl/ddl_parser.hpp"
#include "bulk/bulk_line.hpp"
#include "fuzz/bulk_line_diff.hpp"

using namespace cmdb;
using bulk::BulkEndpoint;
using bulk::BulkLine;

namespace {

const Schema& TestSchema() {
  static const Schema schema = [] {
    Schema s = Schema::Builtin(false);
    Status st = ddl::LoadSchemaDir(std::string(CMDB_SOURCE_DIR) + "/schema", s);
    if (!st.ok()) throw std::runtime_error(st.ToString());
    return s;
  }();
  return schema;
}

// The lines a discovery feed or the benchmark writes.
const std::vector<std::string> kCommonLines = {
    R"({"op":"ci","ref":"dc-0000000","class":"Datacenter","attributes":{"name":"dc-0000000","owner":"platform-team","status":"live","tier":3,"country":"DE"}})",
    R"({"op":"rel","type":"LOCATED_IN","from":{"ref":"rack-0000000"},"to":{"ref":"dc-0000000"}})",
    R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "vm-1", "cpu_count": 4, "memory_gb": 7.5, "os": "linux", "description": null}})",
    R"({"op": "rel", "type": "RUNS_ON", "from": {"class": "VirtualMachine", "key": {"name": "vm-1"}}, "to": 12})",
    R"({"op": "ci", "id": 7, "attributes": {"status": "retired", "monitored": false}})",
    R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "müller-ü-😀"}})",
    R"({"op":"rel","type":"RUNS_ON","from":3,"to":{"ref":"x"},"attributes":null})" "\r",
    R"({"op": "nope"})",
    R"({"op": "ci"})",
    R"({"op": "rel", "from": 1, "to": 2})",
    R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "vm-2", "cpu_count": "four"}})",
    R"({"op": "rel", "type": "RUNS_ON", "from": {"class": "NoSuchClass", "key": {"name": "a"}}, "to": 1})",
    R"({"op":"ci","class":"Datacenter","attributes":{"name":"n","tier":-0,"x":1e2,"y":-1.5E-3,"z":9223372036854775807}})",
};

}  // namespace

TEST_CASE("bulk lines: the fast way reads the common lines as the document way does") {
  int64_t n = 0;
  for (const std::string& text : kCommonLines) {
    ++n;
    INFO(text);
    auto fast = bulk::ParseBulkLineFast(text, n, TestSchema());
    REQUIRE(fast.has_value());
    BulkLine slow = bulk::ParseBulkLineViaDocument(text, n, TestSchema());
    CHECK(testing::BulkLineDiff(*fast, slow) == "");
  }
  // What the fields hold, for two of them.
  BulkLine ci = bulk::ParseBulkLine(kCommonLines[2], 3, TestSchema());
  REQUIRE(ci.error.ok());
  CHECK(ci.op == BulkLine::Op::kCi);
  CHECK(ci.normalized);
  CHECK(ci.attrs->Get("cpu_count") == Value(int64_t{4}));
  CHECK(ci.attrs->Get("memory_gb").kind() == Value::Kind::kFloat);
  CHECK(!ci.attrs->Has("description"));  // null: no value
  BulkLine rel = bulk::ParseBulkLine(kCommonLines[3], 4, TestSchema());
  CHECK(rel.op == BulkLine::Op::kRel);
  CHECK(rel.from.kind == BulkEndpoint::Kind::kKey);
  CHECK(rel.from.index_key.has_value());
  CHECK(rel.to.kind == BulkEndpoint::Kind::kId);
  CHECK(rel.to.id == 12);
  BulkLine dup = bulk::ParseBulkLine(kCommonLines[12], 13, TestSchema());
  CHECK(dup.attrs.ok() == false);  // closed schema: "a", "b" are not VirtualMachine attributes
  BulkLine unknown_op = bulk::ParseBulkLine(kCommonLines[7], 8, TestSchema());
  CHECK(unknown_op.error.message() == R"(unknown op "nope" ("ci" or "rel"))");
}

TEST_CASE("bulk lines outside the common shape take the document way and name their problem") {
  struct Case {
    std::string text;
    std::string error;  // of the line, or of its attributes / endpoint when the line is fine
  };
  const std::vector<Case> cases = {
      {R"({"op":"ci","class":"Datacenter","attributes":{"name":"a\"b"}})", ""},
      {R"({"op":"ci","class":"Datacenter","attributes":{"name":"x","tags":["a","b"]}})", ""},
      {R"({"op":"ci","class":"Datacenter","comment":"extra","attributes":{"name":"x"}})",
       "BadRequest: unknown field \"comment\"; allowed: op, ref, class, id, type, attributes, "
       "from, to"},
      {R"({"op":"ci","op":"ci","class":"Datacenter","attributes":{"name":"x"}})",
       "BadRequest: duplicate key \"op\" at column 12"},
      {R"({"op":"ci","class":"Datacenter","attributes":{"name":"x","name":"y"}})",
       "BadRequest: duplicate key \"name\" at column 58"},
      {R"({"op":"rel","type":"RUNS_ON","from":{"ref":"a","as":"b"},"to":1})",
       "BadRequest: unknown field \"as\" in \"from\"; allowed: ref, class, key"},
      {"{\"op\":\"ci\",\t\"class\":\"Datacenter\",\"attributes\":{\"name\":\"x\"}}", ""},
      {R"({"op":"ci","class":"Datacenter","attributes":{"name":"x","n":18446744073709551615}})",
       "BadRequest: attributes.n: integer out of range"},
      {R"({"op":"ci","class":"Datacenter","attributes":{"name":{"first":"x"}}})",
       "BadRequest: attributes.name: objects are not attribute values"},
      {R"({"op":"rel","type":"RUNS_ON","from":{"ref":5},"to":1})",
       R"(BadRequest: "from": unknown ref 5 (a ref must be defined on an earlier line))"},
      {R"({"op":"rel","type":"RUNS_ON","from":"vm-1","to":1})",
       R"(BadRequest: "from" must be an id, {"ref": ...} or {"class": ..., "key": {...}})"},
      {R"([1, 2])", "BadRequest: a line must be a JSON object"},
      {R"({"op": 1})", R"(BadRequest: missing "op" ("ci" or "rel"))"},
      {R"({"op":"ci",)",
       "BadRequest: malformed JSON at column 12: unexpected end of input; expected string literal"},
  };
  int64_t n = 0;
  for (const Case& c : cases) {
    ++n;
    INFO(c.text);
    CHECK_FALSE(bulk::ParseBulkLineFast(c.text, n, TestSchema()).has_value());
    BulkLine line = bulk::ParseBulkLine(c.text, n, TestSchema());
    CHECK(testing::BulkLineDiff(line, bulk::ParseBulkLineViaDocument(c.text, n, TestSchema())) == "");
    std::string error = !line.error.ok()                    ? line.error.ToString()
                        : !line.attrs.ok()                  ? line.attrs.status().ToString()
                        : line.from.kind == BulkEndpoint::Kind::kInvalid ? line.from.error.ToString()
                                                            : "";
    CHECK(error == c.error);
  }
}

TEST_CASE("bulk lines: mutated lines read the same both ways whenever the fast way accepts them") {
  // Deterministic mutations of the common lines: a byte dropped, replaced or inserted (bytes that
  // matter to JSON), a span repeated. Every line the fast way accepts must read as the document
  // way reads it.
  const std::string alphabet = "{}[]\",:\\ \t0123456789-+.eEtrufalsn\xc3\xa9\xff\x01";
  uint64_t state = 20261121;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  int accepted = 0, declined = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = kCommonLines[next(kCommonLines.size())];
    for (int m = 0, count = 1 + static_cast<int>(next(3)); m < count; ++m) {
      size_t at = next(text.size());
      switch (next(4)) {
        case 0: text.erase(at, 1); break;
        case 1: text[at] = alphabet[next(alphabet.size())]; break;
        case 2: text.insert(at, 1, alphabet[next(alphabet.size())]); break;
        default: text.insert(at, text.substr(at, next(12))); break;
      }
      if (text.empty()) text = "{";
    }
    auto fast = bulk::ParseBulkLineFast(text, round, TestSchema());
    if (!fast) {
      ++declined;
      continue;
    }
    ++accepted;
    std::string diff = testing::BulkLineDiff(*fast, bulk::ParseBulkLineViaDocument(text, round, TestSchema()));
    INFO(text);
    REQUIRE(diff == "");
  }
  CHECK(accepted > 2000);  // the comparison ran on many lines of each kind
  CHECK(declined > 2000);
}

TEST_CASE("bulk lines: a NUL byte is refused by both ways, never taken for the end of the line") {
  const Schema& schema = TestSchema();
  const std::string line =
      std::string(R"({"op":"ci","class":"VirtualMachine","attributes":{"name":"n3"}})") + '\0' + "x";
  CHECK_FALSE(bulk::ParseBulkLineFast(line, 1, schema).has_value());
  bulk::BulkLine doc = bulk::ParseBulkLine(line, 1, schema);
  CHECK(doc.error.message() ==
        "malformed JSON at column 64: a NUL byte outside a string (a JSON text is read to its end)");
}
