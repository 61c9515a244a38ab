#include "cmdb/database.hpp"

#include <thread>

#include "cmdb/last_commit.hpp"
#include "cmdb/time_util.hpp"
#include "cmdb/utf8.hpp"

namespace cmdb {

Status Database::Open(std::shared_ptr<const Schema> schema) {
  // Open runs once, before any reader or writer: the store is read without holding mu_. Holding
  // it across the store's calls would order mu_ before the store's locks, which the write path
  // takes the other way round (a store's commit calls back code that reads the database: the
  // webhook outbox router).
  auto info = store_->Info();
  if (!info.ok()) return info.status();
  std::unique_lock lock(mu_);
  schema_ = std::move(schema);
  if (info->last_tx > kMaxRecordTx)
    return Status::Internal("the store's last transaction id " + std::to_string(info->last_tx) +
                            " is past the largest this server keeps (2^32-1)");
  last_tx_ = info->last_tx;
  next_ci_ = info->max_ci_id + 1;
  next_rel_ = info->max_rel_id + 1;
  graph_ = Graph();
  graph_.Reserve(next_ci_, next_rel_);
  lock.unlock();
  CMDB_RETURN_IF_ERROR(store_->LoadCurrent([&](CiRecord&& ci) { graph_.PutCi(std::move(ci), *schema_); },
                                           [&](RelRecord&& rel) { graph_.PutRel(std::move(rel)); }));
  graph_.FinishLoad();
  CMDB_RETURN_IF_ERROR(store_->LoadDocs([&](DocRecord&& doc) { graph_.PutDoc(std::move(doc)); }));
  Status st = store_->LoadProvenance([&](Provenance&& p) { graph_.PutProvenance(std::move(p)); });
  lock.lock();  // what was loaded happens before any later reader's view
  return st;
}

ReadView Database::Read() const {
  std::shared_lock lock(mu_);
  return ReadView(std::move(lock), graph_, schema_, last_tx_, this);
}

void ReadView::Count(int delta) {
  if (db_) db_->readers_.fetch_add(delta);
}

bool ReadView::Yield() {
  auto now = std::chrono::steady_clock::now();
  if (db_->writers_waiting_.load(std::memory_order_relaxed) == 0 && now - held_since_ < kMaxHold) return false;
  lock_.unlock();
  // Let waiting writers take the lock before readers come back (the lock may prefer readers).
  for (int spins = 0; db_->writers_waiting_.load() > 0 && spins < 10000; ++spins) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  lock_.lock();
  tx_ = db_->last_tx_;
  held_since_ = std::chrono::steady_clock::now();
  return true;
}

void ReadView::Pause(const std::function<void()>& meanwhile) {
  lock_.unlock();
  struct Relock {
    ReadView& view;
    ~Relock() {
      view.lock_.lock();
      view.tx_ = view.db_->last_tx_;
      view.held_since_ = std::chrono::steady_clock::now();
    }
  } relock{*this};
  meanwhile();
}

std::shared_ptr<const Schema> Database::schema() const {
  std::shared_lock lock(mu_);
  return schema_;
}

Result<WriteSet> Database::SealLocked(const TxMeta& meta, Txn& txn, const Schema* new_schema) {
  if (txn.tx() > kMaxRecordTx)  // records hold 32-bit tx ids (records.hpp)
    return Status::Internal("transaction id space exhausted (ids up to 2^32-1)");
  WriteSet ws = txn.TakeWriteSet();
  ws.tx.id = txn.tx();
  ws.tx.time = clock_->NowMicros();
  ws.tx.actor = meta.actor;
  ws.tx.source = meta.source;
  ws.tx.change_ref = meta.change_ref;
  ws.tx.message = meta.message;
  ws.tx.cis_written = static_cast<int64_t>(ws.cis.size());
  ws.tx.rels_written = static_cast<int64_t>(ws.rels.size());
  if (new_schema) {
    ws.tx.schema_version = new_schema->version();
    ws.schema_ddl = new_schema->ToDdl();
  }
  if (policy_ && !new_schema && (!ws.cis.empty() || !ws.rels.empty())) CMDB_RETURN_IF_ERROR(policy_(ws, graph_, *schema_));
  return ws;
}

Result<TxRecord> Database::CommitLocked(const TxMeta& meta, Txn& txn, const Schema* new_schema,
                                        std::chrono::steady_clock::time_point started) {
  StreamedPrefix streamed;
  std::unique_ptr<StoreStream> stream = txn.TakeStream(&streamed);  // rolls back unless committed
  Result<WriteSet> sealed = SealLocked(meta, txn, new_schema);
  if (!sealed.ok()) return sealed.status();
  WriteSet ws = std::move(*sealed);
  CMDB_RETURN_IF_ERROR(stream ? store_->CommitStreamed(ws, std::move(stream), streamed)
                              : store_->Commit(ws));
  writers_waiting_.fetch_add(1);
  std::unique_lock lock(mu_);
  writers_waiting_.fetch_sub(1);
  if (new_schema) schema_ = std::make_shared<const Schema>(*new_schema);
  graph_.Apply(std::move(ws), *schema_);  // only ws.tx is read below
  if (new_schema) graph_.RebuildIndexes(*schema_);
  last_tx_ = ws.tx.id;
  ThreadLastCommit() = ws.tx.id;
  next_ci_ = txn.next_ci_id();
  next_rel_ = txn.next_rel_id();
  lock.unlock();
  if (observer_)
    observer_(ws.tx,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return ws.tx;
}

namespace {

// The transaction log never holds invalid UTF-8 (cmdb/utf8.hpp): the metadata is checked before
// anything is staged.
Status CheckMetaUtf8(const TxMeta& meta) {
  for (auto [what, text] : {std::pair<const char*, const std::string*>{"actor", &meta.actor},
                            {"source", &meta.source},
                            {"change reference", &meta.change_ref},
                            {"message", &meta.message}}) {
    if (auto bad = FirstInvalidUtf8(*text))
      return Status::Invalid(std::string("the transaction's ") + what +
                             " is not valid UTF-8 (byte " + std::to_string(*bad) + ")")
          .With("field", what)
          .With("byte", static_cast<int64_t>(*bad));
  }
  return Status::Ok();
}

}  // namespace

TxId& ThreadLastCommit() {
  thread_local TxId last = 0;
  return last;
}

Result<TxRecord> Database::Write(const TxMeta& meta, const std::function<Status(Txn&)>& body) {
  CMDB_RETURN_IF_ERROR(CheckMetaUtf8(meta));
  std::lock_guard write_lock(write_mu_);
  auto started = std::chrono::steady_clock::now();
  std::shared_ptr<const Schema> schema = this->schema();
  Txn txn(graph_, *schema, last_tx_ + 1, clock_->NowMicros(), next_ci_, next_rel_);
  txn.EnableStreaming(store_);
  CMDB_RETURN_IF_ERROR(body(txn));
  if (txn.empty()) return TxRecord{};
  return CommitLocked(meta, txn, nullptr, started);
}

Result<WriteSet> Database::DryRunWrite(const TxMeta& meta,
                                       const std::function<Status(Txn&)>& body) {
  CMDB_RETURN_IF_ERROR(CheckMetaUtf8(meta));
  std::lock_guard write_lock(write_mu_);
  std::shared_ptr<const Schema> schema = this->schema();
  // As in Write, without EnableStreaming: nothing of a dry run may reach the store.
  Txn txn(graph_, *schema, last_tx_ + 1, clock_->NowMicros(), next_ci_, next_rel_);
  CMDB_RETURN_IF_ERROR(body(txn));
  if (txn.empty()) return WriteSet{};
  return SealLocked(meta, txn, nullptr);  // last_tx_, next_ci_, next_rel_ stay as they are
}

Result<TxRecord> Database::ChangeSchema(const TxMeta& meta, Schema next) {
  CMDB_RETURN_IF_ERROR(CheckMetaUtf8(meta));
  std::lock_guard write_lock(write_mu_);
  auto started = std::chrono::steady_clock::now();
  next.set_version(schema()->version() + 1);
  Txn txn(graph_, next, last_tx_ + 1, clock_->NowMicros(), next_ci_, next_rel_);
  // Revalidate every CI: drop attributes the schema no longer has, fill new defaults.
  std::unordered_map<std::string, CiId> seen_keys;
  for (CiId id = 1; id < graph_.ci_id_bound(); ++id) {
    const CiRecord* ci = graph_.FindCi(id);
    if (!ci) continue;
    auto where = [&](Status st) {
      return Status(st.code(), "the schema change would invalidate CI " + std::to_string(id) +
                                   " (" + ci->attrs.Get("name").ToLiteral() + "): " + st.message())
          .With("ci", id);
    };
    if (!next.open_mode() && !next.FindClass(ci->class_name))
      return where(Status::Schema("its class " + ci->class_name + " would no longer exist"));
    AttrMap attrs;
    for (const auto& [k, v] : ci->attrs) {
      if (next.open_mode() || next.FindAttribute(ci->class_name, k)) attrs.Set(k, v);
    }
    next.ApplyDefaults(ci->class_name, attrs);
    Status st = next.ValidateCi(ci->class_name, attrs);
    if (!st.ok()) return where(st);
    for (auto& k : IndexKeysOf(next, CiRecord{.id = id, .class_name = ci->class_name, .attrs = attrs})) {
      auto [it, inserted] = seen_keys.emplace(k, id);
      if (!inserted)
        return where(Status::Conflict("it would share a KEY/UNIQUE value with CI " +
                                      std::to_string(it->second)));
    }
    if (attrs == ci->attrs) continue;
    AttrPatch patch;
    for (const auto& [k, v] : ci->attrs) {
      if (!attrs.Has(k)) patch.emplace_back(k, Value());
    }
    for (const auto& [k, v] : attrs) patch.emplace_back(k, v);
    st = txn.UpdateCi(id, patch, std::nullopt);
    if (!st.ok()) return where(st);
  }
  // Relationships must still fit their type.
  for (RelId id = 1; id < graph_.rel_id_bound(); ++id) {
    std::optional<RelRecord> r = graph_.FindRel(id);
    if (!r) continue;
    const RelTypeDef* def = next.FindRelType(r->type);
    if (!def && !next.open_mode())
      return Status::Schema("the schema change would invalidate relationship " + std::to_string(id) +
                            ": its type " + r->type + " would no longer exist");
    if (!def) continue;
    AttrMap attrs = r->attrs;
    Status st = next.ValidateRel(*def, graph_.FindCi(r->from)->class_name,
                                 graph_.FindCi(r->to)->class_name, attrs);
    if (!st.ok())
      return Status(st.code(), "the schema change would invalidate relationship " +
                                   std::to_string(id) + ": " + st.message());
  }
  return CommitLocked(meta, txn, &next, started);
}

}  // namespace cmdb
