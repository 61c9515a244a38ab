// PgStore: the durable Store on a PostgreSQL database (issue 25; docs/scale-out.md).
//
// The same tables as SqliteStore (meta, transactions, schema_versions, ci_versions, rel_versions,
// doc_versions, provenance, tokens, webhooks, webhook_outbox, webhook_deliveries), the same
// records and the same hash chain: a log written here verifies with the same hash as SQLite's.
// Each Commit is one PostgreSQL transaction that first takes a transaction-scoped advisory lock
// on the log (pg_advisory_xact_lock) and reads the head under it, so commits from several
// processes get one global order and one chain. A commit whose transaction id is not the head's
// successor (another process wrote in between, so this process's graph is out of date) fails
// with kConflict and applies nothing.
// Not (yet) like SqliteStore: no keyed rows (tokens, provenance and meta carry no HMAC; the
// database's own access control protects them), no streamed bulk commits (a bulk load is
// written at its commit), no exclusive lock per database (several processes may open one).
// Statements use bound parameters only (store/pg_util.hpp). A lost connection makes writes fail
// with kUnavailable (nothing applied) and is re-established by the next statement.
// Thread safety: one connection for commits and other writes, one for reads, each behind its own
// mutex; reads run concurrently with a commit and see the state before or after it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "cmdb/store.hpp"
#include "cmdb/webhook_store.hpp"

namespace cmdb {

namespace pg {
class Conn;
}

class PgStore : public Store, public WebhookStore {
 public:
  // Connects to `url` (postgresql://user@host/db?..., any libpq connection string) twice and
  // creates the tables that are missing. kUnavailable when the server cannot be reached.
  static Result<std::unique_ptr<PgStore>> Open(const std::string& url);
  ~PgStore() override;

  Result<StoreInfo> Info() override;
  Status Initialize(bool open_mode) override;
  Status LoadCurrent(const std::function<void(CiRecord&&)>& ci_sink,
                     const std::function<void(RelRecord&&)>& rel_sink) override;
  Status LoadAsOf(TxId tx, const std::function<void(CiRecord&&)>& ci_sink,
                  const std::function<void(RelRecord&&)>& rel_sink) override;
  Status LoadChangedSince(
      TxId as_of, TxId after, const std::function<void(CiId, std::optional<CiRecord>&&)>& ci_sink,
      const std::function<void(RelId, std::optional<RelRecord>&&)>& rel_sink) override;
  Status LoadWritten(
      TxId after, TxId last,
      const std::function<void(CiRecord&&, std::optional<CiRecord>&&)>& ci_sink,
      const std::function<void(RelRecord&&, std::optional<RelRecord>&&)>& rel_sink) override;
  Result<TxId> TxAtTime(int64_t micros) override;
  Status Commit(const WriteSet& ws) override;
  Result<std::vector<CiRecord>> CiHistory(CiId id) override;
  Result<std::vector<RelRecord>> RelHistory(RelId id) override;
  Result<std::optional<CiRecord>> LatestCi(CiId id) override;
  Result<std::vector<TxRecord>> Transactions(TxId since, int limit) override;
  Result<std::vector<TxRecord>> FlaggedTransactions(TxId since, int limit) override;
  Status LoadDocs(const std::function<void(DocRecord&&)>& sink) override;
  Status LoadProvenance(const std::function<void(Provenance&&)>& sink) override;
  Result<std::vector<DocRecord>> DocHistory(const std::string& kind, int64_t id) override;
  // The chain, every version's valid_to against the versions the log wrote, schema_versions
  // against their log entries and the head in `options` (store/pg_verify.cpp).
  Result<ChainReport> VerifyChain(const VerifyOptions& options = {}) override;
  Result<ChainHead> Head() override;
  Result<TokenRecord> CreateToken(TokenRecord token) override;
  Result<std::vector<TokenRecord>> ListTokens() override;
  Status RevokeToken(const std::string& name, int64_t now) override;
  Result<std::optional<TokenRecord>> FindToken(const std::string& hash) override;

  // WebhookStore (store/pg_webhooks.cpp); the outbox rows go in the commit's transaction.
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
  PgStore() = default;
  // Inside the open transaction of write_: the rows of `ws` and its log entry.
  Status CommitLocked(const WriteSet& ws);
  Status PutVersions(const WriteSet& ws);
  Status PutOutbox(const WriteSet& ws, const std::string& prev_hash, const std::string& hash);
  // Runs `body` in a transaction on write_ (under write_mu_), committing when it succeeds.
  Status InWriteTx(const std::function<Status()>& body);

  std::mutex write_mu_;
  std::unique_ptr<pg::Conn> write_;
  OutboxRouter router_;  // under write_mu_
  std::mutex read_mu_;
  std::unique_ptr<pg::Conn> read_;
};

}  // namespace cmdb
