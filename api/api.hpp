// Api: the HTTP/JSON surface of cmdb, independent of the HTTP library (see http_server.hpp).
// Its routing table (Routes(), api/route_table.cpp) names every endpoint with its permission.
//
// Every handler answers JSON; errors are {"error": {"code", "message", "details", ...}} with the
// HTTP status of the Status code. Handle() never throws: anything unexpected becomes a 500.
// Thread safety: Handle may be called concurrently from many server threads.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <cstddef>
#include <string>
#include <vector>

#include "api/authenticator.hpp"
#include "api/console.hpp"
#include "api/feed_stream.hpp"
#include "api/http_types.hpp"
#include "api/json_codec.hpp"
#include "api/request_log.hpp"
#include "api/routes.hpp"
#include "bulk/bulk_reader.hpp"
#include "cmdb/database.hpp"
#include "cmdb/metrics.hpp"
#include "importers/config.hpp"
#include "process/audit_service.hpp"
#include "process/baseline_service.hpp"
#include "process/change_service.hpp"
#include "process/release_service.hpp"
#include "query/engine.hpp"

namespace cmdb::api {

class WebhookService;  // api/webhook_service.hpp

struct ApiOptions {
  size_t max_body_bytes = 1 << 20;               // ordinary requests (413 past it)
  size_t max_bulk_bytes = size_t(8) << 30;       // POST /v1/bulk (streamed)
  size_t max_import_bytes = size_t(512) << 20;   // POST /v1/imports (parsed whole)
  int default_page = 100;
  int max_page = 1000;
  int max_concurrent_queries = 6;  // queries and impact analyses at once (below the workers); more answer 503
  // GET /v1/feed/stream: streams open at once (each holds a worker while open; 503 past it) and
  // the transactions each buffers before it is told to resume (api/feed_stream.hpp). cmdbd sets
  // half its workers (--threads / 2).
  int max_feed_streams = 4;
  size_t feed_stream_buffer = 1024;
  importers::ImportConfig import_config;  // precedence and CSV mappings for POST /v1/imports
  // The web console served at / (GETs of every path but /healthz, /metrics and /v1/...); null:
  // none, those paths are the API's (401 without a token, 404).
  std::shared_ptr<const WebConsole> console;
  // Where the API registers its metrics (ApiMetrics) and what GET /metrics renders; null: the
  // Api makes a registry of its own. Other modules register theirs in the same registry.
  std::shared_ptr<MetricsRegistry> metrics;
  // Notable events (imports done, 5xx errors); null: none.
  std::shared_ptr<EventLog> events;
};

// The metrics the API and its HTTP server record, registered by the Api in its registry.
// Ownership: the families belong to the registry. Thread safety: see cmdb/metrics.hpp.
struct ApiMetrics {
  explicit ApiMetrics(MetricsRegistry& r);
  CounterFamily& requests;          // cmdb_http_requests_total{route, method, status}
  HistogramFamily& request_seconds;  // cmdb_http_request_duration_seconds{route, method}
  HistogramFamily& query_seconds;    // cmdb_query_duration_seconds
  HistogramFamily& impact_seconds;   // cmdb_impact_duration_seconds
  CounterFamily& imports;           // cmdb_imports_total{source, outcome}
};

// The process services the handlers call, built by the composition root (api/main.cpp, and the
// harnesses that construct an Api) over the same database and engine. Adding a service is a
// member here, its member in Api, and one line where each composition builds it.
// Ownership: references only; every service must outlive the Api.
struct ApiServices {
  process::ChangeService& changes;
  process::BaselineService& baseline_service;
  process::ReleaseService& releases;
  process::AuditService& audits;
  const gql::BaselineResolver& baselines;  // for USE BASELINE in queries
  WebhookService* webhooks = nullptr;       // /v1/webhooks (503 without one)
};

// The formats of a streamed export (GET /v1/cis, POST /v1/query with an Accept header).
enum class ExportFormat { kCsv, kNdjson };

class Api {
 public:
  // `db`, `auth`, `engine` and the services must outlive the Api.
  Api(Database& db, Authenticator& auth, gql::QueryEngine& engine, ApiServices services,
      ApiOptions options)
      : db_(db), auth_(auth), engine_(engine), options_(options),
        metrics_(options_.metrics ? options_.metrics : std::make_shared<MetricsRegistry>()),
        api_metrics_(*metrics_), changes_(services.changes),
        baseline_service_(services.baseline_service), releases_(services.releases),
        audits_(services.audits), baselines_(services.baselines), webhooks_(services.webhooks) {}

