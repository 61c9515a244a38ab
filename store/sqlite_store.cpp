#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "cmdb/attr_codec.hpp"
#include "store/sqlite_stream.hpp"
#include "store/sqlite_util.hpp"
#include "store/version_writer.hpp"

namespace cmdb {

using sqlite::Exec;
using sqlite::SqliteError;
using sqlite::Stmt;

namespace {

const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL, mac TEXT);
CREATE TABLE IF NOT EXISTS transactions(
  id INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL, source TEXT NOT NULL,
  change_ref TEXT, message TEXT, cis_written INTEGER NOT NULL, rels_written INTEGER NOT NULL,
  schema_version INTEGER, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, unauthorized TEXT);
CREATE INDEX IF NOT EXISTS transactions_flagged ON transactions(id) WHERE unauthorized IS NOT NULL;
CREATE TABLE IF NOT EXISTS doc_versions(
  kind TEXT NOT NULL, id INTEGER NOT NULL, version INTEGER NOT NULL, body BLOB NOT NULL,
  updated_at INTEGER NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER,
  retired INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS doc_versions_id ON doc_versions(kind, id, valid_from);
CREATE INDEX IF NOT EXISTS doc_versions_tx ON doc_versions(valid_from);
CREATE TABLE IF NOT EXISTS provenance(
  rel INTEGER NOT NULL, id INTEGER NOT NULL, source TEXT NOT NULL, last_seen INTEGER NOT NULL,
  stale INTEGER NOT NULL, owned BLOB NOT NULL, mac TEXT, PRIMARY KEY(rel, id, source)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schema_versions(
  version INTEGER PRIMARY KEY, tx INTEGER NOT NULL, ddl TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ci_versions(
  id INTEGER NOT NULL, version INTEGER NOT NULL, class TEXT NOT NULL, attrs BLOB NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, valid_from INTEGER NOT NULL,
  valid_to INTEGER, retired INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ci_versions_id ON ci_versions(id, valid_from);
CREATE INDEX IF NOT EXISTS ci_current ON ci_versions(id) WHERE valid_to IS NULL;
CREATE TABLE IF NOT EXISTS rel_versions(
  id INTEGER NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, from_id INTEGER NOT NULL,
  to_id INTEGER NOT NULL, attrs BLOB NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER,
  retired INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS rel_versions_id ON rel_versions(id, valid_from);
CREATE INDEX IF NOT EXISTS rel_current ON rel_versions(id) WHERE valid_to IS NULL;
CREATE TABLE IF NOT EXISTS tokens(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0, mac TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_name ON tokens(name);
CREATE INDEX IF NOT EXISTS tokens_hash ON tokens(hash);
)sql";

// Keyed rows: mac = hex HMAC-SHA-256(server key, the row's columns as "<length>:<bytes>;").
constexpr const char* kKeyCheck = "cmdb key check";

void MacField(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out += ':';
  out += v;
  out += ';';
}
void MacField(std::string& out, int64_t v) { MacField(out, std::to_string(v)); }

std::string Mac(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len);
  return HexOf(digest, len);
}
std::string TokenMac(const std::string& key, int64_t id, const std::string& name,
                     const std::string& role, const std::string& hash, int64_t created_at,
                     int64_t revoked_at) {
  std::string in = "token;";
  MacField(in, id);
  MacField(in, name);
  MacField(in, role);
  MacField(in, hash);
  MacField(in, created_at);
  MacField(in, revoked_at);
  return Mac(key, in);
}
std::string ProvenanceMac(const std::string& key, int64_t rel, int64_t id, const std::string& source,
                          int64_t last_seen, int64_t stale, std::string_view owned) {
  std::string in = "provenance;";
  MacField(in, rel);
  MacField(in, id);
  MacField(in, source);
  MacField(in, last_seen);
  MacField(in, stale);
  MacField(in, owned);
  return Mac(key, in);
}
std::string MetaMac(const std::string& key, const std::string& name, const std::string& value) {
  std::string in = "meta;";
  MacField(in, name);
  MacField(in, value);
  return Mac(key, in);
}
std::string ProvenanceRow(int64_t rel, int64_t id, const std::string& source) {
  return std::string(rel ? "relationship=" : "ci=") + std::to_string(id) + " source=" + source;
}

const char* kCiCols = "id, version, class, attrs, created_at, updated_at, valid_from, valid_to, retired";
const char* kRelCols =
    "id, version, type, from_id, to_id, attrs, created_at, updated_at, valid_from, valid_to, retired";

Result<CiRecord> ReadCi(const Stmt& s) {
  CiRecord c;
  c.id = s.Int(0);
  c.version = s.Int(1);
  c.class_name = s.Text(2);
  auto attrs = DecodeAttrs(s.Blob(3));
  if (!attrs.ok()) return attrs.status();
  c.attrs = std::move(*attrs);
  c.created_at = s.Int(4);
  c.updated_at = s.Int(5);
  c.valid_from = s.Int(6);
  c.valid_to = s.Int(7);
  c.retired = s.Int(8) != 0;
  return c;
}

Result<RelRecord> ReadRel(const Stmt& s) {
  RelRecord r;
  r.id = s.Int(0);
  r.version = s.Int(1);
  r.type = s.Text(2);
  r.from = s.Int(3);
  r.to = s.Int(4);
  auto attrs = DecodeAttrs(s.Blob(5));
  if (!attrs.ok()) return attrs.status();
  r.attrs = std::move(*attrs);
  r.created_at = s.Int(6);
  r.updated_at = s.Int(7);
  r.valid_from = s.Int(8);
  r.valid_to = s.Int(9);
  r.retired = s.Int(10) != 0;
  return r;
}

const char* kTxCols =
    "id, time, actor, source, change_ref, message, cis_written, rels_written, schema_version, prev_hash, hash,"
    " unauthorized";
const char* kDocCols = "kind, id, version, body, updated_at, valid_from, valid_to, retired";

Result<DocRecord> ReadDoc(const Stmt& s) {
  DocRecord d;
  d.kind = s.Text(0);
  d.id = s.Int(1);
  d.version = s.Int(2);
  auto body = DecodeAttrs(s.Blob(3));
  if (!body.ok()) return body.status();
  d.body = std::move(*body);
  d.updated_at = s.Int(4);
  d.valid_from = s.Int(5);
  d.valid_to = s.Int(6);
  d.retired = s.Int(7) != 0;
  return d;
}

TxRecord ReadTx(const Stmt& s) {
  TxRecord t;
  t.id = s.Int(0);
  t.time = s.Int(1);
  t.actor = s.Text(2);
  t.source = s.Text(3);
  t.change_ref = s.Text(4);
  t.message = s.Text(5);
  t.cis_written = s.Int(6);
  t.rels_written = s.Int(7);
  t.schema_version = s.Int(8);
  t.prev_hash = s.Text(9);
  t.hash = s.Text(10);
  t.unauthorized = s.Text(11);
  return t;
}

Result<sqlite3*> OpenConnection(const std::string& path, bool sync_full) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Status st = Status::Internal("cannot open database '" + path + "': " + sqlite3_errmsg(db));
    sqlite3_close(db);
    return st;
  }
  sqlite3_busy_timeout(db, 10000);
  Status st = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=OFF;");
  if (st.ok()) st = Exec(db, sync_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
  if (!st.ok()) {
    sqlite3_close(db);
    return Status::Internal("cannot use database '" + path + "': " + st.message());
  }
  return db;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, SqliteOptions options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore());
  store->path_ = path;
  store->sync_full_ = options.synchronous_full;
  store->lock_mode_ = options.lock;
  if (options.lock == DbLock::kAtOpen) CMDB_RETURN_IF_ERROR(store->Lock());
  auto w = OpenConnection(path, options.synchronous_full);
  if (!w.ok()) return w.status();
  store->write_db_ = *w;
  // Large transactions (bulk loads, imports) keep their index pages in a 64 MiB cache instead of
  // spilling them to the WAL and reading them back.
  CMDB_RETURN_IF_ERROR(Exec(store->write_db_, "PRAGMA cache_size=-65536;"));
  {  // files from before the change-control flag: add its column first
    Stmt probe(store->write_db_, "SELECT unauthorized FROM transactions LIMIT 0");
    Stmt exists(store->write_db_, "SELECT 1 FROM sqlite_master WHERE name = 'transactions'");
    if (!probe.ok() && exists.ok() && exists.Step() == SQLITE_ROW) {
      CMDB_RETURN_IF_ERROR(Exec(store->write_db_, "ALTER TABLE transactions ADD COLUMN unauthorized TEXT"));
    }
  }
  CMDB_RETURN_IF_ERROR(Exec(store->write_db_, kSchemaSql));
  store->log_ = options.log;
  if (options.max_page_count > 0) {  // a size limit (tests use it to simulate a full disk)
    std::string pragma = "PRAGMA max_page_count=" + std::to_string(options.max_page_count) + ";";
    CMDB_RETURN_IF_ERROR(Exec(store->write_db_, pragma.c_str()));
  }
  auto r = OpenConnection(path, options.synchronous_full);
  if (!r.ok()) return r.status();
  store->read_db_ = *r;
  CMDB_RETURN_IF_ERROR(store->OpenKey(options));
  return store;
}

SqliteStore::~SqliteStore() {
  sqlite3_close(read_db_);
  sqlite3_close(write_db_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock; the file stays (see Lock)
}

Status SqliteStore::Lock() {
  if (lock_fd_ >= 0) return Status::Ok();
  // The lock file is never removed: unlinking it while another opener waits on the old inode
  // would let two processes hold "the" lock. O_CLOEXEC keeps it from children (a forked cmdbd
  // in a test must not inherit its parent's lock).
  std::string lock_path = path_ + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Internal("cannot open the lock file '" + lock_path + "' of database '" + path_ +
                            "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = "unknown";
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
      std::string text(buf, static_cast<size_t>(n));
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) holder = text;
    }
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return Status::Internal("cannot lock '" + lock_path + "': " + std::strerror(err));
    }
    return Status::Conflict("database '" + path_ + "' is in use by another cmdbd (pid " + holder +
                            "; lock file '" + lock_path + "')");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds all the same; only the message of a second opener loses the pid.
  }
  lock_fd_ = fd;
  return Status::Ok();
}

void SqliteStore::Log(const std::string& line) const {
  if (log_) log_(line);
  else std::cerr << "cmdbd: " << line << std::endl;
}

namespace {

// The token rows whose mac is wrong or missing: (id, name).
std::vector<std::pair<int64_t, std::string>> FailingTokens(sqlite3* db, const std::string& key) {
  std::vector<std::pair<int64_t, std::string>> out;
  Stmt s(db, "SELECT id, name, role, hash, created_at, revoked_at, mac FROM tokens ORDER BY id");
  while (s.ok() && s.Step() == SQLITE_ROW) {
    if (s.Text(6) != TokenMac(key, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)))
      out.emplace_back(s.Int(0), s.Text(1));
  }
  return out;
}

std::string FailingTokenLine(int64_t id, const std::string& name) {
  return "store: token '" + name + "' (tokens row id=" + std::to_string(id) +
         ") fails its keyed check: the row was changed or added outside cmdbd; it is not accepted"
         " for authentication";
}

// Signs the keyed rows as they are: those without a mac, or all of them when `all`. Returns the
// number of rows signed.
Result<int64_t> SignRows(sqlite3* db, const std::string& key, bool all) {
  const std::string only = all ? "" : " WHERE mac IS NULL";
  int64_t n = 0;
  std::vector<std::pair<std::string, int64_t>> tokens;
  {
    Stmt s(db, ("SELECT id, name, role, hash, created_at, revoked_at FROM tokens" + only).c_str());
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      tokens.emplace_back(TokenMac(key, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)), s.Int(0));
    }
  }
  Stmt put_token(db, "UPDATE tokens SET mac = ? WHERE id = ?");
  for (auto& [mac, id] : tokens) CMDB_RETURN_IF_ERROR(put_token.Bind(1, mac).Bind(2, id).Run());
  n += static_cast<int64_t>(tokens.size());
  struct Prov {
    std::string mac, source;
    int64_t rel, id;
  };
  std::vector<Prov> provs;
  {
    Stmt s(db, ("SELECT rel, id, source, last_seen, stale, owned FROM provenance" + only).c_str());
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      provs.push_back(Prov{ProvenanceMac(key, s.Int(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4), s.Blob(5)),
                           s.Text(2), s.Int(0), s.Int(1)});
    }
  }
  Stmt put_prov(db, "UPDATE provenance SET mac = ? WHERE rel = ? AND id = ? AND source = ?");
  for (auto& p : provs) CMDB_RETURN_IF_ERROR(put_prov.Bind(1, p.mac).Bind(2, p.rel).Bind(3, p.id).Bind(4, p.source).Run());
  n += static_cast<int64_t>(provs.size());
  std::vector<std::pair<std::string, std::string>> metas;
  {
    Stmt s(db, ("SELECT key, value FROM meta" + (all ? std::string(" WHERE key != 'key_check'")
                                                     : only + " AND key != 'key_check'")).c_str());
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) metas.emplace_back(MetaMac(key, s.Text(0), s.Text(1)), s.Text(0));
  }
  Stmt put_meta(db, "UPDATE meta SET mac = ? WHERE key = ?");
  for (auto& [mac, name] : metas) CMDB_RETURN_IF_ERROR(put_meta.Bind(1, mac).Bind(2, name).Run());
  n += static_cast<int64_t>(metas.size());
  return n;
}

}  // namespace

