#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
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

// The keyed count and digest of the keyed rows (meta row 'keyed_rows'): per table, how many rows
// there are and the XOR of their macs. Every write of a keyed row updates it in the same SQLite
// transaction, so a row deleted, added, or swapped for an earlier copy of itself (with the valid
// mac it had then) changes what the table holds but not the digest. Without the key the digest
// cannot be made to agree again.
constexpr const char* kKeyedRows = "keyed_rows";
// The key check of a database that keeps the digest; kKeyCheck marks one from before it.
constexpr const char* kKeyCheckDigests = "cmdb key check 2: keyed row digests";

struct RowDigest {
  int64_t count = 0;
  std::array<unsigned char, 32> x{};

  // Adds or removes (the same: XOR) a row with this mac; a missing or malformed mac counts only.
  void Toggle(std::string_view mac) {
    if (mac.size() != 64) return;
    for (size_t i = 0; i < 32; ++i) {
      auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
      x[i] ^= static_cast<unsigned char>(nibble(mac[2 * i]) << 4 | nibble(mac[2 * i + 1]));
    }
  }
  void Add(std::string_view mac) { ++count, Toggle(mac); }
  void Remove(std::string_view mac) { --count, Toggle(mac); }
  bool operator==(const RowDigest&) const = default;
};

struct KeyedDigests {
  RowDigest tokens, provenance, meta;

  // "tokens <n> <hex>;provenance <n> <hex>;meta <n> <hex>"
  std::string Text() const {
    std::string out;
    for (auto [name, d] : {std::pair{"tokens", &tokens}, {"provenance", &provenance}, {"meta", &meta}}) {
      out += std::string(out.empty() ? "" : ";") + name + " " + std::to_string(d->count) + " " +
             HexOf(d->x.data(), d->x.size());
    }
    return out;
  }
  static std::optional<KeyedDigests> Parse(const std::string& text) {
    KeyedDigests out;
    std::istringstream in(text);
    for (auto [name, d] : {std::pair{"tokens", &out.tokens}, {"provenance", &out.provenance}, {"meta", &out.meta}}) {
      std::string part, word, hex;
      if (!std::getline(in, part, ';')) return std::nullopt;
      std::istringstream fields(part);
      if (!(fields >> word >> d->count >> hex) || word != name || hex.size() != 64) return std::nullopt;
      d->Toggle(hex);
    }
    return out;
  }
};

// The stored digest: nullopt when the row is missing; `valid` false when its mac fails.
struct StoredDigests {
  std::optional<KeyedDigests> digests;
  bool present = false;
  bool valid = false;
};
StoredDigests ReadDigests(sqlite3* db, const std::string& key) {
  StoredDigests out;
  Stmt s(db, "SELECT value, mac FROM meta WHERE key = 'keyed_rows'");
  if (!s.ok() || s.Step() != SQLITE_ROW) return out;
  out.present = true;
  out.valid = s.Text(1) == MetaMac(key, kKeyedRows, s.Text(0));
  if (out.valid) out.digests = KeyedDigests::Parse(s.Text(0));
  out.valid = out.valid && out.digests;
  return out;
}
Status WriteDigests(sqlite3* db, const std::string& key, const KeyedDigests& d) {
  std::string value = d.Text();
  Stmt put(db, "INSERT OR REPLACE INTO meta(key, value, mac) VALUES ('keyed_rows', ?, ?)");
  if (!put.ok()) return put.Error();
  return put.Bind(1, value).Bind(2, MetaMac(key, kKeyedRows, value)).Run();
}
// Applies a change to the stored digest, inside the caller's write transaction. A digest that is
// missing or fails its check is left as it is (verify keeps naming it): updating it would sign
// whatever was done to the rows behind the server's back.
template <typename Change>
Status UpdateDigests(sqlite3* db, const std::string& key, Change change) {
  StoredDigests stored = ReadDigests(db, key);
  if (!stored.valid) return Status::Ok();
  change(*stored.digests);
  return WriteDigests(db, key, *stored.digests);
}
// The digest of the rows as they are now (a full scan of the three tables).
Result<KeyedDigests> CountKeyedRows(sqlite3* db) {
  KeyedDigests d;
  for (auto [sql, digest] :
       {std::pair{"SELECT mac FROM tokens", &d.tokens}, {"SELECT mac FROM provenance", &d.provenance},
        {"SELECT mac FROM meta WHERE key NOT IN ('key_check', 'keyed_rows')", &d.meta}}) {
    Stmt s(db, sql);
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) digest->Add(s.Text(0));
  }
  return d;
}
// Why a table's rows disagree with their stored digest ("" when they agree).
std::string DigestMismatch(const RowDigest& stored, const RowDigest& found) {
  if (stored.count != found.count) {
    return "the keyed count of its rows (meta key=keyed_rows) is " + std::to_string(stored.count) + ", but " +
           std::to_string(found.count) + " are stored: rows were " + (found.count < stored.count ? "deleted" : "added") +
           " outside cmdbd";
  }
  if (stored.x != found.x) {
    return "its rows do not match their keyed digest (meta key=keyed_rows): a row was replaced outside cmdbd (e.g."
           " by an earlier copy of itself)";
  }
  return "";
}

