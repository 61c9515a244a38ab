#include "api/routes.hpp"

#include <algorithm>

#include "api/api.hpp"

namespace cmdb::api {
namespace {

// Whether `pattern` matches the path's segments; counts its literal segments.
bool PatternMatches(std::string_view pattern, const std::vector<std::string>& segments,
                    int& literals) {
  literals = 0;
  size_t i = 0;
  size_t start = 1;  // after the leading '/'
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string_view::npos) slash = pattern.size();
    std::string_view part = pattern.substr(start, slash - start);
    start = slash + 1;
    if (part.empty()) continue;
    if (i == segments.size()) return false;
    if (part.front() == '{') {
      ++i;
      continue;
    }
    if (segments[i++] != part) return false;
    ++literals;
  }
  return i == segments.size();
}

}  // namespace

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

RouteMatch MatchRoute(const std::vector<Route>& routes, std::string_view method,
                      std::string_view path) {
  RouteMatch m;
  m.segments = PathSegments(path);
  std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  int best = -1;
  for (const Route& r : routes) {
    int literals = 0;
    if (!PatternMatches(r.pattern, m.segments, literals) || literals < best) continue;
    if (literals > best) {
      best = literals;
      m.route = nullptr;
      m.allowed.clear();
    }
    if (std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end())
      m.allowed.push_back(r.method);
    if (r.method == wanted && !m.route) m.route = &r;
  }
  return m;
}

std::string AllowHeader(const std::vector<std::string_view>& methods) {
  std::string out;
  for (std::string_view m : methods) {
    out += (out.empty() ? "" : ", ") + std::string(m);
    if (m == "GET") out += ", HEAD";  // served as GET
  }
  return out;
}

HttpResponse Denied(const Principal& who, Permission p, const std::string& what) {
  return ErrorResponse(Status(StatusCode::kPermissionDenied,
                              "token '" + who.name + "' has role " + RoleName(who.role) +
                                  ", which may not " + (what.empty() ? PermissionName(p) : what))
                           .With("role", RoleName(who.role))
                           .With("needs", PermissionName(p)));
}

bool Call::Declares(Permission p) const {
  return (route.access.token && route.access.permission == p) ||
         std::find(route.also.begin(), route.also.end(), p) != route.also.end();
}

bool Call::Allows(Permission p) const { return Declares(p) && cmdb::Allows(who.role, p); }

std::optional<HttpResponse> Call::Require(Permission p, const std::string& what) const {
  if (!Declares(p))
    return ErrorResponse(Status::Internal(
        "the route " + std::string(route.method) + " " + std::string(route.pattern) +
        " checks the permission '" + PermissionName(p) +
        "', which its row of the routing table does not declare"));
  if (cmdb::Allows(who.role, p)) return std::nullopt;
  return Denied(who, p, what);
}

}  // namespace cmdb::api