Status SqliteStore::OpenKey(const SqliteOptions& options) {
  std::lock_guard w(write_mu_);
  std::string key_path = options.key_file.empty() ? path_ + ".key" : options.key_file;
  // Files from before keyed rows: add the mac columns (NULL until signed below).
  for (const char* table : {"meta", "provenance", "tokens"}) {
    Stmt probe(write_db_, (std::string("SELECT mac FROM ") + table + " LIMIT 0").c_str());
    if (!probe.ok()) {
      CMDB_RETURN_IF_ERROR(Exec(write_db_, (std::string("ALTER TABLE ") + table + " ADD COLUMN mac TEXT").c_str()));
    }
  }
  std::string check;
  {
    Stmt s(write_db_, "SELECT value FROM meta WHERE key = 'key_check'");
    if (!s.ok()) return s.Error();
    if (s.Step() == SQLITE_ROW) check = s.Text(0);
  }
  bool created = false;
  std::error_code ec;
  if (std::filesystem::exists(key_path, ec) && !options.new_key) {
    std::ifstream in(key_path);
    std::string hex;
    in >> hex;
    std::string raw;
    for (size_t i = 0; hex.size() == 64 && i < 64; i += 2) {
      raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    if (raw.size() != 32 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::Internal("the key file '" + key_path + "' of database '" + path_ +
                              "' does not hold a key (64 hex digits)");
    }
    key_ = std::move(raw);
    if (!check.empty() && check != Mac(key_, kKeyCheck)) {
      return Status::Internal("the key file '" + key_path + "' does not belong to database '" + path_ +
                              "': use the key file it was created with, or start with a new key to sign"
                              " its tokens, provenance and meta rows as they are");
    }
  } else {
    if (!check.empty() && !options.new_key) {
      return Status::Internal("database '" + path_ + "' is keyed, but its key file '" + key_path +
                              "' is missing: restore it (backups keep a copy next to the backup), or start"
                              " with a new key to sign its tokens, provenance and meta rows as they are");
    }
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("no randomness for a database key");
    key_.assign(reinterpret_cast<const char*>(bytes), sizeof bytes);
    std::string hex = HexOf(bytes, sizeof bytes) + "\n";
    int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, hex.data(), hex.size()) != static_cast<ssize_t>(hex.size()) || ::fsync(fd) != 0) {
      std::string why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return Status::Internal("cannot write the key file '" + key_path + "': " + why);
    }
    ::close(fd);
    created = true;
  }
  if (created || check.empty()) {
    CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
    Result<int64_t> signed_rows = int64_t{0};
    // Rows found without a key are trusted as found only when the key is new: with an existing
    // key, a row without a mac was added behind the server's back.
    if (created) signed_rows = SignRows(write_db_, key_, options.new_key);
    Stmt put(write_db_, "INSERT OR REPLACE INTO meta(key, value) VALUES ('key_check', ?)");
    Status st = signed_rows.ok() ? put.Bind(1, Mac(key_, kKeyCheck)).Run() : signed_rows.status();
    if (st.ok()) st = Exec(write_db_, "COMMIT");
    if (!st.ok()) {
      Exec(write_db_, "ROLLBACK");
      return st;
    }
    if (created && *signed_rows > 0) {
      Log("store: signed " + std::to_string(*signed_rows) + " token, provenance and meta rows of database '" + path_ +
          "' with " + (options.new_key ? "a new" : "its first") + " key (" + key_path +
          "): they are trusted as they were found");
    }
  }
  // Start-up: a token row edited behind the server's back is named now, and refused at use.
  for (const auto& [id, name] : FailingTokens(write_db_, key_)) {
    Log(FailingTokenLine(id, name));
    reported_tokens_.insert(id);
  }
  return Status::Ok();
}

