// What the importer tests share: the bytes of a file under tests/data/ and the default source
// precedence. Header-only; for tests.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace cmdb::testing
