// cmdbd: the composition root. Parses flags, opens the store (SQLite, or PostgreSQL with
// --store), bootstraps the database
// and serves the HTTP API until SIGINT or SIGTERM.
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <sstream>
#include <string>
#include <thread>

#include "api/api.hpp"
#include "api/bootstrap.hpp"
#include "api/http_server.hpp"
#include "api/request_log.hpp"
#include "api/server_metrics.hpp"
#include "api/webhook_service.hpp"
#include "cmdb/time_util.hpp"
#include "cmdb/tx_chain.hpp"
#include "importers/config.hpp"
#include "process/audit_service.hpp"
#include "process/baseline_service.hpp"
#include "process/change_service.hpp"
#include "process/release_service.hpp"
#include "store/migrate.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"

namespace {

const char* kUsage = R"(cmdbd - configuration management database server

Usage: cmdbd [options]
       cmdbd token create --name NAME --role ROLE [--db PATH] [--key-file F]
       cmdbd token list [--db PATH] [--key-file F]
       cmdbd token revoke --name NAME [--db PATH] [--key-file F]
                                               (each also with --store URL for PostgreSQL)
       cmdbd backup --to FILE [--db PATH] [--key-file F]   (consistent copy while the server runs;
                                               writes FILE.head and FILE.key beside it)
       cmdbd verify [--db PATH] [--key-file F] [--head TX:HASH]   (checks the log, versions and
                                               keyed rows offline; exit 1 on any finding)
       cmdbd verify --store URL [--head TX:HASH]   (the same for a PostgreSQL store)
       cmdbd migrate [--db PATH] [--key-file F] --to URL   (copies a SQLite database, history
                                               and chain, into an empty PostgreSQL one; verifies it)
       cmdbd import --format F [--source NAME] [--dry-run] [--full] [--mapping NAME|--mapping-file F]
                    [--cluster NAME] [--account ID] [--region R] [--change CHG-N]
                    [--url URL] [--token T | --token-file F] [--insecure-tls] FILE|-
                                               (sends FILE or standard input to a running server)

Every request but GET /healthz and GET /v1/openapi.yaml needs 'Authorization: Bearer <token>'.
On first start cmdbd creates a token named 'admin' with the admin role and prints it once.
Roles: reader, importer, change-manager, release-manager, admin (see docs/security.md).

Options:
  --db PATH            SQLite database file (default ./data/cmdb.sqlite; created if missing)
  --store URL          keep the data in PostgreSQL instead (postgresql://USER@HOST/DB?...;
                       docs/scale-out.md); --db, --sync and --key-file do not apply then
  --listen HOST:PORT   address to serve on (default 127.0.0.1:8080; port 0 picks a free one)
  --schema DIR         folder of *.gql schema files applied to a new database (default ./schema)
  --demo FILE          bulk NDJSON loaded into a new database (default <schema>/demo/demo.ndjson)
  --no-demo            do not load demo data into a new database
  --open               create the database in open mode (untyped, classes made on first use)
  --threads N          HTTP worker threads (default 8); idle and slow connections hold none;
                       an open GET /v1/feed/stream holds one (at most threads/2 streams)
  --max-body BYTES     body limit of ordinary requests (default 1048576)
  --max-bulk BYTES     body limit of POST /v1/bulk (default 8589934592)
  --max-import BYTES   body limit of POST /v1/imports, parsed whole in memory (default 536870912)
  --sync full|normal   SQLite durability: full (default) survives power loss, normal only crashes
  --port-file PATH     write the bound port to PATH once listening (for scripts and tests)
  --tls-cert PEM       serve HTTPS with this certificate (with --tls-key)
  --tls-key PEM        the certificate's private key
  --key-file PATH      the server key that signs tokens, provenance and settings (default
                       <db>.key; keep it where whoever can write the database cannot)
  --new-key            make a new key and sign every keyed row as it is now (after a lost key)
  --max-query-rows N   rows one query may hold in memory at once (default 4000000)
  --max-query-bytes B  bytes one query may hold in memory at once (default 1073741824)
  --max-queries N      queries and impact analyses running at once (default: threads - 2, so
                       other requests keep two workers; must be below --threads; more: 503)
  --header-timeout MS  a request header must arrive within MS of its first byte (default 10000; 408)
  --max-connections N  open connections in all (default 2048; past it: 503 and close)
  --max-connections-per-client N  open connections per client address (default 128)
  --min-body-rate B    a request body must arrive at B bytes/s on average after 10 s (default 16384)
  --import-config FILE source precedence for imports (default <schema>/import.json); CSV
                       mappings are read from <schema>/mappings/<name>.json
  --web DIR            the built web console served at / (default ./web/dist, else web/dist of
                       the checkout holding this binary); without one, / says how to build it
  --no-web             serve no console (every path but /healthz and /v1/openapi.yaml needs a token)
  --admin-token-file PATH  also write the first-start admin token to PATH (mode 0600)
  --insecure-local     no authentication (every caller is 'anonymous' with the admin role);
                       only with a loopback --listen address. Never the default.
  --quiet              no request log
  --log-format F       the request and event log on stderr: text (default) or json (one
                       object per line; see docs/integrations.md)
  --webhook-allow LIST webhook destinations, HOST[:PORT],... or * for any public host; loopback and
                       private addresses only for hosts named here (default: none, no webhooks)
  --webhook-max-attempts N  failures before an event is parked as a dead letter (default 10)
  --webhook-retry-base MS   first retry delay, doubled per failure (default 1000)
  --webhook-retry-cap MS    longest retry delay (default 300000)
  --webhook-timeout MS      per delivery request (default 10000)
  --help               this text
)";

