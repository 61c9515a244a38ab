#include "cmdb/value.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace cmdb {

const char* Value::KindName(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "NULL";
    case Kind::kBool:
      return "BOOL";
    case Kind::kInt:
      return "INT";
    case Kind::kFloat:
      return "FLOAT";
    case Kind::kString:
      return "STRING";
    case Kind::kList:
      return "LIST";
  }
  return "?";
}

Value::Value(ValueList l) : kind_(Kind::kList) { Store(new ValueList(std::move(l))); }

void Value::SetString(std::string_view s) {
  kind_ = Kind::kString;
  if (s.size() <= kInline) {
    inline_len_ = static_cast<uint8_t>(s.size() + 1);
    if (!s.empty()) std::memcpy(bytes_, s.data(), s.size());
    return;
  }
  if (s.size() > UINT32_MAX) throw std::length_error("a string value longer than 4 GiB");
  char* heap = new char[s.size()];
  std::memcpy(heap, s.data(), s.size());
  uint32_t len = static_cast<uint32_t>(s.size());
  std::memcpy(bytes_ + 2, &len, sizeof len);
  Store(heap);
}

void Value::CopyFrom(const Value& other) {
  if (other.kind_ == Kind::kString && !other.inline_len_) {
    SetString(other.as_string());
  } else if (other.kind_ == Kind::kList) {
    kind_ = Kind::kList;
    Store(new ValueList(other.as_list()));
  } else {
    std::memcpy(static_cast<void*>(this), static_cast<const void*>(&other), sizeof(Value));
  }
}

void Value::WrongKind(Kind wanted) const {
  throw std::logic_error(std::string("a ") + KindName(kind_) + " value read as " +
                         KindName(wanted));
}

static std::string QuoteString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string Value::ToLiteral() const {
  switch (kind()) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return as_bool() ? "true" : "false";
    case Kind::kInt:
      return std::to_string(as_int());
    case Kind::kFloat: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, as_float());
      std::string s(buf, end);
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a float literal
      return s;
    }
    case Kind::kString:
      return QuoteString(as_string());
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < as_list().size(); ++i) {
        if (i) out += ", ";
        out += as_list()[i].ToLiteral();
      }
      return out + "]";
    }
  }
  return "?";
}

int Compare(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return a.kind() < b.kind() ? -1 : 1;
  switch (a.kind()) {
    case Value::Kind::kNull:
      return 0;
    case Value::Kind::kBool:
      return int(a.as_bool()) - int(b.as_bool());
    case Value::Kind::kInt:
      return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int());
    case Value::Kind::kFloat:
      return a.as_float() < b.as_float() ? -1 : (a.as_float() > b.as_float());
    case Value::Kind::kString: {
      int c = a.as_string().compare(b.as_string());
      return c < 0 ? -1 : (c > 0);
    }
    case Value::Kind::kList: {
      const auto &x = a.as_list(), &y = b.as_list();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (int c = Compare(x[i], y[i])) return c;
      }
      return x.size() < y.size() ? -1 : (x.size() > y.size());
    }
  }
  return 0;
}

}  // namespace cmdb
