// WebhookService: webhook definitions, the outbox router and the delivery worker.
//
// Start() installs the router in the store: every commit enqueues, in its own SQLite transaction,
// one event per enabled webhook whose filter the write matches and whose exclusions it escapes
// (the body, rendered then, holds the transaction and the CIs and relationships it wrote that
// match the filter). One worker thread sends the events of each webhook in outbox order, one at
// a time per webhook, signed (webhook_sender.hpp); a failure is retried after
// min(cap, base * 2^attempts); the max_attempts-th failure parks the event (dead letter) and the
// worker goes on with the next one. Events left in the outbox by a crash are sent after restart.
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/webhook_sender.hpp"
#include "cmdb/webhook_store.hpp"

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
  // `store` must outlive the service.
  WebhookService(WebhookStore& store, WebhookOptions options);
  // Stops the worker and removes the router.
  ~WebhookService();
  WebhookService(const WebhookService&) = delete;
  WebhookService& operator=(const WebhookService&) = delete;

  // Loads the definitions, installs the router and starts the worker.
  Status Start();
  // Stops the worker (idempotent).
  void Stop();

  // The admin API's operations. Bodies are the JSON objects of docs/api.md; the secret is never
  // part of what they return, except Create's answer when the server generated it.
  Result<nlohmann::json> Create(const nlohmann::json& body);
  Result<nlohmann::json> List();
  Result<nlohmann::json> Get(int64_t id);
  Result<nlohmann::json> Change(int64_t id, const nlohmann::json& body);
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
    std::vector<std::string> classes, types, actors, sources, not_actors;  // empty: any
    std::string change;
  };
  static Result<Hook> Compile(WebhookDef def);
  Status Validate(const nlohmann::json& body, bool creating, WebhookDef& def) const;
  std::vector<std::pair<int64_t, std::string>> Route(const WriteSet& ws);
  void Work();
  // Makes one attempt at an event and records it (delivered, retry later, or parked).
  void Deliver(const Hook& hook, const OutboxEvent& event);
  Result<Hook> Find(int64_t id);

  WebhookStore& store_;
  WebhookOptions options_;
  std::mutex mu_;  // guards hooks_
  std::vector<Hook> hooks_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // under wake_mu_
  bool started_ = false;
  std::thread worker_;
};

}  // namespace cmdb::api
