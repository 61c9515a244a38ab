// An in-process client of the HTTP handlers (no socket) over the demo dataset, with one token
// per role. Shared by the API tests.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "api/api.hpp"
#include "api_services.hpp"
#include "test_util.hpp"

namespace cmdb::testing {

using api::Json;

struct Client {
  TestDb t{true};
  api::Authenticator auth{&t.store, true};
  gql::QueryEngine engine{*t.db, gql::QueryOptions{}};
  ApiServicesFor services{*t.db, engine};
  api::Api api{*t.db, auth, engine, services.Refs(), api::ApiOptions{}};
  std::map<std::string, std::string> tokens;  // role name -> secret

  Client() {
    for (const auto& role : RoleNames())
      tokens[role] = api::IssueToken(&t.store, role + "-bot", *ParseRole(role))->second;
  }

  // Calls as the admin unless headers say otherwise.
  std::pair<int, Json> Call(const std::string& method, const std::string& target,
                            const std::string& body = "",
                            std::map<std::string, std::string> headers = {}) {
    headers.emplace("authorization", "Bearer " + tokens["admin"]);
    return Raw(method, target, body, headers);
  }
  std::pair<int, Json> As(const std::string& role, const std::string& method,
                          const std::string& target, const std::string& body = "") {
    return Raw(method, target, body, {{"authorization", "Bearer " + tokens[role]}});
  }
  std::pair<int, Json> Raw(const std::string& method, const std::string& target,
                           const std::string& body, std::map<std::string, std::string> headers) {
    api::HttpRequest req;
    req.method = method;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string qs = target.substr(q + 1);
      for (size_t pos = 0; pos <= qs.size();) {
        size_t amp = qs.find('&', pos);
        if (amp == std::string::npos) amp = qs.size();
        std::string kv = qs.substr(pos, amp - pos);
        size_t eq = kv.find('=');
        req.query.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
        pos = amp + 1;
      }
    }
    req.body = body;
    req.headers = headers;
    api::HttpResponse res = api.Handle(req);
    return {res.status, Json::parse(res.body)};
  }
  CiId IdOf(const std::string& cls, const std::string& name) {
    auto [s, j] = Call("GET", "/v1/cis?class=" + cls + "&where.name=" + name);
    return j["items"].at(0)["id"];
  }
};

}  // namespace cmdb::testing
