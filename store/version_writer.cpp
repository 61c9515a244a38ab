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

// Appends `records`: closes first, then the rows in statements of kRowsPerInsert (`many`,
// prepared from `insert` on first use) and one at a time for the remainder (`one`).
template <typename Record, typename Bind>
Status VersionWriter::PutRows(std::span<const Record> records, TxId tx, Stmt& close, Stmt& one,
                              std::unique_ptr<Stmt>& many, const std::string& insert, Bind bind) {
  for (const Record& r : records) {  // before the new rows: they have no valid_to either
    if (r.version > 1 || r.retired) CMDB_RETURN_IF_ERROR(close.Bind(1, tx).Bind(2, r.id).Run());
  }
  size_t i = 0;
  if (records.size() >= kRowsPerInsert && !many) {
    many = std::make_unique<Stmt>(db_, insert.c_str());
    if (!many->ok()) return many->Error();
  }
  for (; i + kRowsPerInsert <= records.size(); i += kRowsPerInsert) {
    for (size_t row = 0; row < kRowsPerInsert; ++row) bind(*many, row, records[i + row], tx);
    CMDB_RETURN_IF_ERROR(many->Run());
  }
  for (; i < records.size(); ++i) {
    bind(one, 0, records[i], tx);
    CMDB_RETURN_IF_ERROR(one.Run());
  }
  return Status::Ok();
}

Status VersionWriter::PutCis(std::span<const CiRecord> cis, TxId tx) {
  static const std::string kInsert = InsertOf(kPutCi, kCiRow, kRowsPerInsert);
  return PutRows(cis, tx, close_ci_, put_ci_, put_cis_, kInsert, &VersionWriter::BindCi);
}

Status VersionWriter::PutRels(std::span<const RelRecord> rels, TxId tx) {
  static const std::string kInsert = InsertOf(kPutRel, kRelRow, kRowsPerInsert);
  return PutRows(rels, tx, close_rel_, put_rel_, put_rels_, kInsert, &VersionWriter::BindRel);
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