Status SqliteStore::VerifyKeyedRows(ChainReport& report) {
  const char* kChanged = "its keyed check fails: the row was changed outside cmdbd";
  const char* kUnsigned = "it has no keyed check (mac is NULL): the row was added outside cmdbd";
  auto why = [&](const std::string& mac) { return mac.empty() ? kUnsigned : kChanged; };
  {
    Stmt s(read_db_, "SELECT id, name, role, hash, created_at, revoked_at, mac FROM tokens ORDER BY id");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      if (s.Text(6) != TokenMac(key_, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)))
        report.Add("tokens", "id=" + std::to_string(s.Int(0)) + " name=" + s.Text(1), why(s.Text(6)));
    }
  }
  {
    Stmt s(read_db_, "SELECT rel, id, source, last_seen, stale, owned, mac FROM provenance ORDER BY rel, id, source");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      if (s.Text(6) != ProvenanceMac(key_, s.Int(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4), s.Blob(5)))
        report.Add("provenance", ProvenanceRow(s.Int(0), s.Int(1), s.Text(2)), why(s.Text(6)));
    }
  }
  {
    Stmt s(read_db_, "SELECT key, value, mac FROM meta WHERE key != 'key_check' ORDER BY key");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      if (s.Text(2) != MetaMac(key_, s.Text(0), s.Text(1))) report.Add("meta", "key=" + s.Text(0), why(s.Text(2)));
    }
  }
  return Status::Ok();
}

Result<StoreInfo> SqliteStore::Info() {
  std::lock_guard l(read_mu_);
  StoreInfo info;
  Stmt mode(read_db_, "SELECT value, mac FROM meta WHERE key = 'mode'");
  if (!mode.ok()) return mode.Error();
  if (mode.Step() == SQLITE_ROW) {
    if (mode.Text(1) != MetaMac(key_, "mode", mode.Text(0))) {
      return Status::Internal("the meta row 'mode' of database '" + path_ +
                              "' fails its keyed check (it was changed outside cmdbd): not serving it;"
                              " GET /v1/transactions/verify names every such row");
    }
    info.initialized = true;
    info.open_mode = mode.Text(0) == "open";
  }
  Stmt schema(read_db_, "SELECT version, ddl FROM schema_versions ORDER BY version DESC LIMIT 1");
  if (schema.Step() == SQLITE_ROW) {
    info.schema_version = schema.Int(0);
    info.schema_ddl = schema.Text(1);
  }
  Stmt maxes(read_db_,
             "SELECT (SELECT COALESCE(MAX(id), 0) FROM transactions),"
             " (SELECT COALESCE(MAX(id), 0) FROM ci_versions),"
             " (SELECT COALESCE(MAX(id), 0) FROM rel_versions)");
  if (maxes.Step() != SQLITE_ROW) return maxes.Error();
  info.last_tx = maxes.Int(0);
  info.max_ci_id = maxes.Int(1);
  info.max_rel_id = maxes.Int(2);
  return info;
}

