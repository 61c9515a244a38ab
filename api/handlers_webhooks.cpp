// The webhook admin API: /v1/webhooks (see docs/api.md, Webhooks).
#include "api/api.hpp"
#include "api/json_codec.hpp"
#include "api/webhook_service.hpp"

namespace cmdb::api {

HttpResponse Api::Webhooks(const Call& call) {
  if (!webhooks_)
    return ErrorResponse(
        Status(StatusCode::kUnavailable, "webhooks are not enabled on this server"));
  const HttpRequest& req = call.req;
  const Segments& seg = call.segments;  // v1, webhooks[, id[, what]]
  const std::string& method = req.method;
  auto answer = [](int status, const Result<Json>& r) {
    return r.ok() ? JsonResponse(status, *r) : ErrorResponse(r.status());
  };
  if (seg.size() == 2) {
    if (method == "GET") return answer(200, webhooks_->List());
    auto body = ParseRequestJson(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    return answer(201, webhooks_->Create(*body));
  }
  int64_t id = call.id;
  if (seg.size() == 3) {
    if (method == "GET") return answer(200, webhooks_->Get(id));
    if (method == "DELETE") {
      Status st = webhooks_->Delete(id);
      return st.ok() ? JsonResponse(200, Json{{"id", id}, {"deleted", true}}) : ErrorResponse(st);
    }
    auto body = ParseRequestJson(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    if (method == "PUT") return answer(200, webhooks_->Replace(id, *body));
    return answer(200, webhooks_->Change(id, *body));
  }
  const std::string& what = seg[3];
  if (what == "deliveries") return answer(200, webhooks_->Deliveries(id, 1000));
  if (what == "dead-letters") return answer(200, webhooks_->DeadLetters(id));
  int64_t seq = 0;
  if (!req.body.empty()) {
    auto body = ParseRequestJson(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    if (!body->is_object())
      return ErrorResponse(Status::Invalid("body must be {\"event\": N} or empty"));
    if (Status st = CheckFields(*body, {"event"}, ""); !st.ok()) return ErrorResponse(st);
    if (body->contains("event")) {
      if (!(*body)["event"].is_number_integer() || (*body)["event"].get<int64_t>() < 1)
        return ErrorResponse(Status::Invalid("event: expected a positive integer"));
      seq = (*body)["event"].get<int64_t>();
    }
  }
  return answer(200, webhooks_->Redeliver(id, seq));
}

}  // namespace cmdb::api
