// RecordTable: the current records of one kind (CIs or relationships), stored by value in
// fixed-size chunks indexed by id.
//
// Ids are dense (server-assigned, increasing, never reused), so a record lives at a computed
// place: no per-record allocation, reference count or pointer. A slot whose record has id 0 is
// empty. Chunks are shared copy-on-write: Share() hands out a pointer that keeps the record's
// chunk alive and unchanged (a snapshot of that record), and a later Put or Clear on a shared
// chunk copies the chunk first.
// Thread safety: const methods may run concurrently with each other; Put/Clear need exclusive
// access to the table (the graph's write lock). Share() results may be used from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace cmdb {

template <typename T>
class RecordTable {
 public:
  // The record with this id, or nullptr when there is none. Valid until the next Put/Clear.
  const T* Find(int64_t id) const {
    if (id <= 0 || id >= bound_) return nullptr;
    const Chunk* chunk = chunks_[size_t(id) >> kShift].get();
    if (!chunk) return nullptr;
    const T& rec = chunk->slots[size_t(id) & kMask];
    return rec.id != 0 ? &rec : nullptr;
  }
  // Like Find, but the pointer keeps the record as it is now for as long as it is held.
  std::shared_ptr<const T> Share(int64_t id) const {
    const T* rec = Find(id);
    if (!rec) return nullptr;
    return std::shared_ptr<const T>(chunks_[size_t(id) >> kShift], rec);
  }

  // Stores `rec` at rec.id (> 0), replacing what was there.
  void Put(T&& rec) {
    int64_t id = rec.id;
    Slot(id) = std::move(rec);
    if (id >= bound_) bound_ = id + 1;
  }
  // Empties the slot of `id` (no-op when out of range).
  void Clear(int64_t id) {
    if (id <= 0 || id >= bound_ || !chunks_[size_t(id) >> kShift]) return;
    Slot(id) = T();
  }

  // Room for ids below `bound` without growing the chunk index.
  void Reserve(int64_t bound) { chunks_.reserve((size_t(bound) >> kShift) + 1); }
  // One past the largest id ever put (ids below it may be empty).
  int64_t bound() const { return bound_; }

 private:
  static constexpr size_t kShift = 10;  // 1,024 records a chunk
  static constexpr size_t kMask = (size_t(1) << kShift) - 1;
  struct Chunk {
    T slots[size_t(1) << kShift];
  };

  T& Slot(int64_t id) {
    size_t c = size_t(id) >> kShift;
    if (c >= chunks_.size()) chunks_.resize(c + 1);
    std::shared_ptr<Chunk>& chunk = chunks_[c];
    if (!chunk) {
      chunk = std::make_shared<Chunk>();
    } else if (chunk.use_count() > 1) {
      // Someone holds a snapshot of a record here: leave them the old chunk. Holders only drop
      // references while we have exclusive access, so a count of 1 cannot grow meanwhile.
      chunk = std::make_shared<Chunk>(*chunk);
    }
    return chunk->slots[size_t(id) & kMask];
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;
  int64_t bound_ = 1;  // slot 0 unused
};

}  // namespace cmdb