Status SqliteStore::Initialize(bool open_mode) {
  std::lock_guard l(write_mu_);
  Stmt s(write_db_, "INSERT INTO meta(key, value, mac) VALUES ('mode', ?, ?)");
  if (!s.ok()) return s.Error();
  std::string mode = open_mode ? "open" : "closed";
  s.Bind(1, mode).Bind(2, MetaMac(key_, "mode", mode));
  if (!s.Run().ok()) return Status::Conflict("store already initialized");
  return Status::Ok();
}

namespace {

// Runs `sql` (with ?1 bound to `tx` when tx > 0) and passes every row, decoded by `read`, to
// `sink`; stops at the first error.
template <typename Read, typename Sink>
Status ScanRows(sqlite3* db, const std::string& sql, TxId tx, Read read, const Sink& sink) {
  Stmt rows(db, sql.c_str());
  if (!rows.ok()) return rows.Error();
  if (tx > 0) rows.Bind(1, tx);
  while (rows.Step() == SQLITE_ROW) {
    auto r = read(rows);
    if (!r.ok()) return r.status();
    sink(std::move(*r));
  }
  return Status::Ok();
}

// Both scans inside one read transaction of `db`.
template <typename Scan>
Status InReadTx(sqlite3* db, Scan scan) {
  CMDB_RETURN_IF_ERROR(Exec(db, "BEGIN"));
  Status st = scan();
  Exec(db, "COMMIT");
  return st;
}

constexpr const char* kCurrentOnly = " WHERE valid_to IS NULL AND retired = 0 ORDER BY id";
constexpr const char* kAsOf =
    " WHERE valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1) AND retired = 0 ORDER BY id";

}  // namespace

Status SqliteStore::LoadCurrent(const std::function<void(CiRecord&&)>& ci_sink,
                                const std::function<void(RelRecord&&)>& rel_sink) {
  // Loading the current graph is where a process starts to serve the database: from here on it
  // must be the only one (two servers would each hold a stale graph of the other's writes).
  if (lock_mode_ != DbLock::kNone) CMDB_RETURN_IF_ERROR(Lock());
  // Two scans on two connections, in parallel: CIs here, relationships on a second thread. The
  // write lock keeps commits out in between, so both read the same state.
  std::lock_guard w(write_mu_);
  std::lock_guard l(read_mu_);
  auto second = OpenConnection(path_, sync_full_);
  if (!second.ok()) return second.status();
  sqlite3* rel_db = *second;
  Status rel_status;
  std::thread rel_thread([&] {
    rel_status = InReadTx(rel_db, [&] {
      return ScanRows(rel_db, std::string("SELECT ") + kRelCols + " FROM rel_versions" + kCurrentOnly, 0,
                      ReadRel, rel_sink);
    });
  });
  Status st = InReadTx(read_db_, [&] {
    return ScanRows(read_db_, std::string("SELECT ") + kCiCols + " FROM ci_versions" + kCurrentOnly, 0, ReadCi,
                    ci_sink);
  });
  rel_thread.join();
  sqlite3_close(rel_db);
  return st.ok() ? rel_status : st;
}

Status SqliteStore::LoadAsOf(TxId tx, const std::function<void(CiRecord&&)>& ci_sink,
                             const std::function<void(RelRecord&&)>& rel_sink) {
  std::lock_guard l(read_mu_);
  return InReadTx(read_db_, [&] {
    CMDB_RETURN_IF_ERROR(
        ScanRows(read_db_, std::string("SELECT ") + kCiCols + " FROM ci_versions" + kAsOf, tx, ReadCi, ci_sink));
    return ScanRows(read_db_, std::string("SELECT ") + kRelCols + " FROM rel_versions" + kAsOf, tx, ReadRel,
                    rel_sink);
  });
}

Result<TxId> SqliteStore::TxAtTime(int64_t micros) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, "SELECT COALESCE(MAX(id), 0) FROM transactions WHERE time <= ?");
  if (!s.ok()) return s.Error();
  s.Bind(1, micros);
  if (s.Step() != SQLITE_ROW) return s.Error();
  return s.Int(0);
}

Status SqliteStore::Commit(const WriteSet& ws) {
  std::lock_guard l(write_mu_);
  CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
  Status st = CommitLocked(ws, nullptr);
  if (st.ok()) st = Exec(write_db_, "COMMIT");
  if (!st.ok()) Exec(write_db_, "ROLLBACK");
  return st;
}

Result<std::unique_ptr<StoreStream>> SqliteStore::BeginStream(TxId tx) {
  std::unique_lock lock(write_mu_);
  CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
  return std::unique_ptr<StoreStream>(
      std::make_unique<sqlite::SqliteStream>(write_db_, std::move(lock), tx));
}

Status SqliteStore::CommitStreamed(const WriteSet& ws, std::unique_ptr<StoreStream> stream,
                                   const StreamedPrefix& prefix) {
  auto* s = dynamic_cast<sqlite::SqliteStream*>(stream.get());
  if (!s) return Status::Internal("a stream of another store");
  Status st = s->Drain();
  if (st.ok()) st = CommitLocked(ws, &prefix);
  if (st.ok()) st = Exec(write_db_, "COMMIT");
  if (st.ok()) s->MarkCommitted();
  return st;  // the stream rolls back what it holds unless committed
}

