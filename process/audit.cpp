#include "process/audit.hpp"

namespace cmdb::process {
namespace {

constexpr const char* kFindingKindNames[] = {"missing", "unexpected", "attribute_drift",
                                             "relationship_drift"};

// An attribute difference as a stored tuple: [name, before, after], and when a side is absent
// (an attribute missing on one side: a null, which a stored value cannot hold) a fourth element,
// the mask of absent sides (1: before, 2: after), with false in their places. Bodies without the
// fourth element (every one written before it existed) have both sides.
Value AttrDiffTuple(const AttrDiff& d) {
  int64_t absent = (d.before.is_null() ? 1 : 0) | (d.after.is_null() ? 2 : 0);
  ValueList t{d.name, d.before.is_null() ? Value(false) : d.before,
              d.after.is_null() ? Value(false) : d.after};
  if (absent) t.emplace_back(absent);
  return Value(std::move(t));
}

AttrDiff AttrDiffFromTuple(const ValueList& t) {
  int64_t absent = t.size() > 3 && t[3].is_int() ? t[3].as_int() : 0;
  return {StrAt(t, 0), (absent & 1) ? Value() : t[1], (absent & 2) ? Value() : t[2]};
}

}  // namespace

const char* FindingKindName(FindingKind k) { return kFindingKindNames[static_cast<int>(k)]; }

const FieldTable<AuditReport>& AuditFieldTable() {
  using A = AuditReport;
  static const FieldTable<A> kTable = [] {
    FieldTable<A> t;
    t.push_back(Field("source", &A::source));
    t.push_back(Field("time", &A::time, FieldType::kTime));
    t.push_back(Field("actor", &A::actor));
    t.push_back(Field("tx", &A::tx));
    t.push_back(Field("checked", &A::checked));
    t.push_back(TupleField<A>(
        "counts",
        [](const A& a) {
          return Value(ValueList{a.missing, a.unexpected, a.attribute_drift, a.relationship_drift});
        },
        [](A& a, const Value& v) {
          if (!v.is_list()) return;
          const ValueList& counts = v.as_list();
          a.missing = IntAt(counts, 0);
          a.unexpected = IntAt(counts, 1);
          a.attribute_drift = IntAt(counts, 2);
          a.relationship_drift = IntAt(counts, 3);
        }));
    t.push_back(TupleField<A>(
        "findings",
        [](const A& a) {
          ValueList findings;
          for (const auto& f : a.findings) {
            ValueList attrs;
            for (const auto& d : f.attrs) attrs.emplace_back(AttrDiffTuple(d));
            findings.emplace_back(
                ValueList{FindingKindName(f.kind), f.ci, f.description, Value(std::move(attrs))});
          }
          return Value(std::move(findings));
        },
        [](A& a, const Value& v) {
          a.findings.clear();
          if (!v.is_list()) return;
          for (const Value& x : v.as_list()) {
            if (!x.is_list()) continue;
            const ValueList& t = x.as_list();
            AuditFinding f{EnumByName<FindingKind>(kFindingKindNames, StrAt(t, 0))
                               .value_or(FindingKind::kMissing),
                           IntAt(t, 1),
                           StrAt(t, 2),
                           {}};
            if (t.size() > 3 && t[3].is_list()) {
              for (const Value& d : t[3].as_list()) {
                if (!d.is_list() || d.as_list().size() < 3) continue;
                f.attrs.push_back(AttrDiffFromTuple(d.as_list()));
              }
            }
            a.findings.push_back(std::move(f));
          }
        }));
    return t;
  }();
  return kTable;
}

DocRecord AuditToDoc(const AuditReport& a) { return RecordToDoc(kAuditKind, AuditFieldTable(), a); }

AuditReport AuditFromDoc(const DocRecord& d) { return RecordFromDoc(AuditFieldTable(), d); }

}  // namespace cmdb::process