struct Flags {
  std::string db = "./data/cmdb.sqlite";
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string schema_dir = "./schema";
  std::string demo;
  bool no_demo = false;
  bool open_mode = false;
  int threads = 8;
  size_t max_body = 1 << 20;
  size_t max_bulk = size_t(8) << 30;
  size_t max_import = size_t(512) << 20;
  bool sync_full = true;
  std::string port_file;
  std::string admin_token_file;
  std::string tls_cert, tls_key;
  int max_queries = 0;  // 0: threads - 2 (at least 1)
  std::string key_file;
  bool new_key = false;
  std::string store_url;  // postgresql://...: the PostgreSQL store instead of --db
  long long max_query_rows = 4'000'000;
  long long max_query_bytes = 1LL << 30;
  int header_timeout_ms = 10'000;
  int max_connections = 2048;
  int max_connections_per_client = 128;
  long long min_body_rate = 16 * 1024;
  std::string import_config;
  bool insecure_local = false;
  bool quiet = false;
  cmdb::api::LogFormat log_format = cmdb::api::LogFormat::kText;
  std::string web_dir;  // "": ./web/dist, else the checkout's web/dist
  bool no_web = false;
  std::string webhook_allow;
  long long webhook_max_attempts = 10;
  long long webhook_retry_base = 1000;
  long long webhook_retry_cap = 300'000;
  long long webhook_timeout = 10'000;
};

[[noreturn]] void Die(const std::string& msg) {
  std::cerr << "cmdbd: " << msg << "\n";
  std::exit(2);
}

