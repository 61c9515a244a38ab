// The routing table's row type and its matcher.
//
// Every endpoint is one Route: method, path pattern, who may call it (no token, or a token whose
// role has a permission), the handler, the query parameters it takes, the permissions its
// handler may check besides (by the request's content) and how its body is served. The table
// itself is Api::Routes() (api/route_table.cpp); Api::Handle matches a request against it and
// answers 401, 404, 405 (with Allow), 403, a bad path id and a bad parameter (400) there, before
// the handler runs. docs/security.md's route table and docs/openapi.yaml are tested against it.
// Thread safety: the types are plain values; the functions are pure, except Call's, which read
// their Call only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/authenticator.hpp"
#include "api/http_types.hpp"
#include "api/params.hpp"
#include "cmdb/auth.hpp"

namespace cmdb::api {

class Api;
struct Call;

// Who may call a route: a token whose role has `permission`, or anyone, without a token
// (kNoToken: only what reveals nothing of the data, such as GET /healthz).
struct Access {
  // Implicit on purpose, so that a row of the table names its permission alone.
  constexpr Access(Permission p) : permission(p) {}  // NOLINT(google-explicit-constructor)
  constexpr Access(Permission p, bool needs_token) : permission(p), token(needs_token) {}
  Permission permission;
  bool token = true;
};
inline constexpr Access kNoToken{Permission::kRead, false};

// How a route's request body is read, and against which limit of ApiOptions.
enum class Serving {
  kPlain,     // read whole, up to max_body_bytes
  kQuery,     // as kPlain, and holds one of max_concurrent_queries slots (503 when all are taken)
  kImport,    // read whole, up to max_import_bytes
  kStreamed,  // streamed to the handler (HttpRequest::read_body), up to max_bulk_bytes
};

// A handler: a member of Api that answers one matched request.
using Handler = HttpResponse (Api::*)(const Call& call);

// One row of the routing table.
struct Route {
  std::string_view method;   // "GET", "POST", "PATCH" or "DELETE" (HEAD is served as GET)
  std::string_view pattern;  // "/v1/cis/{id}/history": literal segments, {id} (a positive
                             // integer, 400 otherwise) and {name} (any segment)
  Access access;
  Handler handler;
  std::vector<ParamSpec> params = {};  // the query parameters it takes (CheckParams refuses others)
  std::vector<Permission> also = {};   // what the handler may check besides access.permission,
                                       // depending on the request (Call::Allows, Call::Require)
  Serving serving = Serving::kPlain;
  // The pattern's segments ("v1", "cis", "{id}"), views into `pattern`: set by CompileRoutes,
  // which a table goes through once (MatchRoute splits the pattern itself otherwise).
  std::vector<std::string_view> parts = {};
};

// Sets each route's `parts`; returns the table.
std::vector<Route> CompileRoutes(std::vector<Route> routes);

// The non-empty segments of a path: "/v1//cis/42/" -> {"v1", "cis", "42"}.
std::vector<std::string> PathSegments(std::string_view path);

// What a request's method and path find in a table.
struct RouteMatch {
  const Route* route = nullptr;           // the route of the method and path; null when none
  std::vector<std::string_view> allowed;  // the methods of the routes of the path, in table
                                          // order; empty when no route has the path (404)
  std::vector<std::string_view> segments;  // the path's non-empty segments, views into the
                                           // `path` given to MatchRoute
};

// Matches `method` and `path` against `routes`. Literal segments match themselves, a {...}
// segment any segment; when several patterns match the path, those with the most literal
// segments win. HEAD matches a GET route.
RouteMatch MatchRoute(const std::vector<Route>& routes, std::string_view method,
                      std::string_view path);

// The value of the Allow header for the methods of a path: "GET, HEAD, POST".
std::string AllowHeader(const std::vector<std::string_view>& methods);

// The 403 answer for `who` lacking `p`: "token 'reader-bot' has role reader, which may not
// write CIs" (`what` instead of the permission's name when given), details.role and
// details.needs.
HttpResponse Denied(const Principal& who, Permission p, const std::string& what = "");

// One request matched to its route, as its handler sees it. The router has already checked the
// token, the route's permission, the path's {id} and the query parameters.
// Ownership: refers to the request, the caller and the route, which outlive it.
struct Call {
  const HttpRequest& req;
  const Principal& who;  // the caller (empty name on kNoToken routes)
  const Route& route;
  std::vector<std::string> segments;  // the path's segments
  int64_t id = 0;                     // the pattern's {id}, parsed; 0 without one
  std::string name;                   // the pattern's {name}; empty without one

  // Whether the caller's role has `p`, for a decision that depends on the request (a writing
  // query, a transition only a change manager may make). `p` must be declared by the route
  // (access.permission or `also`): an undeclared one answers false (fail closed), and the
  // routing tests find it.
  bool Allows(Permission p) const;
  // nullopt when Allows(p); else the 403 answer (Denied with `what`), or a 500 naming the route
  // when `p` is not declared in its row.
  std::optional<HttpResponse> Require(Permission p, const std::string& what = "") const;
  // Whether the route's row declares `p`.
  bool Declares(Permission p) const;
};

}  // namespace cmdb::api
