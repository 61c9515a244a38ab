// HashIndex: a flat multimap from 64-bit key hashes to CI ids, the compact form of the graph's
// KEY/UNIQUE index.
//
// It stores 8 bytes per entry in one open-addressed array (linear probing, at most 3/4 full):
// the low 32 bits of the hash and a 32-bit id, instead of a heap node and a copy of the key
// string per entry. The array has any size (a tag's first slot is tag * size / 2^32), so it is
// sized to what is reserved and grows by half, not to the next power of two. Ids past 2^32 go to a small side table. Because only part of the hash is
// kept, a probe yields candidates: the caller confirms each against the record it names (keys
// whose hashes agree in their low 32 bits are candidates for each other). Several entries may
// share a hash; an (hash, id) pair is stored once.
// Thread safety: const methods may run concurrently; mutators need exclusive access.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cmdb {

class HashIndex {
 public:
  // The hash of an index key string.
  static uint64_t HashOf(std::string_view key);

  // Adds (hash, id); no-op when present.
  void Insert(uint64_t hash, int64_t id);
  // Removes (hash, id) if present.
  void Erase(uint64_t hash, int64_t id);
  // Calls fn(id) for every entry with this hash until fn returns true; returns whether it did.
  template <typename Fn>
  bool FindIf(uint64_t hash, Fn&& fn) const {
    if (!wide_.empty()) {
      auto [b, e] = wide_.equal_range(Stored(hash));
      for (auto it = b; it != e; ++it) {
        if (fn(it->second)) return true;
      }
    }
    if (slots_.empty()) return false;
    uint32_t tag = Stored(hash);
    for (size_t i = Home(tag);; i = Next(i)) {
      if (slots_[i].tag == 0) return false;
      if (slots_[i].tag == tag && fn(int64_t{slots_[i].id})) return true;
    }
  }

  void Reserve(size_t n);
  void Clear();
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint32_t tag;  // the hash's low 32 bits (Stored); 0 = empty
    uint32_t id;
  };
  static uint32_t Stored(uint64_t hash) {
    auto tag = static_cast<uint32_t>(hash);
    return tag ? tag : 1;
  }
  // The first slot a tag probes, and the slot after i (wrapping).
  size_t Home(uint32_t tag) const { return size_t((uint64_t{tag} * slots_.size()) >> 32); }
  size_t Next(size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
  void Rehash(size_t capacity);  // capacity < 2^32

  std::vector<Slot> slots_;
  std::unordered_multimap<uint32_t, int64_t> wide_;  // entries with ids past 2^32 - 1
  size_t size_ = 0;
};

}  // namespace cmdb
