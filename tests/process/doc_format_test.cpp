// The stored format of process records: documents written by earlier versions (the golden
// encodings below were produced by the codecs before the record field tables) still load to the
// same records, and records encode to the same bytes.
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/attr_codec.hpp"
#include "process/audit.hpp"
#include "process/baseline.hpp"
#include "process/change.hpp"
#include "process/release.hpp"
#include "process/window.hpp"

using namespace cmdb;
using namespace cmdb::process;

namespace {

std::string Hex(const std::string& bytes) {
  std::string out;
  char buf[3];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

ChangeRecord SampleChange() {
  ChangeRecord c;
  c.id = 12;
  c.version = 3;
  c.title = "Upgrade db-01";
  c.description = "PostgreSQL 15 -> 16";
  c.type = ChangeType::kEmergency;
  c.state = ChangeState::kReview;
  c.requester = "alice";
  c.planned_start = 1795298400000000;
  c.planned_end = 1795309200000000;
  c.affected = {4, 9};
  c.risk = "medium";
  c.events = {{1795200000000000, "alice", EventKind::kCreated, "", "draft", ""},
              {1795200000000001, "bob", EventKind::kTransition, "draft", "submitted", "go"}};
  Assessment a;
  a.number = 1;
  a.time = 1795210000000000;
  a.actor = "carol";
  a.tx = 41;
  a.affected = {4, 9};
  a.impacted = {5, 6, 7};
  a.degraded = {7};
  a.services = {6};
  a.service_names = {"shop"};
  a.service_criticality = {"high"};
  a.per_class = {{"Host", 1}, {"Service", 2}};
  a.risk_score = 6.5;
  a.risk_level = RiskLevel::kHigh;
  a.risk_explanation = "1 high service";
  c.assessments = {a};
  c.implementation_start_tx = 42;
  c.implementation_end_tx = 47;
  c.implementation_started_at = 1795298500000000;
  c.implementation_ended_at = 1795299500000000;
  c.created_at = 1795200000000000;
  return c;
}

Window SampleWindow() {
  Window w;
  w.id = 3;
  w.version = 1;
  w.name = "weekend";
  w.description = "Saturday night";
  w.kind = WindowKind::kBlackout;
  w.start = 1795000000000000;
  w.end = 1799000000000000;
  w.weekly = true;
  w.days = 0x60;
  w.start_minute = 22 * 60;
  w.duration_minutes = 240;
  w.cis = {4, 5};
  w.query = "MATCH (h:Host) RETURN h";
  w.created_by = "alice";
  return w;
}

Baseline SampleBaseline() {
  Baseline b;
  b.id = 2;
  b.name = "shop-before";
  b.description = "before 4.2";
  b.scope_kind = ScopeKind::kRoots;
  b.scope_query = "";
  b.roots = {4};
  b.follow = ScopeFollow::kDependsOn;
  b.max_depth = 10;
  b.tx = 40;
  b.captured_at = 1795200000000000;
  b.created_by = "rm";
  b.release_id = 1;
  b.cis = {4, 5, 6};
  b.rels = {8, 9};
  return b;
}

ReleaseRecord SampleRelease() {
  ReleaseRecord r;
  r.id = 1;
  r.version = 5;
  r.name = "shop";
  r.release_version = "4.2.0";
  r.description = "spring release";
  r.type = ReleaseType::kMajor;
  r.state = ReleaseState::kVerified;
  r.changes = {12};
  r.cis = {4};
  r.criteria = {"smoke", "load"};
  r.results = {{"smoke", true, "ok"}, {"load", false, "p99 high"}};
  r.baseline = "release-1-before-deploy";
  r.verification = Verification{1795300000000000, 50, 1, 0, 2, 0, 1, 0, {4, 7}};
  r.events = {{1795200000000000, "rm", EventKind::kCreated, "", "planned", ""}};
  r.created_at = 1795200000000000;
  return r;
}

// EncodeAttrs of each sample's body as the codecs wrote it before the field tables.
const char* kChangeHex =
    "100861666665637465640502020802120b6173736573736d656e74730501050e0202028090c7e5fcaeb00604"
    "056361726f6c02520502020802120503020a020c020e0501020e0501020c0501040473686f70050104046869"
    "6768050205020404486f7374020205020407536572766963650204030000000000001a40040468696768040e"
    "31206869676820736572766963650a637265617465645f6174028080e8a4b2aeb0060b646573637269707469"
    "6f6e0413506f737467726553514c203135202d3e203136066576656e747305020506028080e8a4b2aeb00604"
    "05616c69636504076372656174656404000405647261667404000506028280e8a4b2aeb0060403626f62040a"
    "7472616e736974696f6e0405647261667404097375626d69747465640402676f0b696d706c5f656e645f7478"
    "025e0d696d706c5f656e6465645f617402808cb4cf97b4b0060d696d706c5f73746172745f747802540f696d"
    "706c5f737461727465645f61740280e4dd9590b4b0060b706c616e6e65645f656e6402809086f2dfb4b0060d"
    "706c616e6e65645f73746172740280e0aeb68fb4b006097265717565737465720405616c696365047269736b"
    "04066d656469756d0573746174650406726576696577057469746c65040d557067726164652064622d303104"
    "747970650409656d657267656e6379";
const char* kWindowHex =
    "0c0363697305020208020a0a637265617465645f62790405616c696365046461797302c0010b646573637269"
    "7074696f6e040e5361747572646179206e69676874106475726174696f6e5f6d696e7574657302e00303656e"
    "640280c09bbfca8bb206046b696e640408626c61636b6f7574046e616d6504077765656b656e640571756572"
    "7904174d415443482028683a486f7374292052455455524e20680573746172740280c0f995e0a2b0060c7374"
    "6172745f6d696e75746502d014067765656b6c790101";
const char* kBaselineHex =
    "0d0b63617074757265645f6174028080e8a4b2aeb0060363697305030208020a020c0a637265617465645f62"
    "790402726d0b6465736372697074696f6e040a6265666f726520342e3206666f6c6c6f77040a646570656e64"
    "735f6f6e096d61785f64657074680214046e616d65040b73686f702d6265666f72650a72656c656173655f69"
    "6402020472656c7305020210021205726f6f7473050102080a73636f70655f6b696e640405726f6f74730b73"
    "636f70655f717565727904000274780250";
const char* kReleaseHex =
    "0d08626173656c696e65041772656c656173652d312d6265666f72652d6465706c6f79076368616e67657305"
    "01021803636973050102080a637265617465645f6174028080e8a4b2aeb00608637269746572696105020405"
    "736d6f6b6504046c6f61640b6465736372697074696f6e040e737072696e672072656c65617365066576656e"
    "747305010506028080e8a4b2aeb0060402726d04076372656174656404000407706c616e6e65640400046e61"
    "6d65040473686f700f72656c656173655f76657273696f6e0405342e322e3007726573756c74730502050304"
    "05736d6f6b65010104026f6b050304046c6f6164010004087039392068696768057374617465040876657269"
    "66696564047479706504056d616a6f720c766572696669636174696f6e05090280a09fac9bb4b00602640202"
    "0200020402000202020005020208020e";

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

DocRecord Stored(const char* kind, int64_t id, int64_t version, const char* hex) {
  DocRecord d;
  d.kind = kind;
  d.id = id;
  d.version = version;
  d.updated_at = 1795300000000000;
  auto body = DecodeAttrs(Unhex(hex));
  REQUIRE(body.ok());
  d.body = std::move(*body);
  return d;
}

// An audit body as audit.cpp wrote it before the field tables, spelled out.
AttrMap OldAuditBody() {
  AttrMap b;
  b.Set("source", "baseline:shop-before");
  b.Set("time", int64_t{1795300000000000});
  b.Set("actor", "auditor");
  b.Set("tx", int64_t{52});
  b.Set("checked", int64_t{3});
  b.Set("counts", ValueList{int64_t{1}, int64_t{0}, int64_t{1}, int64_t{0}});
  b.Set("findings",
        ValueList{Value(ValueList{"missing", int64_t{5}, "Host db-01 (CI 5) is gone", ValueList{}}),
                  Value(ValueList{"attribute_drift", int64_t{6}, "Service shop (CI 6) differs",
                                  ValueList{Value(ValueList{"owner", "a", "b"}),
                                            Value(ValueList{"tier", int64_t{1}, int64_t{2}})}})});
  return b;
}

}  // namespace

TEST_CASE("change records stored before the field tables load and encode unchanged") {
  ChangeRecord c = ChangeFromDoc(Stored(kChangeKind, 12, 3, kChangeHex));
  ChangeRecord want = SampleChange();
  CHECK(c.id == 12);
  CHECK(c.version == 3);
  CHECK(c.updated_at == 1795300000000000);
  CHECK(c.title == want.title);
  CHECK(c.description == want.description);
  CHECK(c.type == ChangeType::kEmergency);
  CHECK(c.state == ChangeState::kReview);
  CHECK(c.requester == "alice");
  CHECK(c.planned_start == want.planned_start);
  CHECK(c.planned_end == want.planned_end);
  CHECK(c.affected == std::vector<CiId>{4, 9});
  CHECK(c.risk == "medium");
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[1].time == 1795200000000001);
  CHECK(c.events[1].actor == "bob");
  CHECK(c.events[1].kind == EventKind::kTransition);
  CHECK(c.events[1].from == "draft");
  CHECK(c.events[1].to == "submitted");
  CHECK(c.events[1].text == "go");
  REQUIRE(c.assessments.size() == 1);
  const Assessment& a = c.assessments[0];
  CHECK(a.number == 1);
  CHECK(a.tx == 41);
  CHECK(a.impacted == std::vector<CiId>{5, 6, 7});
  CHECK(a.degraded == std::vector<CiId>{7});
  CHECK(a.service_names == std::vector<std::string>{"shop"});
  CHECK(a.service_criticality == std::vector<std::string>{"high"});
  CHECK(a.per_class == std::map<std::string, int64_t>{{"Host", 1}, {"Service", 2}});
  CHECK(a.risk_score == 6.5);
  CHECK(a.risk_level == RiskLevel::kHigh);
  CHECK(a.risk_explanation == "1 high service");
  CHECK(c.implementation_start_tx == 42);
  CHECK(c.implementation_end_tx == 47);
  CHECK(c.implementation_started_at == want.implementation_started_at);
  CHECK(c.implementation_ended_at == want.implementation_ended_at);
  CHECK(c.created_at == want.created_at);
  CHECK(Hex(EncodeAttrs(ChangeToDoc(c).body)) == kChangeHex);
  CHECK(Hex(EncodeAttrs(ChangeToDoc(want).body)) == kChangeHex);
}

