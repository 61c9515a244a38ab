#include "cmdb/mem_store.hpp"

#include <algorithm>
#include <type_traits>

namespace cmdb {

Result<StoreInfo> MemStore::Info() {
  std::lock_guard l(mu_);
  return info_;
}

Status MemStore::Initialize(bool open_mode) {
  std::lock_guard l(mu_);
  if (info_.initialized) return Status::Conflict("store already initialized");
  info_.initialized = true;
  info_.open_mode = open_mode;
  return Status::Ok();
}

Status MemStore::LoadCurrent(const std::function<void(CiRecord&&)>& ci_sink,
                             const std::function<void(RelRecord&&)>& rel_sink) {
  std::lock_guard l(mu_);
  for (auto& [id, versions] : cis_) {
    if (!versions.back().retired) ci_sink(CiRecord(versions.back()));
  }
  for (auto& [id, versions] : rels_) {
    if (!versions.back().retired) rel_sink(RelRecord(versions.back()));
  }
  return Status::Ok();
}

Status MemStore::LoadAsOf(TxId tx, const std::function<void(CiRecord&&)>& ci_sink,
                          const std::function<void(RelRecord&&)>& rel_sink) {
  std::lock_guard l(mu_);
  auto live = [tx](const auto& v) { return v.valid_from <= tx && (v.valid_to == kNoTx || v.valid_to > tx) && !v.retired; };
  for (auto& [id, versions] : cis_) {
    for (const auto& v : versions) if (live(v)) ci_sink(CiRecord(v));
  }
  for (auto& [id, versions] : rels_) {
    for (const auto& v : versions) if (live(v)) rel_sink(RelRecord(v));
  }
  return Status::Ok();
}

Status MemStore::LoadChangedSince(TxId as_of, TxId after,
                                  const std::function<void(CiId, std::optional<CiRecord>&&)>& ci_sink,
                                  const std::function<void(RelId, std::optional<RelRecord>&&)>& rel_sink) {
  if (as_of > after) return Status::Invalid("LoadChangedSince: as_of must not be after `after`");
  std::lock_guard l(mu_);
  // A plain scan of every version: the fake's answer is the oracle, not the fast path.
  auto live = [as_of](const auto& v) {
    return v.valid_from <= as_of && (v.valid_to == kNoTx || v.valid_to > as_of) && !v.retired;
  };
  auto scan = [&](auto& table, const auto& sink) {
    for (auto& [id, versions] : table) {
      bool changed = false;
      for (const auto& v : versions) changed = changed || TxId{v.valid_from} > after;
      if (!changed) continue;
      std::optional<std::decay_t<decltype(versions.front())>> then;
      for (const auto& v : versions) {
        if (live(v)) then = v;
      }
      sink(id, std::move(then));
    }
  };
  scan(cis_, ci_sink);
  scan(rels_, rel_sink);
  return Status::Ok();
}

Status MemStore::LoadWritten(TxId after, TxId last,
                             const std::function<void(CiRecord&&, std::optional<CiRecord>&&)>& ci_sink,
                             const std::function<void(RelRecord&&, std::optional<RelRecord>&&)>& rel_sink) {
  std::lock_guard l(mu_);
  // A plain scan of every version, sorted by (valid_from, id): the fake is the oracle.
  auto scan = [&](auto& table, const auto& sink) {
    using Rec = std::decay_t<decltype(table.begin()->second.front())>;
    std::vector<std::pair<Rec, std::optional<Rec>>> out;
    for (auto& [id, versions] : table) {
      for (size_t i = 0; i < versions.size(); ++i) {
        TxId from = versions[i].valid_from;
        if (from <= after || from > last) continue;
        std::optional<Rec> before;
        for (const auto& v : versions) {
          if (TxId{v.valid_to} == from) before = v;
        }
        out.emplace_back(versions[i], std::move(before));
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::pair(TxId{a.first.valid_from}, a.first.id) <
             std::pair(TxId{b.first.valid_from}, b.first.id);
    });
    for (auto& [now, before] : out) sink(std::move(now), std::move(before));
  };
  scan(cis_, ci_sink);
  scan(rels_, rel_sink);
  return Status::Ok();
}

Result<ChainHead> MemStore::Head() {
  std::lock_guard l(mu_);
  if (txs_.empty()) return ChainHead{0, kGenesisHash};
  return ChainHead{txs_.back().id, txs_.back().hash};
}

Result<ChainReport> MemStore::VerifyChain(const VerifyOptions& options) {
  std::lock_guard l(mu_);
  ChainReport report;
  if (options.head && options.head->tx > 0) {
    auto it = std::find_if(txs_.begin(), txs_.end(), [&](const TxRecord& t) { return t.id == options.head->tx; });
    if (it == txs_.end()) {
      report.Add("transactions", "id=" + std::to_string(options.head->tx), "the head is no longer in the log");
    } else if (it->hash != options.head->hash) {
      report.Add("transactions", "id=" + std::to_string(options.head->tx), "its hash differs from the head's");
    }
  }
  std::string prev = kGenesisHash;
  for (size_t i = 0; i < txs_.size(); ++i) {
    const TxRecord& t = txs_[i];
    std::vector<CiRecord> cis;
    std::vector<RelRecord> rels;
    for (const auto& [id, versions] : cis_) for (const auto& v : versions) if (v.valid_from == t.id) cis.push_back(v);
    for (const auto& [id, versions] : rels_) for (const auto& v : versions) if (v.valid_from == t.id) rels.push_back(v);
    std::vector<DocRecord> docs;
    for (const auto& [key, versions] : docs_) for (const auto& v : versions) if (v.valid_from == t.id) docs.push_back(v);
    ++report.checked;
    if (t.prev_hash != prev || ChainHash(prev, TxCanonical(t, cis, rels, docs, tx_ddl_[i])) != t.hash) {
      report.ok = false;
      report.first_broken = t.id;
      report.reason = t.prev_hash != prev ? "its link to the previous transaction is broken"
                                          : "its content does not match its hash";
      report.Add("transactions", "id=" + std::to_string(t.id), report.reason);
      return report;
    }
    prev = t.hash;
  }
  return report;
}

Result<TxId> MemStore::TxAtTime(int64_t micros) {
  std::lock_guard l(mu_);
  TxId best = 0;
  for (const auto& t : txs_) if (t.time <= micros) best = t.id;
  return best;
}

Status MemStore::Commit(const WriteSet& ws) {
  std::lock_guard l(mu_);
  if (fail_next_) {
    fail_next_ = false;
    return Status::Internal("injected commit failure");
  }
  for (const CiRecord& c : ws.cis) {
    auto& v = cis_[c.id];
    if (!v.empty()) v.back().valid_to = ws.tx.id;
    v.push_back(c);
    info_.max_ci_id = std::max(info_.max_ci_id, c.id);
  }
  for (const RelRecord& r : ws.rels) {
    auto& v = rels_[r.id];
    if (!v.empty()) v.back().valid_to = ws.tx.id;
    v.push_back(r);
    info_.max_rel_id = std::max(info_.max_rel_id, r.id);
  }
  for (const DocRecord& d : ws.docs) {
    auto& v = docs_[{d.kind, d.id}];
    if (!v.empty()) v.back().valid_to = ws.tx.id;
    v.push_back(d);
  }
  for (const Provenance& p : ws.provenance) provenance_[{p.relationship, p.id, p.source}] = p;
  if (!ws.schema_ddl.empty()) {
    info_.schema_ddl = ws.schema_ddl;
    info_.schema_version = ws.tx.schema_version;
  }
  TxRecord tx = ws.tx;
  tx.prev_hash = txs_.empty() ? kGenesisHash : txs_.back().hash;
  tx.hash = TxChainHash(tx.prev_hash, tx, ws);
  txs_.push_back(tx);
  tx_ddl_.push_back(ws.schema_ddl);
  info_.last_tx = ws.tx.id;
  return Status::Ok();
}

Result<std::vector<CiRecord>> MemStore::CiHistory(CiId id) {
  std::lock_guard l(mu_);
  auto it = cis_.find(id);
  return it == cis_.end() ? std::vector<CiRecord>{} : it->second;
}

Result<std::vector<RelRecord>> MemStore::RelHistory(RelId id) {
  std::lock_guard l(mu_);
  auto it = rels_.find(id);
  return it == rels_.end() ? std::vector<RelRecord>{} : it->second;
}

Result<std::optional<CiRecord>> MemStore::LatestCi(CiId id) {
  std::lock_guard l(mu_);
  auto it = cis_.find(id);
  if (it == cis_.end()) return std::optional<CiRecord>();
  return std::optional<CiRecord>(it->second.back());
}

Result<std::vector<TxRecord>> MemStore::Transactions(TxId since, int limit) {
  std::lock_guard l(mu_);
  std::vector<TxRecord> out;
  for (const TxRecord& t : txs_) {
    if (t.id > since && static_cast<int>(out.size()) < limit) out.push_back(t);
  }
  return out;
}

Result<std::vector<TxRecord>> MemStore::FlaggedTransactions(TxId since, int limit) {
  std::lock_guard l(mu_);
  std::vector<TxRecord> out;
  for (const TxRecord& t : txs_) {
    if (t.id > since && !t.unauthorized.empty() && static_cast<int>(out.size()) < limit) out.push_back(t);
  }
  return out;
}

Status MemStore::LoadDocs(const std::function<void(DocRecord&&)>& sink) {
  std::lock_guard l(mu_);
  for (auto& [key, versions] : docs_) sink(DocRecord(versions.back()));
  return Status::Ok();
}

Status MemStore::LoadProvenance(const std::function<void(Provenance&&)>& sink) {
  std::lock_guard l(mu_);
  for (const auto& [key, p] : provenance_) sink(Provenance(p));
  return Status::Ok();
}

Result<std::vector<DocRecord>> MemStore::DocHistory(const std::string& kind, int64_t id) {
  std::lock_guard l(mu_);
  auto it = docs_.find({kind, id});
  return it == docs_.end() ? std::vector<DocRecord>{} : it->second;
}

Result<TokenRecord> MemStore::CreateToken(TokenRecord token) {
  std::lock_guard l(mu_);
  for (const auto& t : tokens_) {
    if (t.name == token.name) return Status::Conflict("a token named '" + token.name + "' already exists");
  }
  token.id = static_cast<int64_t>(tokens_.size()) + 1;
  tokens_.push_back(token);
  return token;
}

Result<std::vector<TokenRecord>> MemStore::ListTokens() {
  std::lock_guard l(mu_);
  return tokens_;
}

Status MemStore::RevokeToken(const std::string& name, int64_t now) {
  std::lock_guard l(mu_);
  for (auto& t : tokens_) {
    if (t.name == name && t.revoked_at == 0) {
      t.revoked_at = now;
      return Status::Ok();
    }
  }
  return Status::NotFound("no valid token named '" + name + "'");
}

Result<std::optional<TokenRecord>> MemStore::FindToken(const std::string& hash) {
  std::lock_guard l(mu_);
  for (const auto& t : tokens_) {
    if (t.hash == hash && t.revoked_at == 0) return std::optional<TokenRecord>(t);
  }
  return std::optional<TokenRecord>();
}

}  // namespace cmdb