  // Answers one request. A console request (WebConsole::Owns, when options().console is set) is
  // the console's file. Otherwise it matches it against Routes(), then checks, in this order, the token
  // (401; not on kNoToken routes), the path (404 "no such endpoint"), the method (405 with an
  // Allow header), the route's permission (403), the path's {id} (400) and the query parameters
  // (400), takes a query slot for Serving::kQuery routes (503 when all are taken) and calls the
  // route's handler.
  HttpResponse Handle(const HttpRequest& req);

  // Checks a request before its body is read: the caller's token (401; not on kNoToken routes
  // nor console requests)
  // and the route's body limit against `content_length` (413; -1 when chunked, checked while
  // reading). Returns the refusal, or nullopt to go on.
  std::optional<HttpResponse> Admit(const HttpRequest& head, int64_t content_length);
  // True for routes whose body is streamed to the handler instead of read whole.
  static bool IsStreamed(const std::string& method, const std::string& path);
  // The body limit of the route of `method` and `path` (max_body_bytes when there is none).
  size_t BodyLimit(const std::string& method, const std::string& path) const;
  const ApiOptions& options() const { return options_; }
  // The registry GET /metrics renders, and the API's own metrics in it.
  MetricsRegistry& metrics() { return *metrics_; }
  ApiMetrics& api_metrics() { return api_metrics_; }
  // Closes every open feed stream (GET /v1/feed/stream) and refuses new ones, so the workers
  // serving them return; the server calls it when it stops.
  void StopStreams();
  ~Api();

  // The routing table: every endpoint, one row each (api/route_table.cpp). Built on first use,
  // immutable afterwards.
  static const std::vector<Route>& Routes();

 private:
  using Segments = std::vector<std::string>;

  // The handlers (one or more rows of Routes() each). The router has checked the token, the
  // route's permission, the path's {id} and the query parameters.
  HttpResponse Health(const Call& call);
  // GET /v1/openapi.yaml: docs/openapi.yaml as built in (api/openapi.hpp), application/yaml.
  HttpResponse OpenApi(const Call& call);
  HttpResponse WhoAmI(const Call& call);
  HttpResponse GetSchema(const Call& call);
  HttpResponse PostSchema(const Call& call);
  HttpResponse PostCi(const Call& call);
  HttpResponse ListCis(const Call& call);
  // GET /v1/cis with Accept: text/csv or application/x-ndjson: the whole result streamed in
  // batches (handlers_cis.cpp).
  HttpResponse ExportCis(const Call& call, ExportFormat format);
  // POST /v1/query with such an Accept header: the query runs in the answer's stream and its
  // rows go out as CSV or NDJSON as the engine produces them (gql::RowStream), holding a query
  // admission slot until it ends. An error before the first bytes went out is an ordinary
  // error answer; after, NDJSON ends with an {"error": ...} line and both formats are cut off
  // without the last chunk (handlers_query.cpp, docs/api.md).
  HttpResponse StreamQuery(gql::QueryRequest request, ExportFormat format);
  HttpResponse GetCi(const Call& call);
  HttpResponse PatchCi(const Call& call);
  HttpResponse DeleteCi(const Call& call);
  HttpResponse CiHistory(const Call& call);
  // GET /v1/search?q=&limit=: the best `limit` (default kDefaultSearchLimit, at most
  // kMaxSearchLimit) CIs whose name, key, host name or IP matches q (cmdb/search_index.hpp).
  HttpResponse Search(const Call& call);
  static constexpr size_t kDefaultSearchLimit = 10;
  static constexpr int64_t kMaxSearchLimit = 100;
  static constexpr size_t kMaxSearchQuery = 256;
  HttpResponse CiRelationships(const Call& call);
  HttpResponse PostRelationship(const Call& call);
  HttpResponse GetRelationship(const Call& call);
  HttpResponse DeleteRelationship(const Call& call);
  HttpResponse Transactions(const Call& call);
  // GET /v1/feed?since=&limit=&<filters>: the change feed (process/feed.hpp) as
  // {"items": [FeedTxToJson...], "next": <tx>, "head": <tx>, "more": bool} (handlers_feed.cpp).
  HttpResponse Feed(const Call& call);
  // GET /v1/feed/stream: the feed as Server-Sent Events (api/feed_stream.hpp).
  HttpResponse FeedStream(const Call& call);
  // GET /v1/transactions/verify[?head=<tx>:<hash>]: the chain, validity intervals, keyed rows
  // and, when given, a head kept outside the database.
  HttpResponse VerifyChain(const Call& call);
  HttpResponse Bulk(const Call& call);
  HttpResponse Query(const Call& call);
  HttpResponse Impact(const Call& call);
  HttpResponse ListTokens(const Call& call);
  HttpResponse PostToken(const Call& call);
  HttpResponse DeleteToken(const Call& call);
  HttpResponse ListChanges(const Call& call);
  HttpResponse PostChange(const Call& call);
  // GET /v1/changes/{id}[/history|/conflicts|/review|/assessments]
  HttpResponse GetChange(const Call& call);
  HttpResponse PatchChange(const Call& call);
  HttpResponse TransitionChange(const Call& call);
  // /v1/windows and /v1/windows/{id}
  HttpResponse Windows(const Call& call);
  HttpResponse UnauthorizedChanges(const Call& call);
  HttpResponse Import(const Call& call);
  HttpResponse Provenance(const Call& call);
  // /v1/baselines[/{name}[/diff]], /v1/releases[/{id}[/transition]], /v1/audits[/{id}]
  HttpResponse Baselines(const Call& call);
  HttpResponse Releases(const Call& call);
  HttpResponse Audits(const Call& call);
  // GET /metrics: the registry in the Prometheus text format.
  HttpResponse Metrics(const Call& call);

