// Graph: the in-memory current state of the CMDB — CIs, relationships, adjacency by type and
// direction, class extents and KEY/UNIQUE hash indexes.
//
// CI records are immutable and shared (copy-on-write chunks, record_table.hpp), so a reader can
// keep one after the graph has moved on; relationship records are held packed (rel_table.hpp)
// and handed out as copies. Ids index dense vectors: ids are server-assigned, increasing and never
// reused. Adjacency is in compressed sparse rows (see adjacency.hpp), each row sorted by
// relationship type id, so the edges of one type are a contiguous range (OutOfType/InOfType),
// which is what impact analysis and pattern expansion walk.
// Thread safety: const methods may run concurrently; Apply/Put* need exclusive access. The
// Database owns the lock that provides this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cmdb/adjacency.hpp"
#include "cmdb/doc_table.hpp"
#include "cmdb/hash_index.hpp"
#include "cmdb/provenance_table.hpp"
#include "cmdb/record_table.hpp"
#include "cmdb/records.hpp"
#include "cmdb/rel_table.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/search_index.hpp"

namespace cmdb {

using CiPtr = std::shared_ptr<const CiRecord>;
using RelPtr = std::shared_ptr<const RelRecord>;
using ClassId = uint32_t;

// Index entries of a CI under a schema: "K|<scope>|<values>" for the KEY of its class and
// "U|<scope>.<attr>|<value>" for each UNIQUE attribute it has a value for.
std::vector<std::string> IndexKeysOf(const Schema& schema, const CiRecord& ci);
// Appends only the "U|..." entries of IndexKeysOf to `out`.
void AppendUniqueKeys(const Schema& schema, const CiRecord& ci, std::vector<std::string>& out);
// The UNIQUE index entry for `attr` of class `cls` holding `value`.
std::string UniqueIndexKey(const Schema& schema, std::string_view cls, std::string_view attr, const Value& value);
// The KEY index entry for class `cls` with the given key values, or nullopt when `cls` has no
// KEY or a key value is missing.
std::optional<std::string> KeyIndexKey(const Schema& schema, std::string_view cls,
                                       const AttrMap& attrs);
// Whether `ci` has index entry `key` under `schema` (only its KEY is recomputed for a KEY entry).
bool HoldsIndexKey(const Schema& schema, const CiRecord& ci, const std::string& key);

class Graph {
 public:
  // The current record of a CI, nullptr when there is none. The pointer is valid while the
  // caller holds the graph unchanged (a read view).
  const CiRecord* FindCi(CiId id) const { return cis_.Find(id); }
  // The current record of a relationship, rebuilt from its packed form (rel_table.hpp), or
  // nullopt when there is none.
  std::optional<RelRecord> FindRel(RelId id) const { return rels_.Find(id); }
  bool HasRel(RelId id) const { return rels_.Has(id); }
  // Like FindCi, but the pointer keeps the record as it is now after the read view ends (a
  // copy-on-write snapshot, not a copy). FindRel's copies need no such thing.
  CiPtr GetCi(CiId id) const { return cis_.Share(id); }

  std::span<const Adj> Out(CiId id) const { return out_.Row(id); }
  std::span<const Adj> In(CiId id) const { return in_.Row(id); }
  std::span<const Adj> OutOfType(CiId id, TypeId type) const { return OfType(out_.Row(id), type); }
  std::span<const Adj> InOfType(CiId id, TypeId type) const { return OfType(in_.Row(id), type); }

  // Hints that Out(id) and In(id) will be read soon (see Adjacency::PrefetchRef): call
  // PrefetchRefs some CIs ahead of PrefetchRows, and that some CIs ahead of reading the rows.
  void PrefetchRefs(CiId id) const { out_.PrefetchRef(id), in_.PrefetchRef(id); }
  void PrefetchRows(CiId id) const { out_.PrefetchRow(id), in_.PrefetchRow(id); }

  // Class interning: every CI's class as a small dense id, so a traversal can classify the CIs it
  // reaches without touching their records. ClassIdOf is only meaningful for existing CIs.
  ClassId ClassIdOf(CiId id) const { return class_of_[id]; }
  const std::string& ClassName(ClassId id) const { return class_names_[id]; }
  size_t class_id_bound() const { return class_names_.size(); }

  // Relationship type interning. TypeIdOf returns nullopt for a type no relationship used yet.
  std::optional<TypeId> TypeIdOf(std::string_view type) const;
  const std::string& TypeName(TypeId id) const { return type_names_[id]; }
  // Type ids are dense: [0, type_id_bound()).
  size_t type_id_bound() const { return type_names_.size(); }