long long ParseNumber(const std::string& flag, const std::string& v) {
  try {
    size_t pos;
    long long n = std::stoll(v, &pos);
    if (pos != v.size() || n < 0) throw std::invalid_argument(v);
    return n;
  } catch (...) {
    Die(flag + " expects a non-negative number, not '" + v + "'");
  }
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value (see --help)");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--db") {
      f.db = value();
    } else if (a == "--store") {
      f.store_url = value();
      if (f.store_url.rfind("postgresql://", 0) != 0 && f.store_url.rfind("postgres://", 0) != 0)
        Die("--store expects a postgresql:// URL, not '" + f.store_url +
            "' (--db FILE for SQLite)");
    } else if (a == "--listen") {
      std::string v = value();
      size_t colon = v.rfind(':');
      if (colon == std::string::npos) Die("--listen expects HOST:PORT, not '" + v + "'");
      f.host = v.substr(0, colon);
      long long port = ParseNumber("--listen port", v.substr(colon + 1));
      if (port > 65535) Die("--listen port must be at most 65535");
      f.port = static_cast<int>(port);
    } else if (a == "--schema") {
      f.schema_dir = value();
    } else if (a == "--demo") {
      f.demo = value();
    } else if (a == "--no-demo") {
      f.no_demo = true;
    } else if (a == "--open") {
      f.open_mode = true;
    } else if (a == "--threads") {
      f.threads = static_cast<int>(ParseNumber(a, value()));
      if (f.threads < 1) Die("--threads must be at least 1");
    } else if (a == "--max-body") {
      f.max_body = static_cast<size_t>(ParseNumber(a, value()));
    } else if (a == "--max-bulk") {
      f.max_bulk = static_cast<size_t>(ParseNumber(a, value()));
    } else if (a == "--max-import") {
      f.max_import = static_cast<size_t>(ParseNumber(a, value()));
    } else if (a == "--sync") {
      std::string v = value();
      if (v != "full" && v != "normal") Die("--sync expects full or normal");
      f.sync_full = v == "full";
    } else if (a == "--port-file") {
      f.port_file = value();
    } else if (a == "--tls-cert") {
      f.tls_cert = value();
    } else if (a == "--tls-key") {
      f.tls_key = value();
    } else if (a == "--max-queries") {
      f.max_queries = static_cast<int>(std::min(ParseNumber(a, value()), 1LL << 20));
      if (f.max_queries < 1) Die("--max-queries must be at least 1");
    } else if (a == "--key-file") {
      f.key_file = value();
    } else if (a == "--new-key") {
      f.new_key = true;
    } else if (a == "--max-query-rows") {
      f.max_query_rows = ParseNumber(a, value());
      if (f.max_query_rows < 1) Die("--max-query-rows must be at least 1");
    } else if (a == "--max-query-bytes") {
      f.max_query_bytes = ParseNumber(a, value());
      if (f.max_query_bytes < 1 << 20) Die("--max-query-bytes must be at least 1048576");
    } else if (a == "--header-timeout") {
      f.header_timeout_ms = static_cast<int>(std::min(ParseNumber(a, value()), 3'600'000LL));
      if (f.header_timeout_ms < 100) Die("--header-timeout must be at least 100 (milliseconds)");
    } else if (a == "--max-connections") {
      f.max_connections = static_cast<int>(std::min(ParseNumber(a, value()), 1LL << 20));
      if (f.max_connections < 1) Die("--max-connections must be at least 1");
    } else if (a == "--max-connections-per-client") {
      f.max_connections_per_client = static_cast<int>(std::min(ParseNumber(a, value()), 1LL << 20));
      if (f.max_connections_per_client < 1) Die("--max-connections-per-client must be at least 1");
    } else if (a == "--min-body-rate") {
      f.min_body_rate = ParseNumber(a, value());
      if (f.min_body_rate < 1) Die("--min-body-rate must be at least 1 (bytes per second)");
    } else if (a == "--admin-token-file") {
      f.admin_token_file = value();
    } else if (a == "--insecure-local") {
      f.insecure_local = true;
    } else if (a == "--import-config") {
      f.import_config = value();
    } else if (a == "--web") {
      f.web_dir = value();
    } else if (a == "--no-web") {
      f.no_web = true;
    } else if (a == "--webhook-allow") {
      f.webhook_allow = value();
    } else if (a == "--webhook-max-attempts") {
      f.webhook_max_attempts = ParseNumber(a, value());
      if (f.webhook_max_attempts < 1) Die("--webhook-max-attempts must be at least 1");
    } else if (a == "--webhook-retry-base") {
      f.webhook_retry_base = std::max(1LL, ParseNumber(a, value()));
    } else if (a == "--webhook-retry-cap") {
      f.webhook_retry_cap = std::max(1LL, ParseNumber(a, value()));
    } else if (a == "--webhook-timeout") {
      f.webhook_timeout = std::clamp(ParseNumber(a, value()), 100LL, 600'000LL);
    } else if (a == "--quiet") {
      f.quiet = true;
    } else if (a == "--log-format") {
      std::string v = value();
      if (!cmdb::api::ParseLogFormat(v, f.log_format))
        Die("--log-format expects text or json, not '" + v + "'");
    } else {
      Die("unknown option '" + a + "' (see --help)");
    }
  }
  if (f.demo.empty()) f.demo = f.schema_dir + "/demo/demo.ndjson";
  // Queries and impact analyses may hold at most all workers but two, so that health checks and
  // ordinary requests are still served while the heaviest run.
  if (f.max_queries == 0) f.max_queries = std::max(1, f.threads - 2);
  if (f.threads > 1 && f.max_queries >= f.threads)
    Die("--max-queries (" + std::to_string(f.max_queries) + ") must be below --threads (" +
        std::to_string(f.threads) + "), so that other requests keep a worker");
  if (f.tls_cert.empty() != f.tls_key.empty()) Die("--tls-cert and --tls-key go together");
  if (f.insecure_local && f.host != "127.0.0.1" && f.host != "localhost" && f.host != "::1")
    Die("--insecure-local needs a loopback --listen address (127.0.0.1, localhost or ::1)");
  return f;
}