Status SqliteStore::CommitLocked(const WriteSet& ws, const StreamedPrefix* prefix) {
  // The hash chain: the previous transaction's hash and this one's content.
  std::string prev_hash = kGenesisHash;
  {
    Stmt last(write_db_, "SELECT hash FROM transactions ORDER BY id DESC LIMIT 1");
    if (last.Step() == SQLITE_ROW) prev_hash = last.Text(0);
  }
  // A large write set is hashed on a second thread while its rows are inserted; the log entry,
  // which carries the hash, goes in last (the SQLite transaction makes the order invisible).
  std::future<std::string> hashing;
  std::string hash;
  if (ws.cis.size() + ws.rels.size() > 4096) {
    hashing = std::async(std::launch::async, [&] { return TxChainHash(prev_hash, ws.tx, ws); });
  } else {
    hash = TxChainHash(prev_hash, ws.tx, ws);
  }
  CMDB_RETURN_IF_ERROR(PutVersions(ws, prefix));
  if (hashing.valid()) hash = hashing.get();
  Stmt tx(write_db_,
          "INSERT INTO transactions(id, time, actor, source, change_ref, message, cis_written,"
          " rels_written, schema_version, prev_hash, hash, unauthorized)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!tx.ok()) return tx.Error();
  tx.Bind(1, ws.tx.id).Bind(2, ws.tx.time).Bind(3, ws.tx.actor).Bind(4, ws.tx.source);
  tx.BindNullable(5, ws.tx.change_ref).BindNullable(6, ws.tx.message);
  tx.Bind(7, ws.tx.cis_written).Bind(8, ws.tx.rels_written).Bind(9, ws.tx.schema_version);
  tx.Bind(10, prev_hash).Bind(11, hash).BindNullable(12, ws.tx.unauthorized);
  return tx.Run();
}

Status SqliteStore::PutVersions(const WriteSet& ws, const StreamedPrefix* prefix) {
  if (!ws.schema_ddl.empty()) {
    Stmt s(write_db_, "INSERT INTO schema_versions(version, tx, ddl) VALUES (?, ?, ?)");
    s.Bind(1, ws.tx.schema_version).Bind(2, ws.tx.id).Bind(3, ws.schema_ddl);
    CMDB_RETURN_IF_ERROR(s.Run());
  }
  sqlite::VersionWriter writer(write_db_);
  CMDB_RETURN_IF_ERROR(writer.status());
  size_t first_ci = 0, first_rel = 0;
  if (prefix) {  // streamed rows are in already; rewrite those that changed since
    if (prefix->cis > ws.cis.size() || prefix->rels > ws.rels.size())
      return Status::Internal("more rows streamed than the transaction holds");
    for (size_t i : prefix->changed_cis) CMDB_RETURN_IF_ERROR(writer.RewriteCi(ws.cis.at(i), ws.tx.id));
    for (size_t i : prefix->changed_rels) CMDB_RETURN_IF_ERROR(writer.RewriteRel(ws.rels.at(i), ws.tx.id));
    first_ci = prefix->cis;
    first_rel = prefix->rels;
  }
  CMDB_RETURN_IF_ERROR(writer.PutCis(std::span(ws.cis).subspan(first_ci), ws.tx.id));
  CMDB_RETURN_IF_ERROR(writer.PutRels(std::span(ws.rels).subspan(first_rel), ws.tx.id));
  if (!ws.provenance.empty()) {
    Stmt put(write_db_,
             "INSERT OR REPLACE INTO provenance(rel, id, source, last_seen, stale, owned, mac)"
             " VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!put.ok()) return put.Error();
    for (const Provenance& p : ws.provenance) {
      int64_t rel = p.relationship ? 1 : 0, stale = p.stale ? 1 : 0;
      std::string owned = EncodeAttrs(p.owned);
      put.Bind(1, rel).Bind(2, p.id).Bind(3, p.source).Bind(4, p.last_seen);
      put.Bind(5, stale).BindBlob(6, owned);
      put.Bind(7, ProvenanceMac(key_, rel, p.id, p.source, p.last_seen, stale, owned));
      CMDB_RETURN_IF_ERROR(put.Run());
    }
  }
  if (ws.docs.empty()) return Status::Ok();
  Stmt close_doc(write_db_, "UPDATE doc_versions SET valid_to = ? WHERE kind = ? AND id = ? AND valid_to IS NULL");
  Stmt put_doc(write_db_,
               "INSERT INTO doc_versions(kind, id, version, body, updated_at, valid_from, retired)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!close_doc.ok() || !put_doc.ok()) return close_doc.Error();
  for (const DocRecord& d : ws.docs) {
    if (d.version > 1) CMDB_RETURN_IF_ERROR(close_doc.Bind(1, ws.tx.id).Bind(2, d.kind).Bind(3, d.id).Run());
    put_doc.Bind(1, d.kind).Bind(2, d.id).Bind(3, d.version).BindBlob(4, EncodeAttrs(d.body));
    put_doc.Bind(5, d.updated_at).Bind(6, ws.tx.id).Bind(7, d.retired ? 1 : 0);
    CMDB_RETURN_IF_ERROR(put_doc.Run());
  }
  return Status::Ok();
}

Status SqliteStore::LoadDocs(const std::function<void(DocRecord&&)>& sink) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kDocCols +
                    " FROM doc_versions WHERE valid_to IS NULL ORDER BY kind, id").c_str());
  if (!s.ok()) return s.Error();
  while (s.Step() == SQLITE_ROW) {
    auto d = ReadDoc(s);
    if (!d.ok()) return d.status();
    sink(std::move(*d));
  }
  return Status::Ok();
}

Status SqliteStore::LoadProvenance(const std::function<void(Provenance&&)>& sink) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, "SELECT rel, id, source, last_seen, stale, owned, mac FROM provenance");
  if (!s.ok()) return s.Error();
  int64_t failing = 0;
  struct Report {  // one line for all the rows that fail, after the scan
    const SqliteStore* store;
    int64_t& failing;
    ~Report() {
      if (failing > 0)
        store->Log("store: " + std::to_string(failing) +
                   " provenance rows fail their keyed check (changed outside cmdbd) and were not loaded;"
                   " GET /v1/transactions/verify names them");
    }
  } report{this, failing};
  while (s.Step() == SQLITE_ROW) {
    if (s.Text(6) != ProvenanceMac(key_, s.Int(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4), s.Blob(5))) {
      ++failing;
      continue;
    }
    Provenance p;
    p.relationship = s.Int(0) != 0;
    p.id = s.Int(1);
    p.source = s.Text(2);
    p.last_seen = s.Int(3);
    p.stale = s.Int(4) != 0;
    auto owned = DecodeAttrs(s.Blob(5));
    if (!owned.ok()) return owned.status();
    p.owned = std::move(*owned);
    sink(std::move(p));
  }
  return Status::Ok();
}

Result<std::vector<DocRecord>> SqliteStore::DocHistory(const std::string& kind, int64_t id) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kDocCols +
                    " FROM doc_versions WHERE kind = ? AND id = ? ORDER BY valid_from").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, kind).Bind(2, id);
  std::vector<DocRecord> out;
  while (s.Step() == SQLITE_ROW) {
    auto d = ReadDoc(s);
    if (!d.ok()) return d.status();
    out.push_back(std::move(*d));
  }
  return out;
}

Result<std::vector<TxRecord>> SqliteStore::FlaggedTransactions(TxId since, int limit) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kTxCols +
                    " FROM transactions WHERE id > ? AND unauthorized IS NOT NULL ORDER BY id LIMIT ?").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, since).Bind(2, static_cast<int64_t>(limit));
  std::vector<TxRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadTx(s));
  return out;
}

Result<std::vector<CiRecord>> SqliteStore::CiHistory(CiId id) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kCiCols +
                    " FROM ci_versions WHERE id = ? ORDER BY valid_from").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, id);
  std::vector<CiRecord> out;
  while (s.Step() == SQLITE_ROW) {
    auto c = ReadCi(s);
    if (!c.ok()) return c.status();
    out.push_back(std::move(*c));
  }
  return out;
}

