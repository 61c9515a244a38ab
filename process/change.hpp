// Change records (ISO/IEC 20000 change management): the record, its states and the rules for
// moving between them, and its encoding as a process record (DocRecord of kind "change").
//
// States: draft -> submitted -> assessed -> approved -> scheduled -> implementing -> review ->
// closed, plus rejected, cancelled and failed. A standard change is pre-approved (submitted ->
// approved). An emergency change may start implementing before approval (from submitted,
// assessed or approved) and must then go through review like any other.
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "process/record_fields.hpp"

namespace cmdb::process {

inline constexpr const char* kChangeKind = "change";

enum class ChangeType { kStandard, kNormal, kEmergency };
enum class ChangeState {
  kDraft,
  kSubmitted,
  kAssessed,
  kApproved,
  kScheduled,
  kImplementing,
  kReview,
  kClosed,
  kRejected,
  kCancelled,
  kFailed,
};
const char* ChangeTypeName(ChangeType t);    // "standard", "normal", "emergency"
const char* ChangeStateName(ChangeState s);  // "draft", "submitted", ...
std::optional<ChangeType> ParseChangeType(std::string_view name);
std::optional<ChangeState> ParseChangeState(std::string_view name);
std::vector<std::string> ChangeStateNames();
// Not finished: submitted through implementing and review (collisions consider these).
bool IsActive(ChangeState s);

// What a journal line records.
enum class EventKind { kCreated, kUpdated, kTransition, kComment };
const char* EventKindName(EventKind k);  // "created", "updated", "transition", "comment"

// One line of a change's (or a release's) journal: its creation, each edit, transition and
// comment.
struct ChangeEvent {
  int64_t time = 0;
  std::string actor;
  EventKind kind = EventKind::kCreated;
  std::string from;  // transitions: the states
  std::string to;
  std::string text;  // the comment, or what an update changed
};

// The level of an assessment's risk score (see risk.hpp).
enum class RiskLevel { kLow, kMedium, kHigh, kVeryHigh };
const char* RiskLevelName(RiskLevel l);  // "low", "medium", "high", "very high"

// The impact of the affected CIs frozen at assessment time.
struct Assessment {
  int64_t number = 0;  // 1, 2, ... (re-assessing adds one; earlier ones are kept)
  int64_t time = 0;
  std::string actor;
  TxId tx = 0;                 // the graph state assessed
  std::vector<CiId> affected;  // as they were then
  std::vector<CiId> impacted;  // down or degraded, seeds excluded
  std::vector<CiId> degraded;  // the subset that is only degraded
  std::vector<CiId> services;  // business services reached
  std::vector<std::string> service_names;
  std::vector<std::string> service_criticality;
  std::map<std::string, int64_t> per_class;
  double risk_score = 0;
  RiskLevel risk_level = RiskLevel::kLow;
  std::string risk_explanation;
};

struct ChangeRecord {
  int64_t id = 0;
  int64_t version = 0;
  std::string title;
  std::string description;
  ChangeType type = ChangeType::kNormal;
  ChangeState state = ChangeState::kDraft;
  std::string requester;
  int64_t planned_start = 0;  // micros since epoch; 0 = not planned yet
  int64_t planned_end = 0;
  std::vector<CiId> affected;
  std::string risk;  // the requester's own estimate, free text ("low", ...)
  std::vector<ChangeEvent> events;
  std::vector<Assessment> assessments;
  TxId implementation_start_tx = 0;  // last tx before implementing began
  TxId implementation_end_tx = 0;    // last tx when it left implementing (0 while implementing)
  int64_t implementation_started_at = 0;
  int64_t implementation_ended_at = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// "CHG-12" for change 12.
std::string ChangeRef(int64_t id);
// Reads a change reference: "12", "CHG-12" or "chg-12". nullopt when it is neither.
std::optional<int64_t> ParseChangeRef(std::string_view text);

// The stored fields of a change (see record_fields.hpp): title, description, requester, risk,
// type, planned_start, planned_end and affected are editable; the state, the journal
// ("events"), the assessments and the implementation range are kept by the service.
const FieldTable<ChangeRecord>& ChangeFieldTable();

// The process record of a change and back (id, version and updated_at are the record's own).
DocRecord ChangeToDoc(const ChangeRecord& change);
ChangeRecord ChangeFromDoc(const DocRecord& doc);

// A journal in stored form (a list of [time, actor, kind, from, to, text]) and back.
Value EventsValue(const std::vector<ChangeEvent>& events);
std::vector<ChangeEvent> EventsFrom(const Value& stored);

// The states a change may move to from its current state.
std::vector<ChangeState> AllowedTransitions(const ChangeRecord& change);
// OK when `to` is allowed; otherwise kConflict naming the allowed states (details "allowed").
Status CheckTransition(const ChangeRecord& change, ChangeState to);
// Fields other than comments can be edited only in these states (draft and submitted).
bool IsEditable(ChangeState s);

}  // namespace cmdb::process