// Opens the database for the server (`server`: the exclusive lock at once, so a second server
// stops before it reads or writes anything) or for a tool that may run beside a server.
std::unique_ptr<cmdb::SqliteStore> OpenStore(const std::string& path, bool sync_full, bool server,
                                             const std::string& key_file = "", bool new_key = false) {
  std::filesystem::path db_path(path);
  if (db_path.has_parent_path() && path.rfind("file:", 0) != 0) {  // a "file:" name is refused by Open
    std::error_code ec;
    std::filesystem::create_directories(db_path.parent_path(), ec);
  }
  cmdb::SqliteOptions options;
  options.synchronous_full = sync_full;
  options.lock = server ? cmdb::DbLock::kAtOpen : cmdb::DbLock::kWhenServing;
  options.key_file = key_file;
  options.new_key = new_key;
  auto store = cmdb::SqliteStore::Open(path, options);
  if (!store.ok()) Die(store.status().message());
  return std::move(*store);
}

// cmdbd token create|list|revoke: works on the database file, also while the server runs.
int TokenCommand(int argc, char** argv) {
  if (argc < 3) Die("usage: cmdbd token create|list|revoke ... (see --help)");
  std::string verb = argv[2], db = "./data/cmdb.sqlite", name, role, key_file, url;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Die(a + " needs a value");
    if (a == "--db") db = argv[++i];
    else if (a == "--store") url = argv[++i];
    else if (a == "--name") name = argv[++i];
    else if (a == "--role") role = argv[++i];
    else if (a == "--key-file") key_file = argv[++i];
    else Die("unknown option '" + a + "' for cmdbd token");
  }
  std::unique_ptr<cmdb::Store> store;
  if (!url.empty()) {
    auto pg = cmdb::PgStore::Open(url);
    if (!pg.ok()) Die(pg.status().message());
    store = std::move(*pg);
  } else {
    store = OpenStore(db, true, false, key_file);
  }
  if (verb == "create") {
    if (name.empty() || role.empty()) Die("token create needs --name and --role");
    auto r = cmdb::ParseRole(role);
    if (!r) Die("unknown role '" + role + "' (reader, importer, change-manager, release-manager, admin)");
    auto issued = cmdb::api::IssueToken(store.get(), name, *r);
    if (!issued.ok()) Die(issued.status().message());
    std::cout << issued->second << "\n";
    return 0;
  }
  if (verb == "list") {
    auto tokens = store->ListTokens();
    if (!tokens.ok()) Die(tokens.status().message());
    for (const auto& t : *tokens) {
      std::cout << t.name << "\t" << cmdb::RoleName(t.role) << "\tcreated " << cmdb::FormatTimestamp(t.created_at)
                << (t.revoked_at ? "\trevoked " + cmdb::FormatTimestamp(t.revoked_at) : std::string()) << "\n";
    }
    return 0;
  }
  if (verb == "revoke") {
    if (name.empty()) Die("token revoke needs --name");
    // The same rules as DELETE /v1/tokens/{name}: the last admin token stays.
    cmdb::api::Authenticator auth(store.get(), true);
    cmdb::Status st = auth.Revoke(name);
    if (!st.ok()) Die(st.message());
    std::cout << "revoked " << name << "\n";
    return 0;
  }
  Die("unknown token command '" + verb + "' (create, list, revoke)");
}

