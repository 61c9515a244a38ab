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

const FieldTable<ReleaseRecord>& ReleaseFieldTable() {
  using R = ReleaseRecord;
  static const FieldTable<R> kTable = [] {
    FieldTable<R> t;
    t.push_back(Field("name", &R::name).Required().Editable());
    t.push_back(Field("release_version", &R::release_version).Editable());
    t.push_back(Field("description", &R::description).Editable());
    t.push_back(EnumField("type", &R::type, kTypes).Editable());
    t.push_back(Field("changes", &R::changes).Editable());
    // CI ids, read from requests like any ids (the API's message says "a list of ids").
    t.push_back(Field("cis", &R::cis).Editable());
    t.push_back(Field("criteria", &R::criteria).Editable());
    t.push_back(TupleField<R>(
                    "results",
                    [](const R& r) {
                      ValueList list;
                      for (const auto& res : r.results)
                        list.emplace_back(ValueList{res.criterion, res.passed, res.note});
                      return Value(std::move(list));
                    },
                    [](R& r, const Value& v) {
                      r.results.clear();
                      if (!v.is_list()) return;
                      for (const Value& x : v.as_list()) {
                        if (!x.is_list()) continue;
                        const ValueList& t = x.as_list();
                        r.results.push_back({StrAt(t, 0),
                                             t.size() > 1 && t[1].is_bool() && t[1].as_bool(),
                                             StrAt(t, 2)});
                      }
                    })
                    .Editable());
    t.push_back(EnumField("state", &R::state, kStates));
    t.push_back(TupleField<R>(
        "events", [](const R& r) { return EventsValue(r.events); },
        [](R& r, const Value& v) { r.events = EventsFrom(v); }));
    t.push_back(Field("baseline", &R::baseline).InJson(JsonForm::kNullWhenEmpty));
    t.push_back(TupleField<R>(
        "verification",
        [](const R& r) {
          if (!r.verification) return Value();  // not stored
          const Verification& v = *r.verification;
          return Value(ValueList{v.time, v.tx, v.cis_added, v.cis_removed, v.cis_changed,
                                 v.rels_added, v.rels_removed, v.rels_changed,
                                 IntsValue(v.changed_cis)});
        },
        [](R& r, const Value& stored) {
          if (!stored.is_list() || stored.as_list().empty()) return;
          const ValueList& v = stored.as_list();
          r.verification =
              Verification{IntAt(v, 0), IntAt(v, 1), IntAt(v, 2), IntAt(v, 3), IntAt(v, 4),
                           IntAt(v, 5), IntAt(v, 6), IntAt(v, 7), IntsAt(v, 8)};
        }));
    t.push_back(Field("created_at", &R::created_at, FieldType::kTime));
    return t;
  }();
  return kTable;
}

DocRecord ReleaseToDoc(const ReleaseRecord& r) {
  return RecordToDoc(kReleaseKind, ReleaseFieldTable(), r);
}

ReleaseRecord ReleaseFromDoc(const DocRecord& d) { return RecordFromDoc(ReleaseFieldTable(), d); }

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
