#include "cmdb/adjacency.hpp"

#include <algorithm>
#include <stdexcept>

namespace cmdb {
namespace {

bool Before(const Adj& a, const Adj& b) {
  return a.type() != b.type() ? a.type() < b.type() : a.rel() < b.rel();
}

}  // namespace

void Adjacency::Resize(size_t bound) {
  if (bound > rows_.size()) rows_.resize(bound);
}

std::vector<Adj>& Adjacency::Mutable(CiId id) {
  RowRef& r = rows_[id];
  if (r.size & kInOverlay) return overlay_[r.begin];
  auto slot = static_cast<uint32_t>(overlay_.size());
  std::vector<Adj>& row = overlay_.emplace_back();
  row.assign(base_.begin() + r.begin, base_.begin() + r.begin + r.size);
  r = RowRef{slot, kInOverlay};  // the base range becomes garbage until Compact
  return row;
}

void Adjacency::Insert(CiId id, Adj a) {
  Resize(size_t(id) + 1);
  std::vector<Adj>& row = Mutable(id);
  row.insert(std::upper_bound(row.begin(), row.end(), a, Before), a);
}

void Adjacency::Remove(CiId id, RelId rel) {
  if (id <= 0 || size_t(id) >= rows_.size()) return;
  auto row = Row(id);
  if (std::none_of(row.begin(), row.end(), [&](const Adj& x) { return x.rel() == rel; })) return;
  std::vector<Adj>& m = Mutable(id);
  m.erase(std::remove_if(m.begin(), m.end(), [&](const Adj& x) { return x.rel() == rel; }), m.end());
}

void Adjacency::CheckSize(size_t total) {
  if (total >= kInOverlay)
    throw std::length_error("adjacency: more than 2^31 entries in one table");
}

void Adjacency::SortRows() {
  for (const RowRef& r : rows_) {
    auto first = base_.begin() + r.begin;
    if (!std::is_sorted(first, first + r.size, Before)) std::sort(first, first + r.size, Before);
  }
}

void Adjacency::Compact() {
  size_t total = 0;
  for (CiId id = 1; size_t(id) < rows_.size(); ++id) total += Row(id).size();
  CheckSize(total);
  std::vector<Adj> next;
  next.reserve(total);
  std::vector<RowRef> rows(rows_.size());
  for (CiId id = 1; size_t(id) < rows_.size(); ++id) {
    auto row = Row(id);
    rows[id] = RowRef{static_cast<uint32_t>(next.size()), static_cast<uint32_t>(row.size())};
    next.insert(next.end(), row.begin(), row.end());
  }
  base_ = std::move(next);
  rows_ = std::move(rows);
  overlay_ = std::vector<std::vector<Adj>>();
}

}  // namespace cmdb
