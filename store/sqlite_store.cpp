#include "store/sqlite_store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <optional>
#include <thread>

#include "cmdb/attr_codec.hpp"
#include "store/sqlite_keyed.hpp"
#include "store/sqlite_rows.hpp"
#include "store/sqlite_stream.hpp"
#include "store/sqlite_util.hpp"
#include "store/version_writer.hpp"

namespace cmdb {

using sqlite::Exec;
using sqlite::SqliteError;
using sqlite::Stmt;

using namespace sqlite;  // rows and keyed-row helpers (store-internal)

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
CREATE INDEX IF NOT EXISTS ci_versions_tx ON ci_versions(valid_from, id);
CREATE TABLE IF NOT EXISTS rel_versions(
  id INTEGER NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, from_id INTEGER NOT NULL,
  to_id INTEGER NOT NULL, attrs BLOB NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER,
  retired INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS rel_versions_id ON rel_versions(id, valid_from);
CREATE INDEX IF NOT EXISTS rel_current ON rel_versions(id) WHERE valid_to IS NULL;
CREATE INDEX IF NOT EXISTS rel_versions_tx ON rel_versions(valid_from, id);
CREATE TABLE IF NOT EXISTS tokens(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0, mac TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_name ON tokens(name);
CREATE INDEX IF NOT EXISTS tokens_hash ON tokens(hash);
CREATE TABLE IF NOT EXISTS webhooks(
  id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, secret TEXT NOT NULL,
  filter TEXT NOT NULL, enabled INTEGER NOT NULL, exclude_actors TEXT NOT NULL,
  exclude_sources TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_outbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id INTEGER NOT NULL, tx INTEGER NOT NULL,
  body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,
  dead INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS webhook_outbox_head ON webhook_outbox(webhook_id, dead, seq);
CREATE TABLE IF NOT EXISTS webhook_deliveries(
  id INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  tx INTEGER NOT NULL, time INTEGER NOT NULL, status INTEGER NOT NULL, latency_us INTEGER NOT NULL,
  error TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
)sql";


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

namespace {

// `cols` (a comma-separated column list) with every column prefixed by `table`.
std::string Prefixed(const char* table, const std::string& cols) {
  std::string out;
  size_t start = 0;
  while (start < cols.size()) {
    size_t end = cols.find(',', start);
    if (end == std::string::npos) end = cols.size();
    size_t b = cols.find_first_not_of(' ', start);
    if (!out.empty()) out += ", ";
    out += std::string(table) + "." + cols.substr(b, end - b);
    start = end + 1;
  }
  return out;
}

// The ids of `table` with a version written after ?2, found through its (valid_from, id) index
// `index`, each with its version valid at ?1 when that is not a retirement: the version's
// columns (`cols`, NULL when there is none) and then the id. The index is named: without
// statistics SQLite prefers to read all of (id, valid_from) in id order for the DISTINCT, a
// scan of the whole history (0.6 s instead of 0.1 s for 1% of a million CIs).
std::string ChangedSql(const char* table, const char* index, const char* cols) {
  return "SELECT " + Prefixed("v", cols) + ", c.id FROM (SELECT DISTINCT id FROM " + table + " INDEXED BY " +
         index + " WHERE valid_from > ?2) AS c LEFT JOIN " + table +
         " AS v ON v.id = c.id AND v.valid_from <= ?1 AND (v.valid_to IS NULL OR v.valid_to > ?1)"
         " AND v.retired = 0 ORDER BY c.id";
}

// Runs ChangedSql for one table: sink(id, version at as_of or nullopt) per row.
template <typename Read, typename Sink>
Status ScanChanged(sqlite3* db, const std::string& sql, int id_col, TxId as_of, TxId after, Read read,
                   const Sink& sink) {
  Stmt rows(db, sql.c_str());
  if (!rows.ok()) return rows.Error();
  rows.Bind(1, as_of).Bind(2, after);
  int rc;
  while ((rc = rows.Step()) == SQLITE_ROW) {
    int64_t id = rows.Int(id_col);
    if (rows.Int(0) == 0) {  // no version valid then (v.id is NULL; ids start at 1)
      sink(id, std::nullopt);
      continue;
    }
    auto r = read(rows);
    if (!r.ok()) return r.status();
    sink(id, std::move(*r));
  }
  return rc == SQLITE_DONE ? Status::Ok() : rows.Error();
}

}  // namespace

Status SqliteStore::LoadChangedSince(TxId as_of, TxId after,
                                     const std::function<void(CiId, std::optional<CiRecord>&&)>& ci_sink,
                                     const std::function<void(RelId, std::optional<RelRecord>&&)>& rel_sink) {
  if (as_of > after) return Status::Invalid("LoadChangedSince: as_of must not be after `after`");
  std::lock_guard l(read_mu_);
  return InReadTx(read_db_, [&] {
    CMDB_RETURN_IF_ERROR(ScanChanged(read_db_, ChangedSql("ci_versions", "ci_versions_tx", kCiCols), 9, as_of, after, ReadCi,
                                     [&](CiId id, std::optional<CiRecord>&& c) { ci_sink(id, std::move(c)); }));
    return ScanChanged(read_db_, ChangedSql("rel_versions", "rel_versions_tx", kRelCols), 11, as_of, after, ReadRel,
                       [&](RelId id, std::optional<RelRecord>&& r) { rel_sink(id, std::move(r)); });
  });
}

namespace {

// Versions written in (after, last] in (valid_from, id) order, each with the version it closed:
// one range scan of the by-transaction index, and a point lookup per updated item.
template <typename Rec, typename Read, typename Sink>
Status ScanWritten(sqlite3* db, const char* table, const char* cols, TxId after, TxId last,
                   Read read, const Sink& sink) {
  std::string sql = std::string("SELECT ") + cols + " FROM " + table + " INDEXED BY " + table +
                    "_tx WHERE valid_from > ? AND valid_from <= ? ORDER BY valid_from, id";
  Stmt rows(db, sql.c_str());
  if (!rows.ok()) return rows.Error();
  std::string prev_sql = std::string("SELECT ") + cols + " FROM " + table +
                         " INDEXED BY " + table + "_id WHERE id = ? AND valid_to = ?";
  Stmt prev(db, prev_sql.c_str());
  if (!prev.ok()) return prev.Error();
  rows.Bind(1, after).Bind(2, last);
  int rc;
  while ((rc = rows.Step()) == SQLITE_ROW) {
    Result<Rec> now = read(rows);
    if (!now.ok()) return now.status();
    std::optional<Rec> before;
    if (now->version > 1) {
      prev.Bind(1, now->id).Bind(2, TxId{now->valid_from});
      if (prev.Step() == SQLITE_ROW) {
        Result<Rec> b = read(prev);
        if (!b.ok()) return b.status();
        before = std::move(*b);
      }
      prev.Reset();
    }
    sink(std::move(*now), std::move(before));
  }
  return rc == SQLITE_DONE ? Status::Ok() : rows.Error();
}

}  // namespace

Status SqliteStore::LoadWritten(TxId after, TxId last,
                                const std::function<void(CiRecord&&, std::optional<CiRecord>&&)>& ci_sink,
                                const std::function<void(RelRecord&&, std::optional<RelRecord>&&)>& rel_sink) {
  std::lock_guard l(read_mu_);
  return InReadTx(read_db_, [&] {
    CMDB_RETURN_IF_ERROR(
        ScanWritten<CiRecord>(read_db_, "ci_versions", kCiCols, after, last, ReadCi, ci_sink));
    return ScanWritten<RelRecord>(read_db_, "rel_versions", kRelCols, after, last, ReadRel,
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
  // The webhook events of this write, in its transaction (their bodies carry the hash).
  CMDB_RETURN_IF_ERROR(PutOutbox(ws, prev_hash, hash));
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

}  // namespace cmdb
