#include "api/api.hpp"

#include "api/params.hpp"

#include <charconv>
#include <exception>

#include "cmdb/text_position.hpp"

namespace cmdb::api {

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpResponse ErrorResponse(const Status& st) { return JsonResponse(HttpStatusOf(st.code()), ErrorJson(st)); }

Result<int64_t> ParseId(const std::string& text, const std::string& what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0)
    return Status::Invalid("invalid " + what + " '" + text + "': expected a positive integer")
        .With("parameter", what);
  return v;
}

Result<std::optional<int64_t>> ParseIfMatch(const std::string& header) {
  if (header.empty()) return std::optional<int64_t>();
  std::string v = header;
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  auto id = ParseId(v, "If-Match version");
  if (!id.ok()) return id.status();
  return std::optional<int64_t>(*id);
}

bool Api::AdmitQuery() {
  if (running_queries_.fetch_add(1) >= options_.max_concurrent_queries) {
    running_queries_.fetch_sub(1);
    return false;
  }
  return true;
}

bool Api::IsStreamed(const std::string& method, const std::string& path) {
  return method == "POST" && path == "/v1/bulk";
}

size_t Api::BodyLimit(const std::string& path) const {
  if (path == "/v1/bulk") return options_.max_bulk_bytes;
  if (path == "/v1/imports") return options_.max_import_bytes;
  return options_.max_body_bytes;
}

TxMeta Api::MetaFor(const HttpRequest& req, const Principal& who, const char* source) const {
  TxMeta meta;
  meta.actor = who.name;
  meta.source = source;
  meta.change_ref = req.Header("x-change-id");
  if (meta.change_ref.empty()) meta.change_ref = req.Param("change");
  meta.message = req.Header("x-message");
  return meta;
}

Result<int> Api::PageLimit(const HttpRequest& req) const {
  std::string text = req.Param("limit");
  if (text.empty()) return options_.default_page;
  auto v = ParseId(text, "limit");
  if (!v.ok()) return v.status();
  return static_cast<int>(std::min<int64_t>(*v, options_.max_page));
}

namespace {

// A refused token: 401 with the challenge that names the scheme, or what else went wrong.
HttpResponse AuthenticationError(const Status& st) {
  HttpResponse r = ErrorResponse(st);
  if (st.code() == StatusCode::kUnauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"cmdb\"");
  return r;
}

}  // namespace

std::optional<HttpResponse> Api::Admit(const HttpRequest& head, int64_t content_length) {
  try {
    if (head.path != "/healthz" || head.method != "GET") {  // the one unauthenticated endpoint
      auto who = auth_.Authenticate(head.Header("authorization"));
      if (!who.ok()) return AuthenticationError(who.status());
    }
    size_t limit = BodyLimit(head.path);
    if (content_length > 0 && static_cast<uint64_t>(content_length) > limit)
      return ErrorResponse(Status(StatusCode::kPayloadTooLarge, "request body of " + std::to_string(content_length) +
                                                                    " bytes exceeds the limit of " +
                                                                    std::to_string(limit) + " bytes")
                               .With("limit", static_cast<int64_t>(limit)));
    return std::nullopt;
  } catch (const std::exception& e) {
    return ErrorResponse(Status::Internal(std::string("unexpected error: ") + e.what()));
  }
}

HttpResponse Api::Handle(const HttpRequest& req) {
  try {
    Segments seg;
    size_t start = 1;
    while (start <= req.path.size()) {
      size_t slash = req.path.find('/', start);
      if (slash == std::string::npos) slash = req.path.size();
      if (slash > start) seg.push_back(req.path.substr(start, slash - start));
      start = slash + 1;
    }
    if (seg.size() == 1 && seg[0] == "healthz") {  // the one unauthenticated endpoint
      return req.method == "GET" ? Health() : ErrorResponse(Status::NotFound("no such endpoint"));
    }
    auto who = auth_.Authenticate(req.Header("authorization"));
    if (!who.ok()) return AuthenticationError(who.status());
    return Route(req, seg, *who);
  } catch (const std::exception& e) {
    return ErrorResponse(Status::Internal(std::string("unexpected error: ") + e.what()));
  } catch (...) {
    return ErrorResponse(Status::Internal("unexpected error"));
  }
}