TEST_CASE("window records stored before the field tables load and encode unchanged") {
  Window w = WindowFromDoc(Stored(kWindowKind, 3, 1, kWindowHex));
  CHECK(w.id == 3);
  CHECK(w.name == "weekend");
  CHECK(w.description == "Saturday night");
  CHECK(w.kind == WindowKind::kBlackout);
  CHECK(w.start == 1795000000000000);
  CHECK(w.end == 1799000000000000);
  CHECK(w.weekly);
  CHECK(w.days == 0x60);
  CHECK(w.start_minute == 22 * 60);
  CHECK(w.duration_minutes == 240);
  CHECK(w.cis == std::vector<CiId>{4, 5});
  CHECK(w.query == "MATCH (h:Host) RETURN h");
  CHECK(w.created_by == "alice");
  CHECK(Hex(EncodeAttrs(WindowToDoc(w).body)) == kWindowHex);
  CHECK(Hex(EncodeAttrs(WindowToDoc(SampleWindow()).body)) == kWindowHex);
}

TEST_CASE("baseline records stored before the field tables load and encode unchanged") {
  Baseline b = BaselineFromDoc(Stored(kBaselineKind, 2, 1, kBaselineHex));
  CHECK(b.id == 2);
  CHECK(b.name == "shop-before");
  CHECK(b.description == "before 4.2");
  CHECK(b.scope_kind == ScopeKind::kRoots);
  CHECK(b.scope_query.empty());
  CHECK(b.roots == std::vector<CiId>{4});
  CHECK(b.follow == ScopeFollow::kDependsOn);
  CHECK(b.max_depth == 10);
  CHECK(b.tx == 40);
  CHECK(b.captured_at == 1795200000000000);
  CHECK(b.created_by == "rm");
  CHECK(b.release_id == 1);
  CHECK(b.cis == std::vector<CiId>{4, 5, 6});
  CHECK(b.rels == std::vector<RelId>{8, 9});
  CHECK(Hex(EncodeAttrs(BaselineToDoc(b).body)) == kBaselineHex);
  CHECK(Hex(EncodeAttrs(BaselineToDoc(SampleBaseline()).body)) == kBaselineHex);
  // A query scope stores no follow direction ("").
  Baseline q = SampleBaseline();
  q.scope_kind = ScopeKind::kQuery;
  q.follow = ScopeFollow::kNone;
  DocRecord d = BaselineToDoc(q);
  CHECK(d.body.Get("scope_kind") == Value("query"));
  CHECK(d.body.Get("follow") == Value(""));
}

