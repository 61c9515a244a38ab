// PastGraph: the graph as it was right after an earlier transaction (AS OF, USE BASELINE), read
// through the current graph with the versions written since undone.
//
// A CI or relationship nobody wrote after transaction T is the same now as right after T, so
// the current graph answers for it. What was written after T comes from the store
// (Store::LoadChangedSince, through its index by transaction) with its state right after T, and
// overrides the current graph: records, class extents, adjacency rows and KEY/UNIQUE lookups. So
// opening the view costs what changed since T, not the length of the history, and it shares the
// current graph instead of copying it; its memory goes when it is destroyed. An optional
// membership filter (a baseline's CIs and relationships) hides everything else.
//
// The read API is Graph's (the part queries and impact analysis use), with the same contracts:
// the past as the old way of rebuilding it from every stored version would have shown it under
// the current schema (tests/core/past_graph_test.cpp compares the two on random histories).
// Process records and provenance are not versioned and not part of it.
//
// Lifetime and threads: the current graph and the schema must stay unchanged while the view is
// read (the caller holds a ReadView). When that view yields and the current graph moves on, call
// CatchUp with its new transaction before reading again: nothing obtained before (pointers,
// spans, class and type ids) stays valid. Const methods fill caches (merged rows and extents,
// built on first use): one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cmdb/graph.hpp"
#include "cmdb/store.hpp"

namespace cmdb {

class PastGraph {
 public:
  // The view of `current` (the committed graph right after transaction `current_tx`) as of
  // transaction `tx` (at most current_tx), under `schema` (current's). With `member_cis` /
  // `member_rels` (sorted ids; both or neither), only those CIs and relationships are in it.
  // Reads the store once. The caller keeps `current`, `store` and `schema` alive and unchanged
  // (see CatchUp) while the view is used; the member lists are copied.
  static Result<std::unique_ptr<PastGraph>> Open(const Graph& current, TxId current_tx, Store& store, TxId tx,
                                                 const Schema& schema,
                                                 const std::vector<CiId>* member_cis = nullptr,
                                                 const std::vector<RelId>* member_rels = nullptr);
  PastGraph(const PastGraph&) = delete;
  PastGraph& operator=(const PastGraph&) = delete;

  // The current graph has moved on to transaction `current_tx` (a read view yielded): also
  // undoes what was written since the view was opened or last caught up. Invalidates every
  // pointer, span and id obtained from the view. Errors are the store's.
  Status CatchUp(TxId current_tx);

  // The transaction this view shows, and the one the current graph under it is at.
  TxId tx() const { return tx_; }
  TxId current_tx() const { return seen_tx_; }
  // The current graph under the view.
  const Graph& current() const { return g_; }
  // How many CIs and relationships were written since tx() (the versions the view undoes).
  size_t changed_cis() const { return cis_.size(); }
  size_t changed_rels() const { return rels_.size(); }

  // As Graph's, for the state right after tx().
  const CiRecord* FindCi(CiId id) const;
  std::optional<RelRecord> FindRel(RelId id) const;
  bool HasRel(RelId id) const;
  std::span<const Adj> Out(CiId id) const { return Row(id, true); }
  std::span<const Adj> In(CiId id) const { return Row(id, false); }
  std::span<const Adj> OutOfType(CiId id, TypeId type) const { return OfType(Row(id, true), type); }
  std::span<const Adj> InOfType(CiId id, TypeId type) const { return OfType(Row(id, false), type); }
  void PrefetchRefs(CiId id) const { g_.PrefetchRefs(id); }
  void PrefetchRows(CiId id) const { g_.PrefetchRows(id); }
  // Class and type ids: the current graph's, and past-only names numbered after them.
  ClassId ClassIdOf(CiId id) const;
  const std::string& ClassName(ClassId id) const;
  size_t class_id_bound() const { return g_.class_id_bound() + extra_classes_.size(); }
  std::optional<TypeId> TypeIdOf(std::string_view type) const;
  const std::string& TypeName(TypeId id) const;
  std::span<const CiId> Extent(std::string_view cls) const;
  // About Extent(cls).size() without merging it (for planning): at least the true size minus
  // the changed CIs of the class, at most plus them.
  size_t ExtentEstimate(std::string_view cls) const;
  std::vector<std::string> ClassesInUse() const;
  std::optional<CiId> LookupIndex(const std::string& key, const Schema& schema) const;
  size_t ci_count() const {
    CountMembers();
    return ci_count_;
  }
  size_t rel_count() const {
    CountMembers();
    return rel_count_;
  }
  // ci_count() without counting the members of a filter (their number): for planning.
  size_t ci_count_estimate() const { return filter_ ? member_ci_total_ : ci_count_; }
  CiId ci_id_bound() const { return ci_bound_; }
  RelId rel_id_bound() const { return rel_bound_; }

