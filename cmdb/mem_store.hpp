// MemStore: an in-memory Store for tests. Keeps every version like the SQLite store does.
// Can be told to fail the next commit, to test that a failed commit changes nothing.
// Thread safety: internally locked.
#pragma once

#include <map>
#include <tuple>
#include <mutex>

#include "cmdb/store.hpp"

namespace cmdb {

class MemStore : public Store {
 public:
  Result<StoreInfo> Info() override;
  Status Initialize(bool open_mode) override;
  Status LoadCurrent(const std::function<void(CiRecord&&)>& ci_sink,
                     const std::function<void(RelRecord&&)>& rel_sink) override;
  Status Commit(const WriteSet& ws) override;
  Status LoadAsOf(TxId tx, const std::function<void(CiRecord&&)>& ci_sink,
                  const std::function<void(RelRecord&&)>& rel_sink) override;
  Status LoadChangedSince(TxId as_of, TxId after,
                          const std::function<void(CiId, std::optional<CiRecord>&&)>& ci_sink,
                          const std::function<void(RelId, std::optional<RelRecord>&&)>& rel_sink) override;
  Status LoadWritten(TxId after, TxId last,
                     const std::function<void(CiRecord&&, std::optional<CiRecord>&&)>& ci_sink,
                     const std::function<void(RelRecord&&, std::optional<RelRecord>&&)>& rel_sink) override;
  Result<TxId> TxAtTime(int64_t micros) override;
  Result<ChainReport> VerifyChain(const VerifyOptions& options = {}) override;
  Result<ChainHead> Head() override;
  Result<std::vector<CiRecord>> CiHistory(CiId id) override;
  Result<std::vector<RelRecord>> RelHistory(RelId id) override;
  Result<std::optional<CiRecord>> LatestCi(CiId id) override;
  Result<std::vector<TxRecord>> Transactions(TxId since, int limit) override;
  Result<std::vector<TxRecord>> FlaggedTransactions(TxId since, int limit) override;
  Status LoadDocs(const std::function<void(DocRecord&&)>& sink) override;
  Status LoadProvenance(const std::function<void(Provenance&&)>& sink) override;
  Result<std::vector<DocRecord>> DocHistory(const std::string& kind, int64_t id) override;
  Result<TokenRecord> CreateToken(TokenRecord token) override;
  Result<std::vector<TokenRecord>> ListTokens() override;
  Status RevokeToken(const std::string& name, int64_t now) override;
  Result<std::optional<TokenRecord>> FindToken(const std::string& hash) override;

  // Makes Info() report `tx` as the last transaction, as a store that has seen that many would
  // (tests of the transaction id limit).
  void SetLastTx(TxId tx) { std::lock_guard l(mu_); info_.last_tx = tx; }
  // The next Commit fails with kInternal and stores nothing.
  void FailNextCommit() { std::lock_guard l(mu_); fail_next_ = true; }

 private:
  std::mutex mu_;
  StoreInfo info_;
  bool fail_next_ = false;
  std::map<CiId, std::vector<CiRecord>> cis_;
  std::map<RelId, std::vector<RelRecord>> rels_;
  std::map<std::pair<std::string, int64_t>, std::vector<DocRecord>> docs_;
  std::map<std::tuple<bool, int64_t, std::string>, Provenance> provenance_;
  std::vector<TxRecord> txs_;
  std::vector<std::string> tx_ddl_;  // schema DDL per transaction (for the chain)
  std::vector<TokenRecord> tokens_;
};

}  // namespace cmdb