TEST_CASE("release records stored before the field tables load and encode unchanged") {
  ReleaseRecord r = ReleaseFromDoc(Stored(kReleaseKind, 1, 5, kReleaseHex));
  CHECK(r.id == 1);
  CHECK(r.version == 5);
  CHECK(r.name == "shop");
  CHECK(r.release_version == "4.2.0");
  CHECK(r.description == "spring release");
  CHECK(r.type == ReleaseType::kMajor);
  CHECK(r.state == ReleaseState::kVerified);
  CHECK(r.changes == std::vector<int64_t>{12});
  CHECK(r.cis == std::vector<CiId>{4});
  CHECK(r.criteria == std::vector<std::string>{"smoke", "load"});
  REQUIRE(r.results.size() == 2);
  CHECK(r.results[1].criterion == "load");
  CHECK_FALSE(r.results[1].passed);
  CHECK(r.results[1].note == "p99 high");
  CHECK(r.baseline == "release-1-before-deploy");
  REQUIRE(r.verification);
  CHECK(r.verification->tx == 50);
  CHECK(r.verification->cis_added == 1);
  CHECK(r.verification->cis_changed == 2);
  CHECK(r.verification->rels_removed == 1);
  CHECK(r.verification->changed_cis == std::vector<CiId>{4, 7});
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].kind == EventKind::kCreated);
  CHECK(r.events[0].to == "planned");
  CHECK(r.created_at == 1795200000000000);
  CHECK(Hex(EncodeAttrs(ReleaseToDoc(r).body)) == kReleaseHex);
  CHECK(Hex(EncodeAttrs(ReleaseToDoc(SampleRelease()).body)) == kReleaseHex);
  // No verification yet: nothing stored under "verification".
  ReleaseRecord planned = SampleRelease();
  planned.verification.reset();
  CHECK_FALSE(ReleaseToDoc(planned).body.Has("verification"));
  CHECK_FALSE(ReleaseFromDoc(ReleaseToDoc(planned)).verification);
}

