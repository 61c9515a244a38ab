// VersionWriter: appends CI and relationship versions to the history tables (ci_versions,
// rel_versions) with statements prepared once for many rows: by a commit, and by the worker of
// a stream (sqlite_stream.hpp) that writes a bulk load's rows before its commit.
// Thread safety: belongs to one connection; use from one thread at a time.
#pragma once

#include "cmdb/records.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb::sqlite {

class VersionWriter {
 public:
  explicit VersionWriter(sqlite3* db);
  // Why a statement could not be prepared; OK otherwise.
  Status status() const;

  // Appends `c` as written by transaction `tx`, first closing the version it supersedes.
  Status PutCi(const CiRecord& c, TxId tx);
  Status PutRel(const RelRecord& r, TxId tx);
  // Overwrites the version of `c` that transaction `tx` appended earlier (a row streamed before
  // the record changed again in the same transaction) with the record's final content.
  Status RewriteCi(const CiRecord& c, TxId tx);
  Status RewriteRel(const RelRecord& r, TxId tx);

 private:
  Stmt close_ci_, put_ci_, rewrite_ci_;
  Stmt close_rel_, put_rel_, rewrite_rel_;
};

}  // namespace cmdb::sqlite
