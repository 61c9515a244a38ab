// Database: the one write path and the consistent read view over the in-memory graph.
//
// Write: validate (in a Txn) -> persist in one store transaction -> publish to memory. A failed
// body or a failed commit leaves memory and disk unchanged. Writers run one at a time; readers
// hold a ReadView (a shared lock) and see the state before or after any transaction, never
// between. The store and the clock are owned by the caller (composition root); schemas are
// parsed outside the core (query/ddl) and handed in as Schema values.
// Thread safety: all public methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include "cmdb/clock.hpp"
#include "cmdb/graph.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/store.hpp"
#include "cmdb/txn.hpp"

namespace cmdb {

// Who writes, how and why; recorded in the transaction log.
struct TxMeta {
  std::string actor = "system";
  std::string source = "api";
  std::string change_ref;
  std::string message;
};

class Database;

// A consistent read of the current state. Holds a shared lock while alive: keep it short, or
// call Yield() at points where the caller holds no pointer or span into the graph.
class ReadView {
 public:
  ReadView(std::shared_lock<std::shared_mutex> lock, const Graph& graph,
           std::shared_ptr<const Schema> schema, TxId tx, const Database* db)
      : lock_(std::move(lock)), graph_(graph), schema_(std::move(schema)), tx_(tx), db_(db),
        held_since_(std::chrono::steady_clock::now()) {
    Count(+1);
  }
  ReadView(ReadView&& other) noexcept
      : lock_(std::move(other.lock_)), graph_(other.graph_), schema_(std::move(other.schema_)),
        tx_(other.tx_), db_(std::exchange(other.db_, nullptr)), held_since_(other.held_since_) {}
  ReadView& operator=(ReadView&&) = delete;
  ~ReadView() { Count(-1); }
  const Graph& graph() const { return graph_; }
  const Schema& schema() const { return *schema_; }
  // The last transaction this view includes (it advances when Yield lets a writer in).
  TxId tx() const { return tx_; }

  // Bounded lock holding: when a writer is waiting, or the lock has been held for kMaxHold,
  // releases the lock, lets the writer publish, and takes it again. After a yield the view
  // shows a later committed state (read committed); it never shows part of a transaction.
  // Returns true when it yielded. Invalidates every pointer and span obtained from graph().
  bool Yield();
  // Releases the lock, runs `meanwhile` (which must not touch the graph: an export writes its
  // rows to the client here), takes the lock again and shows the latest committed state, as
  // after a yield. Invalidates every pointer and span obtained from graph(). `meanwhile` may
  // throw: the lock is taken again first.
  void Pause(const std::function<void()>& meanwhile);
  static constexpr std::chrono::milliseconds kMaxHold{20};

 private:
  void Count(int delta);  // Database::readers_
  std::shared_lock<std::shared_mutex> lock_;
  const Graph& graph_;
  std::shared_ptr<const Schema> schema_;
  TxId tx_;
  const Database* db_;
  std::chrono::steady_clock::time_point held_since_;
};

class Database {
 public:
  // `store` and `clock` must outlive the database. Transaction times come from `clock`.
  explicit Database(Store* store, const Clock* clock = Clock::System())
      : store_(store), clock_(clock) {}

  // Loads the current graph from the store under `schema` (parsed by the caller from the
  // store's DDL). Call once before anything else.
  Status Open(std::shared_ptr<const Schema> schema);

  ReadView Read() const;
  std::shared_ptr<const Schema> schema() const;
  Store* store() const { return store_; }
  // The clock of this database: services and importers that stamp records use it too.
  const Clock& clock() const { return *clock_; }
  // How many ReadViews are alive now (a gauge: tests use it to know a reader holds its view).
  int readers() const { return readers_.load(); }

  // Runs `body` on a fresh Txn and commits what it staged as one transaction. Returns the tx
  // record (id 0 when the body staged nothing: nothing is logged). Errors from the body or the
  // store are returned unchanged and nothing is applied.
  Result<TxRecord> Write(const TxMeta& meta, const std::function<Status(Txn&)>& body);