  // CI ids of exactly this class (no subclasses), ascending; empty when none.
  std::span<const CiId> Extent(std::string_view cls) const;
  // Class names that have at least one CI (used to list classes in open mode).
  std::vector<std::string> ClassesInUse() const;
  // The CI holding an index entry (see IndexKeysOf) under `schema` (the schema the graph was
  // last applied or rebuilt with), if any.
  std::optional<CiId> LookupIndex(const std::string& key, const Schema& schema) const;
  // Calls fn(id) for every CI that may hold an index entry with this hash (HashIndex::HashOf of
  // the entry) until fn returns true; fn confirms (HoldsIndexKey). Returns whether it did.
  template <typename Fn>
  bool FindIndexCandidate(uint64_t hash, Fn&& fn) const {
    return index_.FindIf(hash, std::forward<Fn>(fn));
  }

  // Type-ahead over names, keys, host names and IPs (cmdb/search_index.hpp), kept current by
  // PutCi, Apply and RebuildIndexes.
  const SearchIndex& search() const { return search_; }

  // Adjacency rows changed since the last compaction, both directions (diagnostics and tests).
  size_t overlay_rows() const { return out_.overlay_rows() + in_.overlay_rows(); }

  size_t ci_count() const { return ci_count_; }
  size_t rel_count() const { return rel_count_; }
  // Ids of every slot, for full scans: [1, ci_id_bound()).
  CiId ci_id_bound() const { return cis_.bound(); }
  RelId rel_id_bound() const { return rels_.bound(); }

  // Process records (changes, windows, baselines, ...), current versions.
  const DocTable& docs() const { return docs_; }
  void PutDoc(DocRecord&& doc) { docs_.Put(std::move(doc)); }
  // Import provenance of CIs and relationships.
  const ProvenanceTable& provenance() const { return provenance_; }
  void PutProvenance(Provenance&& p) { provenance_.Put(std::move(p)); }

  // Installs the new versions of a committed transaction (retired ones remove). Requires
  // exclusive access. Every record must already be valid against `schema`.
  // The records move into the graph: only ws.tx stays usable afterwards. A large write (at
  // least parallel_min() CIs, with the adjacency rebuilt) uses a second thread for its CIs.
  void Apply(WriteSet&& ws, const Schema& schema);
  // From how many CIs (Apply) or relationships (FinishLoad) work is split over two threads;
  // tests lower it to run both ways on small graphs.
  size_t parallel_min() const { return parallel_min_; }
  void set_parallel_min(size_t n) { parallel_min_ = n; }
  // Loading: Reserve (optional), then PutCi for every current CI, PutRel for every current
  // relationship, and FinishLoad, which builds the adjacency in one pass. Requires exclusive
  // access, except that PutCi and PutRel may run concurrently with each other (they touch
  // disjoint members); adjacency reads are empty until FinishLoad.
  void Reserve(CiId ci_bound, RelId rel_bound);
  void PutCi(CiRecord&& ci, const Schema& schema);
  void PutRel(RelRecord&& rel);
  // Builds the two adjacency directions, on two threads from parallel_min() relationships.
  void FinishLoad();
  // Recomputes all index entries under a new schema.
  void RebuildIndexes(const Schema& schema);

 private:
  static std::span<const Adj> OfType(std::span<const Adj> all, TypeId type);
  TypeId InternType(const std::string& type);
  ClassId InternClass(const std::string& cls);
  void RemoveCi(CiId id, const Schema& schema);
  void InsertCi(CiRecord&& ci, const Schema& schema);
  void RemoveRel(RelId id, bool adjacency);  // adjacency = false: the caller rebuilds it
  void InsertRel(RelRecord&& rel, bool adjacency);

  RecordTable<CiRecord> cis_;
  RelTable rels_;
  Adjacency out_, in_;
  std::vector<ClassId> class_of_{0};
  std::vector<std::string> class_names_;
  std::unordered_map<std::string, ClassId> class_ids_;
  std::vector<std::string> type_names_;
  std::unordered_map<std::string, TypeId> type_ids_;
  std::unordered_map<std::string, std::vector<CiId>> extents_;
  HashIndex index_;  // hashes of IndexKeysOf entries -> CI
  SearchIndex search_;
  struct LoadEdge {
    CiId from, to;
    RelId id;
    TypeId type;
  };
  std::vector<LoadEdge> loading_;  // relationships put since the last FinishLoad
  size_t ci_count_ = 0;
  size_t rel_count_ = 0;
  size_t parallel_min_ = 100'000;
  DocTable docs_;
  ProvenanceTable provenance_;
};

}  // namespace cmdb
