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

constexpr const char* kRiskLevelNames[] = {"low", "medium", "high", "very high"};
constexpr const char* kEventKindNames[] = {"created", "updated", "transition", "comment"};

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
                   RiskLevelName(a.risk_level),
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
  a.risk_level = EnumByName<RiskLevel>(kRiskLevelNames, StrAt(t, 12)).value_or(RiskLevel::kLow);
  a.risk_explanation = StrAt(t, 13);
  return a;
}

}  // namespace

const char* RiskLevelName(RiskLevel l) { return kRiskLevelNames[static_cast<int>(l)]; }
const char* EventKindName(EventKind k) { return kEventKindNames[static_cast<int>(k)]; }
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

const FieldTable<ChangeRecord>& ChangeFieldTable() {
  using C = ChangeRecord;
  static const FieldTable<C> kTable = [] {
    FieldTable<C> t;
    t.push_back(Field("title", &C::title).Required().Editable());
    t.push_back(Field("description", &C::description).Editable());
    t.push_back(Field("requester", &C::requester).Editable());
    t.push_back(Field("risk", &C::risk).Editable());
    t.push_back(EnumField("type", &C::type, kTypeNames).Editable());
    t.push_back(Field("planned_start", &C::planned_start, FieldType::kTime).Editable());
    t.push_back(Field("planned_end", &C::planned_end, FieldType::kTime).Editable());
    t.push_back(Field("affected", &C::affected, FieldType::kCiIds).Editable());
    t.push_back(EnumField("state", &C::state, kStateNames));
    t.push_back(TupleField<C>(
        "events", [](const C& c) { return EventsValue(c.events); },
        [](C& c, const Value& v) { c.events = EventsFrom(v); }));
    t.push_back(TupleField<C>(
        "assessments",
        [](const C& c) {
          ValueList list;
          for (const auto& a : c.assessments) list.emplace_back(AssessmentTuple(a));
          return Value(std::move(list));
        },
        [](C& c, const Value& v) {
          c.assessments.clear();
          if (!v.is_list()) return;
          for (const Value& a : v.as_list()) {
            if (a.is_list()) c.assessments.push_back(AssessmentFrom(a.as_list()));
          }
        }));
    t.push_back(Field("impl_start_tx", &C::implementation_start_tx).InJson(JsonForm::kOwn));
    t.push_back(Field("impl_end_tx", &C::implementation_end_tx).InJson(JsonForm::kOwn));
    t.push_back(Field("impl_started_at", &C::implementation_started_at, FieldType::kTime)
                    .InJson(JsonForm::kOwn));
    t.push_back(Field("impl_ended_at", &C::implementation_ended_at, FieldType::kTime)
                    .InJson(JsonForm::kOwn));
    t.push_back(Field("created_at", &C::created_at, FieldType::kTime));
    return t;
  }();
  return kTable;
}

DocRecord ChangeToDoc(const ChangeRecord& c) {
  return RecordToDoc(kChangeKind, ChangeFieldTable(), c);
}

ChangeRecord ChangeFromDoc(const DocRecord& d) { return RecordFromDoc(ChangeFieldTable(), d); }

Value EventsValue(const std::vector<ChangeEvent>& events) {
  ValueList list;
  for (const auto& e : events)
    list.emplace_back(ValueList{e.time, e.actor, EventKindName(e.kind), e.from, e.to, e.text});
  return Value(std::move(list));
}

std::vector<ChangeEvent> EventsFrom(const Value& stored) {
  std::vector<ChangeEvent> out;
  if (!stored.is_list()) return out;
  for (const Value& v : stored.as_list()) {
    if (!v.is_list()) continue;
    const ValueList& t = v.as_list();
    out.push_back(
        {IntAt(t, 0), StrAt(t, 1),
         EnumByName<EventKind>(kEventKindNames, StrAt(t, 2)).value_or(EventKind::kCreated),
         StrAt(t, 3), StrAt(t, 4), StrAt(t, 5)});
  }
  return out;
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
