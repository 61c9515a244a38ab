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
  if (bound <= rows()) return;
  uint32_t end = starts_.empty() ? 0 : starts_.back();  // the last start is never flagged
  starts_.resize(bound + 1, end);                         // new rows: empty, at the end
}

std::vector<Adj>& Adjacency::Mutable(CiId id) {
  uint32_t& begin = starts_[id];
  if (begin & kInOverlay) return overlay_[overlay_of_.find(id)->second];
  auto slot = static_cast<uint32_t>(overlay_.size());
  overlay_of_.emplace(id, slot);
  std::vector<Adj>& row = overlay_.emplace_back();
  row.assign(base_.begin() + begin, base_.begin() + (starts_[id + 1] & ~kInOverlay));
  begin |= kInOverlay;  // the base range stays unused until Compact
  return row;
}

void Adjacency::Insert(CiId id, Adj a) {
  Resize(size_t(id) + 1);
  std::vector<Adj>& row = Mutable(id);
  row.insert(std::upper_bound(row.begin(), row.end(), a, Before), a);
}

void Adjacency::Remove(CiId id, RelId rel) {
  if (id <= 0 || size_t(id) >= rows()) return;
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
  for (size_t id = 0; id < rows(); ++id) {
    auto first = base_.begin() + starts_[id], last = base_.begin() + starts_[id + 1];
    if (!std::is_sorted(first, last, Before)) std::sort(first, last, Before);
  }
}

void Adjacency::Compact() {
  size_t total = 0;
  for (CiId id = 1; size_t(id) < rows(); ++id) total += Row(id).size();
  CheckSize(total);
  std::vector<Adj> next;
  next.reserve(total);
  std::vector<uint32_t> starts(starts_.size(), 0);
  for (CiId id = 1; size_t(id) < rows(); ++id) {
    auto row = Row(id);
    starts[id] = static_cast<uint32_t>(next.size());
    next.insert(next.end(), row.begin(), row.end());
  }
  if (!starts.empty()) starts.back() = static_cast<uint32_t>(next.size());
  base_ = std::move(next);
  starts_ = std::move(starts);
  overlay_ = std::vector<std::vector<Adj>>();
  overlay_of_ = std::unordered_map<CiId, uint32_t>();
}

}  // namespace cmdb
