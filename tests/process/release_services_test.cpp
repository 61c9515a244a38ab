// BaselineService, ReleaseService and AuditService through their C++ interfaces: capture,
// contents, diffs and the resolver; the release state machine with its automatic baseline and
// verification; configuration audits. Exact outcomes and error texts.
#include <catch2/catch.hpp>

#include "process/audit_service.hpp"
#include "process/baseline_service.hpp"
#include "process/release_service.hpp"
#include "process_fixture.hpp"

using namespace cmdb;
using namespace cmdb::process;
using cmdb::testing::Attrs;
using cmdb::testing::Detail;
using cmdb::testing::Ok;
using cmdb::testing::ProcessFixture;

namespace {

BaselineSpec Roots(const std::string& name, std::vector<CiId> roots, bool impacted) {
  BaselineSpec spec;
  spec.name = name;
  spec.scope_kind = ScopeKind::kRoots;
  spec.roots = std::move(roots);
  spec.follow_impacted = impacted;
  return spec;
}

}  // namespace

TEST_CASE("BaselineService captures scopes once, immutably, and pages their contents") {
  ProcessFixture p;
  Baseline b = Ok(p.baselines.Capture(Roots("shop-before", {p.shop}, false), "rm"));
  CHECK(b.id == 1);
  CHECK(b.scope_kind == ScopeKind::kRoots);
  CHECK(b.follow == ScopeFollow::kDependsOn);
  CHECK(b.max_depth == 6);
  CHECK(b.cis == std::vector<CiId>{p.vm1, p.shop});
  CHECK(b.rels.size() == 1);
  CHECK(b.created_by == "rm");
  CHECK(b.release_id == 0);
  CHECK(b.tx == p.t.db->Read().tx() - 1);

  Status dup = p.baselines.Capture(Roots("shop-before", {p.vm2}, true), "rm").status();
  CHECK(dup.code() == StatusCode::kConflict);
  CHECK(dup.message() == "a baseline named 'shop-before' already exists; baselines are immutable");
  CHECK(p.baselines.Capture(Roots("", {p.shop}, true), "rm").status().message() ==
        "a baseline needs a \"name\"");
  CHECK(p.baselines.Capture(Roots("gone", {999}, true), "rm").status().message() ==
        "root CI 999 does not exist");

  BaselineSpec all;
  all.name = "everything";
  Baseline every = Ok(p.baselines.Capture(all, "rm"));
  CHECK(every.scope_kind == ScopeKind::kAll);
  CHECK(every.follow == ScopeFollow::kNone);
  CHECK(every.cis == std::vector<CiId>{p.vm1, p.vm2, p.shop, p.checkout});

  BaselineSpec vms;
  vms.name = "vms";
  vms.scope_kind = ScopeKind::kQuery;
  vms.query = "MATCH (v:VirtualMachine) RETURN v";
  CHECK(Ok(p.baselines.Capture(vms, "rm")).cis == std::vector<CiId>{p.vm1, p.vm2});

  std::vector<CiRecord> cis;
  std::vector<RelRecord> rels;
  REQUIRE(p.baselines.Contents(every, 3, 2, cis, rels).ok());  // the last CI, the first rel
  REQUIRE(cis.size() == 1);
  CHECK(cis[0].id == p.checkout);
  CHECK(rels.size() == 1);

  CHECK(p.baselines.List().size() == 3);
  CHECK(p.baselines.Get("vms")->scope_query == "MATCH (v:VirtualMachine) RETURN v");
  Status missing = p.baselines.Delete("nope", "admin");
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message() == "no baseline named 'nope'");
  REQUIRE(p.baselines.Delete("vms", "admin").ok());
  CHECK_FALSE(p.baselines.Get("vms"));
  auto snapshot = p.baselines.Resolver()("shop-before");
  REQUIRE(snapshot.ok());
  CHECK(snapshot->tx == b.tx);
  CHECK(p.baselines.Resolver()("vms").status().message() == "no baseline named 'vms'");
}

