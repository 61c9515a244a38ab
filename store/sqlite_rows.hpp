// Rows of the SQLite store's version tables read back as records, and its connections
// (internal to store/). Thread safety: plain functions; a statement or connection is used by
// one thread at a time.
#pragma once

#include <sqlite3.h>

#include <string>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "cmdb/store.hpp"
#include "store/record_rows.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb::sqlite {

// The columns and readers of the version tables, shared with the other store.
using store_rows::kCiCols;
using store_rows::kDocCols;
using store_rows::kRelCols;
using store_rows::kTxCols;
// A row of ci_versions / rel_versions / doc_versions / transactions (columns as above).
inline Result<CiRecord> ReadCi(const Stmt& s) { return store_rows::ReadCi(s); }
inline Result<RelRecord> ReadRel(const Stmt& s) { return store_rows::ReadRel(s); }
inline Result<DocRecord> ReadDoc(const Stmt& s) { return store_rows::ReadDoc(s); }
inline TxRecord ReadTx(const Stmt& s) { return store_rows::ReadTx(s); }

// Opens a connection in WAL mode (synchronous FULL or NORMAL), with a 10 s busy timeout.
Result<sqlite3*> OpenConnection(const std::string& path, bool sync_full);

// SQLite reads a name that starts with "file:" as a URI naming another file, which would escape
// the database lock (taken on the name as given): cmdb takes file paths only.
Status CheckFilePath(const std::string& path);

}  // namespace cmdb::sqlite