// What the transaction log says about a token: the API records every token it creates or
// revokes as a process record of kind "token" (id = the token's id; body: name, role, event =
// "created with role <role>" | "revoked"; api/handlers_misc.cpp, LogTokenEvent). Why the row
// (with a valid mac) disagrees with the latest such record, or "" when it agrees or the log has
// none (tokens made with `cmdbd token` on the file, or the first admin token). The latest record
// is the one with the highest valid_from, not the one valid_to leaves open (which an edit of
// valid_to could choose); removing the record itself breaks the chain.
std::string TokenLogMismatch(sqlite3* db, int64_t id, const std::string& name, const std::string& role,
                             int64_t revoked_at) {
  Stmt s(db, "SELECT body, valid_from FROM doc_versions WHERE kind = 'token' AND id = ?"
             " ORDER BY valid_from DESC, version DESC LIMIT 1");
  if (!s.ok()) return "";
  s.Bind(1, id);
  if (s.Step() != SQLITE_ROW) return "";
  std::string tx = std::to_string(s.Int(1));
  auto body = DecodeAttrs(s.Blob(0));
  if (!body.ok()) return "the log's record of it (transaction " + tx + ") does not decode";
  auto text = [&](const char* field) {
    Value v = body->Get(field);
    return v.is_string() ? std::string(v.as_string()) : std::string();
  };
  std::string logged_name = text("name"), event = text("event");
  if (logged_name != name) {
    return "the log's latest record of token id=" + std::to_string(id) + " (transaction " + tx + ") is for token '" +
           logged_name + "': the row was replaced outside cmdbd";
  }
  if (event == "revoked") {
    if (revoked_at != 0) return "";
    return "it is valid, but the log revoked it in transaction " + tx +
           ": the row was restored outside cmdbd (a revocation cannot be undone)";
  }
  static const std::string kCreated = "created with role ";
  if (event.starts_with(kCreated) && event.substr(kCreated.size()) != role) {
    return "its role is '" + role + "', but the log created it with role '" + event.substr(kCreated.size()) +
           "' in transaction " + tx + ": the row was changed outside cmdbd";
  }
  return "";
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

namespace {

// SQLite reads a name that starts with "file:" as a URI naming another file, which would escape
// the database lock (taken on the name as given): cmdb takes file paths only.
Status CheckFilePath(const std::string& path) {
  if (path.rfind("file:", 0) == 0)
    return Status::Invalid("the database path '" + path + "' starts with 'file:', which SQLite reads as a URI; give a "
                           "file path (for a file of that name: ./" + path + ")");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, SqliteOptions options) {
  CMDB_RETURN_IF_ERROR(CheckFilePath(path));
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
  if (file_locked_) ReleaseFileLock(file_lock_id_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock; the file stays (see Lock)
}

namespace {

// The lock on the database file itself (what a hard link cannot dodge): an OFD write lock on
// one byte past the bytes SQLite locks (its lock page, 0x40000000 to 0x400001ff), so it never
// meets SQLite's own POSIX locks. The descriptor is never closed: closing any descriptor of a
// file drops every POSIX lock the process holds on it, SQLite's included. So the process keeps
// one descriptor per database file it ever locked (in this registry), and releasing the lock
// only unlocks the byte.
constexpr off_t kServeLockByte = 0x40001000;
struct FileLocks {
  std::mutex mu;
  std::map<std::pair<dev_t, ino_t>, std::pair<int, bool>> files;  // -> (descriptor, held)
};
FileLocks& TheFileLocks() {
  static FileLocks* locks = new FileLocks();  // never destroyed: the descriptors outlive statics
  return *locks;
}
bool SetServeLock(int fd, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = kServeLockByte;
  fl.l_len = 1;
  return ::fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

// The path the lock file is named after: `path` with symbolic links resolved (a link to the
// database and the database itself share one lock file). Unchanged when nothing resolves.
std::string LockBase(const std::string& path) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  if (ec) return path;
  std::filesystem::path plain = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec || real == plain) return path;
  return real.string();
}

}  // namespace

void SqliteStore::ReleaseFileLock(std::pair<uint64_t, uint64_t> id) {
  FileLocks& locks = TheFileLocks();
  std::lock_guard l(locks.mu);
  auto it = locks.files.find({static_cast<dev_t>(id.first), static_cast<ino_t>(id.second)});
  if (it == locks.files.end()) return;
  SetServeLock(it->second.first, F_UNLCK);
  it->second.second = false;
}

Status SqliteStore::Lock() {
  if (lock_fd_ >= 0) return Status::Ok();
  // The lock file is never removed: unlinking it while another opener waits on the old inode
  // would let two processes hold "the" lock. O_CLOEXEC keeps it from children (a forked cmdbd
  // in a test must not inherit its parent's lock).
  std::string lock_path = LockBase(path_) + ".lock";
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
  // The file itself: another name of it (a hard link) has another lock file.
  {
    FileLocks& locks = TheFileLocks();
    std::lock_guard l(locks.mu);
    struct stat st {};
    int db_fd = -1;
    if (::stat(path_.c_str(), &st) == 0) {
      auto it = locks.files.find({st.st_dev, st.st_ino});
      if (it != locks.files.end()) db_fd = it->second.first;
    }
    if (db_fd < 0) {  // not open in this process yet (or not created yet: SQLite takes an empty file)
      db_fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (db_fd < 0 || ::fstat(db_fd, &st) != 0) {
        std::string why = std::strerror(errno);
        ::close(fd);
        return Status::Internal("cannot open database '" + path_ + "' to lock it: " + why);
      }
      locks.files[{st.st_dev, st.st_ino}] = {db_fd, false};
    }
    auto& entry = locks.files[{st.st_dev, st.st_ino}];
    if (entry.second || !SetServeLock(db_fd, F_WRLCK)) {
      int err = errno;
      ::close(fd);
      if (!entry.second && err != EAGAIN && err != EACCES) {
        return Status::Internal("cannot lock database '" + path_ + "': " + std::strerror(err));
      }
      return Status::Conflict("database '" + path_ + "' is in use by another cmdbd" +
                              (entry.second ? " (pid " + std::to_string(::getpid()) + ")" : std::string()) +
                              " that opened the same file under another name (a hard link): the file itself is"
                              " locked, not only '" + lock_path + "'");
    }
    entry.second = true;
    file_locked_ = true;
    file_lock_id_ = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
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

std::string FailingTokenLine(int64_t id, const std::string& name) {
  return "store: token '" + name + "' (tokens row id=" + std::to_string(id) +
         ") fails its keyed check: the row was changed or added outside cmdbd; it is not accepted"
         " for authentication";
}

std::string TokenLogLine(int64_t id, const std::string& name, const std::string& why) {
  return "store: token '" + name + "' (tokens row id=" + std::to_string(id) + ") does not match the transaction log: " +
         why + "; it is not accepted for authentication";
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
    // The key check and the digest are written anew after signing.
    Stmt s(db, ("SELECT key, value FROM meta" + (all ? std::string(" WHERE key NOT IN ('key_check', 'keyed_rows')")
                                                     : only + " AND key NOT IN ('key_check', 'keyed_rows')")).c_str());
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
  bool created = false, counted_before = false;
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
    counted_before = check == Mac(key_, kKeyCheckDigests);
    if (!check.empty() && !counted_before && check != Mac(key_, kKeyCheck)) {
      return Status::Internal("the key file '" + key_path + "' does not belong to database '" + path_ +
                              "': use the key file it was created with, or start with a new key to sign"
                              " its tokens, provenance and meta rows as they are");
    }
    if (check.empty()) {
      // A key but no key check: a new database (the key file may be from an open that stopped
      // before its first commit), or a keyed one whose check was deleted, which would otherwise
      // be counted again as found.
      Stmt used(write_db_,
                "SELECT EXISTS(SELECT 1 FROM transactions) OR EXISTS(SELECT 1 FROM tokens)"
                " OR EXISTS(SELECT 1 FROM provenance) OR EXISTS(SELECT 1 FROM meta)");
      if (!used.ok() || used.Step() != SQLITE_ROW) return used.Error();
      if (used.Int(0) != 0) {
        return Status::Internal("database '" + path_ + "' has a key file ('" + key_path +
                                "') but no key check (the meta row 'key_check' is missing): it was deleted outside"
                                " cmdbd; restore the database from a backup, or start with a new key to sign its"
                                " tokens, provenance and meta rows as they are");
      }
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
  if (!counted_before) {
    // A new key, a new database, or a keyed one from before the digest: sign (with a new key)
    // and count the rows as they are, and mark the database as keeping the digest.
    CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
    Result<int64_t> signed_rows = int64_t{0};
    // Rows found without a key are trusted as found only when the key is new: with an existing
    // key, a row without a mac was added behind the server's back.
    if (created) signed_rows = SignRows(write_db_, key_, options.new_key);
    Result<KeyedDigests> found = CountKeyedRows(write_db_);
    Stmt put(write_db_, "INSERT OR REPLACE INTO meta(key, value) VALUES ('key_check', ?)");
    Status st = !signed_rows.ok() ? signed_rows.status() : !found.ok() ? found.status() : Status::Ok();
    if (st.ok()) st = WriteDigests(write_db_, key_, *found);
    if (st.ok()) st = put.Bind(1, Mac(key_, kKeyCheckDigests)).Run();
    if (st.ok()) st = Exec(write_db_, "COMMIT");
    if (!st.ok()) {
      Exec(write_db_, "ROLLBACK");
      return st;
    }
    if (created && *signed_rows > 0) {
      Log("store: signed " + std::to_string(*signed_rows) + " token, provenance and meta rows of database '" + path_ +
          "' with " + (options.new_key ? "a new" : "its first") + " key (" + key_path +
          "): they are trusted as they were found");
    } else if (!created && !check.empty()) {
      Log("store: counted the keyed rows of database '" + path_ + "' for the first time (" +
          std::to_string(found->tokens.count) + " tokens, " + std::to_string(found->provenance.count) +
          " provenance and " + std::to_string(found->meta.count) +
          " meta rows): rows deleted before now cannot be detected, later deletions can");
    }
  }
  // Start-up: a token row edited behind the server's back, or restored against the log, is
  // named now, and refused at use; so is a table that no longer matches its digest.
  KeyedDigests found;
  {
    Stmt s(write_db_, "SELECT id, name, role, hash, created_at, revoked_at, mac FROM tokens ORDER BY id");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      found.tokens.Add(s.Text(6));
      if (s.Text(6) != TokenMac(key_, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5))) {
        Log(FailingTokenLine(s.Int(0), s.Text(1)));
        reported_tokens_.insert(s.Int(0));
      } else if (s.Int(5) == 0) {
        std::string why = TokenLogMismatch(write_db_, s.Int(0), s.Text(1), s.Text(2), s.Int(5));
        if (!why.empty()) {
          Log(TokenLogLine(s.Int(0), s.Text(1), why));
          reported_tokens_.insert(s.Int(0));
        }
      }
    }
    Stmt m(write_db_, "SELECT mac FROM meta WHERE key NOT IN ('key_check', 'keyed_rows')");
    if (!m.ok()) return m.Error();
    while (m.Step() == SQLITE_ROW) found.meta.Add(m.Text(0));
  }
  StoredDigests stored = ReadDigests(write_db_, key_);
  if (!stored.valid) {
    Log("store: the meta row 'keyed_rows' of database '" + path_ + "' is " +
        (stored.present ? "changed" : "missing") +
        " (outside cmdbd): deleted token, provenance and meta rows cannot be detected;"
        " GET /v1/transactions/verify reports it");
  } else {
    for (auto [table, s_d, f_d] : {std::tuple{"tokens", &stored.digests->tokens, &found.tokens},
                                   {"meta", &stored.digests->meta, &found.meta}}) {
      std::string why = DigestMismatch(*s_d, *f_d);
      if (!why.empty()) Log("store: the " + std::string(table) + " table of database '" + path_ + "': " + why);
    }
  }
  return Status::Ok();
}

Status SqliteStore::VerifyKeyedRows(ChainReport& report) {
  const char* kChanged = "its keyed check fails: the row was changed outside cmdbd";
  const char* kUnsigned = "it has no keyed check (mac is NULL): the row was added outside cmdbd";
  auto why = [&](const std::string& mac) { return mac.empty() ? kUnsigned : kChanged; };
  KeyedDigests found;
  {
    Stmt s(read_db_, "SELECT id, name, role, hash, created_at, revoked_at, mac FROM tokens ORDER BY id");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      std::string row = "id=" + std::to_string(s.Int(0)) + " name=" + s.Text(1);
      found.tokens.Add(s.Text(6));
      if (s.Text(6) != TokenMac(key_, s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5))) {
        report.Add("tokens", row, why(s.Text(6)));
      } else if (std::string mismatch = TokenLogMismatch(read_db_, s.Int(0), s.Text(1), s.Text(2), s.Int(5));
                 !mismatch.empty()) {
        report.Add("tokens", row, mismatch);
      }
    }
  }
  {
    Stmt s(read_db_, "SELECT rel, id, source, last_seen, stale, owned, mac FROM provenance ORDER BY rel, id, source");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      found.provenance.Add(s.Text(6));
      if (s.Text(6) != ProvenanceMac(key_, s.Int(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4), s.Blob(5)))
        report.Add("provenance", ProvenanceRow(s.Int(0), s.Int(1), s.Text(2)), why(s.Text(6)));
    }
  }
  bool has_mode = false;
  {
    Stmt s(read_db_, "SELECT key, value, mac FROM meta WHERE key != 'key_check' ORDER BY key");
    if (!s.ok()) return s.Error();
    while (s.Step() == SQLITE_ROW) {
      has_mode = has_mode || s.Text(0) == "mode";
      if (s.Text(0) != kKeyedRows) found.meta.Add(s.Text(2));
      if (s.Text(2) != MetaMac(key_, s.Text(0), s.Text(1))) report.Add("meta", "key=" + s.Text(0), why(s.Text(2)));
    }
  }
  if (!has_mode) {
    Stmt logged(read_db_, "SELECT COUNT(*) FROM transactions");
    if (logged.ok() && logged.Step() == SQLITE_ROW && logged.Int(0) > 0) {
      report.Add("meta", "key=mode",
                 "it is missing, but the log holds " + std::to_string(logged.Int(0)) +
                     " transactions: it was deleted outside cmdbd");
    }
  }
  StoredDigests stored = ReadDigests(read_db_, key_);
  if (!stored.present) {
    report.Add("meta", "key=keyed_rows",
               "it is missing: it was deleted outside cmdbd (deleted token, provenance and meta rows can no longer"
               " be counted)");
  } else if (stored.valid) {  // a failing mac was reported with the meta rows above
    for (auto [table, s_d, f_d] : {std::tuple{"tokens", &stored.digests->tokens, &found.tokens},
                                   {"provenance", &stored.digests->provenance, &found.provenance},
                                   {"meta", &stored.digests->meta, &found.meta}}) {
      std::string mismatch = DigestMismatch(*s_d, *f_d);
      if (!mismatch.empty()) report.Add(table, "all rows", mismatch);
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
  } else {
    // No mode yet is a new database; without one but with a log, the row was deleted (starting
    // would initialize it again, in whatever mode the command line asks for).
    Stmt logged(read_db_, "SELECT COUNT(*) FROM transactions");
    if (!logged.ok() || logged.Step() != SQLITE_ROW) return logged.Error();
    if (logged.Int(0) > 0) {
      return Status::Internal("the meta row 'mode' of database '" + path_ + "' is missing, but its log holds " +
                              std::to_string(logged.Int(0)) +
                              " transactions: it was deleted outside cmdbd; not serving it (restore the database"
                              " from a backup)");
    }
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
  CMDB_RETURN_IF_ERROR(Exec(write_db_, "BEGIN IMMEDIATE"));
  Stmt s(write_db_, "INSERT INTO meta(key, value, mac) VALUES ('mode', ?, ?)");
  std::string mode = open_mode ? "open" : "closed", mac = MetaMac(key_, "mode", mode);
  Status st = s.ok() ? s.Bind(1, mode).Bind(2, mac).Run() : s.Error();
  if (!st.ok() && s.ok()) st = Status::Conflict("store already initialized");
  if (st.ok()) st = UpdateDigests(write_db_, key_, [&](KeyedDigests& d) { d.meta.Add(mac); });
  if (st.ok()) st = Exec(write_db_, "COMMIT");
  if (!st.ok()) Exec(write_db_, "ROLLBACK");
  return st;
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
    // The row each write replaces leaves the keyed digest; the new one enters it.
    Stmt old(write_db_, "SELECT mac FROM provenance WHERE rel = ? AND id = ? AND source = ?");
    if (!put.ok() || !old.ok()) return put.Error();
    RowDigest delta;
    for (const Provenance& p : ws.provenance) {
      int64_t rel = p.relationship ? 1 : 0, stale = p.stale ? 1 : 0;
      old.Bind(1, rel).Bind(2, p.id).Bind(3, p.source);
      if (old.Step() == SQLITE_ROW) delta.Remove(old.Text(0));
      old.Reset();
      std::string owned = EncodeAttrs(p.owned);
      std::string mac = ProvenanceMac(key_, rel, p.id, p.source, p.last_seen, stale, owned);
      put.Bind(1, rel).Bind(2, p.id).Bind(3, p.source).Bind(4, p.last_seen);
      put.Bind(5, stale).BindBlob(6, owned).Bind(7, mac);
      CMDB_RETURN_IF_ERROR(put.Run());
      delta.Add(mac);
    }
    CMDB_RETURN_IF_ERROR(UpdateDigests(write_db_, key_, [&](KeyedDigests& d) {
      d.provenance.count += delta.count;
      for (size_t i = 0; i < d.provenance.x.size(); ++i) d.provenance.x[i] ^= delta.x[i];
    }));
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
  return InReadTx(read_db_, [&] { return LoadProvenanceLocked(sink); });
}

Status SqliteStore::LoadProvenanceLocked(const std::function<void(Provenance&&)>& sink) {
  Stmt s(read_db_, "SELECT rel, id, source, last_seen, stale, owned, mac FROM provenance");
  if (!s.ok()) return s.Error();
  int64_t failing = 0;
  RowDigest found;
  bool complete = false;
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
  struct Count {  // after the scan: rows deleted (or swapped for earlier copies) since the last write
    const SqliteStore* store;
    const RowDigest& found;
    const bool& complete;
    ~Count() {
      StoredDigests stored = ReadDigests(store->read_db_, store->key_);
      if (!complete || !stored.valid) return;  // a missing or changed digest row: logged at open
      std::string why = DigestMismatch(stored.digests->provenance, found);
      if (!why.empty()) {
        store->Log("store: the provenance table of database '" + store->path_ + "': " + why +
                   "; an attribute's owner may be missing, so a weaker source could overwrite it");
      }
    }
  } count{this, found, complete};
  while (s.Step() == SQLITE_ROW) {
    found.Add(s.Text(6));
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
  complete = true;
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
  CMDB_RETURN_IF_ERROR(CheckFilePath(db_path));
  CMDB_RETURN_IF_ERROR(CheckFilePath(dest_path));
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
    // Never an id the log has records of (a row deleted by hand would free it): the new token
    // would inherit them.
    Stmt next(write_db_,
              "SELECT MAX((SELECT COALESCE(MAX(id), 0) FROM tokens),"
              " (SELECT COALESCE(MAX(id), 0) FROM doc_versions WHERE kind = 'token')) + 1");
    if (!next.ok() || next.Step() != SQLITE_ROW) return next.Error();
    token.id = next.Int(0);
    std::string role = RoleName(token.role);
    Stmt s(write_db_, "INSERT INTO tokens(id, name, role, hash, created_at, mac) VALUES (?, ?, ?, ?, ?, ?)");
    if (!s.ok()) return s.Error();
    s.Bind(1, token.id).Bind(2, token.name).Bind(3, role).Bind(4, token.hash).Bind(5, token.created_at);
    std::string mac = TokenMac(key_, token.id, token.name, role, token.hash, token.created_at, 0);
    s.Bind(6, mac);
    int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::Conflict("a token named '" + token.name + "' already exists");
    if (rc != SQLITE_DONE) return s.Error();
    CMDB_RETURN_IF_ERROR(UpdateDigests(write_db_, key_, [&](KeyedDigests& d) { d.tokens.Add(mac); }));
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
    Stmt row(write_db_, "SELECT id, role, hash, created_at, mac FROM tokens WHERE name = ? AND revoked_at = 0");
    if (!row.ok()) return row.Error();
    row.Bind(1, name);
    if (row.Step() != SQLITE_ROW) return Status::NotFound("no valid token named '" + name + "'");
    // Re-signed as revoked: a row that failed its check before stays refused, now for good.
    Stmt s(write_db_, "UPDATE tokens SET revoked_at = ?, mac = ? WHERE id = ?");
    if (!s.ok()) return s.Error();
    std::string mac = TokenMac(key_, row.Int(0), name, row.Text(1), row.Text(2), row.Int(3), now);
    s.Bind(1, now).Bind(2, mac).Bind(3, row.Int(0));
    CMDB_RETURN_IF_ERROR(s.Run());
    CMDB_RETURN_IF_ERROR(UpdateDigests(write_db_, key_, [&](KeyedDigests& d) {
      d.tokens.Remove(row.Text(4));
      d.tokens.Add(mac);
    }));
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
  // The row is one cmdbd wrote; it must also be the token's latest state in the log (a revoked
  // row's earlier copy has a valid mac too).
  if (std::string why = TokenLogMismatch(read_db_, t.id, t.name, s.Text(7), t.revoked_at); !why.empty()) {
    if (reported_tokens_.insert(t.id).second) Log(TokenLogLine(t.id, t.name, why));
    return std::optional<TokenRecord>();
  }
  return std::optional<TokenRecord>(std::move(t));
}

}  // namespace cmdb
