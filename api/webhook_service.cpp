// WebhookService (see webhook_service.hpp).
#include "api/webhook_service.hpp"

#include <algorithm>
#include <chrono>

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

bool Has(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Result<std::vector<std::string>> Names(const json& v, const std::string& where) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_array()) return Status::Invalid(where + ": expected a list of strings");
  for (const auto& e : v) {
    if (!e.is_string() || e.get<std::string>().empty() ||
        e.get<std::string>().find('\x1f') != std::string::npos)
      return Status::Invalid(where + ": expected a list of non-empty strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

json HookJson(const WebhookDef& d) {
  return json{{"id", d.id},
              {"url", d.url},
              {"filter", json::parse(d.filter.empty() ? "{}" : d.filter)},
              {"enabled", d.enabled},
              {"exclude_actors", d.exclude_actors},
              {"exclude_sources", d.exclude_sources},
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

const char* Op(bool retired, int64_t version) {
  return retired ? "retired" : version == 1 ? "created" : "updated";
}

}  // namespace

WebhookService::WebhookService(WebhookStore& store, WebhookOptions options)
    : store_(store), options_(std::move(options)) {}

WebhookService::~WebhookService() { Stop(); }

Result<WebhookService::Hook> WebhookService::Compile(WebhookDef def) {
  // The change feed's filter names (api/feed_json.hpp): each a string or a list of strings.
  Hook h;
  json f = json::parse(def.filter.empty() ? "{}" : def.filter, nullptr, false);
  if (f.is_discarded() || !f.is_object()) return Status::Invalid("filter: expected an object");
  for (const auto& [key, value] : f.items()) {
    std::string where = "filter." + key;
    if (key == "change") {
      if (!value.is_string()) return Status::Invalid(where + ": expected a string");
      h.change = value.get<std::string>();
      continue;
    }
    std::vector<std::string>* target = key == "class"       ? &h.classes
                                       : key == "type"      ? &h.types
                                       : key == "actor"     ? &h.actors
                                       : key == "source"    ? &h.sources
                                       : key == "not_actor" ? &h.not_actors
                                                            : nullptr;
    if (!target)
      return Status::Invalid("filter: unknown field '" + key +
                             "' (class, type, source, actor, not_actor, change)");
    auto names = Names(value.is_string() ? json::array({value}) : value, where);
    if (!names.ok()) return names.status();
    *target = std::move(*names);
  }
  h.def = std::move(def);
  return h;
}

Status WebhookService::Start() {
  auto defs = store_.ListWebhooks();
  if (!defs.ok()) return defs.status();
  {
    std::lock_guard l(mu_);
    hooks_.clear();
    for (auto& d : *defs) {
      auto h = Compile(std::move(d));
      if (h.ok()) hooks_.push_back(std::move(*h));
    }
  }
  store_.SetOutboxRouter([this](const WriteSet& ws) { return Route(ws); });
  started_ = true;
  worker_ = std::thread([this] { Work(); });
  return Status::Ok();
}

void WebhookService::Stop() {
  if (!started_) return;
  started_ = false;
  store_.SetOutboxRouter(nullptr);
  {
    std::lock_guard l(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::vector<std::pair<int64_t, std::string>> WebhookService::Route(const WriteSet& ws) {
  std::vector<std::pair<int64_t, std::string>> out;
  {
    std::lock_guard l(mu_);
    for (const Hook& h : hooks_) {
      const WebhookDef& d = h.def;
      if (!d.enabled || Has(d.exclude_actors, ws.tx.actor) || Has(d.exclude_sources, ws.tx.source))
        continue;
      if (!h.actors.empty() && !Has(h.actors, ws.tx.actor)) continue;
      if (Has(h.not_actors, ws.tx.actor)) continue;
      if (!h.sources.empty() && !Has(h.sources, ws.tx.source)) continue;
      if (!h.change.empty() && h.change != ws.tx.change_ref) continue;
      bool by_items = !h.classes.empty() || !h.types.empty();
      json cis = json::array(), rels = json::array();
      for (const CiRecord& ci : ws.cis) {
        if (by_items && !Has(h.classes, ci.class_name)) continue;
        json j = CiToJson(ci);
        j["op"] = Op(ci.retired, ci.version);
        cis.push_back(std::move(j));
      }
      for (const RelRecord& r : ws.rels) {
        if (by_items && !Has(h.types, r.type)) continue;
        json j = RelToJson(r);
        j["op"] = Op(r.retired, r.version);
        rels.push_back(std::move(j));
      }
      if (by_items && cis.empty() && rels.empty()) continue;
      json body{{"event_id", std::to_string(d.id) + "-" + std::to_string(ws.tx.id)},
                {"webhook", d.id},
                {"transaction", TxToJson(ws.tx)},
                {"cis", std::move(cis)},
                {"relationships", std::move(rels)}};
      out.emplace_back(d.id, body.dump());
    }
  }
  if (!out.empty()) wake_.notify_all();
  return out;
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

void WebhookService::Work() {
  while (true) {
    {
      std::lock_guard l(wake_mu_);
      if (stop_) return;
    }
    int64_t now = NowMicros();
    int64_t wait_until = now + 200'000;  // poll: commits land after the router ran
    bool sent = false;
    auto heads = store_.OutboxHeads();
    if (heads.ok()) {
      for (const OutboxEvent& e : *heads) {
        if (e.next_at > now) {
          wait_until = std::min(wait_until, e.next_at);
          continue;
        }
        auto hook = Find(e.webhook_id);
        if (!hook.ok() || !hook->def.enabled) continue;  // a disabled webhook keeps its events
        Deliver(*hook, e);
        sent = true;
        std::lock_guard l(wake_mu_);
        if (stop_) return;
      }
    }
    if (sent) continue;
    std::unique_lock l(wake_mu_);
    wake_.wait_for(l, std::chrono::microseconds(std::max<int64_t>(wait_until - now, 1000)),
                   [&] { return stop_; });
  }
}

Result<WebhookService::Hook> WebhookService::Find(int64_t id) {
  std::lock_guard l(mu_);
  for (const Hook& h : hooks_)
    if (h.def.id == id) return h;
  return Status::NotFound("no webhook " + std::to_string(id));
}

Status WebhookService::Validate(const json& body, bool creating, WebhookDef& def) const {
  if (!body.is_object()) return Status::Invalid("body must be a JSON object");
  CMDB_RETURN_IF_ERROR(CheckFields(
      body, {"url", "secret", "filter", "enabled", "exclude_actors", "exclude_sources"}, ""));
  if (body.contains("url")) {
    if (!body["url"].is_string()) return Status::Invalid("url: expected a string");
    def.url = body["url"].get<std::string>();
  } else if (creating) {
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
    if (!body["filter"].is_object()) return Status::Invalid("filter: expected an object");
    def.filter = body["filter"].dump();
  }
  if (def.filter.empty()) def.filter = "{}";
  auto compiled = Compile(def);
  if (!compiled.ok()) return compiled.status();
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean()) return Status::Invalid("enabled: expected true or false");
    def.enabled = body["enabled"].get<bool>();
  }
  if (body.contains("exclude_actors")) {
    auto v = Names(body["exclude_actors"], "exclude_actors");
    if (!v.ok()) return v.status();
    def.exclude_actors = *v;
  }
  if (body.contains("exclude_sources")) {
    auto v = Names(body["exclude_sources"], "exclude_sources");
    if (!v.ok()) return v.status();
    def.exclude_sources = *v;
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

Result<json> WebhookService::Change(int64_t id, const json& body) {
  auto h = Find(id);
  if (!h.ok()) return h.status();
  WebhookDef def = h->def;
  CMDB_RETURN_IF_ERROR(Validate(body, false, def));
  def.updated_at = NowMicros();
  CMDB_RETURN_IF_ERROR(store_.UpdateWebhook(def));
  auto hook = Compile(def);
  if (!hook.ok()) return hook.status();
  {
    std::lock_guard l(mu_);
    for (Hook& x : hooks_)
      if (x.def.id == id) x = *hook;
  }
  wake_.notify_all();
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
  return store_.DeleteWebhook(id);
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
  wake_.notify_all();
  return json{{"requeued", *n}};
}

}  // namespace cmdb::api
