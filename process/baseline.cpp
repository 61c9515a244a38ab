#include "process/baseline.hpp"

namespace cmdb::process {
namespace {

constexpr const char* kScopeKindNames[] = {"query", "roots", "all"};
constexpr const char* kFollowNames[] = {"", "impacted", "depends_on"};

}  // namespace

const char* ScopeKindName(ScopeKind k) { return kScopeKindNames[static_cast<int>(k)]; }

std::optional<ScopeKind> ParseScopeKind(std::string_view name) {
  return EnumByName<ScopeKind>(kScopeKindNames, name);
}

const char* ScopeFollowName(ScopeFollow f) { return kFollowNames[static_cast<int>(f)]; }

std::optional<ScopeFollow> ParseScopeFollow(std::string_view name) {
  return EnumByName<ScopeFollow>(kFollowNames, name);
}

const FieldTable<Baseline>& BaselineFieldTable() {
  using B = Baseline;
  static const FieldTable<B> kTable = [] {
    FieldTable<B> t;
    t.push_back(Field("name", &B::name).Required());
    t.push_back(Field("description", &B::description));
    t.push_back(EnumField("scope_kind", &B::scope_kind, kScopeKindNames).InJson(JsonForm::kOwn));
    t.push_back(Field("scope_query", &B::scope_query).InJson(JsonForm::kOwn));
    t.push_back(Field("roots", &B::roots, FieldType::kCiIds).InJson(JsonForm::kOwn));
    t.push_back(EnumField("follow", &B::follow, kFollowNames).InJson(JsonForm::kOwn));
    t.push_back(Field("max_depth", &B::max_depth).InJson(JsonForm::kOwn));
    // The other impact options of a roots scope, stored only when not the default (older
    // records have none: every type, every class, redundancy on).
    auto types = Field("types", &B::types).InJson(JsonForm::kOwn);
    types.get = [](const B& b) { return b.types.empty() ? Value() : StrsValue(b.types); };
    t.push_back(std::move(types));
    auto classes = Field("classes", &B::classes).InJson(JsonForm::kOwn);
    classes.get = [](const B& b) { return b.classes.empty() ? Value() : StrsValue(b.classes); };
    t.push_back(std::move(classes));
    auto redundancy = Field("redundancy", &B::redundancy).InJson(JsonForm::kOwn);
    redundancy.get = [](const B& b) { return b.redundancy ? Value() : Value(false); };
    t.push_back(std::move(redundancy));
    t.push_back(Field("tx", &B::tx));
    t.push_back(Field("captured_at", &B::captured_at, FieldType::kTime));
    t.push_back(Field("created_by", &B::created_by));
    t.push_back(Field("release_id", &B::release_id).InJson(JsonForm::kOwn));
    t.push_back(Field("cis", &B::cis, FieldType::kCiIds).InJson(JsonForm::kOwn));
    t.push_back(Field("rels", &B::rels).InJson(JsonForm::kOwn));
    return t;
  }();
  return kTable;
}

DocRecord BaselineToDoc(const Baseline& b) {
  return RecordToDoc(kBaselineKind, BaselineFieldTable(), b);
}

Baseline BaselineFromDoc(const DocRecord& d) { return RecordFromDoc(BaselineFieldTable(), d); }

}  // namespace cmdb::process
