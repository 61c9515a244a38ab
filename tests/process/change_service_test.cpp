// ChangeService through its C++ interface: creation, edits, the state machine with its frozen
// assessment and blackout check, and maintenance and blackout windows. Exact outcomes and
// error texts; times are given explicitly.
#include "process/change_service.hpp"

#include <catch2/catch.hpp>

#include "cmdb/time_util.hpp"
#include "process_fixture.hpp"

using namespace cmdb;
using namespace cmdb::process;
using cmdb::testing::Detail;
using cmdb::testing::Ok;
using cmdb::testing::ProcessFixture;

namespace {

int64_t T(const char* iso) { return *ParseTimestamp(iso); }

ChangeFields Titled(const std::string& title, std::vector<CiId> affected = {}) {
  ChangeFields f;
  f.values.title = title;
  f.given = {"title"};
  if (!affected.empty()) {
    f.values.affected = std::move(affected);
    f.given.insert("affected");
  }
  return f;
}

ChangeFields Planned(int64_t start, int64_t end) {
  ChangeFields f;
  f.values.planned_start = start;
  f.values.planned_end = end;
  f.given = {"planned_start", "planned_end"};
  return f;
}

}  // namespace

TEST_CASE("ChangeService creates changes in draft and refuses incomplete ones") {
  ProcessFixture p;
  ChangeRecord c = Ok(p.changes.Create(Titled("Patch vm-1", {p.vm1, p.vm1}), "alice"));
  CHECK(c.id == 1);
  CHECK(c.version == 1);
  CHECK(c.title == "Patch vm-1");
  CHECK(c.state == ChangeState::kDraft);
  CHECK(c.type == ChangeType::kNormal);
  CHECK(c.requester == "alice");
  CHECK(c.affected == std::vector<CiId>{p.vm1});  // duplicates dropped
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].kind == EventKind::kCreated);
  CHECK(c.events[0].actor == "alice");
  CHECK(c.events[0].to == "draft");
  CHECK(c.created_at > 0);
  CHECK(p.changes.Get(1)->title == "Patch vm-1");
  CHECK_FALSE(p.changes.Get(2));

  Status untitled = p.changes.Create(ChangeFields{}, "alice").status();
  CHECK(untitled.code() == StatusCode::kInvalidArgument);
  CHECK(untitled.message() == "a change needs a \"title\"");
  CHECK(Detail(untitled, "field") == "title");

  ChangeFields state = Titled("x");
  state.given.insert("state");
  CHECK(p.changes.Create(state, "alice").status().message() == "unknown change field \"state\"");

  CHECK(p.changes.Create(Titled("x", {998, 999}), "alice").status().message() ==
        "affected CI 998 does not exist (and 1 more)");

  ChangeFields half = Titled("x");
  half.values.planned_start = T("2030-01-05T22:00:00Z");
  half.given.insert("planned_start");
  CHECK(p.changes.Create(half, "alice").status().message() ==
        "give both planned_start and planned_end");
  ChangeFields backwards = Planned(T("2030-01-06T00:00:00Z"), T("2030-01-05T22:00:00Z"));
  backwards.values.title = "x";
  backwards.given.insert("title");
  CHECK(p.changes.Create(backwards, "alice").status().message() ==
        "planned_start must be before planned_end");
  CHECK(p.changes.List(std::nullopt).size() == 1);
}

