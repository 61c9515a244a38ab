// SqliteStore: the durable Store on a SQLite file in WAL mode.
//
// Tables: meta, transactions (the audit log), schema_versions (DDL per schema version),
// ci_versions and rel_versions (every version of every CI and relationship, with valid_from and
// valid_to tx ids; valid_to NULL while current), doc_versions (every version of every process
// record: changes, windows, baselines, releases, audits). Each Commit is one SQLite transaction; with
// synchronous=FULL (the default) an acknowledged commit survives a crash or power loss.
// All SQL uses prepared statements with bound parameters; no user text is spliced into SQL.
// A full disk, a read-only file or an I/O error fails the commit with kUnavailable (the write is
// not applied anywhere); reads, served from memory and the read connection, keep working.
// One server per database: the process that serves a database holds an exclusive flock on
// `<db>.lock` next to it (with its pid written inside; `<db>` with symbolic links resolved) and
// an OFD lock on a byte of the database file itself (so a hard link cannot dodge it), so a second
// server fails at once with a message naming the file and the holder; the kernel drops the lock when the process dies, even
// by SIGKILL. The lock file is separate from the database so it never meets SQLite's own POSIX
// locks, and tools that work beside a server (the token command, the online backup) still can.
// Keyed rows: what decides permissions or current state but is not a versioned row of the chain
// — tokens, import provenance, meta — carries `mac`, an HMAC-SHA-256 under a server key kept in
// a file outside the database (SqliteOptions::key_file). A row changed, added or swapped
// without the key fails its check: verify names it, a token that fails is never accepted (and
// logged), provenance that fails is not loaded. A database from before keyed rows is migrated on
// its first open: the key file is created and the rows present are signed as found (logged).
// Thread safety: one connection for commits and one for reads, each behind its own mutex, so
// reads run concurrently with a commit (WAL) and see the state before or after it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "cmdb/store.hpp"
#include "cmdb/webhook_store.hpp"

struct sqlite3;

namespace cmdb {

// When a store takes the exclusive lock on its database (see above).
enum class DbLock {
  kWhenServing,  // when it loads the current graph (Database::Open): tools that only read the
                 // log or manage tokens can still open a database a server holds
  kAtOpen,       // at Open, before anything is read or written: what a server should ask for
  kNone,         // never (tests, offline inspection)
};

struct SqliteOptions {
  bool synchronous_full = true;  // false: synchronous=NORMAL (faster, may lose the last commits on power loss)
  int64_t max_page_count = 0;    // >0: a size limit in pages; reaching it behaves like a full disk
  DbLock lock = DbLock::kWhenServing;
  // The server key that signs (HMAC-SHA-256) the rows outside the hash chain: tokens,
  // provenance, meta. Empty: `<db>.key`. Keep it where whoever can write the database cannot.
  std::string key_file;
  // Create a new key and sign every keyed row as it is now (after a lost key file).
  bool new_key = false;
  // Where the store reports what an operator must know (rows failing their keyed check,
  // migrations); one line a call. Empty: standard error, prefixed "cmdbd: ".
  std::function<void(const std::string&)> log;
};

// It is also the WebhookStore (store/sqlite_webhooks.cpp): tables webhooks, webhook_outbox and
// webhook_deliveries, outside the hash chain (a secret must never enter a history that cannot be
// rewritten); Commit inserts the router's outbox rows in the commit's own transaction.
class SqliteStore : public Store, public WebhookStore {
 public:
  // Opens (creating if needed) the database file at `path`.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, SqliteOptions options = {});
  ~SqliteStore() override;

  Result<StoreInfo> Info() override;
  Status Initialize(bool open_mode) override;
  Status LoadCurrent(const std::function<void(CiRecord&&)>& ci_sink,
                     const std::function<void(RelRecord&&)>& rel_sink) override;
  Status Commit(const WriteSet& ws) override;
  // Streams run a worker thread that writes rows into the open transaction (sqlite_stream.hpp).
  Result<std::unique_ptr<StoreStream>> BeginStream(TxId tx) override;
  Status CommitStreamed(const WriteSet& ws, std::unique_ptr<StoreStream> stream,
                        const StreamedPrefix& prefix) override;
  Status LoadAsOf(TxId tx, const std::function<void(CiRecord&&)>& ci_sink,
                  const std::function<void(RelRecord&&)>& rel_sink) override;
  Status LoadChangedSince(TxId as_of, TxId after,
                          const std::function<void(CiId, std::optional<CiRecord>&&)>& ci_sink,
                          const std::function<void(RelId, std::optional<RelRecord>&&)>& rel_sink) override;
  Status LoadWritten(TxId after, TxId last,
                     const std::function<void(CiRecord&&, std::optional<CiRecord>&&)>& ci_sink,
                     const std::function<void(RelRecord&&, std::optional<RelRecord>&&)>& rel_sink) override;
  Result<TxId> TxAtTime(int64_t micros) override;
  Result<std::vector<CiRecord>> CiHistory(CiId id) override;
  Result<std::vector<RelRecord>> RelHistory(RelId id) override;
  Result<std::optional<CiRecord>> LatestCi(CiId id) override;
  Result<std::vector<TxRecord>> Transactions(TxId since, int limit) override;
  Result<std::vector<TxRecord>> FlaggedTransactions(TxId since, int limit) override;
  Status LoadDocs(const std::function<void(DocRecord&&)>& sink) override;
  Status LoadProvenance(const std::function<void(Provenance&&)>& sink) override;
  Result<std::vector<DocRecord>> DocHistory(const std::string& kind, int64_t id) override;
  Result<TokenRecord> CreateToken(TokenRecord token) override;
  Result<std::vector<TokenRecord>> ListTokens() override;
  Status RevokeToken(const std::string& name, int64_t now) override;
  Result<std::optional<TokenRecord>> FindToken(const std::string& hash) override;

