#include "cmdb/attr_map.hpp"

#include <new>
#include <stdexcept>

namespace cmdb {

AttrMap::AttrMap(const AttrMap& other) {
  if (other.empty()) return;
  Grow(other.size());
  const Slot* from = other.data();
  try {
    for (uint32_t i = 0; i < other.block_->size; ++i) {
      new (block_->slots() + i) Slot{from[i].name, from[i].value};
      block_->size = i + 1;  // what Free() destroys if a later copy throws
    }
  } catch (...) {
    Free();  // no destructor runs for a constructor that throws
    throw;
  }
}

AttrMap& AttrMap::operator=(const AttrMap& other) {
  if (this != &other) {
    AttrMap copy(other);
    *this = std::move(copy);
  }
  return *this;
}

bool operator==(const AttrMap& a, const AttrMap& b) {
  if (a.size() != b.size()) return false;
  const AttrMap::Slot *x = a.data(), *y = b.data();
  for (size_t i = 0; i < a.size(); ++i) {
    if (x[i].name != y[i].name || x[i].value != y[i].value) return false;
  }
  return true;
}

void AttrMap::Set(std::string_view name, Value value) {
  size_t i = LowerBound(name);
  bool found = i < size() && *data()[i].name == name;
  if (value.is_null()) {
    if (!found) return;
    Slot* s = block_->slots();
    for (size_t j = i; j + 1 < size(); ++j) s[j] = std::move(s[j + 1]);
    s[size() - 1].~Slot();
    --block_->size;
    if (block_->size == 0) Free();
    return;
  }
  if (found) {
    block_->slots()[i].value = std::move(value);
    return;
  }
  const std::string* interned = &InternAttrName(name);
  if (size() == (block_ ? block_->capacity : 0)) Grow(size() < 4 ? 4 : size() * 2);
  Slot* s = block_->slots();
  size_t n = size();
  if (i == n) {
    new (s + n) Slot{interned, std::move(value)};
  } else {
    new (s + n) Slot{s[n - 1].name, std::move(s[n - 1].value)};
    for (size_t j = n - 1; j > i; --j) s[j] = std::move(s[j - 1]);
    s[i] = Slot{interned, std::move(value)};
  }
  ++block_->size;
}

void AttrMap::Reserve(size_t n) {
  if (n > (block_ ? block_->capacity : 0)) Grow(n);
}

void AttrMap::Grow(size_t capacity) {
  if (capacity > UINT32_MAX) throw std::length_error("too many attributes");
  void* raw = ::operator new(sizeof(Block) + capacity * sizeof(Slot));
  Block* fresh = new (raw) Block{0, static_cast<uint32_t>(capacity)};
  if (block_) {
    Slot* from = block_->slots();
    for (uint32_t i = 0; i < block_->size; ++i) {
      new (fresh->slots() + i) Slot{from[i].name, std::move(from[i].value)};
    }
    fresh->size = block_->size;
    Free();
  }
  block_ = fresh;
}

void AttrMap::Free() {
  if (!block_) return;
  Slot* s = block_->slots();
  for (uint32_t i = 0; i < block_->size; ++i) s[i].~Slot();
  ::operator delete(block_);
  block_ = nullptr;
}

}  // namespace cmdb