TEST_CASE("ChangeService edits journal what changed and respect versions and states") {
  ProcessFixture p;
  ChangeRecord c = Ok(p.changes.Create(Titled("Patch vm-1", {p.vm1}), "alice"));
  ChangeFields edit;
  edit.values.risk = "low";
  edit.values.title = "Patch vm-1 now";
  edit.values.description = "ignored: not given";
  edit.given = {"risk", "title"};
  edit.comment = "tightened";
  ChangeRecord e = Ok(p.changes.Update(c.id, edit, std::nullopt, "bob"));
  CHECK(e.version == 2);
  CHECK(e.title == "Patch vm-1 now");
  CHECK(e.risk == "low");
  CHECK(e.description.empty());
  REQUIRE(e.events.size() == 3);
  CHECK(e.events[1].kind == EventKind::kUpdated);
  CHECK(e.events[1].text == "title, risk");  // in field-table order
  CHECK(e.events[2].kind == EventKind::kComment);
  CHECK(e.events[2].text == "tightened");

  Status stale = p.changes.Update(c.id, edit, 1, "bob").status();
  CHECK(stale.code() == StatusCode::kPreconditionFailed);
  CHECK(stale.message() == "change 1 is at version 2, not 1");

  CHECK(p.changes.Update(9, edit, std::nullopt, "bob").status().message() ==
        "change 9 does not exist");

  Ok(p.changes.Transition(c.id, ChangeState::kSubmitted, "", "alice"));
  Ok(p.changes.Transition(c.id, ChangeState::kAssessed, "", "carol"));
  ChangeFields retitle = Titled("too late");
  Status frozen = p.changes.Update(c.id, retitle, std::nullopt, "bob").status();
  CHECK(frozen.code() == StatusCode::kConflict);
  CHECK(frozen.message() ==
        "a change in state assessed cannot be edited (only draft and submitted ones can; "
        "comments are always accepted)");
  ChangeFields comment;
  comment.comment = "still fine";
  ChangeRecord commented = Ok(p.changes.Update(c.id, comment, std::nullopt, "bob"));
  CHECK(commented.events.back().text == "still fine");

  auto history = Ok(p.changes.History(c.id));
  REQUIRE(history.size() == 5);
  CHECK(history[0].title == "Patch vm-1");
  CHECK(history[0].version == 1);
  CHECK(history[4].state == ChangeState::kAssessed);
}

TEST_CASE("ChangeService moves changes through the state machine with a frozen assessment") {
  ProcessFixture p;
  ChangeRecord bare = Ok(p.changes.Create(Titled("No CIs"), "alice"));
  CHECK(p.changes.Transition(bare.id, ChangeState::kSubmitted, "", "alice").status().message() ==
        "name the affected CIs before submitting");
  Status skip = p.changes.Transition(bare.id, ChangeState::kApproved, "", "alice").status();
  CHECK(skip.code() == StatusCode::kConflict);
  CHECK(skip.message() ==
        "a normal change in state draft cannot move to approved; allowed: submitted, cancelled");
  CHECK(skip.type() == "forbidden_transition");

  ChangeRecord c = Ok(p.changes.Create(Titled("Patch vm-1", {p.vm1}), "alice"));
  Ok(p.changes.Transition(c.id, ChangeState::kSubmitted, "", "alice"));
  ChangeRecord assessed = Ok(p.changes.Transition(c.id, ChangeState::kAssessed, "", "carol"));
  REQUIRE(assessed.assessments.size() == 1);
  const Assessment& a = assessed.assessments[0];
  CHECK(a.number == 1);
  CHECK(a.actor == "carol");
  CHECK(a.affected == std::vector<CiId>{p.vm1});
  CHECK(a.impacted == std::vector<CiId>{p.shop, p.checkout});
  CHECK(a.services == std::vector<CiId>{p.checkout});
  CHECK(a.service_names == std::vector<std::string>{"checkout"});
  CHECK(a.service_criticality == std::vector<std::string>{"high"});
  CHECK(a.risk_score > 0);
  ChangeRecord approved = Ok(p.changes.Transition(c.id, ChangeState::kApproved, "ok", "carol"));
  CHECK(approved.events.back().kind == EventKind::kTransition);
  CHECK(approved.events.back().from == "assessed");
  CHECK(approved.events.back().to == "approved");
  CHECK(approved.events.back().text == "ok");
  CHECK(p.changes.Transition(c.id, ChangeState::kScheduled, "", "carol").status().message() ==
        "set planned_start and planned_end before the change is scheduled");
  CHECK(p.changes.List(ChangeState::kApproved).size() == 1);
  CHECK(p.changes.List(ChangeState::kDraft).size() == 1);
}

