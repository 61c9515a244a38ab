// VersionWriter: appends CI and relationship versions to the history tables (ci_versions,
// rel_versions) with statements prepared once for many rows: by a commit, and by the worker of
// a stream (sqlite_stream.hpp) that writes a bulk load's rows before its commit.
// Thread safety: belongs to one connection; use from one thread at a time.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "cmdb/records.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb::sqlite {

class VersionWriter {
 public:
  explicit VersionWriter(sqlite3* db);
  // Why a statement could not be prepared; OK otherwise.
  Status status() const;

  // Appends the records as written by transaction `tx`, first closing the versions they
  // supersede. The ids must be distinct (one version per item and transaction). Rows go in
  // multi-row INSERTs of kRowsPerInsert: a statement per row costs SQLite about as much again
  // as the row itself.
  Status PutCis(std::span<const CiRecord> cis, TxId tx);
  Status PutRels(std::span<const RelRecord> rels, TxId tx);
  // Overwrites the version of `c` that transaction `tx` appended earlier (a row streamed before
  // the record changed again in the same transaction) with the record's final content.
  Status RewriteCi(const CiRecord& c, TxId tx);
  Status RewriteRel(const RelRecord& r, TxId tx);

 private:
  static constexpr size_t kRowsPerInsert = 64;
  // Binds the row of `c` (or `r`) as the row at 0-based position `row` of `s`.
  static void BindCi(Stmt& s, size_t row, const CiRecord& c, TxId tx);
  static void BindRel(Stmt& s, size_t row, const RelRecord& r, TxId tx);
  template <typename Record, typename Bind>
  Status PutRows(std::span<const Record> records, TxId tx, Stmt& close, Stmt& one,
                 std::unique_ptr<Stmt>& many, const std::string& insert, Bind bind);

  sqlite3* db_;
  Stmt close_ci_, put_ci_, rewrite_ci_;
  Stmt close_rel_, put_rel_, rewrite_rel_;
  // The multi-row INSERTs, prepared on first use: preparing one costs about as much as a small
  // commit, which most commits are.
  std::unique_ptr<Stmt> put_cis_, put_rels_;
};

}  // namespace cmdb::sqlite
