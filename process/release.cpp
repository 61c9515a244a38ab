#include "process/release.hpp"

#include <algorithm>

#include "process/doc_fields.hpp"

namespace cmdb::process {
namespace {

constexpr const char* kTypes[] = {"major", "minor", "emergency"};
constexpr const char* kStates[] = {"planned",  "built",    "tested", "approved",   "deploying",
                                   "deployed", "verified", "failed", "rolled_back"};

}  // namespace

const char* ReleaseTypeName(ReleaseType t) { return kTypes[static_cast<int>(t)]; }
const char* ReleaseStateName(ReleaseState s) { return kStates[static_cast<int>(s)]; }

std::optional<ReleaseType> ParseReleaseType(std::string_view name) {
  return EnumByName<ReleaseType>(kTypes, name);
}

std::optional<ReleaseState> ParseReleaseState(std::string_view name) {
  return EnumByName<ReleaseState>(kStates, name);
}

std::vector<std::string> ReleaseStateNames() { return {std::begin(kStates), std::end(kStates)}; }

DocRecord ReleaseToDoc(const ReleaseRecord& r) {
  DocRecord d;
  d.kind = kReleaseKind;
  d.id = r.id;
  d.version = r.version;
  AttrMap& b = d.body;
  b.Set("name", r.name);
  b.Set("release_version", r.release_version);
  b.Set("description", r.description);
  b.Set("type", ReleaseTypeName(r.type));
  b.Set("state", ReleaseStateName(r.state));
  b.Set("changes", IntsValue(r.changes));
  b.Set("cis", IntsValue(r.cis));
  b.Set("criteria", StrsValue(r.criteria));
  ValueList results, events;
  for (const auto& res : r.results)
    results.emplace_back(ValueList{res.criterion, res.passed, res.note});
  for (const auto& e : r.events)
    events.emplace_back(ValueList{e.time, e.actor, e.kind, e.from, e.to, e.text});
  b.Set("results", Value(std::move(results)));
  b.Set("events", Value(std::move(events)));
  b.Set("baseline", r.baseline);
  if (r.verification) {
    const Verification& v = *r.verification;
    b.Set("verification",
          ValueList{v.time, v.tx, v.cis_added, v.cis_removed, v.cis_changed, v.rels_added,
                    v.rels_removed, v.rels_changed, IntsValue(v.changed_cis)});
  }
  b.Set("created_at", r.created_at);
  return d;
}

ReleaseRecord ReleaseFromDoc(const DocRecord& d) {
  ReleaseRecord r;
  const AttrMap& b = d.body;
  r.id = d.id;
  r.version = d.version;
  r.updated_at = d.updated_at;
  r.name = StrField(b, "name");
  r.release_version = StrField(b, "release_version");
  r.description = StrField(b, "description");
  r.type = ParseReleaseType(StrField(b, "type")).value_or(ReleaseType::kMinor);
  r.state = ParseReleaseState(StrField(b, "state")).value_or(ReleaseState::kPlanned);
  r.changes = IntsField(b, "changes");
  r.cis = IntsField(b, "cis");
  r.criteria = StrsField(b, "criteria");
  for (const Value& v : ListField(b, "results")) {
    if (!v.is_list()) continue;
    const ValueList& t = v.as_list();
    r.results.push_back(
        {StrAt(t, 0), t.size() > 1 && t[1].is_bool() && t[1].as_bool(), StrAt(t, 2)});
  }
  for (const Value& v : ListField(b, "events")) {
    if (!v.is_list()) continue;
    const ValueList& t = v.as_list();
    r.events.push_back(
        {IntAt(t, 0), StrAt(t, 1), StrAt(t, 2), StrAt(t, 3), StrAt(t, 4), StrAt(t, 5)});
  }
  r.baseline = StrField(b, "baseline");
  const ValueList& v = ListField(b, "verification");
  if (!v.empty()) {
    r.verification = Verification{IntAt(v, 0), IntAt(v, 1), IntAt(v, 2), IntAt(v, 3), IntAt(v, 4),
                                  IntAt(v, 5), IntAt(v, 6), IntAt(v, 7), IntsAt(v, 8)};
  }
  r.created_at = IntField(b, "created_at");
  return r;
}

std::vector<ReleaseState> AllowedTransitions(const ReleaseRecord& r) {
  using S = ReleaseState;
  switch (r.state) {
    case S::kPlanned:
      return {S::kBuilt, S::kFailed};
    case S::kBuilt:
      return {S::kTested, S::kFailed};
    case S::kTested:
      return {S::kApproved, S::kBuilt, S::kFailed};
    case S::kApproved:
      return {S::kDeploying, S::kFailed};
    case S::kDeploying:
      return {S::kDeployed, S::kFailed, S::kRolledBack};
    case S::kDeployed:
      return {S::kVerified, S::kFailed, S::kRolledBack};
    case S::kFailed:
      return {S::kRolledBack};
    case S::kVerified:
    case S::kRolledBack:
      return {};
  }
  return {};
}

Status CheckTransition(const ReleaseRecord& r, ReleaseState to) {
  auto allowed = AllowedTransitions(r);
  if (std::find(allowed.begin(), allowed.end(), to) != allowed.end()) return Status::Ok();
  std::vector<std::string> names;
  for (ReleaseState s : allowed) names.emplace_back(ReleaseStateName(s));
  return ForbiddenTransition("a release", ReleaseStateName(r.state), ReleaseStateName(to), names);
}

}  // namespace cmdb::process
