// Txn: the staging area of one write transaction.
//
// Every operation validates against the schema and the current graph plus what this txn has
// already staged (types, NOT NULL, enums, KEY/UNIQUE, endpoint classes, cardinality, optimistic
// versions) and either stages new record versions or returns an error and stages nothing.
// A Txn is created and committed (or, for a dry run, discarded) only by the Database. It never
// changes the graph. It does not touch the store either, except that a large write streams its
// staged rows into the store's open, uncommitted transaction while staging goes on
// (EnableStreaming, Flush): they become visible only when Database::Write commits, and are
// rolled back otherwise (a dry run never streams).
// Thread safety: single-threaded; the database runs one writer at a time.
#pragma once

#include <map>
#include <memory>
#include <tuple>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cmdb/graph.hpp"
#include "cmdb/hash_index.hpp"
#include "cmdb/records.hpp"
#include "cmdb/staged_records.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"
#include "cmdb/store.hpp"

namespace cmdb {

// A partial attribute update: a null Value erases the attribute.
using AttrPatch = std::vector<std::pair<std::string, Value>>;

enum class Outcome { kCreated, kUpdated, kUnchanged };

class Txn {
 public:
  // `graph` and `schema` must outlive the txn and stay unchanged while it lives.
  Txn(const Graph& graph, const Schema& schema, TxId tx, int64_t now, CiId next_ci, RelId next_rel);

  // Reads, seeing staged writes. nullptr when absent or retired.
  const CiRecord* GetCi(CiId id) const;
  // A relationship is returned by value (the graph holds it packed, rel_table.hpp); HasRel
  // answers existence without building the record.
  std::optional<RelRecord> GetRel(RelId id) const;
  bool HasRel(RelId id) const;
  // The CI of class `cls` (or of its KEY scope) whose KEY values equal those in `attrs`.
  std::optional<CiId> FindByKey(std::string_view cls, const AttrMap& attrs) const;
  // The CI holding an index entry (see IndexKeysOf), staged writes included.
  std::optional<CiId> LookupIndexKey(const std::string& key) const;
  // Current relationships of a CI, staged ones included (ids).
  std::vector<RelId> RelsOf(CiId id) const;

  Result<CiId> CreateCi(const std::string& cls, AttrMap attrs);
  // Applies a patch; `expected_version`, when set, must equal the current version (412).
  Status UpdateCi(CiId id, const AttrPatch& patch, std::optional<int64_t> expected_version);
  // Retires a CI and ends its relationships.
  Status RetireCi(CiId id, std::optional<int64_t> expected_version);
  // Creates, updates (attributes given replace those values) or leaves unchanged the CI
  // identified by the class KEY; classes without a KEY always create.
  Result<std::pair<CiId, Outcome>> UpsertCi(const std::string& cls, AttrMap attrs);
  // Like UpsertCi, for attributes that already passed schema().NormalizeAttrs(cls, ...) (a bulk
  // load normalizes on its parser thread).
  Result<std::pair<CiId, Outcome>> UpsertNormalizedCi(const std::string& cls, AttrMap attrs);

  Result<RelId> CreateRel(const std::string& type, CiId from, CiId to, AttrMap attrs);
  // Like CreateRel, but an existing `from -[type]-> to` is updated or left unchanged.
  Result<std::pair<RelId, Outcome>> UpsertRel(const std::string& type, CiId from, CiId to, AttrMap attrs);
  Status DeleteRel(RelId id, std::optional<int64_t> expected_version);
  // Applies a patch to a relationship's attributes (null erases).
  Status UpdateRel(RelId id, const AttrPatch& patch);
  const Graph& graph() const { return graph_; }

  // Process records (see DocRecord), seeing staged versions. nullptr when absent or retired.
  const DocRecord* GetDoc(const std::string& kind, int64_t id) const;
  // A fresh id for a new record of `kind` (never used before, staged ones included).
  int64_t NextDocId(const std::string& kind);
  // Stages a new version of a process record: its version becomes the current one + 1 (1 for a
  // new record). With `expected_version` set it must equal the current version (412).
  // `doc.retired` removes the record. Returns the staged version.
  Result<DocRecord> PutDoc(DocRecord doc, std::optional<int64_t> expected_version);

  // Import provenance, seeing staged records; nullptr when the source has none.
  const Provenance* GetProvenance(bool relationship, int64_t id, const std::string& source) const;
  // Every source's record for a CI or relationship, staged ones replacing committed ones.
  std::vector<Provenance> ProvenanceOf(bool relationship, int64_t id) const;
  // Stages an insert-or-replace of (kind, id, source).
  void PutProvenance(Provenance p);