HttpResponse Api::Route(const HttpRequest& req, const Segments& seg, const Principal& who) {
  const std::string& m = req.method;
  // Routes name the permission they need; a missing one answers 403.
  auto denied = [&](Permission p) -> std::optional<HttpResponse> {
    if (Allows(who.role, p)) return std::nullopt;
    return ErrorResponse(Status(StatusCode::kPermissionDenied,
                                "token '" + who.name + "' has role " + RoleName(who.role) +
                                    ", which may not " + PermissionName(p))
                             .With("role", RoleName(who.role))
                             .With("needs", PermissionName(p)));
  };
#define CMDB_REQUIRE(perm) \
  if (auto r = denied(perm)) return *r
  auto not_allowed = [&] {
    return JsonResponse(405, ErrorJson(Status::Invalid("method " + m + " is not allowed on " + req.path)));
  };
  auto id_at = [&](size_t i, const char* what) { return ParseId(seg[i], what); };
  // Routes whose handlers take no query parameters refuse any (handlers that take some check
  // them themselves with CheckParams).
#define CMDB_NO_PARAMS \
  if (Status st = CheckParams(req, {}); !st.ok()) return ErrorResponse(st)
  if (seg.size() >= 2 && seg[0] == "v1") {
    const std::string& r = seg[1];
    if (m == "GET") CMDB_REQUIRE(Permission::kRead);
    if (r == "whoami" && seg.size() == 2 && m == "GET") {
      CMDB_NO_PARAMS;
      return JsonResponse(200, Json{{"name", who.name}, {"role", RoleName(who.role)}});
    }
    if (r == "schema" && seg.size() == 2) {
      if (m == "GET") {
        CMDB_NO_PARAMS;
        return GetSchema();
      }
      CMDB_REQUIRE(Permission::kAdmin);
      if (m == "POST") return PostSchema(req, who);
      return not_allowed();
    }
    if (r == "tokens" && (seg.size() == 2 || seg.size() == 3)) {
      CMDB_REQUIRE(Permission::kAdmin);
      CMDB_NO_PARAMS;
      if (seg.size() == 3) return m == "DELETE" ? DeleteToken(who, seg[2]) : not_allowed();
      if (m == "GET") return ListTokens();
      if (m == "POST") return PostToken(req, who);
      return not_allowed();
    }
    if (r == "cis" && seg.size() == 2) {
      if (m == "GET") return ListCis(req);
      CMDB_REQUIRE(Permission::kWriteCis);
      if (m == "POST") return PostCi(req, who);
      return not_allowed();
    }
    if (r == "cis" && (seg.size() == 3 || seg.size() == 4)) {
      auto id = id_at(2, "CI id");
      if (!id.ok()) return ErrorResponse(id.status());
      if (seg.size() == 4) {
        if (m != "GET") return not_allowed();
        if (seg[3] != "relationships") CMDB_NO_PARAMS;
        if (seg[3] == "history") return CiHistory(*id);
        if (seg[3] == "provenance") return Provenance(*id);
        if (seg[3] == "relationships") return CiRelationships(req, *id);
      } else {
        if (m == "GET") {
          CMDB_NO_PARAMS;
          return GetCi(*id);
        }
        CMDB_REQUIRE(Permission::kWriteCis);
        if (m == "PATCH") return PatchCi(req, who, *id);
        if (m == "DELETE") return DeleteCi(req, who, *id);
        return not_allowed();
      }
    }
    if (r == "relationships" && seg.size() == 2) {
      CMDB_REQUIRE(Permission::kWriteCis);
      return m == "POST" ? PostRelationship(req, who) : not_allowed();
    }
    if (r == "relationships" && seg.size() == 3) {
      auto id = id_at(2, "relationship id");
      if (!id.ok()) return ErrorResponse(id.status());
      if (m == "GET") {
        CMDB_NO_PARAMS;
        return GetRelationship(*id);
      }
      CMDB_REQUIRE(Permission::kWriteCis);
      if (m == "DELETE") return DeleteRelationship(req, who, *id);
      return not_allowed();
    }
    if ((r == "query" || r == "impact") && seg.size() == 2) {
      if (m != "POST") return not_allowed();
      if (!AdmitQuery()) {
        HttpResponse busy = ErrorResponse(Status(StatusCode::kUnavailable,
                                                 "too many queries are running (" +
                                                     std::to_string(options_.max_concurrent_queries) +
                                                     "); retry in a moment"));
        busy.headers.emplace_back("Retry-After", "1");
        return busy;
      }
      struct Release {
        Api* api;
        ~Release() { api->ReleaseQuery(); }
      } release{this};
      return r == "query" ? Query(req, who) : Impact(req, who);
    }
    if (r == "transactions" && seg.size() == 2) return m == "GET" ? Transactions(req) : not_allowed();
    if (r == "transactions" && seg.size() == 3 && seg[2] == "verify") return m == "GET" ? VerifyChain(req) : not_allowed();
    if (r == "changes" && seg.size() == 2) {
      if (m == "GET") return ListChanges(req);
      CMDB_REQUIRE(Permission::kRequestChanges);
      return m == "POST" ? PostChange(req, who) : not_allowed();
    }
    if (r == "changes" && (seg.size() == 3 || seg.size() == 4)) {
      auto id = id_at(2, "change id");
      if (!id.ok()) return ErrorResponse(id.status());
      std::string sub = seg.size() == 4 ? seg[3] : "";
      if (m == "GET") {
        CMDB_NO_PARAMS;
        return GetChange(*id, sub);
      }
      CMDB_REQUIRE(Permission::kRequestChanges);
      if (m == "PATCH" && sub.empty()) return PatchChange(req, who, *id);
      if (m == "POST" && sub == "transition") return TransitionChange(req, who, *id);
      return not_allowed();
    }
    if (r == "windows" && (seg.size() == 2 || seg.size() == 3)) {
      int64_t id = 0;
      if (seg.size() == 3) {
        auto parsed = id_at(2, "window id");
        if (!parsed.ok()) return ErrorResponse(parsed.status());
        id = *parsed;
      }
      if (m != "GET") CMDB_REQUIRE(Permission::kManageChanges);
      if ((seg.size() == 2 && (m == "GET" || m == "POST")) || (seg.size() == 3 && (m == "GET" || m == "DELETE")))
        return Windows(req, who, id);
      return not_allowed();
    }
    if (r == "baselines" && seg.size() >= 2 && seg.size() <= 4) {
      bool ok = (seg.size() == 2 && (m == "GET" || m == "POST")) || (seg.size() == 3 && (m == "GET" || m == "DELETE")) ||
                (seg.size() == 4 && seg[3] == "diff" && m == "GET");
      if (!ok) return not_allowed();
      if (m == "POST") CMDB_REQUIRE(Permission::kManageReleases);
      return Baselines(req, who, seg);
    }
    if (r == "releases" && seg.size() >= 2 && seg.size() <= 4) {
      bool ok = (seg.size() == 2 && (m == "GET" || m == "POST")) || (seg.size() == 3 && (m == "GET" || m == "PATCH")) ||
                (seg.size() == 4 && seg[3] == "transition" && m == "POST");
      if (!ok) return not_allowed();
      if (m != "GET") CMDB_REQUIRE(Permission::kManageReleases);
      return Releases(req, who, seg);
    }
    if (r == "audits" && (seg.size() == 2 || seg.size() == 3)) {
      if (!((seg.size() == 2 && (m == "GET" || m == "POST")) || (seg.size() == 3 && m == "GET"))) return not_allowed();
      if (m == "POST") CMDB_REQUIRE(Permission::kManageReleases);
      return Audits(req, who, seg);
    }
    if (r == "unauthorized-changes" && seg.size() == 2) return m == "GET" ? UnauthorizedChanges(req) : not_allowed();
    if (r == "imports" && seg.size() == 2) {
      CMDB_REQUIRE(Permission::kImport);
      return m == "POST" ? Import(req, who) : not_allowed();
    }
    if (r == "bulk" && seg.size() == 2) {
      CMDB_REQUIRE(Permission::kImport);
      return m == "POST" ? Bulk(req, who) : not_allowed();
    }
  }
#undef CMDB_REQUIRE
#undef CMDB_NO_PARAMS
  return ErrorResponse(Status::NotFound("no such endpoint: " + m + " " + req.path));
}

}  // namespace cmdb::api