  // Besides the chain: every version's valid_to against the versions the log wrote, the
  // schema_versions numbers against their log entries, the head in `options`.
  Result<ChainReport> VerifyChain(const VerifyOptions& options = {}) override;
  Result<ChainHead> Head() override;

  // Takes the exclusive lock on the database unless this store holds it already: a flock on
  // `<db>.lock` (`<db>` with symbolic links resolved, so a link to the file finds the same lock
  // file), then an OFD lock on a byte of the database file itself, past SQLite's lock bytes (so
  // a hard link, which has another lock file, finds it too). Fails at once, without waiting,
  // when another process (or another store in this one) holds either: "database '<db>' is in
  // use by another cmdbd (pid N; lock file '<db>.lock')", or for the file itself "... that
  // opened the same file under another name (a hard link) ...". The lock lives until the store
  // is destroyed or the process ends. The process keeps one descriptor open per database file
  // it locked, for its lifetime (closing it would drop SQLite's POSIX locks on the file).
  Status Lock();

  // Runs PRAGMA integrity_check; OK when SQLite answers "ok".
  Status IntegrityCheck();
  // Copies the database at `db_path` to `dest_path` with SQLite's online backup, consistently,
  // while other connections (a running server) keep reading and writing. Next to the copy it
  // writes `<dest>.head` (the copy's chain head, "<tx>:<hash>\n") and, when the source has one,
  // `<dest>.key` (its key file, mode 0600: a restore needs it). `key_file` as in SqliteOptions.
  static Status Backup(const std::string& db_path, const std::string& dest_path,
                       const std::string& key_file = "");

 private:
  SqliteStore() = default;
  // `prefix`: what of `ws` a stream already wrote into the open transaction (or nullptr).
  Status CommitLocked(const WriteSet& ws, const StreamedPrefix* prefix);
  // The rows of a transaction: schema, CI and relationship versions, provenance, documents.
  Status PutVersions(const WriteSet& ws, const StreamedPrefix* prefix);
  // The outbox rows the router asks for (under write_mu_, inside the open transaction); the
  // hashes are the ones the log entry of ws gets.
  Status PutOutbox(const WriteSet& ws, const std::string& prev_hash, const std::string& hash);

 public:
  // WebhookStore (store/sqlite_webhooks.cpp).
  Result<WebhookDef> CreateWebhook(WebhookDef def) override;
  Status UpdateWebhook(const WebhookDef& def) override;
  Status DeleteWebhook(int64_t id) override;
  Result<std::vector<WebhookDef>> ListWebhooks() override;
  void SetOutboxRouter(OutboxRouter router) override;
  Result<std::vector<OutboxEvent>> OutboxHeads() override;
  Status RecordAttempt(const DeliveryAttempt& attempt, AttemptOutcome outcome,
                       int64_t next_at) override;
  Result<std::vector<DeliveryAttempt>> Deliveries(int64_t webhook_id, int limit) override;
  Result<std::vector<OutboxEvent>> DeadLetters(int64_t webhook_id) override;
  Result<int64_t> Redeliver(int64_t webhook_id, int64_t seq) override;
  Result<int64_t> Backlog() override;

 private:
  OutboxRouter router_;  // under write_mu_

  // Reads or creates the key, migrates unkeyed rows, checks the token rows (Open).
  Status OpenKey(const SqliteOptions& options);
  // Adds a problem for every keyed row that fails its check.
  Status VerifyKeyedRows(ChainReport& report);
  void Log(const std::string& line) const;
  Status LoadProvenanceLocked(const std::function<void(Provenance&&)>& sink);

  std::string path_;
  std::string key_;  // the raw server key (32 bytes)
  std::function<void(const std::string&)> log_;
  std::set<int64_t> reported_tokens_;  // token ids already logged as failing (under read_mu_)
  bool sync_full_ = true;
  DbLock lock_mode_ = DbLock::kWhenServing;
  int lock_fd_ = -1;  // the open `<db>.lock` while this store holds the lock
  // The lock on the database file itself (device, inode), held while file_locked_.
  static void ReleaseFileLock(std::pair<uint64_t, uint64_t> id);
  bool file_locked_ = false;
  std::pair<uint64_t, uint64_t> file_lock_id_;
  std::mutex write_mu_;
  sqlite3* write_db_ = nullptr;
  std::mutex read_mu_;
  sqlite3* read_db_ = nullptr;
};

}  // namespace cmdb
