// The version tables' rows read back as records, shared by the SQLite and PostgreSQL stores
// (internal to store/). A row type `R` offers Int(col) -> int64_t, Text(col) -> string and
// Blob(col) -> the encoded attributes (sqlite::Stmt, pg::Row). Both stores lay the tables out
// alike, so one column list and one reader serve both.
// Thread safety: plain functions over a row the caller owns.
#pragma once

#include "cmdb/attr_codec.hpp"
#include "cmdb/records.hpp"
#include "cmdb/status.hpp"

namespace cmdb::store_rows {

// The columns each reader below expects, in this order.
inline constexpr const char* kCiCols =
    "id, version, class, attrs, created_at, updated_at, valid_from, valid_to, retired";
inline constexpr const char* kRelCols =
    "id, version, type, from_id, to_id, attrs, created_at, updated_at, valid_from, valid_to, "
    "retired";
inline constexpr const char* kTxCols =
    "id, time, actor, source, change_ref, message, cis_written, rels_written, schema_version, "
    "prev_hash, hash, unauthorized";
inline constexpr const char* kDocCols =
    "kind, id, version, body, updated_at, valid_from, valid_to, retired";

// A row of ci_versions (kCiCols); an error when its attributes do not decode.
template <typename R>
Result<CiRecord> ReadCi(const R& s) {
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

// A row of rel_versions (kRelCols); an error when its attributes do not decode.
template <typename R>
Result<RelRecord> ReadRel(const R& s) {
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

// A row of doc_versions (kDocCols); an error when its body does not decode.
template <typename R>
Result<DocRecord> ReadDoc(const R& s) {
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

// A row of transactions (kTxCols).
template <typename R>
TxRecord ReadTx(const R& s) {
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

}  // namespace cmdb::store_rows
