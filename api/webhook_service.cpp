// WebhookService (see webhook_service.hpp).
#include "api/webhook_service.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "api/feed_json.hpp"
#include "api/json_codec.hpp"
#include "cmdb/time_util.hpp"

namespace cmdb::api {
namespace {

using nlohmann::json;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json HookJson(const WebhookDef& d) {
  return json{{"id", d.id},
              {"url", d.url},
              {"filter", json::parse(d.filter.empty() ? "{}" : d.filter, nullptr, false)},
              {"enabled", d.enabled},
              {"created_at", FormatTimestamp(d.created_at)},
              {"updated_at", FormatTimestamp(d.updated_at)}};
}

json EventJson(const OutboxEvent& e) {
  return json{{"event", e.seq},
              {"event_id", std::to_string(e.webhook_id) + "-" + std::to_string(e.tx)},
              {"tx", e.tx},
              {"attempts", e.attempts},
              {"last_error", e.last_error}};
}

// A definition stored before filters had not_actor/not_source: its exclude lists moved into the
// filter. False when there was nothing to fold (or the stored filter is not an object).
bool FoldExcludes(WebhookDef& d) {
  if (d.exclude_actors.empty() && d.exclude_sources.empty()) return false;
  json f = json::parse(d.filter.empty() ? "{}" : d.filter, nullptr, false);
  if (!f.is_object()) return false;
  auto add = [&f](const char* name, const std::vector<std::string>& names) {
    if (names.empty()) return;
    json& list = f[name];
    if (list.is_string()) list = json::array({list});
    if (!list.is_array()) list = json::array();
    for (const std::string& n : names) list.push_back(n);
  };
  add("not_actor", d.exclude_actors);
  add("not_source", d.exclude_sources);
  d.filter = f.dump();
  d.exclude_actors.clear();
  d.exclude_sources.clear();
  return true;
}

// The feed transaction of a write being committed: the versions it supersedes are still the
// graph's (the router runs before the write is published), the hashes are the log's.
process::FeedTx FeedOf(const WriteSet& ws, const TxRecord& tx, const Database& db) {
  ReadView view = db.Read();
  const Graph& graph = view.graph();
  process::FeedTx f = process::FeedTxFromWrite(
      ws,
      [&graph](CiId id) -> std::optional<CiRecord> {
        const CiRecord* c = graph.FindCi(id);
        if (!c) return std::nullopt;
        return *c;
      },
      [&graph](RelId id) { return graph.FindRel(id); });
  f.prev_hash = tx.prev_hash;
  f.hash = tx.hash;
  return f;
}

}  // namespace

WebhookService::WebhookService(WebhookStore& store, const Database& db, WebhookOptions options)
    : store_(store), db_(db), options_(std::move(options)) {}

WebhookService::~WebhookService() { Stop(); }

Result<process::FeedFilter> WebhookService::ReadFilter(const WebhookDef& def,
                                                       const Schema& schema) {
  json f = json::parse(def.filter.empty() ? "{}" : def.filter, nullptr, false);
  if (f.is_discarded()) return Status::Invalid("\"filter\" is not JSON");
  auto filter = FeedFilterFromJson(f, "filter", &schema);
  if (filter.ok()) return filter;
  return FeedFilterFromJson(f, "filter", nullptr);  // a class or type dropped since: as named
}

Result<WebhookService::Hook> WebhookService::Compile(WebhookDef def) const {
  std::shared_ptr<const Schema> schema = db_.schema();
  auto filter = ReadFilter(def, *schema);
  if (!filter.ok()) return filter.status();
  return Hook{std::move(def), std::move(*filter), schema->version()};
}

Status WebhookService::Start() {
  auto defs = store_.ListWebhooks();
  if (!defs.ok()) return defs.status();
  {
    std::lock_guard l(mu_);
    hooks_.clear();
  }
  for (WebhookDef& d : *defs) {
    // Best effort: a definition not stored back is folded again at the next start.
    if (FoldExcludes(d)) (void)store_.UpdateWebhook(d);
    auto h = Compile(std::move(d));
    std::lock_guard l(mu_);
    if (h.ok()) hooks_.push_back(std::move(*h));
  }
  store_.SetOutboxRouter([this](const WriteSet& ws, const TxRecord& tx) { return Route(ws, tx); });
  started_ = true;
  dispatcher_ = std::thread([this] { Dispatch(); });
  return Status::Ok();
}

void WebhookService::Stop() {
  if (!started_) return;
  started_ = false;
  store_.SetOutboxRouter(nullptr);
  {
    std::lock_guard l(wake_mu_);
    stop_ = true;
    for (auto& [id, w] : workers_) w->cv.notify_all();
  }
  wake_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  std::map<int64_t, std::unique_ptr<Worker>> workers;
  {
    std::lock_guard l(wake_mu_);
    workers.swap(workers_);
  }
  for (auto& [id, w] : workers) {
    if (w->thread.joinable()) w->thread.join();  // an attempt in flight ends within its timeout
  }
}

std::vector<std::pair<int64_t, std::string>> WebhookService::Route(const WriteSet& ws,
                                                                   const TxRecord& tx) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::shared_ptr<const Schema> schema = db_.schema();
  std::optional<process::FeedTx> feed;  // built once, for the first webhook that wants it
  std::string whole;                    // its JSON, for filters that keep every entry
  {
    std::lock_guard l(mu_);
    for (Hook& h : hooks_) {
      if (!h.def.enabled) continue;
      if (h.schema_version != schema->version()) {  // classes widened by the current schema
        if (auto f = ReadFilter(h.def, *schema); f.ok()) h.filter = std::move(*f);
        h.schema_version = schema->version();
      }
      if (!process::TxMatches(h.filter, tx)) continue;
      if (!feed) feed = FeedOf(ws, tx, db_);
      if (!h.filter.selects_entries()) {  // ApplyFilter would keep the transaction whole
        if (whole.empty()) whole = FeedTxToJson(*feed).dump();
        out.emplace_back(h.def.id, whole);
        continue;
      }
      std::optional<process::FeedTx> kept = process::ApplyFilter(h.filter, *feed);
      if (kept) out.emplace_back(h.def.id, FeedTxToJson(*kept).dump());
    }
  }
  if (!out.empty()) {
    {
      std::lock_guard l(wake_mu_);
      ++pokes_;
      routed_tx_ = tx.id;
      routed_at_ = NowMicros();
    }
    wake_.notify_all();
  }
  return out;
}