  // Handle's work; sets `route` (the pattern) and `actor` once known.
  HttpResponse Dispatch(const HttpRequest& req, std::string_view& route, std::string& actor);
  // Calls the route's handler, timing queries and impact analyses and counting imports.
  HttpResponse CallHandler(const Route& route, const Call& call);
  // /v1/webhooks[/{id}[/deliveries|/dead-letters|/redeliver]] (handlers_webhooks.cpp)
  HttpResponse Webhooks(const Call& call);

  TxMeta MetaFor(const HttpRequest& req, const Principal& who, const char* source) const;
  Result<int> PageLimit(const HttpRequest& req) const;

  // Admission for queries: returns false (and the caller answers 503) when full.
  bool AdmitQuery();
  void ReleaseQuery() { running_queries_.fetch_sub(1); }

  std::atomic<int> running_queries_{0};
  std::mutex feed_hub_mu_;
  std::unique_ptr<FeedHub> feed_hub_;  // built by the first stream (handlers_feed.cpp)
  bool streams_stopped_ = false;       // under feed_hub_mu_
  Database& db_;
  Authenticator& auth_;
  gql::QueryEngine& engine_;
  ApiOptions options_;
  std::shared_ptr<MetricsRegistry> metrics_;
  ApiMetrics api_metrics_;
  process::ChangeService& changes_;
  process::BaselineService& baseline_service_;
  process::ReleaseService& releases_;
  process::AuditService& audits_;
  const gql::BaselineResolver& baselines_;  // for USE BASELINE in queries
  WebhookService* webhooks_;                 // may be null
};

// Helpers shared by the handler files.
// The export a request asks for by its Accept header: text/csv or application/x-ndjson; nullopt
// for anything else (a JSON answer).
std::optional<ExportFormat> ExportFormatOf(const HttpRequest& req);
// Appends `text` to `out` as one CSV field (RFC 4180): quoted when it holds a comma, a quote or a
// line end, quotes doubled.
void CsvField(std::string& out, std::string_view text);
HttpResponse JsonResponse(int status, const Json& body);
HttpResponse ErrorResponse(const Status& st);
// The answer to a bulk body with refused lines (POST /v1/bulk, the ndjson import): `st`
// (bulk::LinesRefused) with details.errors, each refused line's error with its "line", and
// details.error_count (an empty list and 0 when the body as a whole was refused: too large).
HttpResponse LinesRefusedResponse(const Status& st, const std::vector<bulk::BulkError>& errors,
                                  int64_t error_count);
// Parses a positive integer id from a path segment or parameter named `what`.
Result<int64_t> ParseId(const std::string& text, const std::string& what);
// Parses an If-Match header value ("3" or "\"3\""); nullopt when absent.
Result<std::optional<int64_t>> ParseIfMatch(const std::string& header);

}  // namespace cmdb::api
