// PgStore as the WebhookStore: definitions, the transactional outbox and the delivery log, as in
// the SQLite store (store/sqlite_webhooks.cpp).
#include <utility>

#include "store/pg_store.hpp"
#include "store/pg_util.hpp"

namespace cmdb {

using pg::Params;
using pg::Row;

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

WebhookDef ReadHook(const Row& s) {
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

OutboxEvent ReadEvent(const Row& s) {
  OutboxEvent e;
  e.seq = s.Int(0);
  e.webhook_id = s.Int(1);
  e.tx = s.Int(2);
  e.body = s.Blob(3);
  e.attempts = s.Int(4);
  e.next_at = s.Int(5);
  e.dead = s.Int(6) != 0;
  e.last_error = s.Text(7);
  return e;
}

// Every row of `rows` read by `read`.
template <typename Rec, typename Read>
std::vector<Rec> AllOf(const pg::Rows& rows, Read read) {
  std::vector<Rec> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read(Row{&rows, i}));
  return out;
}

}  // namespace

Status PgStore::PutOutbox(const WriteSet& ws, const std::string& prev_hash,
                          const std::string& hash) {
  if (!router_) return Status::Ok();
  TxRecord tx = ws.tx;  // the bodies carry the log's hashes
  tx.prev_hash = prev_hash;
  tx.hash = hash;
  for (const auto& [hook, body] : router_(ws, tx)) {
    CMDB_RETURN_IF_ERROR(
        write_->Exec("INSERT INTO webhook_outbox(webhook_id, tx, body) VALUES ($1, $2, $3)",
                     Params().Int(hook).Int(ws.tx.id).Blob(body)));
  }
  return Status::Ok();
}

void PgStore::SetOutboxRouter(OutboxRouter router) {
  std::lock_guard l(write_mu_);
  router_ = std::move(router);
}

Result<WebhookDef> PgStore::CreateWebhook(WebhookDef def) {
  std::lock_guard l(write_mu_);
  auto r = write_->Query(
      "INSERT INTO webhooks(url, secret, filter, enabled, exclude_actors, exclude_sources,"
      " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      Params()
          .Text(def.url)
          .Text(def.secret)
          .Text(def.filter)
          .Int(def.enabled ? 1 : 0)
          .Text(JoinNames(def.exclude_actors))
          .Text(JoinNames(def.exclude_sources))
          .Int(def.created_at)
          .Int(def.updated_at));
  if (!r.ok()) return r.status();
  def.id = r->Int(0, 0);
  return def;
}

Status PgStore::UpdateWebhook(const WebhookDef& def) {
  std::lock_guard l(write_mu_);
  auto r = write_->Query(
      "UPDATE webhooks SET url = $1, secret = $2, filter = $3, enabled = $4, exclude_actors = $5,"
      " exclude_sources = $6, updated_at = $7 WHERE id = $8",
      Params()
          .Text(def.url)
          .Text(def.secret)
          .Text(def.filter)
          .Int(def.enabled ? 1 : 0)
          .Text(JoinNames(def.exclude_actors))
          .Text(JoinNames(def.exclude_sources))
          .Int(def.updated_at)
          .Int(def.id));
  if (!r.ok()) return r.status();
  if (r->Affected() == 0) return Status::NotFound("no webhook " + std::to_string(def.id));
  return Status::Ok();
}

Status PgStore::DeleteWebhook(int64_t id) {
  std::lock_guard l(write_mu_);
  return InWriteTx([&]() -> Status {
    auto del = write_->Query("DELETE FROM webhooks WHERE id = $1", Params().Int(id));
    if (!del.ok()) return del.status();
    if (del->Affected() == 0) return Status::NotFound("no webhook " + std::to_string(id));
    CMDB_RETURN_IF_ERROR(
        write_->Exec("DELETE FROM webhook_outbox WHERE webhook_id = $1", Params().Int(id)));
    return write_->Exec("DELETE FROM webhook_deliveries WHERE webhook_id = $1", Params().Int(id));
  });
}

