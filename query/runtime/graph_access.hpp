// GraphAccess: what the executor reads the graph through. SnapshotAccess reads a committed
// ReadView; TxnAccess reads a write transaction's staged state on top of it, so a query sees
// its own writes; PastAccess reads a PastGraph (AS OF, USE BASELINE) over a ReadView.
// Thread safety: an access object is used by one query on one thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cmdb/database.hpp"
#include "cmdb/past_graph.hpp"
#include "query/common/enums.hpp"

namespace cmdb::gql {

// An export's pending output (QueryRequest::stream): at a safe point, while `pending()` says
// so, a PastAccess releases its read view and calls `send()`, which touches no graph (it may
// throw to stop the query).
struct Drain {
  std::function<bool()> pending;
  std::function<void()> send;
};

class GraphAccess {
 public:
  virtual ~GraphAccess() = default;
  virtual const Schema& schema() const = 0;
  // nullptr (nullopt) when absent or deleted. A relationship comes by value: the graph holds
  // it packed (cmdb/rel_table.hpp).
  virtual const CiRecord* Node(CiId id) const = 0;
  virtual std::optional<RelRecord> Rel(RelId id) const = 0;
  // Every node of `label` (subclasses included); "" means every node. Ascending ids.
  virtual void ScanLabel(const std::string& label, const std::function<void(CiId)>& fn) const = 0;
  virtual size_t EstimateLabel(const std::string& label) const = 0;
  // Relationships of `id` in `dir` whose type is one of `types` (empty: any), with the CI at
  // the other end. A self-loop is reported once for kBoth.
  virtual void Expand(CiId id, Direction dir, const std::vector<std::string>& types,
                      const std::function<void(RelId, CiId)>& fn) const = 0;
  // The CI of class `cls` with these KEY values.
  virtual std::optional<CiId> LookupKey(const std::string& cls, const AttrMap& key_values) const = 0;
  // The CI of class `cls` (or a subclass) whose UNIQUE attribute `attr` holds `value`.
  virtual std::optional<CiId> LookupUnique(const std::string& cls, const std::string& attr, const Value& value) const = 0;
  // A safe point: the caller holds no record pointer or adjacency span. A snapshot over the
  // live graph may let a waiting writer publish here (see ReadView::Yield).
  virtual void SafePoint() const {}
  // The committed graph under this access (graph algorithms run on it; a transaction's staged
  // writes are not part of it). Under AS OF or USE BASELINE this is the present, which the
  // query does not read: graph algorithms run on past_graph() when it is set.
  virtual const Graph& committed_graph() const = 0;
  // The past the query reads (AS OF, USE BASELINE), or nullptr when it reads the present.
  virtual const PastGraph* past_graph() const { return nullptr; }
};

class SnapshotAccess : public GraphAccess {
 public:
  explicit SnapshotAccess(ReadView& view) : graph_(view.graph()), schema_(view.schema()), view_(&view) {}
  SnapshotAccess(const Graph& graph, const Schema& schema) : graph_(graph), schema_(schema) {}
  const Schema& schema() const override { return schema_; }
  const CiRecord* Node(CiId id) const override { return graph_.FindCi(id); }
  std::optional<RelRecord> Rel(RelId id) const override { return graph_.FindRel(id); }
  void ScanLabel(const std::string& label, const std::function<void(CiId)>& fn) const override;
  size_t EstimateLabel(const std::string& label) const override;
  void Expand(CiId id, Direction dir, const std::vector<std::string>& types,
              const std::function<void(RelId, CiId)>& fn) const override;
  std::optional<CiId> LookupKey(const std::string& cls, const AttrMap& key_values) const override;
  std::optional<CiId> LookupUnique(const std::string& cls, const std::string& attr, const Value& value) const override {
    auto id = graph_.LookupIndex(UniqueIndexKey(schema_, cls, attr, value), schema_);
    if (id && !schema_.IsA(graph_.FindCi(*id)->class_name, cls)) return std::nullopt;
    return id;
  }
  void SafePoint() const override {
    if (view_) view_->Yield();
  }
  const Graph& committed_graph() const override { return graph_; }

 private:
  const Graph& graph_;
  const Schema& schema_;
  ReadView* view_ = nullptr;
};

// The graph as of an earlier transaction: a PastGraph over a ReadView. At a safe point the
// view may yield to a writer; the past view then catches up (PastGraph::CatchUp), so the query
// keeps reading the same past (throws QueryError InternalError when the store fails).
class PastAccess : public GraphAccess {
 public:
  // `past` reads view.graph(); both outlive the access.
  PastAccess(PastGraph& past, ReadView& view) : past_(past), view_(view) {}
  const Schema& schema() const override { return view_.schema(); }
  const CiRecord* Node(CiId id) const override { return past_.FindCi(id); }
  std::optional<RelRecord> Rel(RelId id) const override { return past_.FindRel(id); }
  void ScanLabel(const std::string& label, const std::function<void(CiId)>& fn) const override;
  size_t EstimateLabel(const std::string& label) const override;
  void Expand(CiId id, Direction dir, const std::vector<std::string>& types,
              const std::function<void(RelId, CiId)>& fn) const override;
  std::optional<CiId> LookupKey(const std::string& cls, const AttrMap& key_values) const override;
  std::optional<CiId> LookupUnique(const std::string& cls, const std::string& attr, const Value& value) const override;
  // Also sends the drain's output when it is pending, with the view released (Pause).
  void SafePoint() const override;
  const Graph& committed_graph() const override { return view_.graph(); }
  const PastGraph* past_graph() const override { return &past_; }
  // Sets the export output sent at safe points (null: none); `drain` outlives the access.
  void SetDrain(const Drain* drain) { drain_ = drain; }

 private:
  PastGraph& past_;
  ReadView& view_;
  const Drain* drain_ = nullptr;
};

class TxnAccess : public GraphAccess {
 public:
  TxnAccess(const Graph& graph, Txn& txn) : graph_(graph), txn_(txn) {}
  const Schema& schema() const override { return txn_.schema(); }
  const CiRecord* Node(CiId id) const override { return txn_.GetCi(id); }
  std::optional<RelRecord> Rel(RelId id) const override { return txn_.GetRel(id); }
  void ScanLabel(const std::string& label, const std::function<void(CiId)>& fn) const override;
  size_t EstimateLabel(const std::string& label) const override;
  void Expand(CiId id, Direction dir, const std::vector<std::string>& types,
              const std::function<void(RelId, CiId)>& fn) const override;
  std::optional<CiId> LookupKey(const std::string& cls, const AttrMap& key_values) const override {
    return txn_.FindByKey(cls, key_values);
  }
  std::optional<CiId> LookupUnique(const std::string& cls, const std::string& attr, const Value& value) const override {
    auto id = txn_.LookupIndexKey(UniqueIndexKey(schema(), cls, attr, value));
    if (id && !(txn_.GetCi(*id) && schema().IsA(txn_.GetCi(*id)->class_name, cls))) return std::nullopt;
    return id;
  }
  Txn& txn() { return txn_; }
  const Graph& committed_graph() const override { return graph_; }

 private:
  const Graph& graph_;
  Txn& txn_;
};

}  // namespace cmdb::gql