Result<std::vector<RelRecord>> SqliteStore::RelHistory(RelId id) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kRelCols +
                    " FROM rel_versions WHERE id = ? ORDER BY valid_from").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, id);
  std::vector<RelRecord> out;
  while (s.Step() == SQLITE_ROW) {
    auto r = ReadRel(s);
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  return out;
}

Result<std::optional<CiRecord>> SqliteStore::LatestCi(CiId id) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kCiCols +
                    " FROM ci_versions WHERE id = ? AND valid_to IS NULL").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, id);
  if (s.Step() != SQLITE_ROW) return std::optional<CiRecord>();
  auto c = ReadCi(s);
  if (!c.ok()) return c.status();
  return std::optional<CiRecord>(std::move(*c));
}

Result<std::vector<TxRecord>> SqliteStore::Transactions(TxId since, int limit) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kTxCols + " FROM transactions WHERE id > ? ORDER BY id LIMIT ?").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, since).Bind(2, static_cast<int64_t>(limit));
  std::vector<TxRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadTx(s));
  return out;
}

namespace {

std::string CiRow(const CiRecord& c) {
  return "id=" + std::to_string(c.id) + " version=" + std::to_string(c.version) +
         " valid_from=" + std::to_string(c.valid_from);
}
std::string RelRow(const RelRecord& r) {
  return "id=" + std::to_string(r.id) + " version=" + std::to_string(r.version) +
         " valid_from=" + std::to_string(r.valid_from);
}
std::string DocRow(const DocRecord& d) {
  return "kind=" + d.kind + " id=" + std::to_string(d.id) + " version=" +
         std::to_string(d.version) + " valid_from=" + std::to_string(d.valid_from);
}
std::string TxText(int64_t tx) { return tx == 0 ? std::string("NULL") : std::to_string(tx); }

// Checks that the validity intervals of every item's versions follow from the log: ordered by
// valid_from, each version's valid_to is the valid_from of the next one (the transaction that
// superseded it), and the last one is open (NULL) — whether it is a live version or a tombstone.
// `sql` yields ([kind,] id, version, valid_from, valid_to or 0) ordered by key, valid_from, with
// the kind column when `doc_keys`; `what` names an item for messages ("CI", "relationship").
void CheckIntervals(sqlite3* db, const char* sql, const char* table, const char* what,
                    bool doc_keys, TxId last_tx, ChainReport& report) {
  Stmt s(db, sql);
  if (!s.ok()) {
    report.Add(table, "", "cannot be read: " + s.Error().message());
    return;
  }
  struct Row {
    std::string kind;
    int64_t id = 0, version = 0, from = 0, to = 0;
  };
  auto read = [&] {
    Row r;
    int c = 0;
    if (doc_keys) r.kind = s.Text(c++);
    r.id = s.Int(c);
    r.version = s.Int(c + 1);
    r.from = s.Int(c + 2);
    r.to = s.Int(c + 3);
    return r;
  };
  auto key = [&](const Row& r) {
    return (doc_keys ? "kind=" + r.kind + " " : std::string()) + "id=" + std::to_string(r.id) +
           " version=" + std::to_string(r.version) + " valid_from=" + std::to_string(r.from);
  };
  auto item = [&](const Row& r) {
    return std::string(what) + " " + (doc_keys ? r.kind + " " : std::string()) +
           std::to_string(r.id);
  };
  bool have = s.Step() == SQLITE_ROW;
  while (have) {
    Row cur = read();
    have = s.Step() == SQLITE_ROW;
    Row next;
    bool same = false;
    if (have) {
      next = read();
      same = next.id == cur.id && next.kind == cur.kind;
    }
    if (same) {
      if (cur.to != next.from) {
        report.Add(table, key(cur),
                   "valid_to is " + TxText(cur.to) + ", but the next version of " + item(cur) +
                       " (version " + std::to_string(next.version) + ") was written by transaction " +
                       std::to_string(next.from));
      }
    } else if (cur.to != 0) {
      report.Add(table, key(cur),
                 "valid_to is " + std::to_string(cur.to) + ", but no later version of " +
                     item(cur) + " exists" +
                     (cur.to > last_tx ? " and the log ends at transaction " + std::to_string(last_tx)
                                       : std::string(" (transaction " + std::to_string(cur.to) +
                                                     " wrote none)")) +
                     ": the current version was closed outside the log");
    }
  }
}

}  // namespace

Result<ChainHead> SqliteStore::Head() {
  std::lock_guard l(read_mu_);
  Stmt last(read_db_, "SELECT id, hash FROM transactions ORDER BY id DESC LIMIT 1");
  if (!last.ok()) return last.Error();
  int rc = last.Step();
  if (rc == SQLITE_DONE) return ChainHead{0, kGenesisHash};
  if (rc != SQLITE_ROW) return last.Error();
  return ChainHead{last.Int(0), last.Text(1)};
}

