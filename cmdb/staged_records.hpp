// What a transaction stages, found by id without hashing the ids it allocated itself.
//
// A bulk load stages hundreds of thousands of new CIs and relationships whose ids are sequential
// from the transaction's first free id. StagedRecords keeps the records in staging order and
// finds those ids through a dense array (older ids, the updates, through a hash map);
// StagedRelIndex lists, per CI, the relationships created in the transaction, in one flat array.
// Thread safety: none; a transaction belongs to one writer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cmdb {

// Whether `id` is looked up in the dense array: the transaction's own ids, up to a span that
// bounds the array whatever id a caller passes.
inline bool IsDense(int64_t id, int64_t dense_from) {
  constexpr int64_t kDenseSpan = int64_t{1} << 28;
  return id >= dense_from && id - dense_from < kDenseSpan;
}

// Records of type T by id, in the order first staged. References stay valid while the
// container lives (a deque), until Take().
template <typename T>
class StagedRecords {
 public:
  // Ids from `dense_from` on are the transaction's own, allocated in increasing order.
  explicit StagedRecords(int64_t dense_from) : dense_from_(dense_from) {}

  T* Find(int64_t id) {
    uint32_t pos = Position(id);
    return pos ? &records_[pos - 1] : nullptr;
  }
  const T* Find(int64_t id) const {
    uint32_t pos = Position(id);
    return pos ? &records_[pos - 1] : nullptr;
  }
  bool Contains(int64_t id) const { return Position(id) != 0; }
  // The staging position of a staged `id` (its index in Take()'s result).
  size_t IndexOf(int64_t id) const { return Position(id) - 1; }
  // The record at staging position `i` (< size()).
  const T& At(size_t i) const { return records_[i]; }

  // The staged record of `id`, value-initialized and appended when new; true when new.
  std::pair<T*, bool> Emplace(int64_t id) {
    uint32_t* slot;
    if (IsDense(id, dense_from_)) {
      size_t i = static_cast<size_t>(id - dense_from_);
      if (i >= dense_.size()) dense_.resize(std::max(i + 1, dense_.size() * 2), 0);
      slot = &dense_[i];
    } else {
      slot = &sparse_[id];
    }
    if (*slot) return {&records_[*slot - 1], false};
    records_.emplace_back();
    *slot = static_cast<uint32_t>(records_.size());
    return {&records_.back(), true};
  }

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }

  // Moves every record out in staging order and empties the container.
  std::vector<T> Take() {
    std::vector<T> out;
    out.reserve(records_.size());
    for (T& r : records_) out.push_back(std::move(r));
    Clear();
    return out;
  }
  void Clear() {
    records_ = std::deque<T>();
    dense_ = std::vector<uint32_t>();
    sparse_ = std::unordered_map<int64_t, uint32_t>();
  }

 private:
  uint32_t Position(int64_t id) const {  // 1-based; 0 when not staged
    if (IsDense(id, dense_from_)) {
      size_t i = static_cast<size_t>(id - dense_from_);
      return i < dense_.size() ? dense_[i] : 0;
    }
    auto it = sparse_.find(id);
    return it == sparse_.end() ? 0 : it->second;
  }

  int64_t dense_from_;
  std::deque<T> records_;
  std::vector<uint32_t> dense_;                   // id - dense_from_ -> position
  std::unordered_map<int64_t, uint32_t> sparse_;  // older id -> position
};

// Per CI, the relationships created in the transaction that touch it, in creation order.
class StagedRelIndex {
 public:
  explicit StagedRelIndex(int64_t dense_from) : dense_from_(dense_from) {}

  void Add(int64_t ci, int64_t rel) {
    List& l = Mutable(ci);
    entries_.push_back(Entry{rel, 0});
    uint32_t at = static_cast<uint32_t>(entries_.size());
    if (l.tail)
      entries_[l.tail - 1].next = at;
    else
      l.head = at;
    l.tail = at;
  }
  // Calls f(rel) for each relationship of `ci`, oldest first.
  template <typename F>
  void ForEach(int64_t ci, F&& f) const {
    for (uint32_t at = Head(ci); at; at = entries_[at - 1].next) f(entries_[at - 1].rel);
  }
  std::vector<int64_t> Of(int64_t ci) const {
    std::vector<int64_t> out;
    ForEach(ci, [&](int64_t rel) { out.push_back(rel); });
    return out;
  }
  void Clear() {
    dense_ = std::vector<List>();
    sparse_ = std::unordered_map<int64_t, List>();
    entries_ = std::vector<Entry>();
  }

 private:
  struct Entry {
    int64_t rel;
    uint32_t next;  // 1-based index of the next entry; 0 at the end
  };
  struct List {
    uint32_t head = 0, tail = 0;  // 1-based entry indexes
  };
  List& Mutable(int64_t ci) {
    if (!IsDense(ci, dense_from_)) return sparse_[ci];
    size_t i = static_cast<size_t>(ci - dense_from_);
    if (i >= dense_.size()) dense_.resize(std::max(i + 1, dense_.size() * 2));
    return dense_[i];
  }
  uint32_t Head(int64_t ci) const {
    if (!IsDense(ci, dense_from_)) {
      auto it = sparse_.find(ci);
      return it == sparse_.end() ? 0 : it->second.head;
    }
    size_t i = static_cast<size_t>(ci - dense_from_);
    return i < dense_.size() ? dense_[i].head : 0;
  }

  int64_t dense_from_;
  std::vector<List> dense_;
  std::unordered_map<int64_t, List> sparse_;
  std::vector<Entry> entries_;
};

}  // namespace cmdb
