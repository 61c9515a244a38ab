// Adjacency: the relationships at one end of every CI, in compressed sparse rows (CSR) with an
// overlay for the rows changed since the last compaction.
//
// A row lists the relationships of one CI in one direction, sorted by (type, relationship id), so
// the edges of one type are a contiguous range. Rows live in one shared array (`base_`) when the
// table is built or compacted, in CI id order, each starting where the row before it ends: a
// traversal reads a row with two neighbouring 4-byte starts and no pointer chase, and the table
// costs 12 bytes a relationship plus 4 bytes a CI. A write moves the rows it touches to the
// overlay (one vector a row, found through a hash map; its start is flagged); Compact() folds
// them back. Graph compacts when the overlay holds
// more than kCompactShare of the rows, so writes stay O(row) amortized.
// Thread safety: const methods may run concurrently; mutations need exclusive access.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
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
    if (id <= 0 || size_t(id) >= rows()) return {};
    uint32_t begin = starts_[id];
    if (begin & kInOverlay) return overlay_[overlay_of_.find(id)->second];
    return {base_.data() + begin, (starts_[id + 1] & ~kInOverlay) - begin};
  }

  // Hints that Row(id) will be read soon. PrefetchRef loads the row's place; PrefetchRow, which
  // reads that place, loads the row's first and last entries. A traversal calls PrefetchRef a few CIs
  // ahead of PrefetchRow, a few CIs ahead of reading the row: rows are scattered over memory,
  // and a search of a large graph otherwise waits on main memory for each one in turn.
  void PrefetchRef(CiId id) const {
    if (id > 0 && size_t(id) < rows()) Prefetch(starts_.data() + id);
  }
  void PrefetchRow(CiId id) const {
    if (id <= 0 || size_t(id) >= rows()) return;
    uint32_t begin = starts_[id], end = starts_[id + 1] & ~kInOverlay;
    if (!(begin & kInOverlay) && end > begin) {
      Prefetch(base_.data() + begin);
      Prefetch(base_.data() + end - 1);  // a row may straddle two cache lines
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
    starts_.assign(bound + 1, 0);
    overlay_ = std::vector<std::vector<Adj>>();
    overlay_of_ = std::unordered_map<CiId, uint32_t>();
    for_each([&](CiId id, const Adj&) { ++starts_[id + 1]; });  // row sizes, one place on
    size_t total = 0;
    for (uint32_t& s : starts_) {  // now each row's start
      total += s;
      CheckSize(total);
      s = static_cast<uint32_t>(total);
    }
    base_.assign(total, Adj());
    for_each([&](CiId id, const Adj& a) { base_[starts_[id]++] = a; });
    // Filling moved each start to the row's end, the next row's start: move them back.
    for (size_t id = bound; id > 0; --id) starts_[id] = starts_[id - 1];
    starts_[0] = 0;
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
  static constexpr uint32_t kInOverlay = 1u << 31;  // on a start: the row is in the overlay
  size_t rows() const { return starts_.empty() ? 0 : starts_.size() - 1; }
  std::vector<Adj>& Mutable(CiId id);   // moves the row to the overlay first
  static void CheckSize(size_t total);  // throws std::length_error past 2^31 entries
  void SortRows();

  // starts_[id] is where row id starts in base_ (kInOverlay set when the row is in the overlay;
  // the base range stays, unused, until Compact), starts_[id + 1] where it ends; one more start
  // than rows.
  std::vector<uint32_t> starts_;
  std::vector<Adj> base_;
  std::vector<std::vector<Adj>> overlay_;
  std::unordered_map<CiId, uint32_t> overlay_of_;  // row -> its index in overlay_
};

}  // namespace cmdb
