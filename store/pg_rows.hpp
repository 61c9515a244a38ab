// Rows of the PostgreSQL store's tables read back as records (internal to store/).
// Thread safety: plain functions.
#pragma once

#include "cmdb/auth.hpp"
#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "store/pg_util.hpp"

namespace cmdb::pg {

// The columns each reader below expects, in this order (the same as the SQLite store's).
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
inline constexpr const char* kTokenCols = "id, name, role, hash, created_at, revoked_at";

// A row of ci_versions / rel_versions / doc_versions / transactions / tokens (columns as above).
Result<CiRecord> ReadCi(const Row& s);
Result<RelRecord> ReadRel(const Row& s);
Result<DocRecord> ReadDoc(const Row& s);
TxRecord ReadTx(const Row& s);
TokenRecord ReadToken(const Row& s);

}  // namespace cmdb::pg
