// Value: a dynamically typed attribute value (null, bool, int, float, string, list).
//
// Schema types such as DATETIME, DATE, ENUM and IP are stored as canonical strings; the schema
// says how to read them. Values are ordered and compared with Compare(), which orders values of
// different kinds by kind so containers of mixed values stay sortable.
//
// A Value is 16 bytes: strings of up to 14 bytes are stored inline (most statuses, environments,
// IP addresses, versions), longer ones and lists on the heap. A CMDB holds millions of them.
// Reading a value as the wrong kind throws std::logic_error.
// Thread safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

// Marks a method whose result refers into its object, so clang warns when the object is a
// temporary that dies first (`std::string_view s = attrs.Get("name").as_string();`).
#if defined(__clang__)
#define CMDB_LIFETIMEBOUND [[clang::lifetimebound]]
#else
#define CMDB_LIFETIMEBOUND
#endif

namespace cmdb {

class Value;
using ValueList = std::vector<Value>;

class alignas(8) Value {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kFloat, kString, kList };

  Value() = default;
  Value(bool b) : kind_(Kind::kBool) { Store(b); }         // NOLINT
  Value(int i) : kind_(Kind::kInt) { Store(int64_t{i}); }  // NOLINT
  Value(int64_t i) : kind_(Kind::kInt) { Store(i); }       // NOLINT
  Value(double d) : kind_(Kind::kFloat) { Store(d); }      // NOLINT
  Value(std::string_view s) { SetString(s); }              // NOLINT
  Value(const std::string& s) { SetString(s); }            // NOLINT
  Value(const char* s) { SetString(s); }                   // NOLINT
  Value(ValueList l);                                      // NOLINT

  Value(const Value& other) { CopyFrom(other); }
  Value(Value&& other) noexcept { StealFrom(other); }
  Value& operator=(const Value& other) {
    if (this != &other) {
      Value copy(other);
      Release();
      StealFrom(copy);
    }
    return *this;
  }
  Value& operator=(Value&& other) noexcept {
    if (this != &other) {
      Release();
      StealFrom(other);
    }
    return *this;
  }
  ~Value() { Release(); }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_list() const { return kind_ == Kind::kList; }

  bool as_bool() const { return Check(Kind::kBool), Load<bool>(); }
  int64_t as_int() const { return Check(Kind::kInt), Load<int64_t>(); }
  double as_float() const { return Check(Kind::kFloat), Load<double>(); }
  // The characters of a string value; valid while the Value lives unchanged.
  std::string_view as_string() const CMDB_LIFETIMEBOUND {
    Check(Kind::kString);
    if (inline_len_) return std::string_view(bytes_, inline_len_ - 1u);
    uint32_t len;
    std::memcpy(&len, bytes_ + 2, sizeof len);
    return std::string_view(Load<const char*>(), len);
  }
  const ValueList& as_list() const CMDB_LIFETIMEBOUND { return Check(Kind::kList), *Load<const ValueList*>(); }

  // Human-readable literal form: null, true, 42, 1.5, 'text', ['a', 'b'].
  std::string ToLiteral() const;
  // Name of the kind for error messages: NULL, BOOL, INT, FLOAT, STRING, LIST.
  static const char* KindName(Kind k);

 private:
  static constexpr size_t kInline = 14;  // longest string stored inline

  void Check(Kind k) const {
    if (kind_ != k) WrongKind(k);
  }
  [[noreturn]] void WrongKind(Kind wanted) const;
  void SetString(std::string_view s);
  void CopyFrom(const Value& other);
  void StealFrom(Value& other) noexcept {
    std::memcpy(static_cast<void*>(this), static_cast<const void*>(&other), sizeof(Value));
    other.kind_ = Kind::kNull;
    other.inline_len_ = 0;
  }
  void Release() {
    if (kind_ == Kind::kString && !inline_len_) delete[] Load<char*>();
    if (kind_ == Kind::kList) delete Load<ValueList*>();
  }
  // The 8-byte payload (a number, or a pointer to heap characters or a list) at offset 8.
  template <typename T>
  T Load() const {
    T t;
    std::memcpy(&t, bytes_ + 6, sizeof t);
    return t;
  }
  template <typename T>
  void Store(T t) {
    std::memcpy(bytes_ + 6, &t, sizeof t);
  }

  // Layout: kind, inline_len_ (string length + 1 when the string is inline, else 0), then 14
  // bytes: the inline characters, or a 4-byte heap string length at offset 4 and the payload.
  Kind kind_ = Kind::kNull;
  uint8_t inline_len_ = 0;
  char bytes_[kInline] = {};
};
static_assert(sizeof(Value) == 16, "a Value is 16 bytes");

// Total order: by kind first, then by value. 0 when equal.
int Compare(const Value& a, const Value& b);
inline bool operator==(const Value& a, const Value& b) { return Compare(a, b) == 0; }
inline bool operator!=(const Value& a, const Value& b) { return Compare(a, b) != 0; }
inline bool operator<(const Value& a, const Value& b) { return Compare(a, b) < 0; }

}  // namespace cmdb
