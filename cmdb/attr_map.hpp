// AttrMap: the attributes of one CI or relationship, a small map from name to Value.
//
// The names and the values are stored apart. The sorted list of names (the map's *shape*) is
// interned and shared: the thousands of CIs of one class with the same attributes point to one
// shape. The map itself is one pointer (null when empty, as most relationships are) to a block
// holding its shape and its 16-byte Values, so an attribute costs 16 bytes, not 24.
// Shapes are reference-counted and freed with their last map; names are interned
// (attr_name.hpp). Null values are never stored; Set(name, null) erases.
// Iteration yields (name, value) pairs of references: `for (const auto& [name, value] : attrs)`.
// Thread safety: plain value; copy freely (shapes are shared safely across threads).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "cmdb/attr_name.hpp"
#include "cmdb/value.hpp"

namespace cmdb {

class AttrMap {
 public:
  // The sorted, interned names of a map. Immutable once published; see attr_map.cpp.
  struct Shape {
    std::atomic<uint32_t> refs;
    uint32_t size;
    uint64_t hash;
    const std::string* const* names() const {
      return reinterpret_cast<const std::string* const*>(this + 1);
    }
  };

 private:
  struct Block {
    const Shape* shape;  // never null; its size is the map's size
    uint32_t capacity;   // Values allocated after the header
    uint32_t unused;
    Value* values() { return reinterpret_cast<Value*>(this + 1); }
    const Value* values() const { return reinterpret_cast<const Value*>(this + 1); }
  };
  static_assert(sizeof(Block) % alignof(Value) == 0);

 public:
  using Entry = std::pair<const std::string&, const Value&>;

  // A read-only iterator yielding Entry by value (references into the map).
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using reference = Entry;
    struct pointer {
      Entry entry;
      const Entry* operator->() const { return &entry; }
    };

    const_iterator() = default;
    const_iterator(const std::string* const* name, const Value* value)
        : name_(name), value_(value) {}
    Entry operator*() const { return Entry(**name_, *value_); }
    pointer operator->() const { return pointer{**this}; }
    const_iterator& operator++() { return ++name_, ++value_, *this; }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const_iterator a, const_iterator b) { return a.value_ == b.value_; }

   private:
    const std::string* const* name_ = nullptr;
    const Value* value_ = nullptr;
  };

  AttrMap() = default;
  AttrMap(const AttrMap& other);
  AttrMap(AttrMap&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  AttrMap& operator=(const AttrMap& other);
  AttrMap& operator=(AttrMap&& other) noexcept {
    if (this != &other) {
      Free();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  ~AttrMap() { Free(); }

  // The value of `name`, or nullptr when absent.
  const Value* Find(std::string_view name) const {
    size_t i = LowerBound(name);
    return i < size() && *names()[i] == name ? &block_->values()[i] : nullptr;
  }
  // The value of `name`, or a null Value when absent.
  const Value& Get(std::string_view name) const {
    static const Value kNull;
    const Value* v = Find(name);
    return v ? *v : kNull;
  }
  bool Has(std::string_view name) const { return Find(name) != nullptr; }

  // Sets `name`; a null value erases it.
  void Set(std::string_view name, Value value);
  void Erase(std::string_view name) { Set(name, Value()); }

  // Room for `n` attributes (decoders know the count: no growth slack is left behind).
  void Reserve(size_t n);
  size_t size() const { return block_ ? block_->shape->size : 0; }
  bool empty() const { return size() == 0; }
  const_iterator begin() const {
    return block_ ? const_iterator(names(), block_->values()) : const_iterator();
  }
  const_iterator end() const {
    return block_ ? const_iterator(names() + size(), block_->values() + size()) : const_iterator();
  }

  friend bool operator==(const AttrMap& a, const AttrMap& b);

  // How many distinct shapes are alive (diagnostics and tests).
  static size_t ShapeCount();

 private:
  const std::string* const* names() const { return block_->shape->names(); }
  size_t LowerBound(std::string_view name) const {
    size_t lo = 0, hi = size();
    if (hi == 0) return 0;
    const std::string* const* n = names();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (*n[mid] < name)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }
  void Grow(size_t capacity);  // capacity >= size()
  void Free();

  Block* block_ = nullptr;
};

}  // namespace cmdb
