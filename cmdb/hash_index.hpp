// HashIndex: a flat multimap from 64-bit key hashes to CI ids, the compact form of the graph's
// KEY/UNIQUE index.
//
// It stores 16 bytes per entry in one open-addressed array (linear probing, at most 3/4 full)
// instead of a heap node and a copy of the key string per entry. Because only hashes are kept,
// a probe yields candidates: the caller confirms each against the record it names (two keys
// may share a hash). Several entries may share a hash; an (hash, id) pair is stored once.
// Thread safety: const methods may run concurrently; mutators need exclusive access.
#pragma once

#include <cstdint>
#include <string_view>
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
    if (slots_.empty()) return false;
    hash = Stored(hash);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].hash == 0) return false;
      if (slots_[i].hash == hash && fn(slots_[i].id)) return true;
    }
  }

  void Reserve(size_t n);
  void Clear();
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash;  // 0 = empty
    int64_t id;
  };
  static uint64_t Stored(uint64_t hash) { return hash ? hash : 1; }
  void Rehash(size_t capacity);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace cmdb
