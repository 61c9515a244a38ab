// What the importer tests share: the bytes of a file under tests/data/ and the default source
// precedence. Header-only; for tests.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "importers/formats.hpp"
#include "importers/import.hpp"
#include "test_util.hpp"

namespace cmdb::testing {

// The whole of tests/data/<name> (a failed REQUIRE when it cannot be read).
inline std::string Data(const std::string& name) {
  std::ifstream in(SourceDir() + "/tests/data/" + name, std::ios::binary);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The precedence the default configuration gives the importers' sources.
inline importers::Precedence DefaultPrecedence() {
  importers::Precedence p;
  p.order = {"manual", "terraform", "aws", "kubernetes", "ansible", "csv", "ndjson", "nmap"};
  return p;
}

// The number of CIs of `cls` and its subclasses in `t`.
inline size_t CountOf(TestDb& t, const std::string& cls) {
  ReadView v = t.db->Read();
  size_t n = 0;
  for (const auto& c : v.schema().ClassAndDescendants(cls)) n += v.graph().Extent(c).size();
  return n;
}

// The first CI of `cls` (or a subclass) whose `attr` is `value`; nullptr when none. Valid until
// the next write.
inline const CiRecord* FindWith(TestDb& t, const std::string& cls, const std::string& attr,
                                const Value& value) {
  ReadView v = t.db->Read();
  for (const auto& c : v.schema().ClassAndDescendants(cls)) {
    for (CiId id : v.graph().Extent(c)) {
      const CiRecord* r = v.graph().FindCi(id);
      if (r->attrs.Get(attr) == value) return r;
    }
  }
  return nullptr;
}

// Parses `text` as `format` with `parse` (its schema set here: ndjson lines are read against it)
// and imports the candidates into `t` with `opt`; fails the test on an error of either, with the
// record errors listed. Returns the import's report.
inline importers::ImportReport ParseAndImport(TestDb& t, const std::string& format,
                                              const std::string& text,
                                              importers::ParseOptions parse,
                                              const importers::ImportOptions& opt) {
  importers::CandidateSet set;
  auto schema = t.db->schema();
  parse.schema = schema.get();
  Status st = importers::ParseSource(format, text, parse, set);
  INFO(st.ToString());
  REQUIRE(st.ok());
  importers::ImportReport report;
  st = importers::RunImport(*t.db, set, opt, report);
  for (const auto& e : report.errors) UNSCOPED_INFO(e.location << ": " << e.message);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return report;
}

}  // namespace cmdb::testing