Result<std::vector<WebhookDef>> PgStore::ListWebhooks() {
  std::lock_guard l(read_mu_);
  auto r = read_->Query(std::string("SELECT ") + kHookCols + " FROM webhooks ORDER BY id");
  if (!r.ok()) return r.status();
  return AllOf<WebhookDef>(*r, ReadHook);
}

Result<std::vector<OutboxEvent>> PgStore::OutboxHeads() {
  std::lock_guard l(read_mu_);
  auto r = read_->Query(std::string("SELECT ") + kEventCols +
                        " FROM webhook_outbox WHERE seq IN (SELECT MIN(seq) FROM webhook_outbox"
                        " WHERE dead = 0 GROUP BY webhook_id) ORDER BY seq");
  if (!r.ok()) return r.status();
  return AllOf<OutboxEvent>(*r, ReadEvent);
}

Status PgStore::RecordAttempt(const DeliveryAttempt& a, AttemptOutcome outcome, int64_t next_at) {
  std::lock_guard l(write_mu_);
  return InWriteTx([&]() -> Status {
    CMDB_RETURN_IF_ERROR(write_->Exec(
        "INSERT INTO webhook_deliveries(webhook_id, seq, tx, time, status, latency_us, error)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        Params()
            .Int(a.webhook_id)
            .Int(a.seq)
            .Int(a.tx)
            .Int(a.time)
            .Int(a.status)
            .Int(a.latency_us)
            .Text(a.error)));
    if (outcome == AttemptOutcome::kDelivered)
      return write_->Exec("DELETE FROM webhook_outbox WHERE seq = $1", Params().Int(a.seq));
    return write_->Exec(
        "UPDATE webhook_outbox SET attempts = attempts + 1, next_at = $1, dead = $2,"
        " last_error = $3 WHERE seq = $4",
        Params()
            .Int(next_at)
            .Int(outcome == AttemptOutcome::kDead ? 1 : 0)
            .Text(a.error)
            .Int(a.seq));
  });
}

Result<std::vector<DeliveryAttempt>> PgStore::Deliveries(int64_t webhook_id, int limit) {
  std::lock_guard l(read_mu_);
  auto r = read_->Query(
      "SELECT id, webhook_id, seq, tx, time, status, latency_us, error FROM webhook_deliveries"
      " WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
      Params().Int(webhook_id).Int(limit));
  if (!r.ok()) return r.status();
  return AllOf<DeliveryAttempt>(*r, [](const Row& s) {
    DeliveryAttempt a;
    a.id = s.Int(0);
    a.webhook_id = s.Int(1);
    a.seq = s.Int(2);
    a.tx = s.Int(3);
    a.time = s.Int(4);
    a.status = s.Int(5);
    a.latency_us = s.Int(6);
    a.error = s.Text(7);
    return a;
  });
}

Result<std::vector<OutboxEvent>> PgStore::DeadLetters(int64_t webhook_id) {
  std::lock_guard l(read_mu_);
  auto r = read_->Query(std::string("SELECT ") + kEventCols +
                            " FROM webhook_outbox WHERE webhook_id = $1 AND dead = 1 ORDER BY seq",
                        Params().Int(webhook_id));
  if (!r.ok()) return r.status();
  return AllOf<OutboxEvent>(*r, ReadEvent);
}

Result<int64_t> PgStore::Redeliver(int64_t webhook_id, int64_t seq) {
  std::lock_guard l(write_mu_);
  auto r = write_->Query(
      "UPDATE webhook_outbox SET dead = 0, attempts = 0, next_at = 0"
      " WHERE webhook_id = $1 AND dead = 1 AND ($2 = 0 OR seq = $2)",
      Params().Int(webhook_id).Int(seq));
  if (!r.ok()) return r.status();
  return r->Affected();
}

Result<int64_t> PgStore::Backlog() {
  std::lock_guard l(read_mu_);
  auto r = read_->Query("SELECT COUNT(*) FROM webhook_outbox WHERE dead = 0");
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

}  // namespace cmdb
