#include "cmdb/attr_map.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace cmdb {
namespace {

using Shape = AttrMap::Shape;

// The shape of no names: where shapes are built from. Never freed.
const Shape* EmptyShape() {
  static Shape empty{{1}, 0, 0};
  return &empty;
}

uint64_t HashNames(const std::string* const* names, size_t n) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the interned pointers
  for (size_t i = 0; i < n; ++i) {
    h ^= reinterpret_cast<uintptr_t>(names[i]);
    h *= 1099511628211ull;
    h ^= h >> 29;
  }
  return h;
}

// The process-wide set of live shapes. A shape is found (and its count raised) only under the
// mutex; the last reference is dropped under it too, so a lookup never revives a dying shape.
struct ShapePool {
  std::mutex mu;
  std::unordered_multimap<uint64_t, Shape*> shapes;
};

ShapePool& Pool() {
  static ShapePool* pool = new ShapePool();  // never destroyed: static maps outlive it otherwise
  return *pool;
}

void AddRef(const Shape* s) {
  if (s->size) const_cast<Shape*>(s)->refs.fetch_add(1, std::memory_order_relaxed);
}

void Release(const Shape* cs) {
  if (cs->size == 0) return;
  Shape* s = const_cast<Shape*>(cs);
  uint32_t r = s->refs.load(std::memory_order_relaxed);
  while (r > 1) {  // not the last reference: no lock
    if (s->refs.compare_exchange_weak(r, r - 1, std::memory_order_release,
                                      std::memory_order_relaxed)) {
      return;
    }
  }
  ShapePool& pool = Pool();
  std::lock_guard lock(pool.mu);
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;  // revived by a lookup
  auto [it, end] = pool.shapes.equal_range(s->hash);
  for (; it != end; ++it) {
    if (it->second == s) {
      pool.shapes.erase(it);
      break;
    }
  }
  s->~Shape();
  ::operator delete(s);
}

// The shape with exactly `names` (sorted, interned), with one reference for the caller.
const Shape* Intern(const std::string* const* names, size_t n) {
  if (n == 0) return EmptyShape();
  if (n > UINT32_MAX) throw std::length_error("too many attributes");
  uint64_t h = HashNames(names, n);
  ShapePool& pool = Pool();
  std::lock_guard lock(pool.mu);
  auto [it, end] = pool.shapes.equal_range(h);
  for (; it != end; ++it) {
    Shape* s = it->second;
    if (s->size == n && std::equal(names, names + n, s->names())) {
      s->refs.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
  }
  void* raw = ::operator new(sizeof(Shape) + n * sizeof(const std::string*));
  Shape* s = new (raw) Shape{{1}, static_cast<uint32_t>(n), h};
  std::copy(names, names + n, const_cast<const std::string**>(s->names()));
  pool.shapes.emplace(h, s);
  return s;
}

// Per-thread memo of "shape + name -> shape", so building maps attribute by attribute (decoders,
// bulk loads) does not take the pool's lock. It holds a reference on both shapes of an entry (a
// freed shape's address could otherwise be reused by another shape) and is cleared when large.
class TransitionCache {
 public:
  ~TransitionCache() { Clear(); }
  const Shape* Find(const Shape* from, const std::string* name) const {
    auto it = next_.find(Key{from, name});
    return it == next_.end() ? nullptr : it->second;
  }
  void Add(const Shape* from, const std::string* name, const Shape* to) {
    if (next_.size() >= kMaxEntries) Clear();
    if (next_.emplace(Key{from, name}, to).second) AddRef(from), AddRef(to);
  }

 private:
  static constexpr size_t kMaxEntries = 4096;
  struct Key {
    const Shape* from;
    const std::string* name;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.from) * 31 + std::hash<const void*>()(k.name);
    }
  };
  void Clear() {
    for (auto& [key, to] : next_) Release(key.from), Release(to);
    next_.clear();
  }
  std::unordered_map<Key, const Shape*, KeyHash> next_;
};

// `from` with `name` inserted at position `i`, with one reference for the caller.
const Shape* WithName(const Shape* from, size_t i, const std::string* name) {
  thread_local TransitionCache cache;
  if (const Shape* to = cache.Find(from, name)) {
    AddRef(to);
    return to;
  }
  std::vector<const std::string*> names(from->names(), from->names() + from->size);
  names.insert(names.begin() + static_cast<std::ptrdiff_t>(i), name);
  const Shape* to = Intern(names.data(), names.size());
  cache.Add(from, name, to);
  return to;
}

}  // namespace

AttrMap::Block* AttrMap::NewBlock(const Shape* shape, size_t bytes) {
  void* raw = ::operator new(sizeof(Block) + bytes);
  return new (raw) Block{shape};
}

