#include "process/baseline.hpp"

#include "process/doc_fields.hpp"

namespace cmdb::process {

DocRecord BaselineToDoc(const Baseline& b) {
  DocRecord d;
  d.kind = kBaselineKind;
  d.id = b.id;
  AttrMap& m = d.body;
  m.Set("name", b.name);
  m.Set("description", b.description);
  m.Set("scope_kind", b.scope_kind);
  m.Set("scope_query", b.scope_query);
  m.Set("roots", IntsValue(b.roots));
  m.Set("follow", b.follow);
  m.Set("max_depth", static_cast<int64_t>(b.max_depth));
  if (!b.types.empty()) m.Set("types", StrsValue(b.types));
  if (!b.classes.empty()) m.Set("classes", StrsValue(b.classes));
  if (!b.redundancy) m.Set("redundancy", false);
  m.Set("tx", b.tx);
  m.Set("captured_at", b.captured_at);
  m.Set("created_by", b.created_by);
  m.Set("release_id", b.release_id);
  m.Set("cis", IntsValue(b.cis));
  m.Set("rels", IntsValue(b.rels));
  return d;
}

Baseline BaselineFromDoc(const DocRecord& d) {
  Baseline b;
  const AttrMap& m = d.body;
  b.id = d.id;
  b.name = StrField(m, "name");
  b.description = StrField(m, "description");
  b.scope_kind = StrField(m, "scope_kind");
  b.scope_query = StrField(m, "scope_query");
  b.roots = IntsField(m, "roots");
  b.follow = StrField(m, "follow");
  b.max_depth = static_cast<int>(IntField(m, "max_depth"));
  b.types = StrsField(m, "types");
  b.classes = StrsField(m, "classes");
  b.redundancy = !m.Has("redundancy") || BoolField(m, "redundancy");  // older records: true
  b.tx = IntField(m, "tx");
  b.captured_at = IntField(m, "captured_at");
  b.created_by = StrField(m, "created_by");
  b.release_id = IntField(m, "release_id");
  b.cis = IntsField(m, "cis");
  b.rels = IntsField(m, "rels");
  return b;
}

}  // namespace cmdb::process
