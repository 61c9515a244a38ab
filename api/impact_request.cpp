#include "api/impact_request.hpp"

#include <limits>

namespace cmdb::api {
namespace {

analysis::ImpactOptionValue OptionValue(const Json& j) {
  if (j.is_null()) return std::monostate{};
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_unsigned()) {
    uint64_t n = j.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return analysis::OtherOptionValue{};
    return static_cast<int64_t>(n);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_string()) return j.get<std::string>();
  if (j.is_array()) {
    std::vector<std::string> names;
    for (const Json& e : j) {
      if (!e.is_string()) return analysis::OtherOptionValue{};
      names.push_back(e.get<std::string>());
    }
    return names;
  }
  return analysis::OtherOptionValue{};
}

}  // namespace

std::vector<analysis::ImpactOption> ImpactOptionsFromJson(
    const Json& object, const std::vector<std::pair<std::string, std::string>>& names) {
  std::vector<analysis::ImpactOption> out;
  for (const auto& [member, option] : names) {
    auto it = object.find(member);
    if (it != object.end()) out.push_back({option, OptionValue(*it)});
  }
  return out;
}

Status ImpactOfSelectedSeeds(
    Database& db, const std::function<Result<std::vector<CiId>>()>& select_seeds,
    analysis::ImpactRequest request,
    const std::function<Status(const ReadView& view, const analysis::ImpactResult& result)>& use) {
  // Computes the impact of `seeds` on `view` and hands it on.
  auto compute = [&](const ReadView& view, std::vector<CiId> seeds) -> Status {
    request.seeds = std::move(seeds);
    auto result = analysis::ComputeImpact(view.graph(), view.schema(), request);
    if (!result.ok()) return result.status();
    return use(view, *result);
  };
  for (int attempt = 0; attempt < kSeedSelectionAttempts; ++attempt) {
    TxId before = db.Read().tx();
    auto seeds = select_seeds();
    if (!seeds.ok()) return seeds.status();
    ReadView view = db.Read();
    // Every view the selection read was taken after `before` and released before `view`: with
    // no transaction between them, they all showed the state `view` shows.
    if (view.tx() == before) return compute(view, std::move(*seeds));
  }
  // Writes kept landing during the selection: choose the seeds once more with writers held off.
  Status outcome;
  auto fenced = db.Write(TxMeta{}, [&](Txn&) -> Status {
    auto seeds = select_seeds();
    if (!seeds.ok()) {
      outcome = seeds.status();
      return Status::Ok();
    }
    ReadView view = db.Read();
    outcome = compute(view, std::move(*seeds));
    return Status::Ok();  // nothing staged: nothing is committed or logged
  });
  if (!fenced.ok()) return fenced.status();
  return outcome;
}

}  // namespace cmdb::api