// cmdbd backup --to FILE [--db PATH]: SQLite online backup, safe while the server serves.
int BackupCommand(int argc, char** argv) {
  std::string db = "./data/cmdb.sqlite", to, key_file;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Die(a + " needs a value");
    if (a == "--db") db = argv[++i];
    else if (a == "--to") to = argv[++i];
    else if (a == "--key-file") key_file = argv[++i];
    else Die("unknown option '" + a + "' for cmdbd backup");
  }
  if (to.empty()) Die("backup needs --to FILE");
  if (!std::filesystem::exists(db)) Die("no database at " + db);
  if (std::filesystem::exists(to)) Die(to + " already exists; choose a new file");
  cmdb::Status st = cmdb::SqliteStore::Backup(db, to, key_file);
  if (!st.ok()) Die(st.message());
  std::ifstream head(to + ".head");
  std::string line;
  std::getline(head, line);
  std::cout << "backed up " << db << " to " << to << "\n"
            << "chain head " << line << " (also in " << to << ".head; keep a copy outside the database and "
            << "check it with: cmdbd verify --head " << line << ")\n";
  return 0;
}

// cmdbd verify [--db PATH] [--key-file F] [--head TX:HASH]: the whole log, the versions'
// validity and the keyed rows, offline (the store is opened without the server lock).
int VerifyCommand(int argc, char** argv) {
  std::string db = "./data/cmdb.sqlite", key_file, head_text, url;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Die(a + " needs a value");
    if (a == "--db") db = argv[++i];
    else if (a == "--store") url = argv[++i];
    else if (a == "--key-file") key_file = argv[++i];
    else if (a == "--head") head_text = argv[++i];
    else Die("unknown option '" + a + "' for cmdbd verify");
  }
  if (url.empty() && !std::filesystem::exists(db)) Die("no database at " + db);
  cmdb::VerifyOptions options;
  if (!head_text.empty()) {
    auto head = cmdb::ParseChainHead(head_text);
    if (!head.ok()) Die(head.status().message());
    options.head = *head;
  }
  std::unique_ptr<cmdb::Store> store;
  if (!url.empty()) {
    auto pg = cmdb::PgStore::Open(url);
    if (!pg.ok()) Die(pg.status().message());
    store = std::move(*pg);
  } else {
    cmdb::SqliteOptions store_options;
    store_options.lock = cmdb::DbLock::kNone;
    store_options.key_file = key_file;
    auto lite = cmdb::SqliteStore::Open(db, store_options);
    if (!lite.ok()) Die(lite.status().message());
    store = std::move(*lite);
  }
  auto report = store->VerifyChain(options);
  if (!report.ok()) Die(report.status().message());
  auto head = store->Head();
  for (const auto& p : report->problems) std::cout << p.table << " " << p.row << ": " << p.reason << "\n";
  if (report->problems_omitted > 0) std::cout << "... and " << report->problems_omitted << " more\n";
  if (report->first_broken != 0)
    std::cout << "the chain breaks at transaction " << report->first_broken << ": " << report->reason << "\n";
  std::cout << (report->ok ? "ok" : "FAILED") << ": " << report->checked << " transactions checked"
            << (head.ok() ? ", head " + cmdb::FormatChainHead(*head) : std::string()) << "\n";
  return report->ok ? 0 : 1;
}

std::string RedactUrl(const std::string& url);

// cmdbd migrate: copies a SQLite database into PostgreSQL, history and chain included, and
// verifies the copy (store/migrate.hpp).
int MigrateCommand(int argc, char** argv) {
  cmdb::MigrationOptions options;
  options.sqlite_path = "./data/cmdb.sqlite";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Die(a + " needs a value");
    if (a == "--db") options.sqlite_path = argv[++i];
    else if (a == "--key-file") options.key_file = argv[++i];
    else if (a == "--to") options.pg_url = argv[++i];
    else Die("unknown option '" + a + "' for cmdbd migrate");
  }
  if (options.pg_url.empty()) Die("usage: cmdbd migrate [--db PATH] [--key-file F] --to postgresql://...");
  if (!std::filesystem::exists(options.sqlite_path)) Die("no database at " + options.sqlite_path);
  auto report = cmdb::MigrateSqliteToPg(options);
  if (!report.ok()) Die(report.status().message());
  for (const auto& [table, rows] : report->tables) std::cout << table << ": " << rows << " rows\n";
  std::cout << "ok: copied into " << RedactUrl(options.pg_url) << " and verified there: "
            << report->verified << " transactions checked, head "
            << cmdb::FormatChainHead(report->head) << "\n";
  return 0;
}

