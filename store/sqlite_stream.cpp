#include "store/sqlite_stream.hpp"

#include "store/version_writer.hpp"

namespace cmdb::sqlite {

SqliteStream::SqliteStream(sqlite3* db, std::unique_lock<std::mutex> lock, TxId tx)
    : db_(db), lock_(std::move(lock)), tx_(tx), worker_([this] { Work(); }) {}

SqliteStream::~SqliteStream() {
  Drain();
  if (!committed_) Exec(db_, "ROLLBACK");
}

Status SqliteStream::Put(std::vector<CiRecord> cis, std::vector<RelRecord> rels) {
  std::unique_lock l(mu_);
  cv_.wait(l, [&] { return queue_.size() < kMaxQueued || !error_.ok() || closed_; });
  if (!error_.ok()) return error_;
  if (closed_) return Status::Internal("rows streamed after the stream was drained");
  queue_.push_back(Batch{std::move(cis), std::move(rels)});
  cv_.notify_all();
  return Status::Ok();
}

Status SqliteStream::Drain() {
  {
    std::lock_guard l(mu_);
    closed_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard l(mu_);
  return error_;
}

void SqliteStream::Work() {
  VersionWriter writer(db_);
  Status st = writer.status();
  for (;;) {
    Batch batch;
    {
      std::unique_lock l(mu_);
      if (!st.ok() && error_.ok()) error_ = st;
      if (!st.ok()) queue_.clear();  // nothing more is written; Put reports the error
      cv_.notify_all();
      cv_.wait(l, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;  // closed and drained
      batch = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();  // room for the stager
    }
    if (st.ok()) st = writer.PutCis(batch.cis, tx_);
    if (st.ok()) st = writer.PutRels(batch.rels, tx_);
  }
}

}  // namespace cmdb::sqlite
