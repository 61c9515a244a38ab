// Query parameters: each route of the routing table (api/route_table.cpp) names the parameters it
// takes, and CheckParams refuses the rest before the handler runs (a typo or a second value must
// not be silently resolved).
// Thread safety: pure functions.
#pragma once

#include <span>
#include <string_view>

#include "api/http_types.hpp"
#include "cmdb/status.hpp"

namespace cmdb::api {

// What a parameter's value must look like. kText values are checked by the handler.
enum class ParamKind {
  kText,
  kPositiveInt,     // 1, 2, ... ("limit", "cursor")
  kNonNegativeInt,  // 0, 1, ... ("offset")
  kBool,            // true or false
};

struct ParamSpec {
  std::string_view name;  // with `prefix`: the prefix ("where.")
  ParamKind kind = ParamKind::kText;
  bool repeatable = false;  // may be given more than once (none is today)
  bool prefix = false;      // names `name` + something ("where.<attribute>"); each may be given once
  // Not empty: a parameter the route does not take, named to say why (refused as unknown, with
  // this reason in parentheses, and not listed as allowed).
  std::string_view refused = {};
};

// A parameter the route refuses with a reason: `source` of POST /v1/bulk.
constexpr ParamSpec RefusedParam(std::string_view name, std::string_view why) {
  return ParamSpec{name, ParamKind::kText, false, false, why};
}

// Checks the query parameters of `req` against `params`, in the order given in the request.
// Refused with kInvalidArgument (HTTP 400) and details.parameter naming it:
//   an empty name:  "a query parameter of GET /v1/cis has no name"
//   a prefix alone: "parameter 'where.' of GET /v1/cis names nothing after 'where.'"
//   an unknown one: "unknown parameter 'lmit' for GET /v1/cis (did you mean 'limit'?); allowed:
//                    class, where.<attribute>, limit, cursor"
//   a refused one:  "unknown parameter 'source' for POST /v1/bulk (<refused>); allowed: refs,
//                    change"
//   a repeated one: "parameter 'limit' is given 2 times; give it once"
//   a bad value:    "invalid limit 'abc': expected a positive integer", "invalid offset '-1':
//                    expected a non-negative integer", "invalid refs 'maybe': expected true or
//                    false"
Status CheckParams(const HttpRequest& req, std::span<const ParamSpec> params);

}  // namespace cmdb::api
