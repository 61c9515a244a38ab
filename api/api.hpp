// Api: the HTTP/JSON surface of cmdb, independent of the HTTP library (see http_server.hpp).
//
// Every handler answers JSON; errors are {"error": {"code", "message", "details", ...}} with the
// HTTP status of the Status code. Handle() never throws: anything unexpected becomes a 500.
// Thread safety: Handle may be called concurrently from many server threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "api/authenticator.hpp"
#include "api/http_types.hpp"
#include "api/json_codec.hpp"
#include "cmdb/database.hpp"
#include "importers/config.hpp"
#include "process/change_service.hpp"
#include "process/release_service.hpp"
#include "query/engine.hpp"

namespace cmdb::api {

struct ApiOptions {
  size_t max_body_bytes = 1 << 20;               // ordinary requests (413 past it)
  size_t max_bulk_bytes = size_t(8) << 30;       // POST /v1/bulk (streamed)
  size_t max_import_bytes = size_t(512) << 20;   // POST /v1/imports (parsed whole)
  int default_page = 100;
  int max_page = 1000;
  int max_concurrent_queries = 6;  // queries and impact analyses at once (below the workers); more answer 503
  importers::ImportConfig import_config;  // precedence and CSV mappings for POST /v1/imports
};

// The process services the handlers call, built by the composition root (api/main.cpp, and the
// harnesses that construct an Api) over the same database and engine. Adding a service is a
// member here, its member in Api, and one line where each composition builds it.
// Ownership: references only; every service must outlive the Api.
struct ApiServices {
  process::ChangeService& changes;
  process::ReleaseService& releases;
  const gql::BaselineResolver& baselines;  // for USE BASELINE in queries
};

class Api {
 public:
  // `db`, `auth`, `engine` and the services must outlive the Api.
  Api(Database& db, Authenticator& auth, gql::QueryEngine& engine, ApiServices services,
      ApiOptions options)
      : db_(db), auth_(auth), engine_(engine), options_(options), changes_(services.changes),
        releases_(services.releases), baselines_(services.baselines) {}

  HttpResponse Handle(const HttpRequest& req);

  // Checks a request before its body is read: the caller's token (401) and the route's body
  // limit against `content_length` (413; -1 when chunked, checked while reading). Returns the
  // refusal, or nullopt to go on.
  std::optional<HttpResponse> Admit(const HttpRequest& head, int64_t content_length);
  // True for routes whose body is streamed to the handler instead of read whole.
  static bool IsStreamed(const std::string& method, const std::string& path);
  // The body limit of a route.
  size_t BodyLimit(const std::string& path) const;
  const ApiOptions& options() const { return options_; }

 private:
  using Segments = std::vector<std::string>;
  HttpResponse Route(const HttpRequest& req, const Segments& seg, const Principal& who);

  HttpResponse Health();
  HttpResponse GetSchema();
  HttpResponse PostSchema(const HttpRequest& req, const Principal& who);
  HttpResponse PostCi(const HttpRequest& req, const Principal& who);
  HttpResponse ListCis(const HttpRequest& req);
  HttpResponse GetCi(CiId id);
  HttpResponse PatchCi(const HttpRequest& req, const Principal& who, CiId id);
  HttpResponse DeleteCi(const HttpRequest& req, const Principal& who, CiId id);
  HttpResponse CiHistory(CiId id);
  HttpResponse CiRelationships(const HttpRequest& req, CiId id);
  HttpResponse PostRelationship(const HttpRequest& req, const Principal& who);
  HttpResponse GetRelationship(RelId id);
  HttpResponse DeleteRelationship(const HttpRequest& req, const Principal& who, RelId id);
  HttpResponse Transactions(const HttpRequest& req);
  // GET /v1/transactions/verify[?head=<tx>:<hash>]: the chain, validity intervals, keyed rows
  // and, when given, a head kept outside the database. (The route passes no request yet: it
  // must pass `req` for ?head= to take effect.)
  HttpResponse VerifyChain(const HttpRequest& req);
  HttpResponse Bulk(const HttpRequest& req, const Principal& who);
  HttpResponse Query(const HttpRequest& req, const Principal& who);
  HttpResponse Impact(const HttpRequest& req, const Principal& who);
  HttpResponse ListTokens();
  HttpResponse PostToken(const HttpRequest& req, const Principal& who);
  HttpResponse DeleteToken(const Principal& who, const std::string& name);
  HttpResponse ListChanges(const HttpRequest& req);
  HttpResponse PostChange(const HttpRequest& req, const Principal& who);
  // GET /v1/changes/{id}[/history|/conflicts|/review|/assessments]
  HttpResponse GetChange(int64_t id, const std::string& sub);
  HttpResponse PatchChange(const HttpRequest& req, const Principal& who, int64_t id);
  HttpResponse TransitionChange(const HttpRequest& req, const Principal& who, int64_t id);
  // /v1/windows (id 0) and /v1/windows/{id}
  HttpResponse Windows(const HttpRequest& req, const Principal& who, int64_t id);
  HttpResponse UnauthorizedChanges(const HttpRequest& req);
  HttpResponse Import(const HttpRequest& req, const Principal& who);
  HttpResponse Provenance(CiId id);
  // /v1/baselines[/{name}[/diff]], /v1/releases[/{id}[/transition]], /v1/audits[/{id}]
  HttpResponse Baselines(const HttpRequest& req, const Principal& who, const Segments& seg);
  HttpResponse Releases(const HttpRequest& req, const Principal& who, const Segments& seg);
  HttpResponse Audits(const HttpRequest& req, const Principal& who, const Segments& seg);

  TxMeta MetaFor(const HttpRequest& req, const Principal& who, const char* source) const;
  Result<int> PageLimit(const HttpRequest& req) const;

  // Admission for queries: returns false (and the caller answers 503) when full.
  bool AdmitQuery();
  void ReleaseQuery() { running_queries_.fetch_sub(1); }

  std::atomic<int> running_queries_{0};
  Database& db_;
  Authenticator& auth_;
  gql::QueryEngine& engine_;
  ApiOptions options_;
  process::ChangeService& changes_;
  process::ReleaseService& releases_;
  const gql::BaselineResolver& baselines_;  // for USE BASELINE in queries
};

// Helpers shared by the handler files.
HttpResponse JsonResponse(int status, const Json& body);
HttpResponse ErrorResponse(const Status& st);
// Parses a positive integer id from a path segment or parameter named `what`.
Result<int64_t> ParseId(const std::string& text, const std::string& what);
// Parses an If-Match header value ("3" or "\"3\""); nullopt when absent.
Result<std::optional<int64_t>> ParseIfMatch(const std::string& header);

}  // namespace cmdb::api
