// Rows of the SQLite store's version tables read back as records, and its connections
// (internal to store/). Thread safety: plain functions; a statement or connection is used by
// one thread at a time.
#pragma once

#include <sqlite3.h>

#include <string>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "cmdb/store.hpp"
#include "store/sqlite_util.hpp"

namespace cmdb::sqlite {

// The columns each reader below expects, in this order.
inline constexpr const char* kCiCols =
    "id, version, class, attrs, created_at, updated_at, valid_from, valid_to, retired";
inline constexpr const char* kRelCols =
    "id, version, type, from_id, to_id, attrs, created_at, updated_at, valid_from, valid_to, retired";
inline constexpr const char* kTxCols =
    "id, time, actor, source, change_ref, message, cis_written, rels_written, schema_version, prev_hash, hash,"
    " unauthorized";
inline constexpr const char* kDocCols = "kind, id, version, body, updated_at, valid_from, valid_to, retired";

// A row of ci_versions / rel_versions / doc_versions / transactions (columns as above).
Result<CiRecord> ReadCi(const Stmt& s);
Result<RelRecord> ReadRel(const Stmt& s);
Result<DocRecord> ReadDoc(const Stmt& s);
TxRecord ReadTx(const Stmt& s);

// Opens a connection in WAL mode (synchronous FULL or NORMAL), with a 10 s busy timeout.
Result<sqlite3*> OpenConnection(const std::string& path, bool sync_full);

// SQLite reads a name that starts with "file:" as a URI naming another file, which would escape
// the database lock (taken on the name as given): cmdb takes file paths only.
Status CheckFilePath(const std::string& path);

}  // namespace cmdb::sqlite