Result<ChainReport> SqliteStore::VerifyChain(const VerifyOptions& options) {
  std::lock_guard l(read_mu_);
  ChainReport report;
  CMDB_RETURN_IF_ERROR(Exec(read_db_, "BEGIN"));
  struct EndRead {
    sqlite3* db;
    ~EndRead() { Exec(db, "COMMIT"); }
  } end_read{read_db_};
  Stmt txs(read_db_, (std::string("SELECT ") + kTxCols + " FROM transactions ORDER BY id").c_str());
  // One ordered pass over each version table, merged with the log by transaction id.
  Stmt cis(read_db_, (std::string("SELECT ") + kCiCols + " FROM ci_versions ORDER BY valid_from, id").c_str());
  Stmt rels(read_db_, (std::string("SELECT ") + kRelCols + " FROM rel_versions ORDER BY valid_from, id").c_str());
  Stmt docs(read_db_, (std::string("SELECT ") + kDocCols + " FROM doc_versions ORDER BY valid_from, kind, id").c_str());
  Stmt ddl(read_db_, "SELECT tx, ddl, version FROM schema_versions ORDER BY tx, version");
  if (!txs.ok() || !cis.ok() || !rels.ok() || !docs.ok() || !ddl.ok()) return txs.Error();
  bool ci_row = cis.Step() == SQLITE_ROW, rel_row = rels.Step() == SQLITE_ROW, ddl_row = ddl.Step() == SQLITE_ROW;
  bool doc_row = docs.Step() == SQLITE_ROW;
  std::string prev = kGenesisHash;
  TxId last_tx = 0;
  bool broken = false;
  while (txs.Step() == SQLITE_ROW) {
    TxRecord t = ReadTx(txs);
    last_tx = t.id;
    if (broken) continue;  // past a break nothing can be recomputed; only the log's end counts
    std::string stored_prev = std::move(t.prev_hash), stored_hash = std::move(t.hash);
    t.prev_hash.clear();
    t.hash.clear();
    std::vector<CiRecord> ci_rows;
    std::vector<RelRecord> rel_rows;
    std::string reason, schema_ddl;
    std::string where_table, where_row;  // the row that made `reason`, when it is one row
    auto stray = [&](const char* table, std::string row, const char* what) {
      if (!reason.empty()) return;
      reason = std::string("a ") + what + " belongs to no logged transaction";
      where_table = table;
      where_row = std::move(row);
    };
    for (; ci_row && cis.Int(6) <= t.id; ci_row = cis.Step() == SQLITE_ROW) {
      auto c = ReadCi(cis);
      if (!c.ok()) {
        if (reason.empty()) reason = "a CI version does not decode", where_table = "ci_versions",
                            where_row = "id=" + std::to_string(cis.Int(0)) + " valid_from=" + std::to_string(cis.Int(6));
      } else if (c->valid_from == t.id) {
        ci_rows.push_back(std::move(*c));
      } else {
        stray("ci_versions", CiRow(*c), "CI version");
      }
    }
    for (; rel_row && rels.Int(8) <= t.id; rel_row = rels.Step() == SQLITE_ROW) {
      auto r = ReadRel(rels);
      if (!r.ok()) {
        if (reason.empty()) reason = "a relationship version does not decode", where_table = "rel_versions",
                            where_row = "id=" + std::to_string(rels.Int(0)) + " valid_from=" + std::to_string(rels.Int(8));
      } else if (r->valid_from == t.id) {
        rel_rows.push_back(std::move(*r));
      } else {
        stray("rel_versions", RelRow(*r), "relationship version");
      }
    }
    std::vector<DocRecord> doc_rows;
    for (; doc_row && docs.Int(5) <= t.id; doc_row = docs.Step() == SQLITE_ROW) {
      auto d = ReadDoc(docs);
      if (!d.ok()) {
        if (reason.empty()) reason = "a process record version does not decode", where_table = "doc_versions",
                            where_row = "kind=" + docs.Text(0) + " id=" + std::to_string(docs.Int(1));
      } else if (d->valid_from == t.id) {
        doc_rows.push_back(std::move(*d));
      } else {
        stray("doc_versions", DocRow(*d), "process record version");
      }
    }
    for (; ddl_row && ddl.Int(0) <= t.id; ddl_row = ddl.Step() == SQLITE_ROW) {
      std::string row = "version=" + std::to_string(ddl.Int(2)) + " tx=" + std::to_string(ddl.Int(0));
      if (ddl.Int(0) != t.id) {
        stray("schema_versions", row, "schema version");
      } else if (ddl.Int(2) != t.schema_version || !schema_ddl.empty()) {
        // The DDL is chained through its transaction; its version number must be the one the
        // log entry records, or the server would start with another schema than the log says.
        report.Add("schema_versions", row,
                   "version is " + std::to_string(ddl.Int(2)) + ", but transaction " +
                       std::to_string(t.id) + " logged schema version " + std::to_string(t.schema_version));
      } else {
        schema_ddl = ddl.Text(1);
      }
    }
    ++report.checked;
    if (reason.empty() && stored_prev != prev) reason = "its link to the previous transaction is broken";
    if (reason.empty() && ChainHash(prev, TxCanonical(t, ci_rows, rel_rows, doc_rows, schema_ddl)) != stored_hash)
      reason = "its content does not match its hash";
    if (!reason.empty()) {
      report.first_broken = t.id;
      report.reason = reason;
      if (where_table.empty()) report.Add("transactions", "id=" + std::to_string(t.id), reason);
      else report.Add(where_table, where_row, reason + " (found at transaction " + std::to_string(t.id) + ")");
      broken = true;
      continue;
    }
    prev = stored_hash;
  }
  if (!broken && (ci_row || rel_row || doc_row || ddl_row)) {
    report.first_broken = last_tx + 1;
    report.reason = "versions exist for a transaction missing from the log";
    std::string table = ci_row ? "ci_versions" : rel_row ? "rel_versions" : doc_row ? "doc_versions" : "schema_versions";
    int64_t tx = ci_row ? cis.Int(6) : rel_row ? rels.Int(8) : doc_row ? docs.Int(5) : ddl.Int(0);
    std::string row = ci_row ? "id=" + std::to_string(cis.Int(0)) + " valid_from=" + std::to_string(tx)
                    : rel_row ? "id=" + std::to_string(rels.Int(0)) + " valid_from=" + std::to_string(tx)
                    : doc_row ? "kind=" + docs.Text(0) + " id=" + std::to_string(docs.Int(1)) + " valid_from=" + std::to_string(tx)
                              : "version=" + std::to_string(ddl.Int(2)) + " tx=" + std::to_string(tx);
    report.Add(table, row, "written by transaction " + std::to_string(tx) + ", which is not in the log (it ends at " +
                               std::to_string(last_tx) + ")");
  }
  // Validity intervals: which version is current is decided by valid_to, which the chain does not
  // cover (a later transaction sets it); it must agree with the versions the log wrote.
  CheckIntervals(read_db_, "SELECT id, version, valid_from, COALESCE(valid_to, 0) FROM ci_versions ORDER BY id, valid_from",
                 "ci_versions", "CI", false, last_tx, report);
  CheckIntervals(read_db_, "SELECT id, version, valid_from, COALESCE(valid_to, 0) FROM rel_versions ORDER BY id, valid_from",
                 "rel_versions", "relationship", false, last_tx, report);
  CheckIntervals(read_db_,
                 "SELECT kind, id, version, valid_from, COALESCE(valid_to, 0) FROM doc_versions ORDER BY kind, id, valid_from",
                 "doc_versions", "process record", true, last_tx, report);
  // A head kept outside the database: truncating the log's tail (with its versions, and
  // reopening the versions they closed) leaves a consistent file, but not this head.
  if (options.head && options.head->tx > 0) {
    const ChainHead& head = *options.head;
    Stmt at(read_db_, "SELECT hash FROM transactions WHERE id = ?");
    at.Bind(1, head.tx);
    std::string row = "id=" + std::to_string(head.tx);
    if (at.Step() != SQLITE_ROW) {
      report.Add("transactions", row,
                 "the head " + FormatChainHead(head) + " is no longer in the log, which ends at transaction " +
                     std::to_string(last_tx) + ": transactions were removed from its tail");
    } else if (at.Text(0) != head.hash) {
      report.Add("transactions", row,
                 "the log's hash " + at.Text(0) + " differs from the head's " + head.hash +
                     ": the log was rewritten from this transaction on or before it");
    }
  }
  CMDB_RETURN_IF_ERROR(VerifyKeyedRows(report));
  return report;
}

