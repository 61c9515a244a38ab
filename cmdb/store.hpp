// Store: the durable source of truth behind the in-memory graph (interface).
//
// The SQLite implementation lives in store/; MemStore (mem_store.hpp) is an in-memory fake for
// tests. Commit() must be atomic: after a crash either the whole WriteSet is there or none of it.
// Thread safety: the database serializes Commit(); reads may run concurrently with a commit and
// see the state before or after it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmdb/auth.hpp"
#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "cmdb/tx_chain.hpp"

namespace cmdb {

// What a store knows about itself on open.
struct StoreInfo {
  bool initialized = false;  // false for a brand-new store
  bool open_mode = false;
  std::string schema_ddl;
  int64_t schema_version = 0;
  TxId last_tx = 0;
  CiId max_ci_id = 0;
  RelId max_rel_id = 0;
};

// The rows of one large transaction (a bulk load) handed to the store before its commit, so the
// store writes them into its open transaction while the rest is still being staged. Nothing is
// visible to readers or durable before Store::CommitStreamed; destroying a stream that was not
// committed abandons (rolls back) everything it received.
// Thread safety: used by the one writer that owns the transaction; the store may write on a
// thread of its own.
class StoreStream {
 public:
  virtual ~StoreStream() = default;
  // Queues copies of the records staged since the previous call, in staging order. Fails once
  // writing an earlier batch failed; the transaction must then be abandoned.
  virtual Status Put(std::vector<CiRecord> cis, std::vector<RelRecord> rels) = 0;
};

// What of a WriteSet went through a stream before its commit.
struct StreamedPrefix {
  size_t cis = 0;                    // ws.cis[0, cis) were streamed
  size_t rels = 0;                   // ws.rels[0, rels) were streamed
  std::vector<size_t> changed_cis;   // indexes below `cis` of records changed after streaming
  std::vector<size_t> changed_rels;  // the same for relationships
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<StoreInfo> Info() = 0;
  // Marks a new store initialized in the given mode. Fails if already initialized.
  virtual Status Initialize(bool open_mode) = 0;
  // Calls the sinks with every current (not retired) CI and every current relationship, each
  // in id order. The two sinks may run concurrently with each other (a store may scan both
  // tables in parallel), never each with itself.
  virtual Status LoadCurrent(const std::function<void(CiRecord&&)>& ci_sink,
                             const std::function<void(RelRecord&&)>& rel_sink) = 0;
  // Like LoadCurrent, but the state right after transaction `tx` (from history).
  virtual Status LoadAsOf(TxId tx, const std::function<void(CiRecord&&)>& ci_sink,
                          const std::function<void(RelRecord&&)>& rel_sink) = 0;
  // What AS OF undoes (cmdb/past_graph.hpp): every CI with a version written by a transaction
  // after `after` (valid_from > after), once each and in id order, passed to ci_sink with its
  // version valid right after transaction `as_of` (valid_from <= as_of < valid_to), or nullopt
  // when at `as_of` it did not exist yet or was retired; then every such relationship to
  // rel_sink likewise. Requires as_of <= after. A store finds these through an index by
  // transaction, so the cost follows the versions written after `after` (and the ones they
  // superseded), not the length of the history. Sinks run on the calling thread, one after the
  // other. Thread safety: like the other reads, concurrent with a commit (which it may see).
  virtual Status LoadChangedSince(
      TxId as_of, TxId after, const std::function<void(CiId, std::optional<CiRecord>&&)>& ci_sink,
      const std::function<void(RelId, std::optional<RelRecord>&&)>& rel_sink) = 0;
  // What the transactions after `after` up to `last` (after < tx <= last) wrote, for the change
  // feed: every CI version with valid_from in that range, ordered by (valid_from, id), passed to
  // ci_sink with the version it superseded (the same id's version whose valid_to is the new
  // one's valid_from; nullopt for a creation); then every such relationship version to rel_sink
  // likewise. Sinks run on the calling thread. A store finds these through its index by
  // transaction, so the cost follows what the range wrote. Thread safety: like the other reads.
  virtual Status LoadWritten(
      TxId after, TxId last,
      const std::function<void(CiRecord&&, std::optional<CiRecord>&&)>& ci_sink,
      const std::function<void(RelRecord&&, std::optional<RelRecord>&&)>& rel_sink) = 0;
  // The last transaction committed at or before `micros` (0 when none).
  virtual Result<TxId> TxAtTime(int64_t micros) = 0;
  // Appends the transaction atomically: log entry, new versions, closed old versions, schema.
  virtual Status Commit(const WriteSet& ws) = 0;
  // Opens transaction `tx` for streaming (StoreStream); an empty pointer when this store writes
  // only at commit. While the stream lives, other commits of this store wait.
  virtual Result<std::unique_ptr<StoreStream>> BeginStream(TxId /*tx*/) {
    return std::unique_ptr<StoreStream>();
  }
  // Like Commit, for a write set whose `prefix` went through `stream` (from this store's
  // BeginStream). Atomic like Commit: on failure nothing of the stream or the set remains.
  virtual Status CommitStreamed(const WriteSet& /*ws*/, std::unique_ptr<StoreStream> /*stream*/,
                                const StreamedPrefix& /*prefix*/) {
    return Status::Internal("this store does not stream");
  }

  // Every version of a CI, oldest first. Empty when the id never existed.
  virtual Result<std::vector<CiRecord>> CiHistory(CiId id) = 0;
  // Every version of a relationship, oldest first.
  virtual Result<std::vector<RelRecord>> RelHistory(RelId id) = 0;
  // The latest version of a CI or relationship, retired or not (for 404 vs 410-like answers).
  virtual Result<std::optional<CiRecord>> LatestCi(CiId id) = 0;
  // Transactions with id > since, oldest first, at most `limit`.
  virtual Result<std::vector<TxRecord>> Transactions(TxId since, int limit) = 0;
  // Like Transactions, but only those a change-control policy flagged as unauthorized.
  virtual Result<std::vector<TxRecord>> FlaggedTransactions(TxId since, int limit) = 0;

  // Process records (changes, windows, baselines, ...): calls the sink with the latest version
  // of every record, retired ones included (so ids are never reused), in (kind, id) order.
  virtual Status LoadDocs(const std::function<void(DocRecord&&)>& sink) = 0;
  // Import provenance: calls the sink with every record.
  virtual Status LoadProvenance(const std::function<void(Provenance&&)>& sink) = 0;
  // Every version of one process record, oldest first. Empty when it never existed.
  virtual Result<std::vector<DocRecord>> DocHistory(const std::string& kind, int64_t id) = 0;

  // Recomputes the hash chain of the whole transaction log from the stored rows, and checks
  // whatever else the store can (the head given in `options`, validity intervals, keyed rows),
  // naming every row that fails. An error only when the store cannot be read.
  virtual Result<ChainReport> VerifyChain(const VerifyOptions& options = {}) = 0;
  // The head of the log: the last transaction's id and hash (tx 0 and kGenesisHash when empty).
  virtual Result<ChainHead> Head() = 0;

  // API tokens. Names are unique (kConflict); revoked tokens stay listed.
  virtual Result<TokenRecord> CreateToken(TokenRecord token) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;
  // Revokes the valid token of that name (kNotFound when there is none).
  virtual Status RevokeToken(const std::string& name, int64_t now) = 0;
  // The valid (not revoked) token with this hash, if any.
  virtual Result<std::optional<TokenRecord>> FindToken(const std::string& hash) = 0;
};

}  // namespace cmdb