  // A dry-run write: validated, staged, reported, rolled back. Runs `body` on a fresh Txn as
  // Write does and takes what it staged through every check Write makes before it hands a
  // transaction to the store (the transaction id limit, the write policy), then discards it.
  // Returns the WriteSet Write would have committed: its tx record filled in as Write fills it
  // (the id it would get, time, metadata, counts, a policy's `unauthorized` flag; not
  // prev_hash/hash, which the store computes on commit) and every staged version with the id,
  // version number and valid_from it would get. An empty WriteSet (tx id 0) when the body staged
  // nothing, where Write logs nothing. Errors are those Write would return for the same body on
  // the same state, unchanged. Nothing reaches the store or the graph and no id is consumed: a
  // Write of the same body right after gets the ids reported here (unless another write commits
  // in between).
  // The store is not involved: every check of the write path runs before Store::Commit. KEY and
  // UNIQUE are enforced in the Txn (the SQLite store has no index on attribute values); the
  // store's own keys are transaction, CI and relationship ids the database hands out and
  // provenance rows it replaces. So a store-level rollback would add I/O and a held SQLite write
  // lock for no check; what the dry run cannot predict is a store failing on its own (I/O, a
  // full disk). For the same reason the body never streams (Txn::Flush does nothing).
  // Holds the writer lock while `body` runs, like Write. Thread safety: like Write.
  Result<WriteSet> DryRunWrite(const TxMeta& meta, const std::function<Status(Txn&)>& body);

  // Replaces the schema. Every current CI and relationship is revalidated under `next`:
  // attributes the new schema dropped are removed and new defaults filled in (as new versions
  // in the same transaction); anything else that no longer fits refuses the change with the
  // first offending CI named.
  Result<TxRecord> ChangeSchema(const TxMeta& meta, Schema next);

  // A check run on every transaction that writes CIs or relationships, after validation and
  // just before it is persisted, with the staged WriteSet (tx metadata filled in) and the
  // committed graph. It may refuse the write (return an error: nothing is applied) or flag it
  // (set ws.tx.unauthorized: recorded in the log). Change control (process/) installs one.
  // Set it once at start-up, before concurrent use.
  using WritePolicy = std::function<Status(WriteSet& ws, const Graph& committed, const Schema& schema)>;
  void SetWritePolicy(WritePolicy policy) { policy_ = std::move(policy); }

  // Called after every committed transaction (Write and ChangeSchema; not dry runs, not writes
  // that staged nothing) with its tx record and the seconds from taking the writer lock to
  // publishing it (body, validation, persisting, publishing). Runs on the writing thread while
  // it still holds the writer lock: keep it short (metrics). Set it once at start-up, before
  // concurrent use.
  using CommitObserver = std::function<void(const TxRecord& tx, double seconds)>;
  void SetCommitObserver(CommitObserver observer) { observer_ = std::move(observer); }

 private:
  // The write path up to the store: moves what `txn` staged into the WriteSet a commit persists
  // (tx record filled in) and runs the checks made before persisting (id limit, write policy).
  // Changes nothing; the caller holds write_mu_.
  Result<WriteSet> SealLocked(const TxMeta& meta, Txn& txn, const Schema* new_schema);
  // SealLocked, then persist and publish. The caller holds write_mu_.
  // `started`: when the writer lock was taken (for the commit observer).
  Result<TxRecord> CommitLocked(const TxMeta& meta, Txn& txn, const Schema* new_schema,
                                std::chrono::steady_clock::time_point started);
  friend class ReadView;
  std::atomic<int> writers_waiting_{0};  // writers blocked on mu_ (readers yield to them)

  mutable std::atomic<int> readers_{0};  // live ReadViews

  Store* store_;
  const Clock* clock_;
  WritePolicy policy_;
  CommitObserver observer_;
  mutable std::shared_mutex mu_;  // guards graph_ mutation and schema_ swaps vs readers
  std::mutex write_mu_;           // one writer at a time
  Graph graph_;
  std::shared_ptr<const Schema> schema_;
  TxId last_tx_ = 0;
  CiId next_ci_ = 1;
  RelId next_rel_ = 1;
};

}  // namespace cmdb
