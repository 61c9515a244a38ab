// InternedName: a 4-byte handle to a name stored once in the process-wide pool of
// cmdb/attr_name.hpp (the name's number there). Records use it for their class and relationship
// type, so a million CIs of a few dozen classes hold 4 bytes each instead of a 32-byte
// std::string. Reading the name is two dependent loads (segment, then slot).
//
// It reads like a const std::string (implicit conversion, comparisons with strings and string
// views, streaming) and is assigned from any string. Two handles are equal exactly when they
// name the same pooled string, so comparing two handles is one integer comparison.
// Thread safety: a plain value; constructing one may intern from any thread.
#pragma once

#include <compare>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "cmdb/attr_name.hpp"

namespace cmdb {

class InternedName {
 public:
  InternedName() = default;  // ""
  InternedName(std::string_view s) : id_(InternAttrNameId(s)) {}    // NOLINT
  InternedName(const std::string& s) : id_(InternAttrNameId(s)) {}  // NOLINT
  InternedName(const char* s) : id_(InternAttrNameId(s)) {}         // NOLINT

  // The pooled string; valid for the life of the process.
  const std::string& str() const { return AttrNameById(id_); }
  operator const std::string&() const { return str(); }  // NOLINT
  operator std::string_view() const { return str(); }    // NOLINT
  std::string_view view() const { return str(); }
  const char* c_str() const { return str().c_str(); }
  const char* data() const { return str().data(); }
  size_t size() const { return str().size(); }
  bool empty() const { return id_ == 0; }

  friend bool operator==(const InternedName& a, const InternedName& b) { return a.id_ == b.id_; }
  friend bool operator==(const InternedName& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const InternedName& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const InternedName& a, const char* b) { return a.str() == b; }
  friend std::strong_ordering operator<=>(const InternedName& a, const InternedName& b) {
    return a.str() <=> b.str();
  }
  friend std::strong_ordering operator<=>(const InternedName& a, std::string_view b) {
    return std::string_view(a.str()) <=> b;
  }
  friend std::string operator+(const InternedName& a, std::string_view b) {
    return a.str() + std::string(b);
  }
  friend std::string operator+(std::string_view a, const InternedName& b) {
    return std::string(a) + b.str();
  }
  friend std::ostream& operator<<(std::ostream& os, const InternedName& n) { return os << n.str(); }

 private:
  uint32_t id_ = 0;
};
static_assert(sizeof(InternedName) == 4);

}  // namespace cmdb

template <>
struct std::hash<cmdb::InternedName> {
  size_t operator()(const cmdb::InternedName& n) const noexcept {
    return std::hash<std::string_view>()(n.view());
  }
};
