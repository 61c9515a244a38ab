// The hash chain over the transaction log (tamper evidence).
//
// Each transaction stores hash = SHA-256(previous hash + its canonical content), where the
// content is the log entry and every record version it wrote, in id order. Recomputing the
// chain from the stored rows finds the first transaction whose content or link was altered.
// Thread safety: pure functions (TxChainHash may start and join a thread of its own).
#pragma once

#include <string>
#include <vector>

#include "cmdb/records.hpp"

namespace cmdb {

inline constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

// Canonical bytes of a transaction's content. `cis` and `rels` must be in id order, `docs` in
// (kind, id) order. An empty `unauthorized` flag and no docs add nothing, so logs written
// before those existed still verify.
std::string TxCanonical(const TxRecord& tx, const std::vector<CiRecord>& cis, const std::vector<RelRecord>& rels,
                        const std::vector<DocRecord>& docs, const std::string& schema_ddl);
// Sorts process-record versions into the canonical (kind, id) order.
void SortDocs(std::vector<DocRecord>& docs);
// hex SHA-256 of prev_hash + canonical content.
std::string ChainHash(const std::string& prev_hash, const std::string& canonical);
// The same hash for a write set about to be committed as `tx` (whose metadata may differ from
// ws.tx: the store fills in prev_hash): records are taken in canonical order without copying and
// hashed as they are encoded, so no canonical string is built; from 4,096 records the digest
// runs on a second thread while the next bytes are encoded (memory stays bounded). Equal to
// ChainHash(prev_hash, TxCanonical(tx, sorted cis, sorted rels, sorted docs, ws.schema_ddl)).
std::string TxChainHash(const std::string& prev_hash, const TxRecord& tx, const WriteSet& ws);

// The outcome of verifying the chain.
struct ChainReport {
  bool ok = true;
  int64_t checked = 0;      // transactions recomputed
  TxId first_broken = 0;    // 0 when intact
  std::string reason;       // what is wrong there
};

}  // namespace cmdb
