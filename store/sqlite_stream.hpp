// SqliteStream: the rows of a bulk load written into an open SQLite transaction by a worker
// thread while the load is still being staged (Store::BeginStream). SqliteStore::CommitStreamed
// drains it and commits; destroying it uncommitted rolls the transaction back.
// Thread safety: Put, Drain and the destructor are called by the one writer thread that owns the
// transaction; the worker alone touches the connection until Drain returns.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "cmdb/store.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb::sqlite {

class SqliteStream : public StoreStream {
 public:
  // `db` is in an open transaction (BEGIN IMMEDIATE) of tx `tx`; `lock` holds the store's write
  // mutex, released when the stream is destroyed.
  SqliteStream(sqlite3* db, std::unique_lock<std::mutex> lock, TxId tx);
  ~SqliteStream() override;

  Status Put(std::vector<CiRecord> cis, std::vector<RelRecord> rels) override;
  // Waits until every queued row is written and stops the worker: the first error, if any.
  // Afterwards the caller may use the connection (still in the transaction).
  Status Drain();
  // The caller committed the transaction: the destructor must not roll it back.
  void MarkCommitted() { committed_ = true; }

 private:
  static constexpr size_t kMaxQueued = 4;  // batches waiting: bounds memory, paces the stager
  struct Batch {
    std::vector<CiRecord> cis;
    std::vector<RelRecord> rels;
  };
  void Work();

  sqlite3* db_;
  std::unique_lock<std::mutex> lock_;
  TxId tx_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool closed_ = false;
  Status error_;  // the worker's first error (under mu_)
  std::thread worker_;
  bool committed_ = false;
};

}  // namespace cmdb::sqlite
