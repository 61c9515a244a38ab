// Windows (explicit and weekly occurrences), the change state machine and the risk score.
#include "process/window.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "cmdb/time_util.hpp"
#include "process/change.hpp"
#include "process/release.hpp"
#include "process/risk.hpp"

using namespace cmdb;
using namespace cmdb::process;

namespace {
int64_t T(const char* iso) { return *ParseTimestamp(iso); }
std::string FieldOf(const Status& st) {
  for (const auto& [k, v] : st.details()) {
    if (k == "field") return std::string(v.as_string());
  }
  return "";
}
}  // namespace

TEST_CASE("weekly windows recur on their days, UTC, across midnight") {
  Window w;
  w.name = "weekend";
  w.weekly = true;
  w.days = *ParseWeekday("sat") | *ParseWeekday("Sunday");
  w.start_minute = 22 * 60;
  w.duration_minutes = 240;  // 22:00 to 02:00
  REQUIRE(ValidateWindow(w).ok());
  // 2026-11-21 is a Saturday.
  auto occ = Occurrences(w, T("2026-11-20T00:00:00Z"), T("2026-11-24T00:00:00Z"));
  REQUIRE(occ.size() == 2);
  CHECK(occ[0].start == T("2026-11-21T22:00:00Z"));
  CHECK(occ[0].end == T("2026-11-22T02:00:00Z"));
  CHECK(occ[1].start == T("2026-11-22T22:00:00Z"));
  CHECK(Contains(w, T("2026-11-22T00:30:00Z"), T("2026-11-22T01:30:00Z")));  // after midnight
  CHECK_FALSE(
      Contains(w, T("2026-11-22T01:30:00Z"), T("2026-11-22T03:00:00Z")));  // runs past the end
  CHECK(Overlaps(w, T("2026-11-22T01:30:00Z"), T("2026-11-22T03:00:00Z")));
  CHECK_FALSE(Overlaps(w, T("2026-11-23T08:00:00Z"), T("2026-11-23T09:00:00Z")));  // a Monday
  CHECK(WeekdayNames(w.days) == std::vector<std::string>{"sat", "sun"});
  // Bounded recurrence: nothing before `start`.
  w.start = T("2026-11-22T12:00:00Z");
  CHECK(Occurrences(w, T("2026-11-20T00:00:00Z"), T("2026-11-24T00:00:00Z")).size() == 1);
  // Round trip through the record body.
  Window back = WindowFromDoc(WindowToDoc(w));
  CHECK(back.days == w.days);
  CHECK(back.start_minute == w.start_minute);
  CHECK(back.start == w.start);
}

TEST_CASE("window validation names the field") {
  Window w;
  CHECK(FieldOf(ValidateWindow(w)) == "name");
  w.name = "x";
  CHECK(FieldOf(ValidateWindow(w)) == "start");
  w.start = T("2026-12-02");
  w.end = T("2026-12-01");
  CHECK(FieldOf(ValidateWindow(w)) == "end");
  w.weekly = true;
  w.start = w.end = 0;
  CHECK(FieldOf(ValidateWindow(w)) == "weekly.days");
}

TEST_CASE("change state machine and references") {
  ChangeRecord c;
  CHECK(CheckTransition(c, ChangeState::kSubmitted).ok());
  Status st = CheckTransition(c, ChangeState::kClosed);
  CHECK(st.code() == StatusCode::kConflict);
  CHECK(st.message() ==
        "a normal change in state draft cannot move to closed; allowed: submitted, cancelled");
  c.state = ChangeState::kApproved;
  CHECK_FALSE(CheckTransition(c, ChangeState::kImplementing).ok());
  c.type = ChangeType::kEmergency;
  CHECK(CheckTransition(c, ChangeState::kImplementing).ok());
  CHECK(ParseChangeRef("CHG-12") == 12);
  CHECK(ParseChangeRef("chg-7") == 7);
  CHECK(ParseChangeRef("12") == 12);
  CHECK_FALSE(ParseChangeRef("CHG-"));
  CHECK_FALSE(ParseChangeRef("INC-3"));
  c.assessments.push_back(Assessment{1,
                                     5,
                                     "bob",
                                     9,
                                     {1},
                                     {2, 3},
                                     {3},
                                     {4},
                                     {"Shop"},
                                     {"critical"},
                                     {{"App", 2}},
                                     3.5,
                                     RiskLevel::kLow,
                                     "x"});
  c.events.push_back({1, "bob", EventKind::kComment, "", "", "hello"});
  ChangeRecord back = ChangeFromDoc(ChangeToDoc(c));
  CHECK(back.assessments.at(0).impacted == std::vector<CiId>{2, 3});
  CHECK(back.assessments.at(0).per_class.at("App") == 2);
  CHECK(back.assessments.at(0).service_criticality.at(0) == "critical");
  CHECK(back.events.at(0).text == "hello");
  CHECK(back.type == ChangeType::kEmergency);
}

