// Adjacency: the relationships at one end of every CI, in compressed sparse rows (CSR) with an
// overlay for the rows changed since the last compaction.
//
// A row lists the relationships of one CI in one direction, sorted by (type, relationship id), so
// the edges of one type are a contiguous range. Rows live in one shared array (`base_`) when the
// table is built or compacted: a traversal reads a row with one lookup and no pointer chase, and
// the table costs 12 bytes a relationship plus 8 bytes a CI. A write moves the rows it touches to
// the overlay (one vector a row); Compact() folds them back. Graph compacts when the overlay holds
// more than kCompactShare of the rows, so writes stay O(row) amortized.
// Thread safety: const methods may run concurrently; mutations need exclusive access.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cmdb {

using CiId = int64_t;
using RelId = int64_t;
using TypeId = uint32_t;

// The largest CI or relationship id an adjacency entry holds (ids are assigned 1, 2, 3...; the
// write path refuses to assign a larger one).
inline constexpr int64_t kMaxAdjId = (int64_t(1) << 40) - 1;

// One adjacency entry: the relationship, its type and the CI at its other end, in 12 bytes (ids
// up to kMaxAdjId, up to 65,536 relationship types). Two entries a relationship: this is the
// largest part of the table.
class Adj {
 public:
  Adj() = default;
  Adj(CiId other, RelId rel, TypeId type)
      : other_lo_(static_cast<uint32_t>(other)),
        rel_lo_(static_cast<uint32_t>(rel)),
        type_(static_cast<uint16_t>(type)),
        other_hi_(static_cast<uint8_t>(static_cast<uint64_t>(other) >> 32)),
        rel_hi_(static_cast<uint8_t>(static_cast<uint64_t>(rel) >> 32)) {}
  CiId other() const { return static_cast<CiId>(uint64_t{other_hi_} << 32 | other_lo_); }
  RelId rel() const { return static_cast<RelId>(uint64_t{rel_hi_} << 32 | rel_lo_); }
  TypeId type() const { return type_; }

 private:
  uint32_t other_lo_ = 0;
  uint32_t rel_lo_ = 0;
  uint16_t type_ = 0;
  uint8_t other_hi_ = 0;
  uint8_t rel_hi_ = 0;
};
static_assert(sizeof(Adj) == 12, "Adj must stay 12 bytes");

class Adjacency {
 public:
  // The row of `id`: empty when `id` is out of range or has no relationships here.
  std::span<const Adj> Row(CiId id) const {
    if (id <= 0 || size_t(id) >= rows_.size()) return {};
    RowRef r = rows_[id];
    if (r.size & kInOverlay) return overlay_[r.begin];
    return {base_.data() + r.begin, r.size};
  }

  // Hints that Row(id) will be read soon. PrefetchRef loads the row's place; PrefetchRow, which
  // reads that place, loads the row's first and last entries. A traversal calls PrefetchRef a few CIs
  // ahead of PrefetchRow, a few CIs ahead of reading the row: rows are scattered over memory,
  // and a search of a large graph otherwise waits on main memory for each one in turn.
  void PrefetchRef(CiId id) const {
    if (id > 0 && size_t(id) < rows_.size()) Prefetch(rows_.data() + id);
  }
  void PrefetchRow(CiId id) const {
    if (id <= 0 || size_t(id) >= rows_.size()) return;
    RowRef r = rows_[id];
    if (r.size != 0 && !(r.size & kInOverlay)) {
      Prefetch(base_.data() + r.begin);
      Prefetch(base_.data() + r.begin + r.size - 1);  // a row may straddle two cache lines
    }
  }

  // Makes room for CI ids below `bound` (new rows are empty).
  void Resize(size_t bound);
  // Adds `a` to the row of `id`, keeping the row sorted.
  void Insert(CiId id, Adj a);
  // Removes relationship `rel` from the row of `id` (nothing when absent).
  void Remove(CiId id, RelId rel);
  // Rebuilds every row for CI ids below `bound`, dropping the current contents.
  // `for_each(emit)` must call emit(CiId row, Adj entry) for every entry, the same entries each
  // time: it is called twice (count, then fill).
  template <typename ForEach>
  void Build(size_t bound, ForEach&& for_each) {
    rows_.assign(bound, RowRef{});
    overlay_ = std::vector<std::vector<Adj>>();
    for_each([&](CiId id, const Adj&) { ++rows_[id].size; });
    size_t total = 0;
    for (RowRef& r : rows_) {
      r.begin = static_cast<uint32_t>(total);
      total += r.size;
      CheckSize(total);
      r.size = 0;
    }
    base_.assign(total, Adj());
    for_each([&](CiId id, const Adj& a) {
      RowRef& r = rows_[id];
      base_[r.begin + r.size++] = a;
    });
    SortRows();
  }
  // Folds the overlay back into the shared array.
  void Compact();

  size_t overlay_rows() const { return overlay_.size(); }

 private:
  // GCC 12 drops __builtin_prefetch in some conditional code (seen here: behind `a && b`), so
  // on x86-64 the instruction is written out.
  static void Prefetch(const void* p) {
#if defined(__x86_64__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
  }
  static constexpr uint32_t kInOverlay = 1u << 31;
  struct RowRef {
    uint32_t begin = 0;  // offset in base_, or index in overlay_ when size has kInOverlay
    uint32_t size = 0;
  };
  std::vector<Adj>& Mutable(CiId id);   // moves the row to the overlay first
  static void CheckSize(size_t total);  // throws std::length_error past 2^31 entries
  void SortRows();

  std::vector<RowRef> rows_;
  std::vector<Adj> base_;
  std::vector<std::vector<Adj>> overlay_;
};

}  // namespace cmdb
