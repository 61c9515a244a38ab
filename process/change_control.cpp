// The change-control write policy for CONTROLLED classes.
#include <unordered_map>
#include <unordered_set>

#include "cmdb/time_util.hpp"
#include "process/change_service.hpp"

namespace cmdb::process {
namespace {

std::string Describe(const CiRecord& ci) {
  Value name = ci.attrs.Get("name");
  return "CI " + std::to_string(ci.id) + " (" + ci.class_name +
         (name.is_string() ? " " + std::string(name.as_string()) : "") + ")";
}

// Why the write's change reference does not authorize it; empty when it does.
std::string WhyUnauthorized(const TxRecord& tx, const Graph& committed) {
  if (tx.change_ref.empty()) return "the write names no change (X-Change-Id)";
  auto id = ParseChangeRef(tx.change_ref);
  if (!id) return "'" + tx.change_ref + "' is not a change reference (CHG-<n>)";
  const DocRecord* doc = committed.docs().Find(kChangeKind, *id);
  if (!doc) return "change " + ChangeRef(*id) + " does not exist";
  ChangeRecord change = ChangeFromDoc(*doc);
  if (change.state != ChangeState::kImplementing)
    return "change " + ChangeRef(*id) + " is " + ChangeStateName(change.state) +
           ", not implementing";
  if (tx.time < change.planned_start || tx.time > change.planned_end)
    return "the write is outside the planned window of change " + ChangeRef(*id) + " (" +
           FormatTimestamp(change.planned_start) + " .. " + FormatTimestamp(change.planned_end) +
           ")";
  return "";
}

}  // namespace

Status CheckChangeControl(WriteSet& ws, const Graph& committed, const Schema& schema) {
  // The controlled CIs this write touches, and whether any of them enforces.
  bool any_controlled = false;
  for (const auto& [name, def] : schema.classes()) {
    any_controlled = any_controlled || def.control == ControlPolicy::kDetect || def.control == ControlPolicy::kEnforce;
  }
  if (!any_controlled) return Status::Ok();  // the common case: nothing to look at
  const CiRecord* first = nullptr;
  bool enforce = false;
  size_t touched = 0;
  std::unordered_set<CiId> seen;
  std::unordered_map<std::string_view, ControlPolicy> policy_of;  // per class, computed once
  auto consider = [&](const CiRecord* ci) {
    if (!ci) return;
    auto [it, inserted] = policy_of.try_emplace(ci->class_name, ControlPolicy::kInherit);
    if (inserted) it->second = schema.ControlOf(ci->class_name);
    ControlPolicy p = it->second;
    if (p != ControlPolicy::kDetect && p != ControlPolicy::kEnforce) return;
    if (!seen.insert(ci->id).second) return;
    if (!first || (p == ControlPolicy::kEnforce && !enforce)) first = ci;
    enforce = enforce || p == ControlPolicy::kEnforce;
    ++touched;
  };
  std::unordered_map<CiId, const CiRecord*> staged;
  for (const CiRecord& c : ws.cis) staged[c.id] = &c;
  for (const CiRecord& c : ws.cis) consider(&c);
  for (const RelRecord& r : ws.rels) {
    for (CiId end : {r.from, r.to}) {
      auto it = staged.find(end);
      consider(it != staged.end() ? it->second : committed.FindCi(end));
    }
  }
  if (!first) return Status::Ok();
  std::string why = WhyUnauthorized(ws.tx, committed);
  if (why.empty()) return Status::Ok();
  std::string what =
      Describe(*first) +
      (touched > 1 ? " and " + std::to_string(touched - 1) + " more controlled CIs" : "");
  if (enforce) {
    return Status::Conflict("unauthorized change refused: " + what +
                            " is under CONTROLLED ENFORCE change control and " + why)
        .With("ci", first->id)
        .WithType("unauthorized_change");
  }
  ws.tx.unauthorized = what + ": " + why;
  return Status::Ok();
}

}  // namespace cmdb::process