  bool empty() const {
    return ci_order_.empty() && rels_.empty() && doc_order_.empty() && provenance_.empty();
  }
  // CIs this txn created or changed, in staging order (query engines scan these).
  const std::vector<CiId>& staged_ci_ids() const { return ci_order_; }
  // Relationships this txn created that touch `id` (retired ones included; check GetRel).
  std::vector<RelId> StagedRelsOf(CiId id) const {
    return new_rels_.Of(id);
  }
  // Large writes (bulk loads): hands copies of the records staged since the last call to the
  // store's open transaction (Store::BeginStream), which writes them while staging goes on.
  // Does nothing below kStreamBatch new records or unless EnableStreaming named a store that
  // streams. After a failure this transaction cannot commit.
  Status Flush();
  // Lets Flush stream into `store` (Database::Write; the store outlives the txn).
  void EnableStreaming(Store* store) { stream_store_ = store; }
  // The stream Flush opened (empty when none) and what went through it, for
  // Store::CommitStreamed. Call before TakeWriteSet.
  std::unique_ptr<StoreStream> TakeStream(StreamedPrefix* prefix);
  // Moves the staged versions into a WriteSet (tx metadata left to the caller).
  WriteSet TakeWriteSet();
  CiId next_ci_id() const { return next_ci_; }
  RelId next_rel_id() const { return next_rel_; }
  TxId tx() const { return tx_; }
  const Schema& schema() const { return schema_; }

 private:
  // The CI holding index entry `key` (with hash HashIndex::HashOf(key)) as this transaction
  // sees the CIs: staged versions first, then the graph's.
  std::optional<CiId> IndexHolder(const std::string& key, uint64_t hash) const;
  // KEY/UNIQUE conflicts of `rec`; `keys` receives its index entries (for StageCi).
  // `free_key`, when given, is rec's KEY entry, which the caller found held by no CI: it is
  // neither rebuilt nor looked up again.
  Status CheckIndexes(const CiRecord& rec, CiId self, std::vector<std::string>& keys,
                      std::string* free_key = nullptr) const;
  void StageCi(CiRecord rec);
  void StageCi(CiRecord rec, std::vector<std::string> keys);  // keys: IndexKeysOf(rec)
  void StageRel(RelRecord rec);
  // A relationship type as this transaction uses it, resolved once: its interned name, its
  // definition (the schema's; in open mode an ad-hoc one for types it lacks) and its id in the
  // graph (nullopt while no committed relationship has it). The graph and schema do not change
  // during the transaction, so neither does this.
  struct ResolvedType {
    InternedName name;
    const RelTypeDef* def = nullptr;
    std::optional<TypeId> graph_id;
    RelTypeDef open_def;  // what def points to for an ad-hoc type
  };
  // nullptr (and *st set) when the type is unknown. The result lives as long as the Txn.
  const ResolvedType* ResolveType(const std::string& type, Status* st) const;
  std::optional<RelId> FindRel(const ResolvedType& type, CiId from, CiId to) const;
  Status CheckCardinality(const ResolvedType& type, CiId from, CiId to) const;
  int CountEdges(CiId id, const ResolvedType& type, bool outgoing) const;
  // `free_key`: see CheckIndexes (used only when no default is added to `attrs`).
  Result<CiId> CreateCi(const std::string& cls, AttrMap attrs, bool normalized,
                        std::string* free_key = nullptr);
  // CreateRel; `known_new` skips the duplicate check (the caller just did FindRel).
  Result<RelId> CreateRel(const std::string& type, CiId from, CiId to, AttrMap attrs,
                          bool known_new);

  const Graph& graph_;
  const Schema& schema_;
  TxId tx_;
  int64_t now_;
  CiId next_ci_;
  RelId next_rel_;
  StagedRecords<CiRecord> cis_;  // staged new versions, in staging order
  std::vector<CiId> ci_order_;
  StagedRecords<RelRecord> rels_;
  // Index entries of staged CI versions, by hash; may name CIs that gave the entry up again:
  // IndexHolder confirms every candidate against the transaction's view.
  HashIndex staged_index_;
  StagedRelIndex new_rels_;                                 // staged-created rels per endpoint
  mutable std::unordered_map<std::string, std::unique_ptr<ResolvedType>> types_;  // ResolveType
  HashIndex new_rel_keys_;  // the same by RelKeyHash(type, from, to), confirmed on the record
  std::map<std::pair<std::string, int64_t>, DocRecord> docs_;  // staged process records
  std::vector<std::pair<std::string, int64_t>> doc_order_;
  std::map<std::string, int64_t> next_doc_ids_;
  // Streaming (Flush): the store, its open stream, how many staged records went through it and
  // which of those changed afterwards (staging positions).
  static constexpr size_t kStreamBatch = 8192;
  Store* stream_store_ = nullptr;
  std::unique_ptr<StoreStream> stream_;
  size_t streamed_cis_ = 0, streamed_rels_ = 0;
  std::unordered_set<size_t> changed_cis_, changed_rels_;
  // Staged provenance by (id * 2 + relationship), one record per source.
  std::unordered_map<int64_t, std::vector<Provenance>> provenance_;
};

}  // namespace cmdb
