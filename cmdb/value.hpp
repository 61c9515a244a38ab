// Value: a dynamically typed attribute value (null, bool, int, float, string, list).
//
// Schema types such as DATETIME, DATE, ENUM and IP are stored as canonical strings; the schema
// says how to read them. Values are ordered and compared with Compare(), which orders values of
// different kinds by kind so containers of mixed values stay sortable.
// Thread safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cmdb {

struct Value;
using ValueList = std::vector<Value>;

struct Value {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList };
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string, ValueList>;

  Value() = default;
  Value(bool b) : v(b) {}  // NOLINT
  Value(int i) : v(static_cast<int64_t>(i)) {}  // NOLINT
  Value(int64_t i) : v(i) {}  // NOLINT
  Value(double d) : v(d) {}  // NOLINT
  Value(std::string s) : v(std::move(s)) {}  // NOLINT
  Value(const char* s) : v(std::string(s)) {}  // NOLINT
  Value(ValueList l) : v(std::move(l)) {}  // NOLINT

  Kind kind() const { return static_cast<Kind>(v.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_list() const { return kind() == Kind::kList; }

  bool as_bool() const { return std::get<bool>(v); }
  int64_t as_int() const { return std::get<int64_t>(v); }
  double as_float() const { return std::get<double>(v); }
  const std::string& as_string() const { return std::get<std::string>(v); }
  const ValueList& as_list() const { return std::get<ValueList>(v); }

  // Human-readable literal form: null, true, 42, 1.5, 'text', ['a', 'b'].
  std::string ToLiteral() const;
  // Name of the kind for error messages: NULL, BOOL, INT, FLOAT, STRING, LIST.
  static const char* KindName(Kind k);

  Storage v;
};

// Total order: by kind first, then by value. 0 when equal.
int Compare(const Value& a, const Value& b);
inline bool operator==(const Value& a, const Value& b) { return Compare(a, b) == 0; }
inline bool operator!=(const Value& a, const Value& b) { return Compare(a, b) != 0; }
inline bool operator<(const Value& a, const Value& b) { return Compare(a, b) < 0; }

}  // namespace cmdb
