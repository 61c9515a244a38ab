// The change feed: GET /v1/feed (process/feed.hpp read from the store, api/feed_json.hpp) and
// GET /v1/feed/stream (Server-Sent Events through api/feed_stream.hpp).
#include <chrono>
#include <memory>

#include "api/api.hpp"
#include "api/feed_json.hpp"
#include "api/feed_stream.hpp"
#include "process/feed.hpp"

namespace cmdb::api {

HttpResponse Api::Feed(const Call& call) {
  const HttpRequest& req = call.req;
  auto limit = PageLimit(req);
  if (!limit.ok()) return ErrorResponse(limit.status());
  TxId since = 0;
  if (std::string s = req.Param("since"); !s.empty() && s != "0") {
    auto v = ParseId(s, "since");
    if (!v.ok()) return ErrorResponse(v.status());
    since = *v;
  }
  std::shared_ptr<const Schema> schema = db_.schema();
  auto filter = FeedFilterFromParams(req, schema.get());
  if (!filter.ok()) return ErrorResponse(filter.status());
  auto page = process::ReadFeed(*db_.store(), since, *limit, *filter);
  if (!page.ok()) return ErrorResponse(page.status());
  Json items = Json::array();
  for (const process::FeedTx& tx : page->txs) items.push_back(FeedTxToJson(tx));
  return JsonResponse(200, Json{{"items", std::move(items)},
                                {"next", page->next},
                                {"head", page->head},
                                {"more", page->more}});
}

Api::~Api() { StopStreams(); }

void Api::StopStreams() {
  std::lock_guard l(feed_hub_mu_);
  streams_stopped_ = true;
  if (feed_hub_) feed_hub_->Stop();
}

namespace {

// One event: "id: <tx>\nevent: tx\ndata: <json>\n\n" (the JSON is one line).
std::string TxEvent(const process::FeedTx& tx) {
  return "id: " + std::to_string(tx.id) + "\nevent: tx\ndata: " + FeedTxToJson(tx).dump() + "\n\n";
}

}  // namespace

HttpResponse Api::FeedStream(const Call& call) {
  const HttpRequest& req = call.req;
  // Where to start: Last-Event-ID (a reconnecting EventSource sends it) before `since`.
  std::string from = req.Header("last-event-id");
  const char* what = "Last-Event-ID";
  if (from.empty()) from = req.Param("since"), what = "since";
  TxId since = 0;
  if (!from.empty() && from != "0") {
    auto v = ParseId(from, what);
    if (!v.ok()) return ErrorResponse(v.status());
    since = *v;
  }
  int64_t heartbeat_s = 15;
  if (std::string h = req.Param("heartbeat"); !h.empty()) {
    auto v = ParseId(h, "heartbeat");
    if (!v.ok()) return ErrorResponse(v.status());
    if (*v > 300) {
      return ErrorResponse(Status::Invalid("heartbeat must be at most 300 seconds, got " + h)
                               .With("parameter", "heartbeat"));
    }
    heartbeat_s = *v;
  }
  std::shared_ptr<const Schema> schema = db_.schema();
  auto filter = FeedFilterFromParams(req, schema.get());
  if (!filter.ok()) return ErrorResponse(filter.status());
  Store& store = *db_.store();
  // The start is checked now, so a bad one is a 400, not a broken stream.
  if (auto check = process::ReadFeed(store, since, 1, {}); !check.ok()) {
    return ErrorResponse(check.status());
  }
  std::shared_ptr<FeedSubscription> sub;
  {
    std::lock_guard l(feed_hub_mu_);
    if (!streams_stopped_) {
      if (!feed_hub_) {
        feed_hub_ = std::make_unique<FeedHub>(store, options_.max_feed_streams,
                                              options_.feed_stream_buffer);
      }
      sub = feed_hub_->Open(*filter);
    }
  }
  if (!sub) {
    return ErrorResponse(Status(StatusCode::kUnavailable,
                                "too many feed streams are open (at most " +
                                    std::to_string(options_.max_feed_streams) +
                                    "); try again later or read GET /v1/feed")
                             .With("limit", int64_t{options_.max_feed_streams}));
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/event-stream";
  r.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
  auto heartbeat = std::chrono::milliseconds(heartbeat_s * 1000);
  r.stream = [sub, &store, since, f = *filter, heartbeat](const HttpResponse::Writer& write) {
    TxId last = since;  // the last transaction sent
    if (!write("retry: 1000\n\n")) return false;
    // Catch up from the store up to where the hub's buffer takes over.
    TxId cursor = since;
    while (cursor < sub->start()) {
      auto page = process::ReadFeed(store, cursor, 100, f);
      if (!page.ok()) return false;
      for (const process::FeedTx& tx : page->txs) {
        if (tx.id > sub->start()) break;
        if (!write(TxEvent(tx))) return false;
        last = tx.id;
      }
      if (page->next <= cursor) break;
      cursor = page->next;
    }
    std::vector<process::FeedTx> txs;
    for (;;) {
      switch (sub->Wait(heartbeat, txs)) {
        case FeedSubscription::Next::kTxs:
          for (const process::FeedTx& tx : txs) {
            if (tx.id <= last) continue;
            if (!write(TxEvent(tx))) return false;
            last = tx.id;
          }
          break;
        case FeedSubscription::Next::kTimeout:
          if (!write(": heartbeat\n\n")) return false;
          break;
        case FeedSubscription::Next::kOverflow:
          return write("event: resume\ndata: {\"since\": " + std::to_string(last) +
                       ", \"reason\": \"the stream fell too far behind\"}\n\n");
        case FeedSubscription::Next::kClosed:
          return write("event: resume\ndata: {\"since\": " + std::to_string(last) +
                       ", \"reason\": \"the server is stopping\"}\n\n");
      }
    }
  };
  return r;
}

}  // namespace cmdb::api