void WebhookService::Poke() {
  {
    std::lock_guard l(wake_mu_);
    ++pokes_;
  }
  wake_.notify_all();
}

std::vector<std::string> WebhookService::Headers(const WebhookDef& def, const OutboxEvent& event,
                                                 int64_t unix_seconds) {
  std::string ts = std::to_string(unix_seconds);
  return {"Content-Type: application/json", "User-Agent: cmdb-webhook",
          "X-Cmdb-Event-Id: " + std::to_string(def.id) + "-" + std::to_string(event.tx),
          "X-Cmdb-Timestamp: " + ts,
          "X-Cmdb-Signature: sha256=" + HmacSha256Hex(def.secret, ts + "." + event.body)};
}

void WebhookService::Deliver(const Hook& hook, const OutboxEvent& event) {
  DeliveryAttempt a;
  a.webhook_id = event.webhook_id;
  a.seq = event.seq;
  a.tx = event.tx;
  a.time = NowMicros();
  auto dest = CheckDestination(options_.allow, hook.def.url);
  Status st = dest.ok() ? Resolve(*dest) : dest.status();
  if (st.ok()) {
    SendResult r = Send(hook.def.url, *dest, Headers(hook.def, event, a.time / 1'000'000),
                        event.body, options_.timeout_ms);
    a.status = r.status;
    a.latency_us = r.latency_us;
    a.error = r.error;
  } else {
    a.error = st.message();
  }
  AttemptOutcome outcome = AttemptOutcome::kDelivered;
  int64_t next_at = 0;
  if (!a.error.empty()) {
    int64_t attempts = event.attempts + 1;
    if (attempts >= options_.max_attempts) {
      outcome = AttemptOutcome::kDead;
    } else {
      outcome = AttemptOutcome::kRetry;
      int64_t delay = options_.retry_base_ms;
      for (int64_t i = 1; i < attempts && delay < options_.retry_cap_ms; ++i) delay *= 2;
      next_at = NowMicros() + std::min(delay, options_.retry_cap_ms) * 1000;
    }
  }
  store_.RecordAttempt(a, outcome, next_at);  // a failure here: the event is sent again
}

