// SqliteStore as the WebhookStore: definitions, the transactional outbox and the delivery log.
#include <utility>

#include "store/sqlite_store.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb {

using sqlite::Exec;
using sqlite::Stmt;

namespace {

constexpr char kSep = '\x1f';  // joins the names of an exclude list (never in a name we accept)

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += kSep;
    out += n;
  }
  return out;
}

std::vector<std::string> SplitNames(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(kSep, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

constexpr const char* kHookCols =
    "id, url, secret, filter, enabled, exclude_actors, exclude_sources, created_at, updated_at";

WebhookDef ReadHook(const Stmt& s) {
  WebhookDef d;
  d.id = s.Int(0);
  d.url = s.Text(1);
  d.secret = s.Text(2);
  d.filter = s.Text(3);
  d.enabled = s.Int(4) != 0;
  d.exclude_actors = SplitNames(s.Text(5));
  d.exclude_sources = SplitNames(s.Text(6));
  d.created_at = s.Int(7);
  d.updated_at = s.Int(8);
  return d;
}

constexpr const char* kEventCols = "seq, webhook_id, tx, body, attempts, next_at, dead, last_error";

OutboxEvent ReadEvent(const Stmt& s) {
  OutboxEvent e;
  e.seq = s.Int(0);
  e.webhook_id = s.Int(1);
  e.tx = s.Int(2);
  e.body = std::string(s.Blob(3));
  e.attempts = s.Int(4);
  e.next_at = s.Int(5);
  e.dead = s.Int(6) != 0;
  e.last_error = s.Text(7);
  return e;
}

// Runs `body` in an immediate transaction on `db`, committing when it succeeds.
template <typename F>
Status InTransaction(sqlite3* db, F&& body) {
  CMDB_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  Status st = body();
  if (st.ok()) st = Exec(db, "COMMIT");
  if (!st.ok()) Exec(db, "ROLLBACK");
  return st;
}

}  // namespace

Status SqliteStore::PutOutbox(const WriteSet& ws, const std::string& prev_hash,
                              const std::string& hash) {
  if (!router_) return Status::Ok();
  TxRecord tx = ws.tx;
  tx.prev_hash = prev_hash;
  tx.hash = hash;
  auto events = router_(ws, tx);
  if (events.empty()) return Status::Ok();
  Stmt put(write_db_, "INSERT INTO webhook_outbox(webhook_id, tx, body) VALUES (?, ?, ?)");
  if (!put.ok()) return put.Error();
  for (const auto& [hook, body] : events) {
    CMDB_RETURN_IF_ERROR(put.Bind(1, hook).Bind(2, ws.tx.id).BindBlob(3, body).Run());
  }
  return Status::Ok();
}

void SqliteStore::SetOutboxRouter(OutboxRouter router) {
  std::lock_guard l(write_mu_);
  router_ = std::move(router);
}

Result<WebhookDef> SqliteStore::CreateWebhook(WebhookDef def) {
  std::lock_guard l(write_mu_);
  Stmt s(write_db_,
         "INSERT INTO webhooks(url, secret, filter, enabled, exclude_actors, exclude_sources,"
         " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s.ok()) return s.Error();
  s.Bind(1, def.url).Bind(2, def.secret).Bind(3, def.filter).Bind(4, def.enabled ? 1 : 0);
  s.Bind(5, JoinNames(def.exclude_actors)).Bind(6, JoinNames(def.exclude_sources));
  s.Bind(7, def.created_at).Bind(8, def.updated_at);
  CMDB_RETURN_IF_ERROR(s.Run());
  def.id = sqlite3_last_insert_rowid(write_db_);
  return def;
}

Status SqliteStore::UpdateWebhook(const WebhookDef& def) {
  std::lock_guard l(write_mu_);
  Stmt s(write_db_,
         "UPDATE webhooks SET url = ?, secret = ?, filter = ?, enabled = ?, exclude_actors = ?,"
         " exclude_sources = ?, updated_at = ? WHERE id = ?");
  if (!s.ok()) return s.Error();
  s.Bind(1, def.url).Bind(2, def.secret).Bind(3, def.filter).Bind(4, def.enabled ? 1 : 0);
  s.Bind(5, JoinNames(def.exclude_actors)).Bind(6, JoinNames(def.exclude_sources));
  s.Bind(7, def.updated_at).Bind(8, def.id);
  CMDB_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(write_db_) == 0)
    return Status::NotFound("no webhook " + std::to_string(def.id));
  return Status::Ok();
}

Status SqliteStore::DeleteWebhook(int64_t id) {
  std::lock_guard l(write_mu_);
  return InTransaction(write_db_, [&]() -> Status {
    Stmt del(write_db_, "DELETE FROM webhooks WHERE id = ?");
    if (!del.ok()) return del.Error();
    CMDB_RETURN_IF_ERROR(del.Bind(1, id).Run());
    if (sqlite3_changes(write_db_) == 0)
      return Status::NotFound("no webhook " + std::to_string(id));
    Stmt out(write_db_, "DELETE FROM webhook_outbox WHERE webhook_id = ?");
    Stmt log(write_db_, "DELETE FROM webhook_deliveries WHERE webhook_id = ?");
    if (!out.ok() || !log.ok()) return out.Error();
    CMDB_RETURN_IF_ERROR(out.Bind(1, id).Run());
    return log.Bind(1, id).Run();
  });
}

Result<std::vector<WebhookDef>> SqliteStore::ListWebhooks() {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kHookCols + " FROM webhooks ORDER BY id").c_str());
  if (!s.ok()) return s.Error();
  std::vector<WebhookDef> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadHook(s));
  return out;
}

