#include "store/pg_rows.hpp"

#include "cmdb/attr_codec.hpp"

namespace cmdb::pg {

Result<CiRecord> ReadCi(const Row& s) {
  CiRecord c;
  c.id = s.Int(0);
  c.version = s.Int(1);
  c.class_name = s.Text(2);
  auto attrs = DecodeAttrs(s.Blob(3));
  if (!attrs.ok()) return attrs.status();
  c.attrs = std::move(*attrs);
  c.created_at = s.Int(4);
  c.updated_at = s.Int(5);
  c.valid_from = s.Int(6);
  c.valid_to = s.Int(7);
  c.retired = s.Int(8) != 0;
  return c;
}

Result<RelRecord> ReadRel(const Row& s) {
  RelRecord r;
  r.id = s.Int(0);
  r.version = s.Int(1);
  r.type = s.Text(2);
  r.from = s.Int(3);
  r.to = s.Int(4);
  auto attrs = DecodeAttrs(s.Blob(5));
  if (!attrs.ok()) return attrs.status();
  r.attrs = std::move(*attrs);
  r.created_at = s.Int(6);
  r.updated_at = s.Int(7);
  r.valid_from = s.Int(8);
  r.valid_to = s.Int(9);
  r.retired = s.Int(10) != 0;
  return r;
}

Result<DocRecord> ReadDoc(const Row& s) {
  DocRecord d;
  d.kind = s.Text(0);
  d.id = s.Int(1);
  d.version = s.Int(2);
  auto body = DecodeAttrs(s.Blob(3));
  if (!body.ok()) return body.status();
  d.body = std::move(*body);
  d.updated_at = s.Int(4);
  d.valid_from = s.Int(5);
  d.valid_to = s.Int(6);
  d.retired = s.Int(7) != 0;
  return d;
}

TxRecord ReadTx(const Row& s) {
  TxRecord t;
  t.id = s.Int(0);
  t.time = s.Int(1);
  t.actor = s.Text(2);
  t.source = s.Text(3);
  t.change_ref = s.Text(4);
  t.message = s.Text(5);
  t.cis_written = s.Int(6);
  t.rels_written = s.Int(7);
  t.schema_version = s.Int(8);
  t.prev_hash = s.Text(9);
  t.hash = s.Text(10);
  t.unauthorized = s.Text(11);
  return t;
}

TokenRecord ReadToken(const Row& s) {
  TokenRecord t;
  t.id = s.Int(0);
  t.name = s.Text(1);
  t.role = ParseRole(s.Text(2)).value_or(Role::kReader);
  t.hash = s.Text(3);
  t.created_at = s.Int(4);
  t.revoked_at = s.Int(5);
  return t;
}

}  // namespace cmdb::pg
