#include "process/change.hpp"

#include <algorithm>
#include <cctype>

#include "process/doc_fields.hpp"

namespace cmdb::process {
namespace {

constexpr const char* kTypeNames[] = {"standard", "normal", "emergency"};
constexpr const char* kStateNames[] = {"draft",     "submitted",    "assessed", "approved",
                                       "scheduled", "implementing", "review",   "closed",
                                       "rejected",  "cancelled",    "failed"};

ValueList EventTuple(const ChangeEvent& e) {
  return ValueList{e.time, e.actor, e.kind, e.from, e.to, e.text};
}

ChangeEvent EventFrom(const ValueList& t) {
  return ChangeEvent{IntAt(t, 0), StrAt(t, 1), StrAt(t, 2), StrAt(t, 3), StrAt(t, 4), StrAt(t, 5)};
}

ValueList AssessmentTuple(const Assessment& a) {
  ValueList per_class;
  for (const auto& [cls, n] : a.per_class) per_class.emplace_back(ValueList{cls, n});
  return ValueList{a.number,
                   a.time,
                   a.actor,
                   a.tx,
                   IntsValue(a.affected),
                   IntsValue(a.impacted),
                   IntsValue(a.degraded),
                   IntsValue(a.services),
                   StrsValue(a.service_names),
                   StrsValue(a.service_criticality),
                   Value(std::move(per_class)),
                   a.risk_score,
                   a.risk_level,
                   a.risk_explanation};
}

Assessment AssessmentFrom(const ValueList& t) {
  Assessment a;
  a.number = IntAt(t, 0);
  a.time = IntAt(t, 1);
  a.actor = StrAt(t, 2);
  a.tx = IntAt(t, 3);
  a.affected = IntsAt(t, 4);
  a.impacted = IntsAt(t, 5);
  a.degraded = IntsAt(t, 6);
  a.services = IntsAt(t, 7);
  auto strs = [&](size_t i) {
    std::vector<std::string> out;
    if (i < t.size() && t[i].is_list()) {
      for (const Value& v : t[i].as_list())
        out.push_back(std::string(v.is_string() ? v.as_string() : std::string_view()));
    }
    return out;
  };
  a.service_names = strs(8);
  a.service_criticality = strs(9);
  if (t.size() > 10 && t[10].is_list()) {
    for (const Value& pc : t[10].as_list()) {
      if (pc.is_list()) a.per_class[StrAt(pc.as_list(), 0)] = IntAt(pc.as_list(), 1);
    }
  }
  a.risk_score = FloatAt(t, 11);
  a.risk_level = StrAt(t, 12);
  a.risk_explanation = StrAt(t, 13);
  return a;
}

}  // namespace

const char* ChangeTypeName(ChangeType t) { return kTypeNames[static_cast<int>(t)]; }
const char* ChangeStateName(ChangeState s) { return kStateNames[static_cast<int>(s)]; }

std::optional<ChangeType> ParseChangeType(std::string_view name) {
  return EnumByName<ChangeType>(kTypeNames, name);
}

std::optional<ChangeState> ParseChangeState(std::string_view name) {
  return EnumByName<ChangeState>(kStateNames, name);
}

std::vector<std::string> ChangeStateNames() {
  return {std::begin(kStateNames), std::end(kStateNames)};
}

bool IsActive(ChangeState s) {
  return s != ChangeState::kDraft && s != ChangeState::kClosed && s != ChangeState::kRejected &&
         s != ChangeState::kCancelled && s != ChangeState::kFailed;
}

bool IsEditable(ChangeState s) { return s == ChangeState::kDraft || s == ChangeState::kSubmitted; }

std::string ChangeRef(int64_t id) { return "CHG-" + std::to_string(id); }

std::optional<int64_t> ParseChangeRef(std::string_view text) {
  if (text.size() > 4 && (text[0] == 'C' || text[0] == 'c') && (text[1] == 'H' || text[1] == 'h') &&
      (text[2] == 'G' || text[2] == 'g') && text[3] == '-')
    text.remove_prefix(4);
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

DocRecord ChangeToDoc(const ChangeRecord& c) {
  DocRecord d;
  d.kind = kChangeKind;
  d.id = c.id;
  d.version = c.version;
  AttrMap& b = d.body;
  b.Set("title", c.title);
  b.Set("description", c.description);
  b.Set("type", ChangeTypeName(c.type));
  b.Set("state", ChangeStateName(c.state));
  b.Set("requester", c.requester);
  b.Set("planned_start", c.planned_start);
  b.Set("planned_end", c.planned_end);
  b.Set("affected", IntsValue(c.affected));
  b.Set("risk", c.risk);
  ValueList events, assessments;
  for (const auto& e : c.events) events.emplace_back(EventTuple(e));
  for (const auto& a : c.assessments) assessments.emplace_back(AssessmentTuple(a));
  b.Set("events", Value(std::move(events)));
  b.Set("assessments", Value(std::move(assessments)));
  b.Set("impl_start_tx", c.implementation_start_tx);
  b.Set("impl_end_tx", c.implementation_end_tx);
  b.Set("impl_started_at", c.implementation_started_at);
  b.Set("impl_ended_at", c.implementation_ended_at);
  b.Set("created_at", c.created_at);
  return d;
}

ChangeRecord ChangeFromDoc(const DocRecord& d) {
  ChangeRecord c;
  const AttrMap& b = d.body;
  c.id = d.id;
  c.version = d.version;
  c.updated_at = d.updated_at;
  c.title = StrField(b, "title");
  c.description = StrField(b, "description");
  c.type = ParseChangeType(StrField(b, "type")).value_or(ChangeType::kNormal);
  c.state = ParseChangeState(StrField(b, "state")).value_or(ChangeState::kDraft);
  c.requester = StrField(b, "requester");
  c.planned_start = IntField(b, "planned_start");
  c.planned_end = IntField(b, "planned_end");
  c.affected = IntsField(b, "affected");
  c.risk = StrField(b, "risk");
  for (const Value& e : ListField(b, "events")) {
    if (e.is_list()) c.events.push_back(EventFrom(e.as_list()));
  }
  for (const Value& a : ListField(b, "assessments")) {
    if (a.is_list()) c.assessments.push_back(AssessmentFrom(a.as_list()));
  }
  c.implementation_start_tx = IntField(b, "impl_start_tx");
  c.implementation_end_tx = IntField(b, "impl_end_tx");
  c.implementation_started_at = IntField(b, "impl_started_at");
  c.implementation_ended_at = IntField(b, "impl_ended_at");
  c.created_at = IntField(b, "created_at");
  return c;
}

std::vector<ChangeState> AllowedTransitions(const ChangeRecord& change) {
  using S = ChangeState;
  std::vector<S> out;
  switch (change.state) {
    case S::kDraft:
      out = {S::kSubmitted, S::kCancelled};
      break;
    case S::kSubmitted:
      out = {S::kDraft, S::kAssessed, S::kRejected, S::kCancelled};
      break;
    case S::kAssessed:
      out = {S::kAssessed, S::kApproved, S::kRejected, S::kCancelled};
      break;
    case S::kApproved:
      out = {S::kScheduled, S::kCancelled};
      break;
    case S::kScheduled:
      out = {S::kImplementing, S::kApproved, S::kCancelled};
      break;
    case S::kImplementing:
      out = {S::kReview, S::kFailed};
      break;
    case S::kReview:
      out = {S::kClosed};
      break;
    case S::kClosed:
    case S::kRejected:
    case S::kCancelled:
    case S::kFailed:
      break;
  }
  if (change.type == ChangeType::kStandard && change.state == S::kSubmitted)
    out.push_back(S::kApproved);
  if (change.type == ChangeType::kEmergency &&
      (change.state == S::kSubmitted || change.state == S::kAssessed ||
       change.state == S::kApproved))
    out.push_back(S::kImplementing);
  return out;
}

Status CheckTransition(const ChangeRecord& change, ChangeState to) {
  auto allowed = AllowedTransitions(change);
  if (std::find(allowed.begin(), allowed.end(), to) != allowed.end()) return Status::Ok();
  std::vector<std::string> names;
  for (ChangeState s : allowed) names.emplace_back(ChangeStateName(s));
  return ForbiddenTransition(std::string("a ") + ChangeTypeName(change.type) + " change",
                             ChangeStateName(change.state), ChangeStateName(to), names);
}

}  // namespace cmdb::process
