#include "cmdb/attr_map.hpp"

#include <algorithm>
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace cmdb {
namespace {

using Shape = AttrMap::Shape;

// The map-less shape of a reserved but still empty block. Never freed.
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

AttrMap::AttrMap(const AttrMap& other) {
  if (other.empty()) return;
  size_t n = other.size();
  void* raw = ::operator new(sizeof(Block) + n * sizeof(Value));
  Block* fresh = new (raw) Block{other.block_->shape, static_cast<uint32_t>(n), 0};
  const Value* from = other.block_->values();
  size_t done = 0;
  try {
    for (; done < n; ++done) new (fresh->values() + done) Value(from[done]);
  } catch (...) {
    for (size_t i = 0; i < done; ++i) fresh->values()[i].~Value();
    ::operator delete(raw);
    throw;
  }
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
  size_t n = a.size();
  if (n != b.size()) return false;
  if (n == 0) return true;
  if (a.block_->shape != b.block_->shape) return false;  // interned: same names, same shape
  const Value *x = a.block_->values(), *y = b.block_->values();
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

void AttrMap::Set(std::string_view name, Value value) {
  size_t n = size();
  size_t i = LowerBound(name);
  bool found = i < n && *names()[i] == name;
  if (value.is_null()) {
    if (!found) return;
    if (n == 1) return Free();
    std::vector<const std::string*> rest(names(), names() + n);
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
    const Shape* next = Intern(rest.data(), rest.size());
    Value* v = block_->values();
    for (size_t j = i; j + 1 < n; ++j) v[j] = std::move(v[j + 1]);
    v[n - 1].~Value();
    Release(block_->shape);
    block_->shape = next;
    return;
  }
  if (found) {
    block_->values()[i] = std::move(value);
    return;
  }
  const std::string* interned = &InternAttrName(name);
  const Shape* next = WithName(block_ ? block_->shape : EmptyShape(), i, interned);
  if (n == (block_ ? block_->capacity : 0)) {
    try {
      Grow(n < 4 ? 4 : n * 2);
    } catch (...) {
      Release(next);
      throw;
    }
  }
  Value* v = block_->values();
  if (i == n) {
    new (v + n) Value(std::move(value));
  } else {
    new (v + n) Value(std::move(v[n - 1]));
    for (size_t j = n - 1; j > i; --j) v[j] = std::move(v[j - 1]);
    v[i] = std::move(value);
  }
  Release(block_->shape);
  block_->shape = next;
}

void AttrMap::Reserve(size_t n) {
  if (n > (block_ ? block_->capacity : 0)) Grow(n);
}

void AttrMap::Grow(size_t capacity) {
  if (capacity > UINT32_MAX) throw std::length_error("too many attributes");
  void* raw = ::operator new(sizeof(Block) + capacity * sizeof(Value));
  Block* fresh = new (raw) Block{EmptyShape(), static_cast<uint32_t>(capacity), 0};
  if (block_) {
    Value* from = block_->values();
    for (size_t i = 0; i < size(); ++i) {
      new (fresh->values() + i) Value(std::move(from[i]));
      from[i].~Value();
    }
    fresh->shape = block_->shape;  // the reference moves with it
    ::operator delete(block_);
  }
  block_ = fresh;
}

void AttrMap::Free() {
  if (!block_) return;
  Value* v = block_->values();
  for (size_t i = 0; i < size(); ++i) v[i].~Value();
  Release(block_->shape);
  ::operator delete(block_);
  block_ = nullptr;
}

size_t AttrMap::ShapeCount() {
  ShapePool& pool = Pool();
  std::lock_guard lock(pool.mu);
  return pool.shapes.size();
}

}  // namespace cmdb