TEST_CASE("BaselineService diffs a baseline against now, another baseline and new CIs") {
  ProcessFixture p;
  Baseline before = Ok(p.baselines.Capture(Roots("before", {p.vm1}, true), "rm"));
  p.SetAttr(p.vm1, "os", "bsd");
  BaselineDiff now = Ok(p.baselines.Diff(before, DiffTarget{}));
  CHECK(now.from_tx == before.tx);
  CHECK(now.to_tx == p.t.db->Read().tx());
  CHECK(now.counts.cis_changed == 1);
  CHECK(now.counts.cis_added == 0);
  REQUIRE(now.entries.size() == 1);
  const DiffEntry& e = now.entries[0];
  CHECK(e.what == DiffSubject::kCi);
  CHECK(e.change == DiffChange::kChanged);
  CHECK(e.id == p.vm1);
  CHECK(e.class_name == "VirtualMachine");
  CHECK(e.name == "vm-1");
  REQUIRE(e.attrs.size() == 1);
  CHECK(e.attrs[0].name == "os");
  CHECK(e.attrs[0].before == Value("linux"));
  CHECK(e.attrs[0].after == Value("bsd"));

  CiId api = p.t.Create("Application", Attrs({{"name", "api"}}));
  p.t.Relate("DEPENDS_ON", api, p.vm1);
  DiffTarget with_new;
  with_new.include_new = true;
  BaselineDiff grown = Ok(p.baselines.Diff(before, with_new));
  CHECK(grown.counts.cis_added == 1);
  REQUIRE(grown.entries.size() == 2);  // CIs by id, then relationships
  CHECK(grown.entries[0].id == p.vm1);
  CHECK(grown.entries[1].id == api);
  CHECK(grown.entries[1].change == DiffChange::kAdded);

  Baseline after = Ok(p.baselines.Capture(Roots("after", {p.vm1}, true), "rm"));
  DiffTarget other;
  other.kind = DiffTarget::kBaseline;
  other.baseline = "after";
  BaselineDiff between = Ok(p.baselines.Diff(before, other));
  CHECK(between.to_tx == after.tx);
  CHECK(between.counts.cis_added == 1);
  CHECK(between.counts.cis_changed == 1);
  CHECK(between.counts.rels_added == 1);
  other.baseline = "nope";
  Status st = p.baselines.Diff(before, other).status();
  CHECK(st.message() == "no baseline named 'nope'");
  CHECK(Detail(st, "parameter") == "against");
}

TEST_CASE("ReleaseService moves releases to verified with a baseline and a verification") {
  ProcessFixture p;
  CHECK(p.releases.CreateRelease(ReleaseRecord{}, "rm").status().message() ==
        "a release needs a \"name\"");
  ReleaseRecord linked;
  linked.name = "bad";
  linked.changes = {7};
  CHECK(p.releases.CreateRelease(linked, "rm").status().message() ==
        "linked change 7 does not exist");

  ReleaseRecord fields;
  fields.name = "shop";
  fields.release_version = "4.2.0";
  fields.type = ReleaseType::kMajor;
  fields.cis = {p.vm1};
  fields.criteria = {"smoke"};
  fields.state = ReleaseState::kVerified;  // ignored: a release starts planned
  ReleaseRecord r = Ok(p.releases.CreateRelease(fields, "rm"));
  CHECK(r.id == 1);
  CHECK(r.state == ReleaseState::kPlanned);
  CHECK(r.type == ReleaseType::kMajor);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].kind == EventKind::kCreated);
  CHECK(r.events[0].to == "planned");

  Status skip = p.releases.TransitionRelease(r.id, ReleaseState::kApproved, "", "rm").status();
  CHECK(skip.message() ==
        "a release in state planned cannot move to approved; allowed: built, "
        "failed");
  Ok(p.releases.TransitionRelease(r.id, ReleaseState::kBuilt, "", "rm"));
  Ok(p.releases.TransitionRelease(r.id, ReleaseState::kTested, "", "rm"));
  Status failing = p.releases.TransitionRelease(r.id, ReleaseState::kApproved, "", "rm").status();
  CHECK(failing.type() == "acceptance_failed");
  CHECK(failing.message() ==
        "release 1 cannot be approved: acceptance criterion 'smoke' has no passing result");

  ReleaseRecord edit = *p.releases.GetRelease(r.id);
  edit.results = {{"load", true, ""}};
  CHECK(p.releases.UpdateRelease(r.id, edit, "", std::nullopt, "rm").status().message() ==
        "result for unknown acceptance criterion 'load'");
  edit.results = {{"smoke", true, "green"}};
  ReleaseRecord passed = Ok(p.releases.UpdateRelease(r.id, edit, "all green", std::nullopt, "rm"));
  CHECK(passed.results.size() == 1);
  CHECK(passed.events[passed.events.size() - 2].kind == EventKind::kUpdated);
  CHECK(passed.events.back().text == "all green");
  Ok(p.releases.TransitionRelease(r.id, ReleaseState::kApproved, "", "rm"));

  ReleaseRecord deploying =
      Ok(p.releases.TransitionRelease(r.id, ReleaseState::kDeploying, "", "rm"));
  CHECK(deploying.baseline == "release-1-before-deploy");
  auto b = p.baselines.Get("release-1-before-deploy");
  REQUIRE(b);
  CHECK(b->release_id == 1);
  CHECK(b->cis == std::vector<CiId>{p.vm1, p.shop, p.checkout});
  edit = deploying;
  edit.name = "renamed";
  Status frozen = p.releases.UpdateRelease(r.id, edit, "", std::nullopt, "rm").status();
  CHECK(frozen.type() == "not_editable");
  CHECK(frozen.message() ==
        "a release in state deploying cannot be edited (only planned, built and tested ones can; "
        "comments are always accepted)");

  p.SetAttr(p.shop, "release", "4.2.0");
  Ok(p.releases.TransitionRelease(r.id, ReleaseState::kDeployed, "", "rm"));
  ReleaseRecord verified =
      Ok(p.releases.TransitionRelease(r.id, ReleaseState::kVerified, "", "rm"));
  REQUIRE(verified.verification);
  CHECK(verified.verification->cis_changed == 1);
  CHECK(verified.verification->changed_cis == std::vector<CiId>{p.shop});
  CHECK(p.releases.ListReleases(ReleaseState::kVerified).size() == 1);
  CHECK(p.releases.ListReleases(ReleaseState::kPlanned).empty());
  CHECK(p.releases.TransitionRelease(r.id, ReleaseState::kFailed, "", "rm").status().message() ==
        "a release in state verified cannot move to failed; it is final");
}

