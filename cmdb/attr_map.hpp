// AttrMap: the attributes of one CI or relationship, a small map from name to Value.
//
// Stored as one heap block of entries sorted by name: compact for the 4 to 10 attributes a CI
// usually has, and cheap to copy, compare and encode. The map itself is one pointer (null when
// empty, as most relationships are); the block holds its size and capacity and the entries.
// Names are interned (attr_name.hpp), so an entry is a name pointer and a 16-byte Value.
// Null values are never stored; Set(name, null) erases.
// Iteration yields (name, value) pairs of references: `for (const auto& [name, value] : attrs)`.
// Thread safety: plain value; copy freely.
#pragma once

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
  struct Slot {
    const std::string* name;  // interned
    Value value;
  };
  struct Block {
    uint32_t size;
    uint32_t capacity;
    Slot* slots() { return reinterpret_cast<Slot*>(this + 1); }
    const Slot* slots() const { return reinterpret_cast<const Slot*>(this + 1); }
  };
  static_assert(sizeof(Block) % alignof(Slot) == 0);

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
    explicit const_iterator(const Slot* slot) : slot_(slot) {}
    Entry operator*() const { return Entry(*slot_->name, slot_->value); }
    pointer operator->() const { return pointer{**this}; }
    const_iterator& operator++() { return ++slot_, *this; }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++slot_;
      return old;
    }
    friend bool operator==(const_iterator a, const_iterator b) { return a.slot_ == b.slot_; }

   private:
    const Slot* slot_ = nullptr;
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
    return i < size() && *data()[i].name == name ? &data()[i].value : nullptr;
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
  size_t size() const { return block_ ? block_->size : 0; }
  bool empty() const { return size() == 0; }
  const_iterator begin() const { return const_iterator(data()); }
  const_iterator end() const { return const_iterator(data() + size()); }

  friend bool operator==(const AttrMap& a, const AttrMap& b);

 private:
  const Slot* data() const { return block_ ? block_->slots() : nullptr; }
  size_t LowerBound(std::string_view name) const {
    size_t lo = 0, hi = size();
    const Slot* s = data();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (*s[mid].name < name)
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