TEST_CASE("audit records stored before the field tables load and encode unchanged") {
  DocRecord d;
  d.kind = kAuditKind;
  d.id = 4;
  d.body = OldAuditBody();
  AuditReport a = AuditFromDoc(d);
  CHECK(a.id == 4);
  CHECK(a.source == "baseline:shop-before");
  CHECK(a.time == 1795300000000000);
  CHECK(a.actor == "auditor");
  CHECK(a.tx == 52);
  CHECK(a.checked == 3);
  CHECK(a.missing == 1);
  CHECK(a.unexpected == 0);
  CHECK(a.attribute_drift == 1);
  CHECK(a.relationship_drift == 0);
  REQUIRE(a.findings.size() == 2);
  CHECK(a.findings[0].kind == FindingKind::kMissing);
  CHECK(a.findings[0].ci == 5);
  CHECK(a.findings[1].kind == FindingKind::kAttributeDrift);
  CHECK(a.findings[1].description == "Service shop (CI 6) differs");
  REQUIRE(a.findings[1].attrs.size() == 2);
  CHECK(a.findings[1].attrs[1].name == "tier");
  CHECK(a.findings[1].attrs[1].before == Value(int64_t{1}));
  CHECK(a.findings[1].attrs[1].after == Value(int64_t{2}));
  CHECK(EncodeAttrs(AuditToDoc(a).body) == EncodeAttrs(OldAuditBody()));
}

TEST_CASE("reading is lenient: missing and mistyped fields keep the record's defaults") {
  DocRecord d;
  d.kind = kChangeKind;
  d.id = 1;
  d.body.Set("title", int64_t{5});
  d.body.Set("type", "sideways");
  d.body.Set("affected", ValueList{int64_t{3}, "x", int64_t{4}});
  ChangeRecord c = ChangeFromDoc(d);
  CHECK(c.title.empty());
  CHECK(c.type == ChangeType::kNormal);
  CHECK(c.state == ChangeState::kDraft);
  CHECK(c.affected == std::vector<CiId>{3, 4});
  CHECK(c.events.empty());
}

TEST_CASE("field tables declare each stored field once, with its type") {
  std::vector<std::string> names;
  for (const auto& f : ChangeFieldTable()) names.emplace_back(f.name);
  CHECK(names == std::vector<std::string>{"title", "description", "requester", "risk", "type",
                                          "planned_start", "planned_end", "affected", "state",
                                          "events", "assessments", "impl_start_tx", "impl_end_tx",
                                          "impl_started_at", "impl_ended_at", "created_at"});
  const auto* type = FindField(ChangeFieldTable(), "type");
  REQUIRE(type);
  CHECK(type->type == FieldType::kEnum);
  CHECK(type->enum_values == std::vector<std::string>{"standard", "normal", "emergency"});
  CHECK(type->editable);
  CHECK(FindField(ChangeFieldTable(), "title")->required);
  CHECK_FALSE(FindField(ChangeFieldTable(), "state")->editable);
  CHECK(FindField(WindowFieldTable(), "start")->type == FieldType::kTime);
  CHECK(FindField(ReleaseFieldTable(), "baseline")->json == JsonForm::kNullWhenEmpty);
  CHECK(FindField(BaselineFieldTable(), "scope_kind")->enum_values ==
        std::vector<std::string>{"query", "roots", "all"});
  CHECK(FindField(AuditFieldTable(), "findings")->type == FieldType::kTuples);
  CHECK(QuotedChoices({"maintenance", "blackout"}) == "\"maintenance\" or \"blackout\"");
  ReleaseRecord unnamed;
  Status st = CheckRequired(ReleaseFieldTable(), unnamed, "release");
  CHECK(st.message() == "a release needs a \"name\"");
}