TEST_CASE("AuditService audits baselines and expected CIs and keeps the reports") {
  ProcessFixture p;
  CHECK(p.audits.AuditBaseline("nope", "auditor").status().message() == "no baseline named 'nope'");
  Ok(p.baselines.Capture(Roots("before", {p.vm1}, true), "rm"));
  p.SetAttr(p.vm1, "os", "bsd");
  AuditReport drift = Ok(p.audits.AuditBaseline("before", "auditor"));
  CHECK(drift.id == 1);
  CHECK(drift.source == "baseline:before");
  CHECK(drift.actor == "auditor");
  CHECK(drift.checked == 3);
  CHECK(drift.attribute_drift == 1);
  CHECK(drift.missing == 0);
  REQUIRE(drift.findings.size() == 1);
  CHECK(drift.findings[0].kind == FindingKind::kAttributeDrift);
  CHECK(drift.findings[0].ci == p.vm1);
  CHECK(drift.findings[0].description ==
        "VirtualMachine vm-1 (CI " + std::to_string(p.vm1) + ") differs from the baseline");

  std::vector<ExpectedCi> typo = {{"VirtualMachin", Attrs({{"name", "vm-1"}}), 1}};
  Status unknown = p.audits.AuditExpected(typo, {}, "auditor").status();
  CHECK(unknown.code() == StatusCode::kSchemaViolation);
  CHECK(unknown.message() ==
        "line 1: unknown class 'VirtualMachin' (did you mean "
        "'VirtualMachine'?)");
  std::vector<ExpectedCi> keyless = {{"VirtualMachine", Attrs({{"os", "bsd"}}), 2}};
  CHECK(p.audits.AuditExpected(keyless, {}, "auditor").status().message() ==
        "line 2: class VirtualMachine needs its KEY attributes to identify the CI");

  std::vector<ExpectedCi> expected = {
      {"VirtualMachine", Attrs({{"name", "vm-1"}, {"os", "bsd"}}), 1},
      {"VirtualMachine", Attrs({{"name", "vm-9"}}), 2}};
  std::vector<ExpectedRel> rels = {{"DEPENDS_ON",
                                    {"Application", Attrs({{"name", "shop"}}), 3},
                                    {"VirtualMachine", Attrs({{"name", "vm-2"}}), 3},
                                    3}};
  AuditReport r = Ok(p.audits.AuditExpected(expected, rels, "auditor"));
  CHECK(r.source == "expected");
  CHECK(r.checked == 2);
  CHECK(r.missing == 1);
  CHECK(r.unexpected == 1);
  CHECK(r.attribute_drift == 0);
  CHECK(r.relationship_drift == 1);
  REQUIRE(r.findings.size() == 3);
  CHECK(r.findings[0].kind == FindingKind::kMissing);
  CHECK(r.findings[0].description == "VirtualMachine vm-9 (line 2) is not in the CMDB");
  CHECK(r.findings[1].kind == FindingKind::kUnexpected);
  CHECK(r.findings[1].description ==
        "VirtualMachine vm-2 (CI " + std::to_string(p.vm2) + ") is in the CMDB but not expected");
  CHECK(r.findings[2].kind == FindingKind::kRelationshipDrift);
  CHECK(r.findings[2].description ==
        "expected relationship Application -[DEPENDS_ON]-> VirtualMachine (line 3) is not in the "
        "CMDB");

  CHECK(p.audits.Get(2)->findings.size() == 3);
  CHECK_FALSE(p.audits.Get(3));
  auto list = p.audits.List();
  REQUIRE(list.size() == 2);
  CHECK(list[1].missing == 1);
  CHECK(list[1].findings.empty());  // summaries
}

TEST_CASE("AuditService keeps a finding whose attribute is absent on one side") {
  ProcessFixture p;
  // vm-1 has no owner: the expectation names one, so one side of the difference is absent.
  std::vector<ExpectedCi> expected = {
      {"VirtualMachine", Attrs({{"name", "vm-1"}, {"owner", "ops"}}), 1}};
  AuditReport r = Ok(p.audits.AuditExpected(expected, {}, "auditor"));
  CHECK(r.attribute_drift == 1);
  auto stored = p.audits.Get(r.id);
  REQUIRE(stored);
  const AuditFinding* drift = nullptr;
  for (const auto& f : stored->findings) {
    if (f.kind == FindingKind::kAttributeDrift) drift = &f;
  }
  REQUIRE(drift);
  REQUIRE(drift->attrs.size() == 1);
  const AttrDiff& d = drift->attrs[0];
  CHECK(d.name == "owner");
  CHECK(d.before.is_null() != d.after.is_null());
  CHECK((d.before.is_null() ? d.after : d.before) == Value("ops"));
}
