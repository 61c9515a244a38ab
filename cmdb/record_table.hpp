// RecordTable: the current records of one kind (CIs or relationships), stored by value in
// fixed-size chunks indexed by id.
//
// Ids are dense (server-assigned, increasing, never reused), so a record lives at a computed
// place: no per-record allocation, reference count or pointer. A slot whose record has id 0 (or
// whose record says !present(), for records that keep no id) is empty. Chunks are shared copy-on-write: Share() hands out a pointer that keeps the record's
// chunk alive and unchanged (a snapshot of that record) and marks the chunk; the next Put or
// Clear in a marked chunk writes to a copy and leaves the old chunk to the snapshot holders.
// The mark is set under the reader's lock and read under the writer's, so no reference count
// has to be trusted across threads. A chunk is exactly 1,024 records (48 KiB of CIs, 32 KiB of
// packed relationships: sizes the allocator serves without rounding up); the marks live beside
// the chunks, and the shared pointer's count in a separate small block.
// Thread safety: const methods may run concurrently with each other; Put/Clear need exclusive
// access to the table (the graph's write lock). Share() results may be used from any thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <iterator>
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
    return Present(rec) ? &rec : nullptr;
  }
  // Like Find, but the pointer keeps the record as it is now for as long as it is held.
  std::shared_ptr<const T> Share(int64_t id) const {
    const T* rec = Find(id);
    if (!rec) return nullptr;
    size_t c = size_t(id) >> kShift;
    std::atomic_ref<uint8_t>(shared_[c]).store(1, std::memory_order_relaxed);
    return std::shared_ptr<const T>(chunks_[c], rec);
  }

  // Stores `rec` at rec.id (> 0), replacing what was there.
  void Put(T&& rec) {
    int64_t id = rec.id;
    Put(id, std::move(rec));
  }
  // Stores `rec` (which must be present) at `id` (> 0), replacing what was there.
  void Put(int64_t id, T&& rec) {
    Slot(id) = std::move(rec);
    if (id >= bound_) bound_ = id + 1;
  }
  // Empties the slot of `id` (no-op when out of range).
  void Clear(int64_t id) {
    if (id <= 0 || id >= bound_ || !chunks_[size_t(id) >> kShift]) return;
    Slot(id) = T();
  }

  // Room for ids below `bound` without growing the chunk index.
  void Reserve(int64_t bound) {
    chunks_.reserve((size_t(bound) >> kShift) + 1);
    shared_.reserve((size_t(bound) >> kShift) + 1);
  }
  // One past the largest id ever put (ids below it may be empty).
  int64_t bound() const { return bound_; }

 private:
  static constexpr size_t kShift = 10;  // 1,024 records a chunk
  static bool Present(const T& rec) {
    if constexpr (requires { rec.present(); })
      return rec.present();
    else
      return rec.id != 0;
  }
  static constexpr size_t kMask = (size_t(1) << kShift) - 1;
  struct Chunk {
    T slots[size_t(1) << kShift];
  };

  T& Slot(int64_t id) {
    size_t c = size_t(id) >> kShift;
    if (c >= chunks_.size()) chunks_.resize(c + 1), shared_.resize(c + 1);
    std::shared_ptr<Chunk>& chunk = chunks_[c];
    // Not make_shared: the count would join the chunk's block and push it past its size class.
    if (!chunk) {
      chunk.reset(new Chunk());
    } else if (std::atomic_ref<uint8_t>(shared_[c]).load(std::memory_order_relaxed)) {
      chunk.reset(new Chunk(*chunk));  // the old one stays as the snapshots saw it
      shared_[c] = 0;
    }
    return chunk->slots[size_t(id) & kMask];
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;
  // Per chunk: a snapshot was handed out, copy before writing. Set by readers (atomically, as
  // several may share at once), read and cleared under the writer's exclusive access.
  mutable std::vector<uint8_t> shared_;
  int64_t bound_ = 1;  // slot 0 unused
};

}  // namespace cmdb
