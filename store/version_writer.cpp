#include "store/version_writer.hpp"

#include "cmdb/attr_codec.hpp"

namespace cmdb::sqlite {

VersionWriter::VersionWriter(sqlite3* db)
    : close_ci_(db, "UPDATE ci_versions SET valid_to = ? WHERE id = ? AND valid_to IS NULL"),
      put_ci_(db,
              "INSERT INTO ci_versions(id, version, class, attrs, created_at, updated_at,"
              " valid_from, retired) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      rewrite_ci_(db,
                  "UPDATE ci_versions SET version = ?, class = ?, attrs = ?, created_at = ?,"
                  " updated_at = ?, retired = ? WHERE id = ? AND valid_from = ?"),
      close_rel_(db, "UPDATE rel_versions SET valid_to = ? WHERE id = ? AND valid_to IS NULL"),
      put_rel_(db,
               "INSERT INTO rel_versions(id, version, type, from_id, to_id, attrs, created_at,"
               " updated_at, valid_from, retired) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      rewrite_rel_(db,
                   "UPDATE rel_versions SET version = ?, type = ?, from_id = ?, to_id = ?,"
                   " attrs = ?, created_at = ?, updated_at = ?, retired = ?"
                   " WHERE id = ? AND valid_from = ?") {}

Status VersionWriter::status() const {
  for (const Stmt* s :
       {&close_ci_, &put_ci_, &rewrite_ci_, &close_rel_, &put_rel_, &rewrite_rel_}) {
    if (!s->ok()) return s->Error();
  }
  return Status::Ok();
}

Status VersionWriter::PutCi(const CiRecord& c, TxId tx) {
  if (c.version > 1 || c.retired) CMDB_RETURN_IF_ERROR(close_ci_.Bind(1, tx).Bind(2, c.id).Run());
  put_ci_.Bind(1, c.id).Bind(2, c.version).Bind(3, c.class_name).BindBlob(4, EncodeAttrs(c.attrs));
  put_ci_.Bind(5, c.created_at).Bind(6, c.updated_at).Bind(7, tx).Bind(8, c.retired ? 1 : 0);
  return put_ci_.Run();
}

Status VersionWriter::PutRel(const RelRecord& r, TxId tx) {
  if (r.version > 1 || r.retired) CMDB_RETURN_IF_ERROR(close_rel_.Bind(1, tx).Bind(2, r.id).Run());
  put_rel_.Bind(1, r.id).Bind(2, r.version).Bind(3, r.type).Bind(4, r.from).Bind(5, r.to);
  put_rel_.BindBlob(6, EncodeAttrs(r.attrs)).Bind(7, r.created_at).Bind(8, r.updated_at);
  put_rel_.Bind(9, tx).Bind(10, r.retired ? 1 : 0);
  return put_rel_.Run();
}

Status VersionWriter::RewriteCi(const CiRecord& c, TxId tx) {
  rewrite_ci_.Bind(1, c.version).Bind(2, c.class_name).BindBlob(3, EncodeAttrs(c.attrs));
  rewrite_ci_.Bind(4, c.created_at).Bind(5, c.updated_at).Bind(6, c.retired ? 1 : 0);
  rewrite_ci_.Bind(7, c.id).Bind(8, tx);
  return rewrite_ci_.Run();
}

Status VersionWriter::RewriteRel(const RelRecord& r, TxId tx) {
  rewrite_rel_.Bind(1, r.version).Bind(2, r.type).Bind(3, r.from).Bind(4, r.to);
  rewrite_rel_.BindBlob(5, EncodeAttrs(r.attrs)).Bind(6, r.created_at).Bind(7, r.updated_at);
  rewrite_rel_.Bind(8, r.retired ? 1 : 0).Bind(9, r.id).Bind(10, tx);
  return rewrite_rel_.Run();
}

}  // namespace cmdb::sqlite
