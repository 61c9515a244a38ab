#include "cmdb/hash_index.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

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
  if ((size_ - wide_.size() + 1) * 4 > slots_.size() * 3)
    Rehash(slots_.empty() ? 16 : slots_.size() + slots_.size() / 2);
  auto narrow = static_cast<uint32_t>(id);
  size_t i = Home(tag);
  for (; slots_[i].tag != 0; i = Next(i)) {
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
  size_t i = Home(tag);
  for (;; i = Next(i)) {
    if (slots_[i].tag == 0) return;
    if (slots_[i].tag == tag && slots_[i].id == narrow) break;
  }
  // Backward-shift deletion: pull later entries of the probe run into the hole, so lookups
  // never need tombstones.
  size_t hole = i;
  for (size_t j = Next(i); slots_[j].tag != 0; j = Next(j)) {
    size_t home = Home(slots_[j].tag);
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
  size_t capacity = std::max<size_t>(16, n + n / 3 + 1);  // at most 3/4 full with n entries
  if (capacity > slots_.size()) Rehash(capacity);
}

void HashIndex::Clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  wide_.clear();
  size_ = 0;
}

void HashIndex::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  if (capacity > UINT32_MAX) throw std::length_error("index past 2^32 slots");
  slots_.assign(capacity, Slot{0, 0});
  for (const Slot& s : old) {
    if (s.tag == 0) continue;
    size_t i = Home(s.tag);
    while (slots_[i].tag != 0) i = Next(i);
    slots_[i] = s;
  }
}

}  // namespace cmdb