AttrMap::AttrMap(const AttrMap& other) {
  if (other.empty()) return;
  size_t bytes = other.PackedBytes();
  Block* fresh = NewBlock(other.block_->shape, bytes);
  std::memcpy(fresh->bytes(), other.block_->bytes(), bytes);
  AddRef(fresh->shape);
  block_ = fresh;
}

AttrMap& AttrMap::operator=(const AttrMap& other) {
  if (this != &other) {
    AttrMap copy(other);
    *this = std::move(copy);
  }
  return *this;
}

bool operator==(const AttrMap& a, const AttrMap& b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty();
  if (a.block_->shape != b.block_->shape) return false;  // interned: same names, same shape
  size_t bytes = a.PackedBytes();
  if (bytes == b.PackedBytes() && std::memcmp(a.block_->bytes(), b.block_->bytes(), bytes) == 0)
    return true;  // the packed form is canonical: same bytes, same values
  // Values that compare equal with other bits (0.0 and -0.0).
  for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
    if ((*x).second != (*y).second) return false;
  }
  return true;
}

void AttrMap::Set(std::string_view name, const Value& value) {
  size_t n = size();
  size_t i = LowerBound(name);
  bool found = i < n && *names()[i] == name;
  if (value.is_null() && !found) return;
  if (value.is_null() && n == 1) return Free();
  // The new block: the values before i, the new one (none when erasing), the values after.
  const char* old = block_ ? block_->bytes() : nullptr;
  const char* at = block_ ? PackedAt(i) : nullptr;
  const char* after = found ? packed::Skip(at) : at;
  const char* old_end = block_ ? SkipValues(after, n - i - (found ? 1 : 0)) : nullptr;
  size_t value_bytes = value.is_null() ? 0 : packed::Size(value);
  if (found && !value.is_null() && size_t(after - at) == value_bytes) {
    packed::Pack(value, block_->bytes() + (at - old));  // same size: in place
    return;
  }
  const Shape* next;
  if (found) {
    next = block_->shape;
    if (value.is_null()) {
      std::vector<const std::string*> rest(names(), names() + n);
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
      next = Intern(rest.data(), rest.size());
    } else {
      AddRef(next);
    }
  } else {
    next = WithName(block_ ? block_->shape : EmptyShape(), i, &InternAttrName(name));
  }
  Block* fresh;
  try {
    fresh = NewBlock(next, size_t(at - old) + value_bytes + size_t(old_end - after));
  } catch (...) {
    Release(next);
    throw;
  }
  char* out = fresh->bytes();
  if (at != old) out = static_cast<char*>(std::memcpy(out, old, size_t(at - old))) + (at - old);
  if (value_bytes) out = packed::Pack(value, out);
  if (old_end != after) std::memcpy(out, after, size_t(old_end - after));
  Free();
  block_ = fresh;
}

void AttrMap::Free() {
  if (!block_) return;
  Release(block_->shape);
  ::operator delete(block_);
  block_ = nullptr;
}

void AttrMap::Builder::Add(std::string_view name, Value value) {
  entries_.emplace_back(&InternAttrName(name), std::move(value));
}

AttrMap AttrMap::Builder::Build() {
  auto by_name = [](const auto& a, const auto& b) { return *a.first < *b.first; };
  if (!std::is_sorted(entries_.begin(), entries_.end(), by_name))
    std::stable_sort(entries_.begin(), entries_.end(), by_name);
  // Of equal names keep the last, then drop the nulls.
  size_t kept = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i + 1 < entries_.size() && entries_[i + 1].first == entries_[i].first) continue;
    if (entries_[i].second.is_null()) continue;
    if (kept != i) entries_[kept] = std::move(entries_[i]);
    ++kept;
  }
  entries_.resize(kept);
  AttrMap out;
  if (kept == 0) return out;
  // The shape through the memo of transitions, as Set would reach it: no pool lock.
  const Shape* shape = EmptyShape();
  size_t bytes = 0;
  for (size_t i = 0; i < kept; ++i) {
    const Shape* next;
    try {
      next = WithName(shape, i, entries_[i].first);
      bytes += packed::Size(entries_[i].second);
    } catch (...) {
      Release(shape);
      throw;
    }
    Release(shape);
    shape = next;
  }
  try {
    out.block_ = NewBlock(shape, bytes);
  } catch (...) {
    Release(shape);
    throw;
  }
  char* p = out.block_->bytes();
  for (auto& [name, value] : entries_) p = packed::Pack(value, p);
  entries_.clear();
  return out;
}

size_t AttrMap::ShapeCount() {
  ShapePool& pool = Pool();
  std::lock_guard lock(pool.mu);
  return pool.shapes.size();
}

}  // namespace cmdb
