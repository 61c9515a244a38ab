#include "store/version_writer.hpp"

#include <string>

#include "cmdb/attr_codec.hpp"

namespace cmdb::sqlite {

namespace {

constexpr const char* kPutCi =
    "INSERT INTO ci_versions(id, version, class, attrs, created_at, updated_at, valid_from,"
    " retired) VALUES ";
constexpr const char* kCiRow = "(?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kPutRel =
    "INSERT INTO rel_versions(id, version, type, from_id, to_id, attrs, created_at, updated_at,"
    " valid_from, retired) VALUES ";
constexpr const char* kRelRow = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// An INSERT of `rows` rows.
std::string InsertOf(const char* head, const char* row, size_t rows) {
  std::string sql = head;
  for (size_t i = 0; i < rows; ++i) (sql += i ? ", " : "") += row;
  return sql;
}

}  // namespace

VersionWriter::VersionWriter(sqlite3* db)
    : db_(db),
      close_ci_(db, "UPDATE ci_versions SET valid_to = ? WHERE id = ? AND valid_to IS NULL"),
      put_ci_(db, InsertOf(kPutCi, kCiRow, 1).c_str()),
      rewrite_ci_(db,
                  "UPDATE ci_versions SET version = ?, class = ?, attrs = ?, created_at = ?,"
                  " updated_at = ?, retired = ? WHERE id = ? AND valid_from = ?"),
      close_rel_(db, "UPDATE rel_versions SET valid_to = ? WHERE id = ? AND valid_to IS NULL"),
      put_rel_(db, InsertOf(kPutRel, kRelRow, 1).c_str()),
      rewrite_rel_(db,
                   "UPDATE rel_versions SET version = ?, type = ?, from_id = ?, to_id = ?,"
                   " attrs = ?, created_at = ?, updated_at = ?, retired = ?"
                   " WHERE id = ? AND valid_from = ?") {}

Status VersionWriter::status() const {
  for (const Stmt* s : {&close_ci_, &put_ci_, &rewrite_ci_, &close_rel_, &put_rel_, &rewrite_rel_}) {
    if (!s->ok()) return s->Error();
  }
  return Status::Ok();
}

void VersionWriter::BindCi(Stmt& s, size_t row, const CiRecord& c, TxId tx) {
  int at = static_cast<int>(row * 8);
  s.Bind(at + 1, c.id).Bind(at + 2, c.version).Bind(at + 3, c.class_name);
  s.BindBlob(at + 4, EncodeAttrs(c.attrs)).Bind(at + 5, c.created_at).Bind(at + 6, c.updated_at);
  s.Bind(at + 7, tx).Bind(at + 8, c.retired ? 1 : 0);
}

void VersionWriter::BindRel(Stmt& s, size_t row, const RelRecord& r, TxId tx) {
  int at = static_cast<int>(row * 10);
  s.Bind(at + 1, r.id).Bind(at + 2, r.version).Bind(at + 3, r.type).Bind(at + 4, r.from);
  s.Bind(at + 5, r.to).BindBlob(at + 6, EncodeAttrs(r.attrs)).Bind(at + 7, r.created_at);
  s.Bind(at + 8, r.updated_at).Bind(at + 9, tx).Bind(at + 10, r.retired ? 1 : 0);
}

Status VersionWriter::PutCis(std::span<const CiRecord> cis, TxId tx) {
  for (const CiRecord& c : cis) {  // before the new rows: they have no valid_to either
    if (c.version > 1 || c.retired) CMDB_RETURN_IF_ERROR(close_ci_.Bind(1, tx).Bind(2, c.id).Run());
  }
  size_t i = 0;
  if (cis.size() >= kRowsPerInsert && !put_cis_) {
    put_cis_ = std::make_unique<Stmt>(db_, InsertOf(kPutCi, kCiRow, kRowsPerInsert).c_str());
    if (!put_cis_->ok()) return put_cis_->Error();
  }
  for (; i + kRowsPerInsert <= cis.size(); i += kRowsPerInsert) {
    for (size_t row = 0; row < kRowsPerInsert; ++row) BindCi(*put_cis_, row, cis[i + row], tx);
    CMDB_RETURN_IF_ERROR(put_cis_->Run());
  }
  for (; i < cis.size(); ++i) {
    BindCi(put_ci_, 0, cis[i], tx);
    CMDB_RETURN_IF_ERROR(put_ci_.Run());
  }
  return Status::Ok();
}

Status VersionWriter::PutRels(std::span<const RelRecord> rels, TxId tx) {
  for (const RelRecord& r : rels) {
    if (r.version > 1 || r.retired) CMDB_RETURN_IF_ERROR(close_rel_.Bind(1, tx).Bind(2, r.id).Run());
  }
  size_t i = 0;
  if (rels.size() >= kRowsPerInsert && !put_rels_) {
    put_rels_ = std::make_unique<Stmt>(db_, InsertOf(kPutRel, kRelRow, kRowsPerInsert).c_str());
    if (!put_rels_->ok()) return put_rels_->Error();
  }
  for (; i + kRowsPerInsert <= rels.size(); i += kRowsPerInsert) {
    for (size_t row = 0; row < kRowsPerInsert; ++row) BindRel(*put_rels_, row, rels[i + row], tx);
    CMDB_RETURN_IF_ERROR(put_rels_->Run());
  }
  for (; i < rels.size(); ++i) {
    BindRel(put_rel_, 0, rels[i], tx);
    CMDB_RETURN_IF_ERROR(put_rel_.Run());
  }
  return Status::Ok();
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
