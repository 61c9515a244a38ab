// InternedName: an 8-byte handle to a name stored once in the process-wide pool of
// cmdb/attr_name.hpp. Records use it for their class and relationship type, so a million CIs of
// a few dozen classes hold a pointer each instead of a 32-byte std::string.
//
// It reads like a const std::string (implicit conversion, comparisons with strings and string
// views, streaming) and is assigned from any string. Two handles are equal exactly when they
// point to the same pooled string, so comparing two handles is one pointer comparison.
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
  InternedName() : s_(&Empty()) {}
  InternedName(std::string_view s) : s_(&InternAttrName(s)) {}    // NOLINT
  InternedName(const std::string& s) : s_(&InternAttrName(s)) {}  // NOLINT
  InternedName(const char* s) : s_(&InternAttrName(s)) {}         // NOLINT

  // The pooled string; valid for the life of the process.
  const std::string& str() const { return *s_; }
  operator const std::string&() const { return *s_; }  // NOLINT
  operator std::string_view() const { return *s_; }    // NOLINT
  std::string_view view() const { return *s_; }
  const char* c_str() const { return s_->c_str(); }
  const char* data() const { return s_->data(); }
  size_t size() const { return s_->size(); }
  bool empty() const { return s_->empty(); }

  friend bool operator==(const InternedName& a, const InternedName& b) { return a.s_ == b.s_; }
  friend bool operator==(const InternedName& a, std::string_view b) { return *a.s_ == b; }
  friend bool operator==(const InternedName& a, const std::string& b) { return *a.s_ == b; }
  friend bool operator==(const InternedName& a, const char* b) { return *a.s_ == b; }
  friend std::strong_ordering operator<=>(const InternedName& a, const InternedName& b) {
    return *a.s_ <=> *b.s_;
  }
  friend std::strong_ordering operator<=>(const InternedName& a, std::string_view b) {
    return std::string_view(*a.s_) <=> b;
  }
  friend std::string operator+(const InternedName& a, std::string_view b) {
    return *a.s_ + std::string(b);
  }
  friend std::string operator+(std::string_view a, const InternedName& b) {
    return std::string(a) + *b.s_;
  }
  friend std::ostream& operator<<(std::ostream& os, const InternedName& n) { return os << *n.s_; }

 private:
  static const std::string& Empty() {
    static const std::string& empty = InternAttrName("");
    return empty;
  }
  const std::string* s_;
};

}  // namespace cmdb

template <>
struct std::hash<cmdb::InternedName> {
  size_t operator()(const cmdb::InternedName& n) const noexcept {
    return std::hash<std::string_view>()(n.view());
  }
};