 private:
  // A bit per id, growing on Set.
  class Bits {
   public:
    bool Test(int64_t i) const {
      size_t w = static_cast<size_t>(i) >> 6;
      return i >= 0 && w < words_.size() && (words_[w] >> (i & 63) & 1);
    }
    void Set(int64_t i) {
      size_t w = static_cast<size_t>(i) >> 6;
      if (w >= words_.size()) words_.resize(w + 1);
      words_[w] |= uint64_t{1} << (i & 63);
    }
    void Reset(int64_t bound) { words_.assign(static_cast<size_t>(bound + 63) / 64, 0); }
    template <typename Fn>
    void ForEach(Fn&& fn) const {
      for (size_t w = 0; w < words_.size(); ++w) {
        for (uint64_t bits = words_[w]; bits; bits &= bits - 1) fn(static_cast<int64_t>(w * 64 + __builtin_ctzll(bits)));
      }
    }

   private:
    std::vector<uint64_t> words_;
  };
  struct PastCi {
    std::optional<CiRecord> then;  // nullopt: not there right after tx_
    ClassId cls = 0;
  };

  PastGraph(const Graph& current, Store& store, TxId tx, const Schema& schema)
      : g_(current), store_(store), schema_(schema), tx_(tx), seen_tx_(tx) {}
  Status Load(TxId after);  // adds what was written after `after` (ids not known yet)
  void Rebuild();           // derived state and caches, after Load
  bool Member(CiId id) const { return !filter_ || member_cis_.Test(id); }
  bool MemberRel(RelId id) const { return !filter_ || member_rels_.Test(id); }
  ClassId InternClass(const std::string& cls);
  TypeId InternType(const std::string& type);
  std::span<const Adj> Row(CiId id, bool out) const;
  void CountMembers() const;  // with a filter: the counts, on first use (O(members))
  static std::span<const Adj> OfType(std::span<const Adj> all, TypeId type);

  const Graph& g_;
  Store& store_;
  const Schema& schema_;
  TxId tx_;
  TxId seen_tx_;
  // What was written after tx_: the state right after tx_ by id.
  std::unordered_map<CiId, PastCi> cis_;
  std::unordered_map<RelId, std::optional<RelRecord>> rels_;
  Bits changed_cis_, changed_rels_;
  bool filter_ = false;
  Bits member_cis_, member_rels_;
  size_t member_ci_total_ = 0;
  // Derived (Rebuild).
  std::unordered_map<std::string, ClassId> class_ids_;  // current and past-only names
  std::vector<std::string> extra_classes_;
  std::unordered_map<std::string, TypeId> type_ids_;
  std::vector<std::string> extra_types_;
  Bits touched_;  // CIs at either end of a changed relationship, then or now
  std::unordered_map<CiId, std::vector<Adj>> past_out_, past_in_;  // changed rels there then
  std::unordered_map<std::string, std::vector<CiId>> past_extents_;  // changed CIs there then
  std::unordered_map<std::string, bool> touched_classes_;
  mutable size_t ci_count_ = 0, rel_count_ = 0;
  mutable bool counted_ = false;
  CiId ci_bound_ = 1;
  RelId rel_bound_ = 1;
  // Caches filled on first use.
  mutable std::unordered_map<CiId, std::vector<Adj>> out_rows_, in_rows_;
  mutable Bits out_done_, in_done_;  // row known: in *_rows_, or the current one
  mutable std::unordered_map<std::string, std::vector<CiId>> extents_;
  mutable std::optional<std::unordered_map<std::string, CiId>> past_keys_;
};

}  // namespace cmdb