TEST_CASE("risk score follows the documented formula") {
  // One critical service down (8) + one medium degraded (1) + log2(1 + 7) = 3 -> 12 x 1 = 12.
  Risk r = ScoreRisk({{"critical", false}, {"medium", true}}, 7, ChangeType::kNormal);
  CHECK(r.score == Approx(12.0));
  CHECK(r.level == RiskLevel::kHigh);
  CHECK(ScoreRisk({}, 0, ChangeType::kStandard).level == RiskLevel::kLow);
  CHECK(ScoreRisk({{"critical", false}, {"critical", false}}, 1023, ChangeType::kEmergency).score ==
        Approx(39.0));
}

TEST_CASE("every change state transition, by type, against the documented table") {
  using S = ChangeState;
  const std::vector<S> all = {S::kDraft,     S::kSubmitted,    S::kAssessed, S::kApproved,
                              S::kScheduled, S::kImplementing, S::kReview,   S::kClosed,
                              S::kRejected,  S::kCancelled,    S::kFailed};
  // docs/change-management.md, "States" (normal changes).
  std::map<S, std::set<S>> normal = {
      {S::kDraft, {S::kSubmitted, S::kCancelled}},
      {S::kSubmitted, {S::kDraft, S::kAssessed, S::kRejected, S::kCancelled}},
      {S::kAssessed, {S::kAssessed, S::kApproved, S::kRejected, S::kCancelled}},
      {S::kApproved, {S::kScheduled, S::kCancelled}},
      {S::kScheduled, {S::kImplementing, S::kApproved, S::kCancelled}},
      {S::kImplementing, {S::kReview, S::kFailed}},
      {S::kReview, {S::kClosed}},
  };
  for (ChangeType type : {ChangeType::kStandard, ChangeType::kNormal, ChangeType::kEmergency}) {
    for (S from : all) {
      std::set<S> expected = normal[from];
      if (type == ChangeType::kStandard && from == S::kSubmitted) expected.insert(S::kApproved);
      if (type == ChangeType::kEmergency &&
          (from == S::kSubmitted || from == S::kAssessed || from == S::kApproved))
        expected.insert(S::kImplementing);
      for (S to : all) {
        ChangeRecord c;
        c.type = type;
        c.state = from;
        Status st = CheckTransition(c, to);
        INFO(ChangeTypeName(type) << ": " << ChangeStateName(from) << " -> "
                                  << ChangeStateName(to));
        CHECK(st.ok() == (expected.count(to) > 0));
        if (!st.ok()) CHECK(st.type() == "forbidden_transition");
      }
    }
  }
}

TEST_CASE("every release state transition against the documented table") {
  using S = ReleaseState;
  std::map<S, std::set<S>> table = {{S::kPlanned, {S::kBuilt, S::kFailed}},
                                    {S::kBuilt, {S::kTested, S::kFailed}},
                                    {S::kTested, {S::kApproved, S::kBuilt, S::kFailed}},
                                    {S::kApproved, {S::kDeploying, S::kFailed}},
                                    {S::kDeploying, {S::kDeployed, S::kFailed, S::kRolledBack}},
                                    {S::kDeployed, {S::kVerified, S::kFailed, S::kRolledBack}},
                                    {S::kFailed, {S::kRolledBack}},
                                    {S::kVerified, {}},
                                    {S::kRolledBack, {}}};
  for (const auto& [from, expected] : table) {
    for (const auto& [to, unused] : table) {
      ReleaseRecord r;
      r.state = from;
      INFO(ReleaseStateName(from) << " -> " << ReleaseStateName(to));
      CHECK(CheckTransition(r, to).ok() == (expected.count(to) > 0));
    }
  }
}
