// AttrMap: the attributes of one CI or relationship, a small map from name to Value.
//
// Stored as a vector sorted by name: compact for the 4 to 10 attributes a CI usually has, and
// cheap to copy, compare and encode. Names are interned (attr_name.hpp), so an entry is a
// pointer and a Value. Null values are never stored; Set(name, null) erases.
// Iteration yields (name, value) pairs of references: `for (const auto& [name, value] : attrs)`.
// Thread safety: plain value; copy freely.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cmdb/attr_name.hpp"
#include "cmdb/value.hpp"

namespace cmdb {

class AttrMap {
  struct Slot {
    const std::string* name;  // interned
    Value value;
    friend bool operator==(const Slot& a, const Slot& b) {
      return a.name == b.name && a.value == b.value;
    }
  };

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
    const_iterator operator++(int) { const_iterator old = *this; ++slot_; return old; }
    friend bool operator==(const_iterator a, const_iterator b) { return a.slot_ == b.slot_; }

   private:
    const Slot* slot_ = nullptr;
  };

  // The value of `name`, or nullptr when absent.
  const Value* Find(std::string_view name) const {
    auto it = LowerBound(name);
    return (it != entries_.end() && *it->name == name) ? &it->value : nullptr;
  }
  // The value of `name`, or a null Value when absent.
  const Value& Get(std::string_view name) const {
    static const Value kNull;
    const Value* v = Find(name);
    return v ? *v : kNull;
  }
  bool Has(std::string_view name) const { return Find(name) != nullptr; }

  // Sets `name`; a null value erases it.
  void Set(std::string_view name, Value value) {
    auto it = LowerBound(name);
    bool found = it != entries_.end() && *it->name == name;
    if (value.is_null()) {
      if (found) entries_.erase(it);
    } else if (found) {
      it->value = std::move(value);
    } else {
      entries_.insert(it, Slot{&InternAttrName(name), std::move(value)});
    }
  }
  void Erase(std::string_view name) { Set(name, Value()); }

  // Room for `n` attributes (decoders know the count: no growth slack is left behind).
  void Reserve(size_t n) { entries_.reserve(n); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return const_iterator(entries_.data()); }
  const_iterator end() const { return const_iterator(entries_.data() + entries_.size()); }

  friend bool operator==(const AttrMap& a, const AttrMap& b) { return a.entries_ == b.entries_; }

 private:
  std::vector<Slot>::iterator LowerBound(std::string_view name) {
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const Slot& e, std::string_view n) { return *e.name < n; });
  }
  std::vector<Slot>::const_iterator LowerBound(std::string_view name) const {
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const Slot& e, std::string_view n) { return *e.name < n; });
  }

  std::vector<Slot> entries_;
};

}  // namespace cmdb