// cmdbd import: sends a discovery file to a running server (POST /v1/imports) and prints the report.
int ImportCommand(int argc, char** argv) {
  std::string url = "http://127.0.0.1:8080", token, format, source, mode = "apply", mapping, mapping_file, file,
              cluster, account, region, change;
  bool full = false, insecure = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url") url = value();
    else if (a == "--token") token = value();
    else if (a == "--token-file") {
      std::ifstream in(value());
      if (!(in >> token)) Die("cannot read a token from " + std::string(argv[i]));
    } else if (a == "--format") format = value();
    else if (a == "--source") source = value();
    else if (a == "--dry-run") mode = "dry-run";
    else if (a == "--full") full = true;
    else if (a == "--mapping") mapping = value();
    else if (a == "--mapping-file") mapping_file = value();
    else if (a == "--cluster") cluster = value();
    else if (a == "--account") account = value();
    else if (a == "--region") region = value();
    else if (a == "--change") change = value();
    else if (a == "--insecure-tls") insecure = true;
    else if (!a.empty() && a[0] == '-' && a != "-") Die("unknown option '" + a + "' for cmdbd import");
    else file = a;
  }
  if (format.empty() || file.empty()) Die("usage: cmdbd import --format F [options] FILE|- (see --help)");
  if (token.empty() && std::getenv("CMDB_TOKEN")) token = std::getenv("CMDB_TOKEN");
  std::stringstream body;
  if (file == "-") body << std::cin.rdbuf();
  else {
    std::ifstream in(file, std::ios::binary);
    if (!in) Die("cannot read " + file);
    body << in.rdbuf();
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  if (!mapping_file.empty()) {
    std::ifstream in(mapping_file);
    if (!in) Die("cannot read " + mapping_file);
    std::stringstream m;
    m << in.rdbuf();
    std::string text = m.str();
    for (char& c : text) if (c == '\n' || c == '\r') c = ' ';
    headers.emplace_back("X-Import-Mapping", text);
  }
  if (!change.empty()) headers.emplace_back("X-Change-Id", change);
  // Parameter values percent-encoded (a source named "a&b" is one value, not two parameters).
  auto encode = [](const std::string& v) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
      else out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
    return out;
  };
  std::string target = "/v1/imports?format=" + encode(format) + "&mode=" + mode + (full ? "&full=true" : "");
  if (!source.empty()) target += "&source=" + encode(source);
  if (!mapping.empty()) target += "&mapping=" + encode(mapping);
  if (!cluster.empty()) target += "&cluster=" + encode(cluster);
  if (!account.empty()) target += "&account=" + encode(account);
  if (!region.empty()) target += "&region=" + encode(region);
  auto r = cmdb::api::HttpCall(url, "POST", target, headers, body.str(), insecure);
  if (!r.ok()) Die(r.status().message());
  std::cout << r->second << "\n";
  return r->first == 200 ? 0 : 1;
}

// The web console to serve: --web DIR, else ./web/dist, else web/dist of the checkout whose
// build/api/ holds this binary; a page saying how to build it when there is none.
std::shared_ptr<const cmdb::api::WebConsole> LoadConsole(const Flags& flags) {
  using cmdb::api::WebConsole;
  std::vector<std::string> candidates;
  if (!flags.web_dir.empty()) {
    candidates.push_back(flags.web_dir);
  } else {
    candidates.push_back("./web/dist");
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back((exe.parent_path() / "../../web/dist").lexically_normal().string());
  }
  std::string why;
  for (const std::string& dir : candidates) {
    auto console = WebConsole::Load(dir);
    if (console.ok()) {
      std::cout << "cmdbd: serving the web console from " << dir << " ("
                << (*console)->file_count() << " files) at /\n";
      return *console;
    }
    if (why.empty() || !flags.web_dir.empty()) why = console.status().message();
    if (!flags.web_dir.empty() && console.status().code() != cmdb::StatusCode::kNotFound) Die(why);
  }
  std::cout << "cmdbd: no web console: " << why << " (build it with scripts/setup.sh)\n";
  return WebConsole::Missing(candidates.front(), why);
}

