// WebhookService: webhook definitions, the outbox router and the delivery workers.
//
// A webhook's body is the change feed's: Start() installs the router in the store, and every
// commit enqueues, in its own SQLite transaction, for each enabled webhook whose filter keeps the
// transaction, the transaction as GET /v1/feed shows it through that filter (api/feed_json.hpp's
// FeedTxToJson of process::ApplyFilter with the webhook's process::FeedFilter: the same object,
// hash and before/after values included). A transaction the filter skips is not enqueued.
//
// Delivery: a dispatcher thread reads the head of each webhook's outbox and hands it to that
// webhook's own worker thread, so each webhook has one event in flight and a slow or hanging
// receiver delays only its own webhook. Events go signed (webhook_sender.hpp); a failure is
// retried after min(cap, base * 2^(attempts-1)); the max_attempts-th failure parks the event
// (dead letter) and the webhook goes on with the next one. Events left in the outbox by a crash
// are sent after restart.
// Thread safety: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/webhook_sender.hpp"
#include "cmdb/database.hpp"
#include "cmdb/webhook_store.hpp"
#include "process/feed.hpp"

namespace cmdb::api {

struct WebhookOptions {
  AllowList allow;                 // --webhook-allow
  int64_t retry_base_ms = 1000;    // --webhook-retry-base
  int64_t retry_cap_ms = 300'000;  // --webhook-retry-cap
  int64_t max_attempts = 10;       // --webhook-max-attempts
  int timeout_ms = 10'000;         // per request
};

class WebhookService {
 public:
  // `store` must be the store `db` commits to; both must outlive the service. The router reads
  // `db`'s graph (the versions a commit supersedes) and schema (filters' classes).
  WebhookService(WebhookStore& store, const Database& db, WebhookOptions options);
  // Stops the workers and removes the router.
  ~WebhookService();
  WebhookService(const WebhookService&) = delete;
  WebhookService& operator=(const WebhookService&) = delete;

  // Loads the definitions (folding a legacy exclude list into the filter), installs the router
  // and starts the dispatcher.
  Status Start();
  // Stops the dispatcher and the workers, waiting for attempts in flight (idempotent).
  void Stop();

  // The admin API's operations. Bodies are the JSON objects of docs/api.md; the secret is never
  // part of what they return, except Create's answer when the server generated it. Change
  // (PATCH) sets the fields given; Replace (PUT) sets every field, absent ones to their
  // defaults (no filter, enabled), except the secret, kept when absent. Errors: kNotFound "no
  // webhook N"; kInvalidArgument for a bad field (the filter's messages are the feed's:
  // "unknown class 'Sever' in filter 'class' (did you mean 'Server'?)").
  Result<nlohmann::json> Create(const nlohmann::json& body);
  Result<nlohmann::json> List();
  Result<nlohmann::json> Get(int64_t id);
  Result<nlohmann::json> Change(int64_t id, const nlohmann::json& body);
  Result<nlohmann::json> Replace(int64_t id, const nlohmann::json& body);
  Status Delete(int64_t id);
  Result<nlohmann::json> Deliveries(int64_t id, int limit);
  Result<nlohmann::json> DeadLetters(int64_t id);
  Result<nlohmann::json> Redeliver(int64_t id, int64_t seq);

  // The request headers for an event (exposed for tests): X-Cmdb-Event-Id, X-Cmdb-Timestamp,
  // X-Cmdb-Signature ("sha256=" + hex HMAC-SHA-256(secret, timestamp + "." + body)).
  static std::vector<std::string> Headers(const WebhookDef& def, const OutboxEvent& event,
                                          int64_t unix_seconds);

 private:
  struct Hook {
    WebhookDef def;
    process::FeedFilter filter;  // def.filter, read against the schema of `schema_version`
    int64_t schema_version = -1;
  };
  // One webhook's delivery thread; its fields are under wake_mu_.
  struct Worker {
    std::thread thread;
    std::condition_variable cv;
    std::optional<OutboxEvent> event;  // handed by the dispatcher
    bool busy = false;                 // an event handed and not yet recorded
    bool quit = false;                 // its webhook was deleted
    bool done = false;                 // the thread is about to end
  };
  // The filter of `def` read against `schema` (the feed's reading; a name the schema no longer
  // defines is kept as it is).
  static Result<process::FeedFilter> ReadFilter(const WebhookDef& def, const Schema& schema);
  Result<Hook> Compile(WebhookDef def) const;
  Status Validate(const nlohmann::json& body, bool whole, WebhookDef& def) const;
  // Change (whole: false) or Replace (whole: true).
  Result<nlohmann::json> Put(int64_t id, const nlohmann::json& body, bool whole);
  std::vector<std::pair<int64_t, std::string>> Route(const WriteSet& ws, const TxRecord& tx);
  // Wakes the dispatcher to read the outbox heads again (takes wake_mu_).
  void Poke();
  void Dispatch();
  void Work(int64_t webhook_id, Worker& w);
  // Makes one attempt at an event and records it (delivered, retry later, or parked).
  void Deliver(const Hook& hook, const OutboxEvent& event);
  Result<Hook> Find(int64_t id);

  WebhookStore& store_;
  const Database& db_;
  WebhookOptions options_;
  std::mutex mu_;  // guards hooks_
  std::vector<Hook> hooks_;
  std::mutex wake_mu_;
  std::condition_variable wake_;  // the dispatcher's: a commit, a finished attempt, a change
  bool stop_ = false;             // under wake_mu_
  uint64_t pokes_ = 0;            // under wake_mu_: counts the dispatcher's reasons to look again
  TxId routed_tx_ = 0;            // under wake_mu_: the last transaction the router enqueued for
  int64_t routed_at_ = 0;         // under wake_mu_: when (micros since epoch)
  std::map<int64_t, std::unique_ptr<Worker>> workers_;  // by webhook id, under wake_mu_
  bool started_ = false;
  std::thread dispatcher_;
};

}  // namespace cmdb::api
