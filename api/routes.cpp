#include "api/routes.hpp"

#include <algorithm>

#include "api/api.hpp"

namespace cmdb::api {
namespace {

// The non-empty segments of a path, as views into it.
std::vector<std::string_view> SegmentViews(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// Whether a pattern's segments match a path's; counts the literal ones.
bool PatternMatches(const std::vector<std::string_view>& parts,
                    const std::vector<std::string_view>& segments, int& literals) {
  if (parts.size() != segments.size()) return false;
  literals = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].front() == '{') continue;
    if (parts[i] != segments[i]) return false;
    ++literals;
  }
  return true;
}

}  // namespace

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string_view> views = SegmentViews(path);
  return std::vector<std::string>(views.begin(), views.end());
}

std::vector<Route> CompileRoutes(std::vector<Route> routes) {
  for (Route& r : routes) r.parts = SegmentViews(r.pattern);
  return routes;
}

RouteMatch MatchRoute(const std::vector<Route>& routes, std::string_view method,
                      std::string_view path) {
  RouteMatch m;
  m.segments = SegmentViews(path);
  const std::vector<std::string_view>& segments = m.segments;
  std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  int best = -1;
  for (const Route& r : routes) {
    int literals = 0;
    bool matches = r.parts.empty() ? PatternMatches(SegmentViews(r.pattern), segments, literals)
                                   : PatternMatches(r.parts, segments, literals);
    if (!matches || literals < best) continue;
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