void WebhookService::Dispatch() {
  std::unique_lock l(wake_mu_);
  while (!stop_) {
    // The workers of deleted webhooks end; join them outside the lock.
    std::vector<std::unique_ptr<Worker>> ended;
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->second->done) {
        ended.push_back(std::move(it->second));
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    // A webhook whose worker is idle now has its last attempt recorded: the heads read next are
    // fresh for it. One busy now may finish during the read: its head waits for the next round.
    std::set<int64_t> busy;
    for (const auto& [id, w] : workers_) {
      if (w->busy) busy.insert(id);
    }
    const uint64_t seen = pokes_;
    const TxId routed = routed_tx_;
    const int64_t routed_at = routed_at_;
    l.unlock();
    for (std::unique_ptr<Worker>& w : ended) w->thread.join();
    int64_t now = NowMicros();
    int64_t wait_until = now + 200'000;  // poll
    // The router runs inside the commit: until the write is published (after its SQLite commit,
    // so the heads read below would hold its events), look again soon. A commit that failed
    // after the router ran is never published: after a second, the normal poll.
    if (routed > 0 && now - routed_at < 1'000'000 && db_.Read().tx() < routed) {
      wait_until = now + 5'000;
    }
    std::vector<OutboxEvent> ready;
    if (auto heads = store_.OutboxHeads(); heads.ok()) {
      for (OutboxEvent& e : *heads) {
        if (busy.count(e.webhook_id)) continue;
        if (e.next_at > now) {
          wait_until = std::min(wait_until, e.next_at);
          continue;
        }
        auto hook = Find(e.webhook_id);
        if (!hook.ok() || !hook->def.enabled) continue;  // a disabled webhook keeps its events
        ready.push_back(std::move(e));
      }
    }
    l.lock();
    if (stop_) break;
    for (OutboxEvent& e : ready) {
      std::unique_ptr<Worker>& slot = workers_[e.webhook_id];
      if (!slot) {
        slot = std::make_unique<Worker>();
        Worker& w = *slot;
        const int64_t id = e.webhook_id;
        w.thread = std::thread([this, id, &w] { Work(id, w); });
      }
      if (slot->busy || slot->quit) continue;
      slot->busy = true;
      slot->event = std::move(e);
      slot->cv.notify_one();
    }
    wake_.wait_for(l, std::chrono::microseconds(std::max<int64_t>(wait_until - now, 1000)),
                   [&] { return stop_ || pokes_ != seen; });
  }
}

void WebhookService::Work(int64_t webhook_id, Worker& w) {
  std::unique_lock l(wake_mu_);
  while (true) {
    w.cv.wait(l, [&] { return stop_ || w.quit || w.event.has_value(); });
    if (stop_ || w.quit) break;
    OutboxEvent event = std::move(*w.event);
    w.event.reset();
    l.unlock();
    if (auto hook = Find(webhook_id); hook.ok()) Deliver(*hook, event);
    l.lock();
    w.busy = false;
    ++pokes_;
    wake_.notify_all();
  }
  w.done = true;
  ++pokes_;
  wake_.notify_all();
}

Result<WebhookService::Hook> WebhookService::Find(int64_t id) {
  std::lock_guard l(mu_);
  for (const Hook& h : hooks_)
    if (h.def.id == id) return h;
  return Status::NotFound("no webhook " + std::to_string(id));
}

Status WebhookService::Validate(const json& body, bool whole, WebhookDef& def) const {
  if (!body.is_object()) return Status::Invalid("body must be a JSON object");
  CMDB_RETURN_IF_ERROR(CheckFields(body, {"url", "secret", "filter", "enabled"}, ""));
  if (whole) {  // every field from the body or its default; the secret is kept when absent
    def.url.clear();
    def.filter = "{}";
    def.enabled = true;
    def.exclude_actors.clear();
    def.exclude_sources.clear();
  }
  if (body.contains("url")) {
    if (!body["url"].is_string()) return Status::Invalid("url: expected a string");
    def.url = body["url"].get<std::string>();
  } else if (whole) {
    return Status::Invalid("url: required");
  }
  auto dest = CheckDestination(options_.allow, def.url);
  if (!dest.ok()) return dest.status();
  if (body.contains("secret")) {
    if (!body["secret"].is_string() || body["secret"].get<std::string>().size() < 16)
      return Status::Invalid("secret: expected a string of at least 16 characters");
    def.secret = body["secret"].get<std::string>();
  }
  if (body.contains("filter")) {
    // The feed's filter, with the feed's checks and messages (names must exist).
    std::shared_ptr<const Schema> schema = db_.schema();
    auto filter = FeedFilterFromJson(body["filter"], "filter", schema.get());
    if (!filter.ok()) return filter.status();
    def.filter = body["filter"].dump();
  }
  if (def.filter.empty()) def.filter = "{}";
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean()) return Status::Invalid("enabled: expected true or false");
    def.enabled = body["enabled"].get<bool>();
  }
  return Status::Ok();
}