Status SqliteStore::Backup(const std::string& db_path, const std::string& dest_path,
                           const std::string& key_file) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto close = [&] {
    sqlite3_close(dst);
    sqlite3_close(src);
  };
  if (sqlite3_open_v2(db_path.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    Status st = Status::Internal("cannot open database '" + db_path + "': " + sqlite3_errmsg(src));
    close();
    return st;
  }
  sqlite3_busy_timeout(src, 10000);
  if (sqlite3_open_v2(dest_path.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status st = Status::Internal("cannot create backup '" + dest_path + "': " + sqlite3_errmsg(dst));
    close();
    return st;
  }
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) {
    Status st = Status::Internal(std::string("cannot start the backup: ") + sqlite3_errmsg(dst));
    close();
    return st;
  }
  int rc;
  do {
    rc = sqlite3_backup_step(b, 1024);  // pages; the source stays readable and writable meanwhile
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(10);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  Status st = rc == SQLITE_DONE ? Status::Ok() : Status::Internal(std::string("backup failed: ") + sqlite3_errmsg(dst));
  // The copy's head, to keep with it (and elsewhere): verify ?head= detects a later truncation.
  std::string head = "0:" + std::string(kGenesisHash);
  if (st.ok()) {
    Stmt last(dst, "SELECT id, hash FROM transactions ORDER BY id DESC LIMIT 1");
    if (last.ok() && last.Step() == SQLITE_ROW) head = std::to_string(last.Int(0)) + ":" + last.Text(1);
  }
  close();
  if (!st.ok()) return st;
  if (!(std::ofstream(dest_path + ".head") << head << "\n")) {
    return Status::Internal("cannot write '" + dest_path + ".head'");
  }
  // The key: without it a restored database's tokens cannot be checked (and it refuses to open).
  std::string key_path = key_file.empty() ? db_path + ".key" : key_file;
  std::error_code ec;
  if (std::filesystem::exists(key_path, ec)) {
    std::filesystem::copy_file(key_path, dest_path + ".key", std::filesystem::copy_options::overwrite_existing, ec);
    if (!ec) {
      std::filesystem::permissions(dest_path + ".key",
                                   std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
    }
    if (ec) return Status::Internal("cannot copy the key file '" + key_path + "' to '" + dest_path + ".key': " + ec.message());
  }
  return Status::Ok();
}

Status SqliteStore::IntegrityCheck() {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, "PRAGMA integrity_check");
  if (s.Step() != SQLITE_ROW) return s.Error();
  std::string r = s.Text(0);
  return r == "ok" ? Status::Ok() : Status::Internal("integrity check: " + r);
}

namespace {
const char* kTokenCols = "id, name, role, hash, created_at, revoked_at";
TokenRecord ReadToken(const Stmt& s) {
  TokenRecord t;
  t.id = s.Int(0);
  t.name = s.Text(1);
  t.role = ParseRole(s.Text(2)).value_or(Role::kReader);
  t.hash = s.Text(3);
  t.created_at = s.Int(4);
  t.revoked_at = s.Int(5);
  return t;
}
}  // namespace

Result<TokenRecord> SqliteStore::CreateToken(TokenRecord token) {
  std::lock_guard l(write_mu_);
  // The id is part of the row's mac: pick it inside the transaction (another process, the token
  // command beside a server, may insert too).
  CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
  auto insert = [&]() -> Status {
    Stmt next(write_db_, "SELECT COALESCE(MAX(id), 0) + 1 FROM tokens");
    if (!next.ok() || next.Step() != SQLITE_ROW) return next.Error();
    token.id = next.Int(0);
    std::string role = RoleName(token.role);
    Stmt s(write_db_, "INSERT INTO tokens(id, name, role, hash, created_at, mac) VALUES (?, ?, ?, ?, ?, ?)");
    if (!s.ok()) return s.Error();
    s.Bind(1, token.id).Bind(2, token.name).Bind(3, role).Bind(4, token.hash).Bind(5, token.created_at);
    s.Bind(6, TokenMac(key_, token.id, token.name, role, token.hash, token.created_at, 0));
    int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::Conflict("a token named '" + token.name + "' already exists");
    if (rc != SQLITE_DONE) return s.Error();
    return Exec(write_db_, "COMMIT");
  };
  Status st = insert();
  if (!st.ok()) {
    Exec(write_db_, "ROLLBACK");
    return st;
  }
  return token;
}

Result<std::vector<TokenRecord>> SqliteStore::ListTokens() {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kTokenCols + " FROM tokens ORDER BY id").c_str());
  if (!s.ok()) return s.Error();
  std::vector<TokenRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadToken(s));
  return out;
}

Status SqliteStore::RevokeToken(const std::string& name, int64_t now) {
  std::lock_guard l(write_mu_);
  CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
  auto revoke = [&]() -> Status {
    Stmt row(write_db_, "SELECT id, role, hash, created_at FROM tokens WHERE name = ? AND revoked_at = 0");
    if (!row.ok()) return row.Error();
    row.Bind(1, name);
    if (row.Step() != SQLITE_ROW) return Status::NotFound("no valid token named '" + name + "'");
    // Re-signed as revoked: a row that failed its check before stays refused, now for good.
    Stmt s(write_db_, "UPDATE tokens SET revoked_at = ?, mac = ? WHERE id = ?");
    if (!s.ok()) return s.Error();
    s.Bind(1, now).Bind(2, TokenMac(key_, row.Int(0), name, row.Text(1), row.Text(2), row.Int(3), now));
    s.Bind(3, row.Int(0));
    CMDB_RETURN_IF_ERROR(s.Run());
    return Exec(write_db_, "COMMIT");
  };
  Status st = revoke();
  if (!st.ok()) Exec(write_db_, "ROLLBACK");
  return st;
}

Result<std::optional<TokenRecord>> SqliteStore::FindToken(const std::string& hash) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kTokenCols + ", mac, role FROM tokens WHERE hash = ? AND revoked_at = 0").c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, hash);
  if (s.Step() != SQLITE_ROW) return std::optional<TokenRecord>();
  TokenRecord t = ReadToken(s);
  if (s.Text(6) != TokenMac(key_, t.id, t.name, s.Text(7), t.hash, t.created_at, t.revoked_at)) {
    if (reported_tokens_.insert(t.id).second) Log(FailingTokenLine(t.id, t.name));
    return std::optional<TokenRecord>();
  }
  return std::optional<TokenRecord>(std::move(t));
}

}  // namespace cmdb
