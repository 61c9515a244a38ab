#include "fuzz/fuzz_targets.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "api/api.hpp"
#include "api/authenticator.hpp"
#include "api/bootstrap.hpp"
#include "api/http_server.hpp"
#include "api_services.hpp"
#include "socket_exchange.hpp"
#include "bulk/bulk.hpp"
#include "bulk/bulk_line.hpp"
#include "fuzz/bulk_line_diff.hpp"
#include "cmdb/mem_store.hpp"
#include "importers/formats.hpp"
#include "importers/import.hpp"
#include "query/ddl/ddl_parser.hpp"
#include "query/engine.hpp"

namespace cmdb::fuzz {
namespace {

// The default schema, parsed once.
const Schema& DefaultSchema() {
  static const Schema schema = [] {
    Schema s = Schema::Builtin(false);
    Status st = ddl::LoadSchemaDir(std::string(CMDB_SOURCE_DIR) + "/schema", s);
    if (!st.ok()) {
      std::cerr << st.ToString() << "\n";
      std::abort();
    }
    return s;
  }();
  return schema;
}

// A small database with the default schema and the demo data, shared by read-only targets.
struct Shared {
  MemStore store;
  std::unique_ptr<Database> db;
  std::unique_ptr<gql::QueryEngine> engine;
  Shared() {
    api::BootstrapOptions opts{std::string(CMDB_SOURCE_DIR) + "/schema",
                               std::string(CMDB_SOURCE_DIR) + "/schema/demo/demo.ndjson", false};
    std::ostringstream log;
    auto r = api::OpenDatabase(&store, opts, log);
    if (!r.ok()) std::abort();
    db = std::move(*r);
    gql::QueryOptions q;
    q.timeout_ms = 50;
    q.max_rows = 1000;
    engine = std::make_unique<gql::QueryEngine>(*db, q);
  }
};

Shared& SharedDb() {
  static Shared shared;
  return shared;
}

void Query(const std::string& text) {
  gql::QueryRequest q;
  q.text = text;
  q.allow_writes = false;  // reads only: the shared database never changes
  q.timeout_ms = 50;
  (void)SharedDb().engine->Run(q);
}

// The whole HTTP request path in-process: the bytes arrive on a socket as a client sent them
// (request line, headers, framing, bodies, pipelined requests) and are parsed, checked and routed
// by the real server to every handler of a demo database (authentication off: every route is
// reachable). The database is shared and may change between inputs.
void Http(const std::string& bytes) {
  // Its own demo database (Shared's setup), with the API and the server over it.
  struct Served : Shared {
    std::unique_ptr<api::Authenticator> auth;
    std::unique_ptr<testing::ApiServicesFor> services;
    std::unique_ptr<api::Api> api;
    std::unique_ptr<api::HttpServer> server;
    Served() {
      auth = std::make_unique<api::Authenticator>(&store, false);
      api::ApiOptions options;
      options.max_body_bytes = 1 << 16;
      options.max_bulk_bytes = 1 << 16;
      options.max_import_bytes = 1 << 16;
      services = std::make_unique<testing::ApiServicesFor>(*db, *engine);
      api = std::make_unique<api::Api>(*db, *auth, *engine, services->Refs(), options);
      api::ServerOptions server_options;
      server_options.read_timeout_s = 1;
      server_options.write_timeout_s = 1;
      server = std::make_unique<api::HttpServer>(*api, server_options);
    }
  };
  static Served served;
  (void)testing::ExchangeOverSocketPair(*served.server, bytes);
}

void Ddl(const std::string& text) {
  Schema s = DefaultSchema();
  Status st = ddl::ApplyDdl(text, s);
  if (st.ok()) (void)s.ToDdl();
}

void Bulk(const std::string& text) {
  // A fresh empty database per input: the bulk reader may commit.
  MemStore store;
  Database db(&store);
  if (!db.Open(std::make_shared<const Schema>(DefaultSchema())).ok()) std::abort();
  bulk::BulkResult result;
  (void)bulk::RunBulk(db, TxMeta{"fuzz", "bulk"}, bulk::StringReader(text), text.size() + 1, result);
}

// Differential: every line the fast way (simdjson) accepts must read as the document way
// (nlohmann) reads it.
void BulkLines(const std::string& text) {
  int64_t line_no = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line(text.data() + start, end - start);
    ++line_no;
    if (auto fast = bulk::ParseBulkLineFast(line, line_no, DefaultSchema())) {
      std::string diff =
          testing::BulkLineDiff(*fast, bulk::ParseBulkLineViaDocument(line, line_no, DefaultSchema()));
      if (!diff.empty()) {
        std::cerr << "the two ways read a bulk line differently: " << line << diff << "\n";
        std::abort();
      }
    }
    start = end + 1;
  }
}

void Import(const std::string& format, const std::string& text) {
  importers::CandidateSet set;
  importers::ParseOptions po;
  po.schema = &DefaultSchema();
  if (format == "csv")
    po.mapping = R"({"class": "VirtualMachine", "columns": {"name": "name", "ip": "ip_address"}})";
  if (!importers::ParseSource(format, text, po, set).ok()) return;
  importers::ImportOptions opt;
  opt.source = "fuzz";
  opt.dry_run = true;  // computed in full, then discarded
  importers::ImportReport report;
  (void)importers::RunImport(*SharedDb().db, set, opt, report);
}

}  // namespace

std::vector<std::string> TargetNames() {
  std::vector<std::string> names = {"query", "ddl", "bulk", "bulk-line", "http"};
  for (const auto& f : importers::FormatNames()) names.push_back("import-" + f);
  return names;
}

void Run(const std::string& target, const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (target == "query")
    Query(text);
  else if (target == "ddl")
    Ddl(text);
  else if (target == "bulk")
    Bulk(text);
  else if (target == "http")
    Http(text);
  else if (target == "bulk-line")
    BulkLines(text);
  else if (target.rfind("import-", 0) == 0)
    Import(target.substr(7), text);
  else
    std::abort();
}

}  // namespace cmdb::fuzz