Result<json> WebhookService::Create(const json& body) {
  WebhookDef def;
  CMDB_RETURN_IF_ERROR(Validate(body, true, def));
  bool generated = def.secret.empty();
  if (generated) def.secret = RandomSecret();
  def.created_at = def.updated_at = NowMicros();
  auto stored = store_.CreateWebhook(def);
  if (!stored.ok()) return stored.status();
  auto hook = Compile(*stored);
  if (!hook.ok()) return hook.status();
  {
    std::lock_guard l(mu_);
    hooks_.push_back(*hook);
  }
  json j = HookJson(*stored);
  if (generated) j["secret"] = stored->secret;  // shown once, never again
  return j;
}

Result<json> WebhookService::List() {
  std::lock_guard l(mu_);
  json items = json::array();
  for (const Hook& h : hooks_) items.push_back(HookJson(h.def));
  return json{{"items", items}};
}

Result<json> WebhookService::Get(int64_t id) {
  auto h = Find(id);
  if (!h.ok()) return h.status();
  return HookJson(h->def);
}

Result<json> WebhookService::Change(int64_t id, const json& body) { return Put(id, body, false); }

Result<json> WebhookService::Replace(int64_t id, const json& body) { return Put(id, body, true); }

Result<json> WebhookService::Put(int64_t id, const json& body, bool whole) {
  auto h = Find(id);
  if (!h.ok()) return h.status();
  WebhookDef def = h->def;
  CMDB_RETURN_IF_ERROR(Validate(body, whole, def));
  def.updated_at = NowMicros();
  CMDB_RETURN_IF_ERROR(store_.UpdateWebhook(def));
  auto hook = Compile(def);
  if (!hook.ok()) return hook.status();
  {
    std::lock_guard l(mu_);
    for (Hook& x : hooks_)
      if (x.def.id == id) x = *hook;
  }
  Poke();  // enabled again: its queued events go
  return HookJson(def);
}

Status WebhookService::Delete(int64_t id) {
  CMDB_RETURN_IF_ERROR(Find(id).status());
  {
    std::lock_guard l(mu_);  // stop routing to it before it goes
    hooks_.erase(
        std::remove_if(hooks_.begin(), hooks_.end(), [&](const Hook& h) { return h.def.id == id; }),
        hooks_.end());
  }
  Status st = store_.DeleteWebhook(id);
  {
    std::lock_guard l(wake_mu_);  // its worker ends (after an attempt in flight)
    if (auto it = workers_.find(id); it != workers_.end()) {
      it->second->quit = true;
      it->second->cv.notify_all();
    }
    ++pokes_;
  }
  wake_.notify_all();
  return st;
}

Result<json> WebhookService::Deliveries(int64_t id, int limit) {
  CMDB_RETURN_IF_ERROR(Find(id).status());
  auto list = store_.Deliveries(id, limit);
  if (!list.ok()) return list.status();
  json items = json::array();
  for (const DeliveryAttempt& a : *list) {
    items.push_back(json{{"attempt", a.id},
                         {"event", a.seq},
                         {"event_id", std::to_string(a.webhook_id) + "-" + std::to_string(a.tx)},
                         {"tx", a.tx},
                         {"time", FormatTimestamp(a.time)},
                         {"status", a.status},
                         {"latency_ms", static_cast<double>(a.latency_us) / 1000.0},
                         {"error", a.error.empty() ? json(nullptr) : json(a.error)}});
  }
  return json{{"items", items}};
}

Result<json> WebhookService::DeadLetters(int64_t id) {
  CMDB_RETURN_IF_ERROR(Find(id).status());
  auto list = store_.DeadLetters(id);
  if (!list.ok()) return list.status();
  json items = json::array();
  for (const OutboxEvent& e : *list) items.push_back(EventJson(e));
  return json{{"items", items}};
}

Result<json> WebhookService::Redeliver(int64_t id, int64_t seq) {
  CMDB_RETURN_IF_ERROR(Find(id).status());
  auto n = store_.Redeliver(id, seq);
  if (!n.ok()) return n.status();
  Poke();
  return json{{"requeued", *n}};
}

}  // namespace cmdb::api
