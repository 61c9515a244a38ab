// WebhookStore: where webhook definitions, their outbox and their delivery log are kept
// (interface; the SQLite implementation is SqliteStore, store/sqlite_webhooks.cpp).
//
// The outbox is transactional: a store that implements this interface asks its OutboxRouter,
// inside every Commit and in the same atomic transaction as the change, which events to enqueue.
// A crash after the commit therefore loses no event, and a write that rolls back enqueues none.
// The core does not interpret a webhook's filter or an event's body (the api layer renders them).
// Thread safety: every method may be called from any thread; the store serializes its writes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"

namespace cmdb {

// One webhook as stored. `filter` is opaque text to the core (JSON the api layer parses).
struct WebhookDef {
  int64_t id = 0;
  std::string url;
  std::string secret;
  std::string filter;  // "{}" when none
  bool enabled = true;
  // Written before filters had not_actor/not_source: the api layer folds these into `filter` when
  // it loads the definition, and stores them empty from then on.
  std::vector<std::string> exclude_actors;
  std::vector<std::string> exclude_sources;
  int64_t created_at = 0;  // micros since epoch (UTC)
  int64_t updated_at = 0;
};

// One event waiting in the outbox (or parked as a dead letter).
struct OutboxEvent {
  int64_t seq = 0;  // outbox order (increasing with commit order)
  int64_t webhook_id = 0;
  TxId tx = 0;
  std::string body;  // the request body, rendered at commit
  int64_t attempts = 0;
  int64_t next_at = 0;  // micros since epoch: not sent before
  bool dead = false;    // parked after too many failures
  std::string last_error;
};

// One attempt to deliver an event.
struct DeliveryAttempt {
  int64_t id = 0;
  int64_t webhook_id = 0;
  int64_t seq = 0;
  TxId tx = 0;
  int64_t time = 0;    // micros since epoch when the attempt started
  int64_t status = 0;  // HTTP status; 0 when no answer
  int64_t latency_us = 0;
  std::string error;  // empty on success
};

// What to enqueue for one committed write: (webhook id, body) pairs. `tx` is ws.tx as the log
// stores it, with prev_hash and hash (the hash chain) set. Called by the store inside the
// commit's transaction, under the store's write lock, before the write is published to memory
// (the graph still holds the versions ws supersedes); must be quick and must not call back into
// the store.
using OutboxRouter = std::function<std::vector<std::pair<int64_t, std::string>>(
    const WriteSet& ws, const TxRecord& tx)>;

// The result of an attempt, for RecordAttempt.
enum class AttemptOutcome { kDelivered, kRetry, kDead };

class WebhookStore {
 public:
  virtual ~WebhookStore() = default;
  // Stores a new webhook; its id is assigned (never reused).
  virtual Result<WebhookDef> CreateWebhook(WebhookDef def) = 0;
  // Replaces the stored definition of def.id (kNotFound when there is none).
  virtual Status UpdateWebhook(const WebhookDef& def) = 0;
  // Deletes a webhook with its outbox and delivery log (kNotFound when there is none).
  virtual Status DeleteWebhook(int64_t id) = 0;
  // Every webhook, in id order.
  virtual Result<std::vector<WebhookDef>> ListWebhooks() = 0;
  // Installs the router consulted by every later commit (an empty function: enqueue nothing).
  virtual void SetOutboxRouter(OutboxRouter router) = 0;
  // For every webhook with pending (not dead) events, its oldest pending event.
  virtual Result<std::vector<OutboxEvent>> OutboxHeads() = 0;
  // Logs `attempt` and applies `outcome` to event `seq`: kDelivered removes it from the outbox,
  // kRetry counts the attempt and sets next_at, kDead counts it and parks it.
  virtual Status RecordAttempt(const DeliveryAttempt& attempt, AttemptOutcome outcome,
                               int64_t next_at) = 0;
  // The newest `limit` attempts of a webhook, newest first.
  virtual Result<std::vector<DeliveryAttempt>> Deliveries(int64_t webhook_id, int limit) = 0;
  // A webhook's parked events, oldest first.
  virtual Result<std::vector<OutboxEvent>> DeadLetters(int64_t webhook_id) = 0;
  // Puts parked events of a webhook back in the outbox with no attempts (`seq` 0: all of them).
  // Returns how many.
  virtual Result<int64_t> Redeliver(int64_t webhook_id, int64_t seq) = 0;
  // Pending (not dead) events of all webhooks.
  virtual Result<int64_t> Backlog() = 0;
};

}  // namespace cmdb
