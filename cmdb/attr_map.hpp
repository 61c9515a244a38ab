// AttrMap: the attributes of one CI or relationship, a small map from name to Value.
//
// Stored as a vector sorted by name: compact for the 4 to 10 attributes a CI usually has, and
// cheap to copy, compare and encode. Null values are never stored; Set(name, null) erases.
// Thread safety: plain value; copy freely.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cmdb/value.hpp"

namespace cmdb {

class AttrMap {
 public:
  using Entry = std::pair<std::string, Value>;
  using const_iterator = std::vector<Entry>::const_iterator;

  // The value of `name`, or nullptr when absent.
  const Value* Find(std::string_view name) const {
    auto it = LowerBound(name);
    return (it != entries_.end() && it->first == name) ? &it->second : nullptr;
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
    bool found = it != entries_.end() && it->first == name;
    if (value.is_null()) {
      if (found) entries_.erase(it);
    } else if (found) {
      it->second = std::move(value);
    } else {
      entries_.insert(it, Entry(std::string(name), std::move(value)));
    }
  }
  void Erase(std::string_view name) { Set(name, Value()); }

  // Room for `n` attributes (decoders know the count: no growth slack is left behind).
  void Reserve(size_t n) { entries_.reserve(n); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }

  friend bool operator==(const AttrMap& a, const AttrMap& b) { return a.entries_ == b.entries_; }

 private:
  std::vector<Entry>::iterator LowerBound(std::string_view name) {
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const Entry& e, std::string_view n) { return e.first < n; });
  }
  std::vector<Entry>::const_iterator LowerBound(std::string_view name) const {
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const Entry& e, std::string_view n) { return e.first < n; });
  }

  std::vector<Entry> entries_;
};

}  // namespace cmdb
