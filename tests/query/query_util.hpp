// A demo database with a query engine over it, for the query tests: run a query as "tester" and
// read its answer or its error. Header-only; for tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "query/engine.hpp"
#include "test_util.hpp"

namespace cmdb::testing {

struct QueryHarness {
  // The demo data under the default schema, with time from `clock`.
  explicit QueryHarness(const Clock* clock = Clock::System()) : t(true, false, clock) {}

  TestDb t;
  gql::QueryEngine engine{*t.db, gql::QueryOptions{}};

  Result<gql::QueryResult> Run(const std::string& text, gql::QMap params = {}) {
    gql::QueryRequest r;
    r.text = text;
    r.parameters = std::move(params);
    r.meta.actor = "tester";
    return engine.Run(r);
  }
  // The answer of a query that must succeed.
  gql::QueryResult Ok(const std::string& text, gql::QMap params = {}) {
    auto r = Run(text, std::move(params));
    INFO(text << " -> " << r.status().message());
    REQUIRE(r.ok());
    return *r;
  }
  // "Type: message" of a query that must fail.
  std::string Error(const std::string& text) {
    auto r = Run(text);
    REQUIRE_FALSE(r.ok());
    return r.status().type() + ": " + r.status().message();
  }
};

}  // namespace cmdb::testing