Result<std::vector<OutboxEvent>> SqliteStore::OutboxHeads() {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kEventCols +
                    " FROM webhook_outbox WHERE seq IN (SELECT MIN(seq) FROM webhook_outbox"
                    " WHERE dead = 0 GROUP BY webhook_id) ORDER BY seq")
                       .c_str());
  if (!s.ok()) return s.Error();
  std::vector<OutboxEvent> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadEvent(s));
  return out;
}

Status SqliteStore::RecordAttempt(const DeliveryAttempt& a, AttemptOutcome outcome,
                                  int64_t next_at) {
  std::lock_guard l(write_mu_);
  return InTransaction(write_db_, [&]() -> Status {
    Stmt log(write_db_,
             "INSERT INTO webhook_deliveries(webhook_id, seq, tx, time, status, latency_us, error)"
             " VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!log.ok()) return log.Error();
    log.Bind(1, a.webhook_id).Bind(2, a.seq).Bind(3, a.tx).Bind(4, a.time).Bind(5, a.status);
    CMDB_RETURN_IF_ERROR(log.Bind(6, a.latency_us).Bind(7, a.error).Run());
    if (outcome == AttemptOutcome::kDelivered) {
      Stmt del(write_db_, "DELETE FROM webhook_outbox WHERE seq = ?");
      if (!del.ok()) return del.Error();
      return del.Bind(1, a.seq).Run();
    }
    Stmt up(write_db_,
            "UPDATE webhook_outbox SET attempts = attempts + 1, next_at = ?, dead = ?,"
            " last_error = ? WHERE seq = ?");
    if (!up.ok()) return up.Error();
    up.Bind(1, next_at).Bind(2, outcome == AttemptOutcome::kDead ? 1 : 0).Bind(3, a.error);
    return up.Bind(4, a.seq).Run();
  });
}

Result<std::vector<DeliveryAttempt>> SqliteStore::Deliveries(int64_t webhook_id, int limit) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_,
         "SELECT id, webhook_id, seq, tx, time, status, latency_us, error FROM webhook_deliveries"
         " WHERE webhook_id = ? ORDER BY id DESC LIMIT ?");
  if (!s.ok()) return s.Error();
  s.Bind(1, webhook_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<DeliveryAttempt> out;
  while (s.Step() == SQLITE_ROW) {
    DeliveryAttempt a;
    a.id = s.Int(0);
    a.webhook_id = s.Int(1);
    a.seq = s.Int(2);
    a.tx = s.Int(3);
    a.time = s.Int(4);
    a.status = s.Int(5);
    a.latency_us = s.Int(6);
    a.error = s.Text(7);
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<OutboxEvent>> SqliteStore::DeadLetters(int64_t webhook_id) {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, (std::string("SELECT ") + kEventCols +
                    " FROM webhook_outbox WHERE webhook_id = ? AND dead = 1 ORDER BY seq")
                       .c_str());
  if (!s.ok()) return s.Error();
  s.Bind(1, webhook_id);
  std::vector<OutboxEvent> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadEvent(s));
  return out;
}

Result<int64_t> SqliteStore::Redeliver(int64_t webhook_id, int64_t seq) {
  std::lock_guard l(write_mu_);
  Stmt s(write_db_,
         "UPDATE webhook_outbox SET dead = 0, attempts = 0, next_at = 0"
         " WHERE webhook_id = ? AND dead = 1 AND (? = 0 OR seq = ?)");
  if (!s.ok()) return s.Error();
  CMDB_RETURN_IF_ERROR(s.Bind(1, webhook_id).Bind(2, seq).Bind(3, seq).Run());
  return static_cast<int64_t>(sqlite3_changes(write_db_));
}

Result<int64_t> SqliteStore::Backlog() {
  std::lock_guard l(read_mu_);
  Stmt s(read_db_, "SELECT COUNT(*) FROM webhook_outbox WHERE dead = 0");
  if (!s.ok() || s.Step() != SQLITE_ROW) return s.Error();
  return s.Int(0);
}

}  // namespace cmdb