TEST_CASE("ChangeService refuses to schedule into a blackout unless the change is an emergency") {
  ProcessFixture p;
  int64_t start = T("2030-01-05T22:00:00Z"), end = T("2030-01-06T01:00:00Z");
  Window freeze;
  freeze.name = "freeze";
  freeze.kind = WindowKind::kBlackout;
  freeze.start = T("2030-01-05T00:00:00Z");
  freeze.end = T("2030-01-07T00:00:00Z");
  freeze.cis = {p.shop};
  Window w = Ok(p.changes.CreateWindow(freeze, "carol"));
  CHECK(w.id == 1);
  CHECK(w.created_by == "carol");

  ChangeRecord c = Ok(p.changes.Create(Titled("Patch vm-1", {p.vm1}), "alice"));
  Ok(p.changes.Update(c.id, Planned(start, end), std::nullopt, "alice"));
  Ok(p.changes.Transition(c.id, ChangeState::kSubmitted, "", "alice"));
  Ok(p.changes.Transition(c.id, ChangeState::kAssessed, "", "carol"));
  Ok(p.changes.Transition(c.id, ChangeState::kApproved, "", "carol"));
  Status blocked = p.changes.Transition(c.id, ChangeState::kScheduled, "", "carol").status();
  CHECK(blocked.code() == StatusCode::kConflict);
  CHECK(blocked.type() == "blackout");
  CHECK(blocked.message() == "the planned window " + FormatTimestamp(start) + " .. " +
                                 FormatTimestamp(end) +
                                 " falls in blackout window 1 (freeze); only an emergency "
                                 "change may be scheduled into a blackout");
  ConflictReport report = Ok(p.changes.Conflicts(c.id));
  REQUIRE(report.blackouts.size() == 1);
  CHECK(report.blackouts[0].window.name == "freeze");
  CHECK(report.blackouts[0].cis == std::vector<CiId>{p.shop});
  CHECK(report.scope == std::vector<CiId>{p.vm1, p.shop, p.checkout});

  ChangeFields urgent = Titled("Hotfix", {p.vm1});
  urgent.values.type = ChangeType::kEmergency;
  urgent.given.insert("type");
  ChangeRecord e = Ok(p.changes.Create(urgent, "alice"));
  Ok(p.changes.Update(e.id, Planned(start, end), std::nullopt, "alice"));
  Ok(p.changes.Transition(e.id, ChangeState::kSubmitted, "", "alice"));
  Ok(p.changes.Transition(e.id, ChangeState::kAssessed, "", "carol"));
  Ok(p.changes.Transition(e.id, ChangeState::kApproved, "", "carol"));
  CHECK(Ok(p.changes.Transition(e.id, ChangeState::kScheduled, "", "carol")).state ==
        ChangeState::kScheduled);
}

TEST_CASE("ChangeService keeps maintenance and blackout windows") {
  ProcessFixture p;
  Window unnamed;
  unnamed.start = 1;
  unnamed.end = 2;
  Status st = p.changes.CreateWindow(unnamed, "carol").status();
  CHECK(st.message() == "a window needs a \"name\"");
  CHECK(Detail(st, "field") == "name");

  Window both;
  both.name = "both";
  both.start = T("2030-01-05T00:00:00Z");
  both.end = T("2030-01-06T00:00:00Z");
  both.cis = {p.vm1};
  both.query = "MATCH (v:VirtualMachine) RETURN v";
  CHECK(p.changes.CreateWindow(both, "carol").status().message() ==
        "scope a window by \"cis\" or by \"query\", not both");
  both.query.clear();
  both.cis = {p.vm1, 999};
  CHECK(p.changes.CreateWindow(both, "carol").status().message() ==
        "affected CI 999 does not exist");

  Window weekly;
  weekly.name = "weekend";
  weekly.weekly = true;
  weekly.days = *ParseWeekday("sat");
  weekly.start_minute = 22 * 60;
  weekly.duration_minutes = 0;
  CHECK(p.changes.CreateWindow(weekly, "carol").status().message() ==
        "weekly \"duration_minutes\" must be from 1 to 10080 (a week)");
  weekly.duration_minutes = 240;
  weekly.query = "MATCH (v:VirtualMachine) RETURN v";
  Window saved = Ok(p.changes.CreateWindow(weekly, "carol"));
  CHECK(saved.id == 1);
  CHECK(saved.kind == WindowKind::kMaintenance);
  CHECK(p.changes.GetWindow(1)->query == "MATCH (v:VirtualMachine) RETURN v");
  CHECK(p.changes.ListWindows().size() == 1);
  CHECK(p.changes.DeleteWindow(1, "carol").ok());
  CHECK_FALSE(p.changes.GetWindow(1));
  CHECK(p.changes.DeleteWindow(1, "carol").message() == "window 1 does not exist");
}
