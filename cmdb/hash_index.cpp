#include "cmdb/hash_index.hpp"

#include <functional>

namespace cmdb {

uint64_t HashIndex::HashOf(std::string_view key) {
  // std::hash spreads well over all 64 bits; the finalizer (splitmix64) makes the low bits,
  // which pick the slot, depend on all of them.
  uint64_t h = std::hash<std::string_view>{}(key);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

void HashIndex::Insert(uint64_t hash, int64_t id) {
  uint32_t tag = Stored(hash);
  if (id < 0 || id > int64_t{UINT32_MAX}) {
    auto [b, e] = wide_.equal_range(tag);
    for (auto it = b; it != e; ++it) {
      if (it->second == id) return;
    }
    wide_.emplace(tag, id);
    ++size_;
    return;
  }
  if ((size_ - wide_.size() + 1) * 4 > slots_.size() * 3) Rehash(slots_.empty() ? 16 : slots_.size() * 2);
  auto narrow = static_cast<uint32_t>(id);
  size_t i = tag & mask_;
  for (; slots_[i].tag != 0; i = (i + 1) & mask_) {
    if (slots_[i].tag == tag && slots_[i].id == narrow) return;
  }
  slots_[i] = Slot{tag, narrow};
  ++size_;
}

void HashIndex::Erase(uint64_t hash, int64_t id) {
  uint32_t tag = Stored(hash);
  if (id < 0 || id > int64_t{UINT32_MAX}) {
    auto [b, e] = wide_.equal_range(tag);
    for (auto it = b; it != e; ++it) {
      if (it->second == id) {
        wide_.erase(it);
        --size_;
        return;
      }
    }
    return;
  }
  if (slots_.empty()) return;
  auto narrow = static_cast<uint32_t>(id);
  size_t i = tag & mask_;
  for (;; i = (i + 1) & mask_) {
    if (slots_[i].tag == 0) return;
    if (slots_[i].tag == tag && slots_[i].id == narrow) break;
  }
  // Backward-shift deletion: pull later entries of the probe run into the hole, so lookups
  // never need tombstones.
  size_t hole = i;
  for (size_t j = (i + 1) & mask_; slots_[j].tag != 0; j = (j + 1) & mask_) {
    size_t home = slots_[j].tag & mask_;
    // j may move to the hole when its home is not in the cyclic range (hole, j].
    bool home_in_range = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!home_in_range) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{0, 0};
  --size_;
}

void HashIndex::Reserve(size_t n) {
  size_t capacity = 16;
  while (capacity * 3 < n * 4) capacity *= 2;
  if (capacity > slots_.size()) Rehash(capacity);
}

void HashIndex::Clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  wide_.clear();
  mask_ = 0;
  size_ = 0;
}

void HashIndex::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{0, 0});
  mask_ = capacity - 1;
  for (const Slot& s : old) {
    if (s.tag == 0) continue;
    size_t i = s.tag & mask_;
    while (slots_[i].tag != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace cmdb
