// AttrMap: the attributes of one CI or relationship, a small map from name to Value.
//
// The names and the values are stored apart. The sorted list of names (the map's *shape*) is
// interned and shared: the thousands of CIs of one class with the same attributes point to one
// shape. The map itself is one pointer (null when empty, as most relationships are) to a block
// holding its shape and its values packed (packed_value.hpp: a tag byte and the significant
// bytes), so an attribute costs its characters or bytes plus one, not a 16-byte Value.
// Values are therefore handed out as copies (Find, Get, iteration), unpacked on each read.
// Shapes are reference-counted and freed with their last map; names are interned
// (attr_name.hpp). Null values are never stored; Set(name, null) erases. Every Set reallocates
// the block: build maps of several values with AttrMap::Builder.
// Iteration yields (name, value) pairs, the name a reference to the interned name and the value a
// copy: `for (const auto& [name, value] : attrs)`.
// Thread safety: plain value; copy freely (shapes are shared safely across threads).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cmdb/attr_name.hpp"
#include "cmdb/packed_value.hpp"
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
  class Builder;

 private:
  // A shape pointer, then the packed values in name order.
  struct Block {
    const Shape* shape;  // never null; its size (at least 1) is the map's size
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
    const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  };

 public:
  using Entry = std::pair<const std::string&, Value>;

  // A read-only iterator yielding Entry by value (the name by reference, the value unpacked).
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
    const_iterator(const std::string* const* name, const char* packed)
        : name_(name), packed_(packed) {}
    Entry operator*() const {
      const char* p = packed_;
      return Entry(**name_, packed::Unpack(p));
    }
    pointer operator->() const { return pointer{**this}; }
    const_iterator& operator++() {
      ++name_;
      packed_ = packed::Skip(packed_);
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const_iterator a, const_iterator b) { return a.name_ == b.name_; }

   private:
    const std::string* const* name_ = nullptr;
    const char* packed_ = nullptr;  // the packed value of *name_ (not read at the end)
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

  // The value of `name`, or nullopt when absent.
  std::optional<Value> Find(std::string_view name) const {
    size_t i = LowerBound(name);
    if (i == size() || *names()[i] != name) return std::nullopt;
    const char* p = PackedAt(i);
    return packed::Unpack(p);
  }
  // The value of `name`, or a null Value when absent.
  Value Get(std::string_view name) const {
    std::optional<Value> v = Find(name);
    return v ? std::move(*v) : Value();
  }
  bool Has(std::string_view name) const {
    size_t i = LowerBound(name);
    return i < size() && *names()[i] == name;
  }

  // Sets `name`; a null value erases it.
  void Set(std::string_view name, const Value& value);
  void Erase(std::string_view name) { Set(name, Value()); }

  size_t size() const { return block_ ? block_->shape->size : 0; }
  bool empty() const { return block_ == nullptr; }
  const_iterator begin() const {
    return block_ ? const_iterator(names(), block_->bytes()) : const_iterator();
  }
  const_iterator end() const {
    return block_ ? const_iterator(names() + size(), nullptr) : const_iterator();
  }

  friend bool operator==(const AttrMap& a, const AttrMap& b);

  // Bytes the packed values take (diagnostics and tests).
  size_t PackedBytes() const { return block_ ? size_t(PackedAt(size()) - block_->bytes()) : 0; }
  // How many distinct shapes are alive (diagnostics and tests).
  static size_t ShapeCount();

 private:
  const std::string* const* names() const { return block_->shape->names(); }
  // The packed value at position i (the end of the values at size()).
  const char* PackedAt(size_t i) const { return SkipValues(block_->bytes(), i); }
  static const char* SkipValues(const char* p, size_t k) {
    while (k--) p = packed::Skip(p);
    return p;
  }
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
  // A block for `shape` (whose reference it takes) with room for `bytes` packed bytes.
  static Block* NewBlock(const Shape* shape, size_t bytes);
  void Free();

  Block* block_ = nullptr;
};

// Builds a map from values added in any order, packing them once (AttrMap::Set reallocates on
// every call). Decoders and parsers use one per record.
// Thread safety: a plain value; one thread at a time.
class AttrMap::Builder {
 public:
  // Adds `name` = `value`. Of equal names the last added wins; a null value erases.
  void Add(std::string_view name, Value value);
  // The map of what was added since the last Build; the builder is empty again.
  AttrMap Build();

 private:
  std::vector<std::pair<const std::string*, Value>> entries_;
};

}  // namespace cmdb
