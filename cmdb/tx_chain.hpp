// The hash chain over the transaction log (tamper evidence).
//
// Each transaction stores hash = SHA-256(previous hash + its canonical content), where the
// content is the log entry and every record version it wrote, in id order. Recomputing the
// chain from the stored rows finds the first transaction whose content or link was altered.
// Thread safety: pure functions (TxChainHash may start and join a thread of its own).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/records.hpp"
#include "cmdb/status.hpp"

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

// The head of the log: its last transaction and that transaction's chain hash. An operator keeps
// a head outside the database (server log, backups) and hands it back to verification, which
// then also detects transactions removed from the tail of the log. Written "<tx>:<hash>".
struct ChainHead {
  TxId tx = 0;       // 0: an empty log
  std::string hash;  // 64 lower-case hex digits (kGenesisHash for an empty log)
};
// "<tx>:<hash>".
std::string FormatChainHead(const ChainHead& head);
// Parses "<tx>:<hash>" (hash: 64 hex digits, either case; kept lower-case). Invalid argument,
// naming the text, otherwise.
Result<ChainHead> ParseChainHead(std::string_view text);

// One stored row that fails a check: which table and row, and what differs.
struct IntegrityProblem {
  std::string table;   // "transactions", "ci_versions", "tokens", "provenance", ...
  std::string row;     // the row's key, e.g. "id=42 version=3"
  std::string reason;  // what differs, e.g. "valid_to is 19, but ..."
};

// What a verification checks besides the chain itself.
struct VerifyOptions {
  std::optional<ChainHead> head;  // a head kept outside the database: must still be in the log
};

// The outcome of verifying the chain (and, for stores that keep them, the keyed rows and the
// validity intervals of versions).
struct ChainReport {
  static constexpr size_t kMaxProblems = 100;
  bool ok = true;           // no problem found anywhere
  int64_t checked = 0;      // transactions recomputed
  TxId first_broken = 0;    // the first transaction whose hash or link fails; 0 when intact
  std::string reason;       // what is wrong there
  std::vector<IntegrityProblem> problems;  // every finding, in check order, at most kMaxProblems
  int64_t problems_omitted = 0;            // findings past kMaxProblems

  // Records a finding (ok becomes false).
  void Add(std::string table, std::string row, std::string why);
};

}  // namespace cmdb
