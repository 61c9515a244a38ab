// Rows of the PostgreSQL store's tables read back as records (internal to store/).
// Thread safety: plain functions.
#pragma once

#include "cmdb/auth.hpp"
#include "cmdb/records.hpp"
#include "cmdb/status.hpp"
#include "store/pg_util.hpp"
#include "store/record_rows.hpp"

namespace cmdb::pg {

// The columns and readers of the version tables, shared with the other store.
using store_rows::kCiCols;
using store_rows::kDocCols;
using store_rows::kRelCols;
using store_rows::kTxCols;
// A row of ci_versions / rel_versions / doc_versions / transactions (columns as above).
inline Result<CiRecord> ReadCi(const Row& s) { return store_rows::ReadCi(s); }
inline Result<RelRecord> ReadRel(const Row& s) { return store_rows::ReadRel(s); }
inline Result<DocRecord> ReadDoc(const Row& s) { return store_rows::ReadDoc(s); }
inline TxRecord ReadTx(const Row& s) { return store_rows::ReadTx(s); }

inline constexpr const char* kTokenCols = "id, name, role, hash, created_at, revoked_at";

// A row of tokens (kTokenCols).
TokenRecord ReadToken(const Row& s);

}  // namespace cmdb::pg