// A PostgreSQL URL as it may be printed: without a password ("user:secret@" becomes "user@", a
// "password=..." parameter "password=...").
std::string RedactUrl(const std::string& url) {
  std::string out = url;
  size_t scheme = out.find("://");
  size_t at = out.find('@');
  size_t query = out.find('?');
  bool userinfo = at != std::string::npos && (query == std::string::npos || at < query);
  if (scheme != std::string::npos && userinfo) {
    size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out = out.substr(0, colon) + out.substr(at);
  }
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') continue;
    size_t end = out.find('&', p);
    out = out.substr(0, p) + "password=..." + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

// On first start (no token yet) creates the 'admin' token and shows it once.
void EnsureAdminToken(cmdb::Store* store, const Flags& flags) {
  auto tokens = store->ListTokens();
  if (!tokens.ok()) Die(tokens.status().message());
  if (!tokens->empty()) return;
  auto issued = cmdb::api::IssueToken(store, "admin", cmdb::Role::kAdmin);
  if (!issued.ok()) Die(issued.status().message());
  std::cout << "cmdbd: created the admin token (shown once, store it now):\n  " << issued->second << "\n";
  if (!flags.admin_token_file.empty()) {
    std::ofstream out(flags.admin_token_file, std::ios::trunc);
    out << issued->second << "\n";
    out.close();
    std::filesystem::permissions(flags.admin_token_file, std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write);
    std::cout << "cmdbd: and wrote it to " << flags.admin_token_file << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cmdb;
  if (argc >= 2 && std::string(argv[1]) == "token") return TokenCommand(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "backup") return BackupCommand(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "verify") return VerifyCommand(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "import") return ImportCommand(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "migrate") return MigrateCommand(argc, argv);
  Flags flags = ParseFlags(argc, argv);

  // A client that goes away mid-answer must cost an error on that connection, never the process
  // (OpenSSL writes to the socket without MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  // Block the stop signals in every thread; one thread waits for them and stops the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (!flags.tls_cert.empty()) {
    if (Status st = api::HttpServer::CheckTls(flags.tls_cert, flags.tls_key); !st.ok()) Die(st.message());
  }
  // The address first: a second server on it stops here, before it touches any database.
  auto listener = api::HttpServer::ListenOn(flags.host, flags.port);
  if (!listener.ok()) Die(listener.status().message());
  // Only here are the concrete stores named: SQLite by default, PostgreSQL with --store.
  std::unique_ptr<Store> store;
  WebhookStore* hook_store = nullptr;
  std::string where = flags.db;
  if (!flags.store_url.empty()) {
    auto pg = PgStore::Open(flags.store_url);
    if (!pg.ok()) Die(pg.status().message());
    hook_store = pg->get();
    store = std::move(*pg);
    where = RedactUrl(flags.store_url);
  } else {
    auto lite = OpenStore(flags.db, flags.sync_full, true, flags.key_file, flags.new_key);
    hook_store = lite.get();
    store = std::move(lite);
  }

  api::BootstrapOptions boot;
  boot.schema_dir = flags.schema_dir;
  boot.demo_file = flags.no_demo ? "" : flags.demo;
  boot.open_mode = flags.open_mode;
  auto db = api::OpenDatabase(store.get(), boot, std::cout);
  if (!db.ok()) Die(db.status().message());

  // The log of requests and notable events, and the metrics every module registers in.
  auto events =
      std::make_shared<api::EventLog>(flags.quiet ? nullptr : &std::cerr, flags.log_format);
  auto metrics = std::make_shared<MetricsRegistry>();
  // No SQLite file size metric on PostgreSQL (its size is the database server's to report).
  api::RegisterServerMetrics(*metrics, **db,
                             {CMDB_VERSION, flags.store_url.empty() ? flags.db : std::string()});

  api::ApiOptions api_options;
  api_options.metrics = metrics;
  api_options.events = events;
  api_options.max_body_bytes = flags.max_body;
  api_options.max_bulk_bytes = flags.max_bulk;
  api_options.max_import_bytes = flags.max_import;
  api_options.max_concurrent_queries = flags.max_queries;
  api_options.max_feed_streams = std::max(1, flags.threads / 2);  // each holds a worker
  if (!flags.no_web) api_options.console = LoadConsole(flags);
  {
    std::string path = flags.import_config.empty() ? flags.schema_dir + "/import.json" : flags.import_config;
    auto config = importers::LoadImportConfig(path);
    if (config.ok()) api_options.import_config = std::move(*config);
    else if (!flags.import_config.empty() || std::filesystem::exists(path)) Die(config.status().message());
    api_options.import_config.mappings_dir = flags.schema_dir + "/mappings";
  }
  if (!flags.insecure_local) EnsureAdminToken(store.get(), flags);
  if (flags.insecure_local) std::cout << "cmdbd: WARNING: --insecure-local: no authentication\n";
  api::Authenticator auth(store.get(), !flags.insecure_local);
  // The chain head, for the operator to keep outside the database (verify --head detects a log
  // cut back past it).
  auto LogHead = [&](const char* when) {
    auto head = store->Head();
    if (head.ok())
      std::cout << "cmdbd: chain head " << when << " " << FormatChainHead(*head)
                << " (keep it outside the database; check with GET /v1/transactions/verify?head=...)" << std::endl;
  };
  LogHead("at start");
  gql::QueryOptions query_options;
  query_options.max_query_rows = static_cast<size_t>(flags.max_query_rows);
  query_options.max_query_bytes = static_cast<size_t>(flags.max_query_bytes);
  gql::QueryEngine engine(**db, query_options);
  // The process services the API calls (each must outlive `api`).
  process::ChangeService changes(**db, engine);
  process::BaselineService baseline_service(**db, engine);
  process::ReleaseService releases(**db, changes, baseline_service);
  process::AuditService audits(**db, baseline_service);
  gql::BaselineResolver baselines = baseline_service.Resolver();
  api::WebhookOptions webhook_options;
  {
    auto allow = api::AllowList::Parse(flags.webhook_allow);
    if (!allow.ok()) Die(allow.status().message());
    webhook_options.allow = std::move(*allow);
  }
  webhook_options.max_attempts = flags.webhook_max_attempts;
  webhook_options.retry_base_ms = flags.webhook_retry_base;
  webhook_options.retry_cap_ms = flags.webhook_retry_cap;
  webhook_options.timeout_ms = static_cast<int>(flags.webhook_timeout);
  // Events left in the outbox (a crash, a stop) are sent from here on.
  api::WebhookService webhooks(*hook_store, **db, std::move(webhook_options));
  if (Status st = webhooks.Start(); !st.ok()) Die(st.message());
  api::Api api(**db, auth, engine,
               {changes, baseline_service, releases, audits, baselines, &webhooks}, api_options);
  api::ServerOptions server_options;
  server_options.host = flags.host;
  server_options.port = flags.port;
  server_options.threads = flags.threads;
  server_options.log = flags.quiet ? nullptr : &std::cerr;
  server_options.events = events;
  server_options.tls_cert = flags.tls_cert;
  server_options.tls_key = flags.tls_key;
  server_options.listen_fd = listener->first;
  server_options.header_timeout_ms = flags.header_timeout_ms;
  server_options.max_connections = flags.max_connections;
  server_options.max_connections_per_client = flags.max_connections_per_client;
  server_options.min_body_bytes_per_s = flags.min_body_rate;
  api::HttpServer server(api, server_options);
  if (Status st = server.Valid(); !st.ok()) Die(st.message());
  auto port = server.Bind();
  if (!port.ok()) Die(port.status().message());

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::cout << "cmdbd: signal " << sig << ", shutting down" << std::endl;
    if (flags.log_format == api::LogFormat::kJson)
      events->Event("stop", {{"signal", std::to_string(sig)}});
    server.Stop();
  });
  {
    ReadView view = (*db)->Read();
    std::cout << "cmdbd: " << view.graph().ci_count() << " CIs, " << view.graph().rel_count()
              << " relationships, tx " << view.tx() << ", database " << where << "\n";
  }
  std::cout << "cmdbd: listening on " << (flags.tls_cert.empty() ? "http" : "https") << "://" << flags.host << ":" << *port << std::endl;
  if (flags.log_format == api::LogFormat::kJson)
    events->Event("start", {{"version", CMDB_VERSION},
                            {"listen", (flags.tls_cert.empty() ? "http://" : "https://") +
                                           flags.host + ":" + std::to_string(*port)},
                            {"database", where}});
  if (!flags.port_file.empty()) {
    std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << *port << "\n";
    std::filesystem::rename(tmp, flags.port_file);
  }
  server.Serve();
  if (stopper.joinable()) {
    // Serve() returned on its own (not by signal): wake the waiting thread.
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
  }
  LogHead("at stop");
  webhooks.Stop();
  if (flags.log_format == api::LogFormat::kJson) events->Event("stopped", {});
  db->reset();  // every commit is already durable; close cleanly
  store.reset();
  std::cout << "cmdbd: stopped" << std::endl;
  return 0;
}
