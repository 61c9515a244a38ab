// The routing table: every endpoint of the API, one row each. Adding an endpoint is a row here
// (and its handler) plus its entry in docs/openapi.yaml and docs/security.md's route table;
// tests/api/routes_test.cpp holds all three to the table.
#include "api/api.hpp"

namespace cmdb::api {
namespace {

using P = Permission;
using K = ParamKind;

constexpr ParamSpec kChange{"change"};  // the change a write names (like X-Change-Id)
constexpr ParamSpec kLimit{"limit", K::kPositiveInt};
constexpr ParamSpec kOffset{"offset", K::kNonNegativeInt};

}  // namespace

const std::vector<Route>& Api::Routes() {
  // Row: method, pattern, who may call (kNoToken or a permission), handler, query parameters,
  // permissions the handler also checks (by the request's content), how the body is served.
  // clang-format off
  static const std::vector<Route> kRoutes = CompileRoutes({
      {"GET", "/healthz", kNoToken, &Api::Health},
      {"GET", "/v1/openapi.yaml", kNoToken, &Api::OpenApi},
      {"GET", "/metrics", P::kRead, &Api::Metrics},
      {"GET", "/v1/whoami", P::kRead, &Api::WhoAmI},
      {"GET", "/v1/schema", P::kRead, &Api::GetSchema},
      {"POST", "/v1/schema", P::kAdmin, &Api::PostSchema, {kChange}},
      {"GET", "/v1/tokens", P::kAdmin, &Api::ListTokens},
      {"POST", "/v1/tokens", P::kAdmin, &Api::PostToken},
      {"DELETE", "/v1/tokens/{name}", P::kAdmin, &Api::DeleteToken},
      {"GET", "/v1/cis", P::kRead, &Api::ListCis,
       {{"class"}, {"where.", K::kText, false, true}, kLimit, {"cursor", K::kPositiveInt}}},
      {"POST", "/v1/cis", P::kWriteCis, &Api::PostCi, {kChange}},
      {"GET", "/v1/cis/{id}", P::kRead, &Api::GetCi},
      {"PATCH", "/v1/cis/{id}", P::kWriteCis, &Api::PatchCi, {kChange}},
      {"DELETE", "/v1/cis/{id}", P::kWriteCis, &Api::DeleteCi, {kChange}},
      {"GET", "/v1/cis/{id}/history", P::kRead, &Api::CiHistory},
      {"GET", "/v1/search", P::kRead, &Api::Search, {{"q"}, kLimit}},
      {"GET", "/v1/cis/{id}/provenance", P::kRead, &Api::Provenance},
      {"GET", "/v1/cis/{id}/relationships", P::kRead, &Api::CiRelationships,
       {{"direction"}, {"type"}}},
      {"POST", "/v1/relationships", P::kWriteCis, &Api::PostRelationship, {kChange}},
      {"GET", "/v1/relationships/{id}", P::kRead, &Api::GetRelationship},
      {"DELETE", "/v1/relationships/{id}", P::kWriteCis, &Api::DeleteRelationship, {kChange}},
      {"POST", "/v1/query", P::kRead, &Api::Query, {kChange}, {P::kWriteCis, P::kAdmin},
       Serving::kQuery},
      {"POST", "/v1/impact", P::kRead, &Api::Impact, {kChange}, {}, Serving::kQuery},
      {"GET", "/v1/transactions", P::kRead, &Api::Transactions,
       {{"since", K::kNonNegativeInt}, kLimit}},
      {"GET", "/v1/transactions/verify", P::kRead, &Api::VerifyChain, {{"head"}}},
      {"GET", "/v1/feed", P::kRead, &Api::Feed,
       {{"since", K::kNonNegativeInt}, kLimit, {"class"}, {"type"}, {"source"}, {"actor"},
        {"not_actor"}, {"not_source"}, kChange}},
      {"GET", "/v1/feed/stream", P::kRead, &Api::FeedStream,
       {{"since", K::kNonNegativeInt}, {"heartbeat", K::kPositiveInt}, {"class"}, {"type"},
        {"source"}, {"actor"}, {"not_actor"}, {"not_source"}, kChange}},
      {"POST", "/v1/bulk", P::kImport, &Api::Bulk,
       {{"refs", K::kBool}, kChange,
        RefusedParam("source", "bulk loads have no source; import with POST "
                               "/v1/imports?format=ndjson&source=... instead")},
       {}, Serving::kStreamed},
      {"POST", "/v1/imports", P::kImport, &Api::Import,
       {{"format"}, {"source"}, {"mode"}, {"full", K::kBool}, {"mapping"}, {"cluster"},
        {"account"}, {"region"}, kChange}, {P::kAdmin},
       Serving::kImport},
      {"GET", "/v1/changes", P::kRead, &Api::ListChanges, {{"state"}}},
      {"POST", "/v1/changes", P::kRequestChanges, &Api::PostChange},
      {"GET", "/v1/changes/{id}", P::kRead, &Api::GetChange},
      {"PATCH", "/v1/changes/{id}", P::kRequestChanges, &Api::PatchChange},
      {"POST", "/v1/changes/{id}/transition", P::kRequestChanges, &Api::TransitionChange, {},
       {P::kManageChanges}},
      {"GET", "/v1/changes/{id}/assessments", P::kRead, &Api::GetChange},
      {"GET", "/v1/changes/{id}/conflicts", P::kRead, &Api::GetChange},
      {"GET", "/v1/changes/{id}/review", P::kRead, &Api::GetChange},
      {"GET", "/v1/changes/{id}/history", P::kRead, &Api::GetChange},
      {"GET", "/v1/windows", P::kRead, &Api::Windows},
      {"POST", "/v1/windows", P::kManageChanges, &Api::Windows},
      {"GET", "/v1/windows/{id}", P::kRead, &Api::Windows},
      {"DELETE", "/v1/windows/{id}", P::kManageChanges, &Api::Windows},
      {"GET", "/v1/unauthorized-changes", P::kRead, &Api::UnauthorizedChanges,
       {{"since", K::kPositiveInt}, kLimit}},
      {"GET", "/v1/baselines", P::kRead, &Api::Baselines},
      {"POST", "/v1/baselines", P::kManageReleases, &Api::Baselines},
      {"GET", "/v1/baselines/{name}", P::kRead, &Api::Baselines, {kOffset, kLimit}},
      {"DELETE", "/v1/baselines/{name}", P::kAdmin, &Api::Baselines},
      {"GET", "/v1/baselines/{name}/diff", P::kRead, &Api::Baselines,
       {{"against"}, {"as_of"}, {"include_new", K::kBool}, kOffset, kLimit}},
      {"GET", "/v1/releases", P::kRead, &Api::Releases, {{"state"}}},
      {"POST", "/v1/releases", P::kManageReleases, &Api::Releases},
      {"GET", "/v1/releases/{id}", P::kRead, &Api::Releases},
      {"PATCH", "/v1/releases/{id}", P::kManageReleases, &Api::Releases},
      {"POST", "/v1/releases/{id}/transition", P::kManageReleases, &Api::Releases},
      {"GET", "/v1/audits", P::kRead, &Api::Audits},
      {"POST", "/v1/audits", P::kManageReleases, &Api::Audits},
      {"GET", "/v1/audits/{id}", P::kRead, &Api::Audits},
      {"GET", "/v1/webhooks", P::kAdmin, &Api::Webhooks},
      {"POST", "/v1/webhooks", P::kAdmin, &Api::Webhooks},
      {"GET", "/v1/webhooks/{id}", P::kAdmin, &Api::Webhooks},
      {"PUT", "/v1/webhooks/{id}", P::kAdmin, &Api::Webhooks},
      {"PATCH", "/v1/webhooks/{id}", P::kAdmin, &Api::Webhooks},
      {"DELETE", "/v1/webhooks/{id}", P::kAdmin, &Api::Webhooks},
      {"GET", "/v1/webhooks/{id}/deliveries", P::kAdmin, &Api::Webhooks},
      {"GET", "/v1/webhooks/{id}/dead-letters", P::kAdmin, &Api::Webhooks},
      {"POST", "/v1/webhooks/{id}/redeliver", P::kAdmin, &Api::Webhooks},
  });
  // clang-format on
  return kRoutes;
}

}  // namespace cmdb::api
